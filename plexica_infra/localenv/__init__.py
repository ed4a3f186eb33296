"""Local environment: dockerd, reference plugin images, Core API emulator."""
