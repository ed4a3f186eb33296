"""Typed stack config: every `plexica:*` key, read once.

Non-secret keys are validated into the frozen `StackConfig` model. The secrets
(`coreApiToken` or `coreApiClientSecret`, `databaseUrl`, `redisUrl`, `jwtSecret`) never
enter that model: they are read only with `require_secret` and stay secret Outputs
(`StackSecrets`) all the way to the resources that use them.

Keys are flat camelCase (`plexica:coreApiUrl`, not `plexica:coreApi.url`) so a
secret never shares a config object with plain values; an object holding one
secure value would turn the whole object secret.

This package owns every settings model, the targets' included; the targets import
it, never the other way round. Modules:

* `keys`: the namespace and the secret keys.
* `health`, `docker`, `kubernetes`: the `health`, `docker` and `kubernetes` sections.
* `model`: `StackConfig`, the whole stack.
* `messages`: values → `StackConfig`, or one `ConfigProblem` per bad key.
* `stack_file`: the stack file read as YAML, without Pulumi (`validate`, `make up`).
* `pulumi_config`: the running stack's config inside a program (`pulumi.Config`).
"""

from plexica_infra.config.docker import DockerSettings
from plexica_infra.config.health import HealthSettings
from plexica_infra.config.keys import CONFIG_NAMESPACE, SECRET_KEYS
from plexica_infra.config.kubernetes import KubernetesSettings, PeerSettings, PodSecurityLevel
from plexica_infra.config.messages import secret_set_command, set_command, stack_config_from_mapping
from plexica_infra.config.model import LogLevel, NodeEnv, PluginOverride, StackConfig, TargetName
from plexica_infra.config.pulumi_config import StackSecrets, read_stack_config
from plexica_infra.config.stack_file import plaintext_secret_problems, stack_file_values
from plexica_infra.errors import ConfigProblem, StackConfigError

__all__ = [
    "CONFIG_NAMESPACE",
    "SECRET_KEYS",
    "ConfigProblem",
    "DockerSettings",
    "HealthSettings",
    "KubernetesSettings",
    "LogLevel",
    "NodeEnv",
    "PeerSettings",
    "PluginOverride",
    "PodSecurityLevel",
    "StackConfig",
    "StackConfigError",
    "StackSecrets",
    "TargetName",
    "plaintext_secret_problems",
    "read_stack_config",
    "secret_set_command",
    "set_command",
    "stack_config_from_mapping",
    "stack_file_values",
]
