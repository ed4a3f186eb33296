"""From `plexica:*` values to a `StackConfig`, or to one `ConfigProblem` per bad key.

Every problem names the key, says what was wrong and what is accepted, with a
`pulumi config set` example where one helps. Secrets are never shown.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from plexica_infra.config.keys import CONFIG_NAMESPACE, SECRET_KEYS
from plexica_infra.config.model import StackConfig
from plexica_infra.errors import ConfigProblem, StackConfigError

__all__ = ["secret_set_command", "set_command", "stack_config_from_mapping"]

#: Every accepted non-secret key, as written in a stack file, to the model's field name.
_ALIASES = {(field.alias or name): name for name, field in StackConfig.model_fields.items()}

#: Example values for the keys every stack must set.
_EXAMPLES = {
    "target": "docker",
    "coreApiUrl": "http://core-api:3000",
    "kafkaBrokers": "redpanda:29092",
    "namespace": "plexica",
}


def set_command(key: str) -> str:
    """How to set a required plain key, when an example value exists; else ''."""
    value = _EXAMPLES.get(key)
    return "" if value is None else f"set it with: pulumi config set {CONFIG_NAMESPACE}:{key} {value}"


def secret_set_command(stack: str | None, key: str) -> str:
    """How to set a secret without it landing in shell history or `/proc/*/cmdline`:
    Pulumi prompts for the value (or reads it from stdin), never from an argument."""
    where = f" --stack {stack}" if stack else ""
    return (
        f"pulumi config set --secret{where} {CONFIG_NAMESPACE}:{key}, then type the value at the prompt "
        f"(or pipe it: ... < file); never put it on the command line"
    )


def _unknown_key(key: str, source: str) -> ConfigProblem:
    close = difflib.get_close_matches(key, [*_ALIASES, *SECRET_KEYS], n=1)
    hint = f"did you mean '{CONFIG_NAMESPACE}:{close[0]}'?" if close else ""
    return ConfigProblem(source, f"{CONFIG_NAMESPACE}:{key}", "unknown config key", hint)


def _validation_problems(exc: ValidationError, source: str) -> list[ConfigProblem]:
    problems: list[ConfigProblem] = []
    for error in exc.errors():
        loc = [str(part) for part in error["loc"]]
        key = f"{CONFIG_NAMESPACE}:{'.'.join(loc)}" if loc else CONFIG_NAMESPACE
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "missing":
            message = "is required"
        elif error["type"] == "extra_forbidden":
            message = "unknown setting"
        problems.append(ConfigProblem(source, key, message, set_command(loc[0]) if loc else ""))
    return problems


def stack_config_from_mapping(values: Mapping[str, Any], *, source: str) -> StackConfig:
    """Validate `plexica:*` values (namespace prefix stripped); secrets must not be in `values`.

    Raises StackConfigError with one `ConfigProblem` per bad key.
    """
    problems = [_unknown_key(key, source) for key in values if key not in _ALIASES and key not in SECRET_KEYS]
    known = {key: value for key, value in values.items() if key in _ALIASES}
    try:
        config = StackConfig.model_validate(known)
    except ValidationError as exc:
        raise StackConfigError(*problems, *_validation_problems(exc, source)) from None
    if problems:
        raise StackConfigError(*problems)
    return config
