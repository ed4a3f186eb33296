"""The deployment guide's rules as pure checks over resource inputs.

Each check takes a resource's type token and its inputs (plain dicts and lists, as the
engine sends them, camelCase keys) plus the policy's config, and returns one message per
violation. A message names the object and says what to change. `__main__.py` wires the
checks into the Pulumi policy pack; tests can call them without an engine.

Values the engine does not know yet during a preview (outputs of other resources) are
the `UNKNOWN` sentinel: a check never fails on them.

Secret values arrive wrapped in `SecretStr`/`SecretList`/`SecretDict` (`secrets.py`), so
`is_secret` tells a Pulumi secret from a plaintext value.

The checks by job: `containers.py` (per-container rules), `secrets.py`
(`no-plaintext-secrets`), `workloads.py` (replicas and the plugin stack rules), and
`_common.py` (type tokens and readers they share).
"""

from __future__ import annotations

from ._common import (
    DOCKER_CONTAINER,
    DOCKER_REMOTE_IMAGE,
    HPA_TYPES,
    K8S_CONFIG_MAP,
    K8S_DEPLOYMENT,
    K8S_NETWORK_POLICY,
    K8S_PDB,
    K8S_SECRET,
    POD_TEMPLATE_TYPES,
    UNKNOWN,
    StackResource,
    pod_spec,
)
from .containers import (
    check_container_hardening,
    check_container_resources,
    check_docker_ports,
    check_health_probes,
    check_image_references,
)
from .secrets import SecretDict, SecretList, SecretStr, check_plaintext_secrets, is_secret, mark_secret
from .workloads import check_hpa_min_replicas, check_hpa_owns_replicas, check_plugin_companions

__all__ = [
    "DOCKER_CONTAINER",
    "DOCKER_REMOTE_IMAGE",
    "HPA_TYPES",
    "K8S_CONFIG_MAP",
    "K8S_DEPLOYMENT",
    "K8S_NETWORK_POLICY",
    "K8S_PDB",
    "K8S_SECRET",
    "POD_TEMPLATE_TYPES",
    "UNKNOWN",
    "SecretDict",
    "SecretList",
    "SecretStr",
    "StackResource",
    "check_container_hardening",
    "check_container_resources",
    "check_docker_ports",
    "check_health_probes",
    "check_hpa_min_replicas",
    "check_hpa_owns_replicas",
    "check_image_references",
    "check_plaintext_secrets",
    "check_plugin_companions",
    "is_secret",
    "mark_secret",
    "pod_spec",
]
