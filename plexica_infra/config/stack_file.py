"""Reading a stack file (`Pulumi.<stack>.yaml`) without Pulumi: for `validate` and `make up`.

Secret values are returned as stored (`{secure: ...}` when encrypted); only Pulumi can
decrypt them, so this reader checks only that they are encrypted.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from plexica_infra.config.keys import CONFIG_NAMESPACE, SECRET_KEYS
from plexica_infra.config.messages import secret_set_command
from plexica_infra.errors import ConfigProblem, StackConfigError

__all__ = ["plaintext_secret_problems", "stack_file_values"]


def stack_file_values(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The `plexica:*` values of a stack file (prefix stripped): (plain keys, secret keys).

    Raises StackConfigError when the file cannot be read or has no config.
    """
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise StackConfigError(ConfigProblem(path.name, "", f"cannot read stack file: {exc}")) from None
    except RecursionError:
        raise StackConfigError(ConfigProblem(path.name, "", "cannot read stack file: it is nested too deep")) from None
    config = document.get("config") if isinstance(document, dict) else None
    if not isinstance(config, dict):
        raise StackConfigError(ConfigProblem(path.name, "/config", "stack file has no 'config' mapping"))
    prefix = f"{CONFIG_NAMESPACE}:"
    plain: dict[str, Any] = {}
    secret: dict[str, Any] = {}
    for key, value in config.items():
        if str(key).startswith(prefix):
            name = str(key).removeprefix(prefix)
            (secret if name in SECRET_KEYS else plain)[name] = value
    return plain, secret


def plaintext_secret_problems(secrets: dict[str, Any], *, source: str) -> list[ConfigProblem]:
    """A problem for every secret key of `stack_file_values` stored without encryption."""
    return [
        ConfigProblem(
            source,
            f"{CONFIG_NAMESPACE}:{name}",
            "is a secret but stored in plaintext",
            f"remove it and run: {secret_set_command(None, name)}",
        )
        for name, value in secrets.items()
        if not (isinstance(value, dict) and "secure" in value)
    ]
