"""Errors of the local-environment manager."""

from __future__ import annotations

from plexica_infra.errors import PlexicaError

__all__ = ["LocalEnvError"]


class LocalEnvError(PlexicaError):
    """The local environment (dockerd, images, Core API emulator) could not be set up."""
