"""Local environment for the `local` stack: a Docker engine, the reference plugin
images (built without a registry) and the Core API emulator.

Python API (all importable from this package)::

    ensure_docker(state_dir) -> str              # DOCKER_HOST URL (starts dockerd if needed)
    stop_docker(state_dir) -> bool               # stops only a dockerd we started
    build_plugin_images(refs, *, docker_host, state_dir) -> dict[str, str]   # ref -> image id
    start_emulator(state_dir, *, host, port, token) -> str                   # base URL
    stop_emulator(state_dir) -> bool

    recover_stack(backend_url, project, stack, progress=...)                  # after a killed run
    pulumi_env(...) / pulumi_command()           # the offline Pulumi toolchain (tools/pulumi.env)

CLI: `python -m plexica_infra.localenv --help`.
"""

from plexica_infra.localenv.dockerd import ensure_docker, stop_docker
from plexica_infra.localenv.emulator import (
    DEFAULT_EMULATOR_PORT,
    TOKEN_ENV_VAR,
    emulator_paths,
    emulator_status,
    start_emulator,
    stop_emulator,
)
from plexica_infra.localenv.engines import (
    default_bridge_present,
    docker_paths,
    docker_status,
    find_docker,
    ping_docker,
)
from plexica_infra.localenv.errors import LocalEnvError
from plexica_infra.localenv.images import (
    SOURCE_HASH_LABEL,
    build_plugin_binary,
    build_plugin_images,
    source_hash,
)
from plexica_infra.localenv.stale_runs import recover_stack
from plexica_infra.localenv.toolchain import pulumi_command, pulumi_env

__all__ = [
    "DEFAULT_EMULATOR_PORT",
    "SOURCE_HASH_LABEL",
    "TOKEN_ENV_VAR",
    "LocalEnvError",
    "build_plugin_binary",
    "build_plugin_images",
    "default_bridge_present",
    "docker_paths",
    "docker_status",
    "emulator_paths",
    "emulator_status",
    "ensure_docker",
    "find_docker",
    "ping_docker",
    "pulumi_command",
    "pulumi_env",
    "recover_stack",
    "source_hash",
    "start_emulator",
    "stop_docker",
    "stop_emulator",
]
