"""Secrets: the marks that tell a Pulumi secret from a plaintext value, and the
`no-plaintext-secrets` rule.

Secret values arrive wrapped in `SecretStr`/`SecretList`/`SecretDict` (the pack's
`__main__.py` keeps the engine's secret mark that pulumi-policy would strip), so
`is_secret` tells a Pulumi secret from a plaintext value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ._common import DOCKER_CONTAINER, K8S_CONFIG_MAP, Messages, known, name_of, pod_of

__all__ = [
    "CREDENTIAL_URL",
    "SECRET_ENV",
    "SecretDict",
    "SecretList",
    "SecretStr",
    "check_plaintext_secrets",
    "is_secret",
    "mark_secret",
]


class SecretStr(str):
    """A string the engine sent as a Pulumi secret."""


class SecretList(list[Any]):
    """A list the engine sent as a Pulumi secret (e.g. a container's whole `envs`)."""


class SecretDict(dict[str, Any]):
    """A map the engine sent as a Pulumi secret."""


def mark_secret(value: Any) -> Any:
    if isinstance(value, str):
        return SecretStr(value)
    if isinstance(value, list):
        return SecretList(value)
    if isinstance(value, dict):
        return SecretDict(value)
    return value


def is_secret(value: Any) -> bool:
    return isinstance(value, SecretStr | SecretList | SecretDict)


#: Environment names whose value is a credential (the guide's three secrets and the usual words).
SECRET_ENV = re.compile(
    r"(^|_)(PASSWORD|PASSWD|SECRET|TOKEN|CREDENTIALS?|PRIVATE_KEY|API_KEY)($|_)|^DATABASE_URL$|^REDIS_URL$"
)
#: A URL with a password in it (scheme://user:password@host).
CREDENTIAL_URL = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@:\s]*:[^/@\s]+@", re.IGNORECASE)


def _secret_expected(name: str, value: Any, extra: Sequence[str]) -> bool:
    credential_url = isinstance(value, str) and bool(CREDENTIAL_URL.match(value))
    return bool(SECRET_ENV.search(name)) or name in extra or credential_url


def check_plaintext_secrets(type_: str, props: Mapping[str, Any], name: str, config: Mapping[str, Any]) -> Messages:
    extra = [str(n) for n in config.get("secretEnvNames", [])]
    if type_ == DOCKER_CONTAINER:
        envs = props.get("envs")
        if not known(envs) or is_secret(envs):
            return []
        problems: Messages = []
        for entry in envs:
            if not isinstance(entry, str) or is_secret(entry):
                continue
            var, _, value = entry.partition("=")
            if _secret_expected(var, value, extra):
                problems.append(
                    f"container {name} gets {var} in plaintext; pass it from a stack secret "
                    "(`pulumi config set --secret`) and declare additional_secret_outputs=['envs']"
                )
        return problems
    if type_ == K8S_CONFIG_MAP:
        data = props.get("data")
        return [
            f"ConfigMap {name_of(props, name)} holds {key} in plaintext; move it to a Secret and reference it"
            for key, value in (data.items() if isinstance(data, Mapping) else [])
            if _secret_expected(str(key).upper().replace("-", "_").replace(".", "_"), value, extra)
        ]
    # Kubernetes Secrets need no check here: the Kubernetes provider marks every Secret's
    # data and stringData secret itself (state and previews stay encrypted).
    pod = pod_of(type_, props, name)
    if pod is None:
        return []
    problems = []
    for container in pod.containers():
        for var in container.get("env") or []:
            if not isinstance(var, Mapping) or "value" not in var:
                continue
            if _secret_expected(str(var.get("name", "")), var.get("value"), extra):
                problems.append(
                    f"{pod.owner} container {container.get('name', '?')!r} sets {var.get('name')} as a plain value; "
                    "use valueFrom.secretKeyRef to a Secret"
                )
    return problems
