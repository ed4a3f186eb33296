"""plexica-guide: the deployment guide's rules as a Pulumi policy pack.

Run by the engine with `pulumi preview|up --policy-pack policy --policy-pack-config
policy/config/<stack>.json` (the language host starts this file through
`python -m pulumi.policy`). Every policy is mandatory: a violation fails the preview or
the update before anything changes. The checks themselves are pure functions in
`guide_rules/`; this file only registers them with their names, descriptions and
config schemas.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import guide_rules as rules
import pulumi_policy.deserialize as _deserialize
import pulumi_policy.policy as _policy
from pulumi_policy import (
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyPack,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

PACK_NAME = "plexica-guide"

# pulumi-policy (1.21.0) unwraps secret inputs before `validate` sees them, so a policy
# cannot tell a stack secret from a plaintext value. Keep the mark: a secret arrives as
# SecretStr/SecretList/SecretDict (guide_rules.is_secret); they behave as str/list/dict.
# The engine sends the mark only for providers that accept secrets (Kubernetes does; our
# Docker provider does not), so a Docker container's `envs` counts as secret when the
# resource declares it in `additional_secret_outputs` (the Docker target always does).
_unwrap = _deserialize._deserialize_property


def _keep_secret_marks(prop: Any, proxy_secrets: bool = False) -> Any:
    if isinstance(prop, dict) and prop.get(_deserialize.SPECIAL_SIG_KEY) == _deserialize.SPECIAL_SECRET_SIG:
        return rules.mark_secret(_keep_secret_marks(prop["value"], proxy_secrets))
    return _unwrap(prop, proxy_secrets)


_deserialize._deserialize_property = _keep_secret_marks
# Its unknown-checking proxy rebuilds every list and map (dropping the marks) and raises on
# values a preview does not know yet; the checks read plain data and skip UNKNOWN instead.
_policy.unknown_checking_proxy = lambda props: props


def _raw(props: Mapping[str, Any]) -> Mapping[str, Any]:
    return props if isinstance(props, dict) else dict(props)


def _mandatory(name: str, description: str, config: dict[str, dict[str, Any]] | None) -> dict[str, Any]:
    """What every policy of the pack shares: mandatory, with its config schema if it has one."""
    return {
        "name": name,
        "description": description,
        "enforcement_level": EnforcementLevel.MANDATORY,
        "config_schema": PolicyConfigSchema(config) if config else None,
    }


Check = Callable[[str, Mapping[str, Any], str, Mapping[str, Any]], list[str]]


def _resource_policy(
    name: str, description: str, check: Check, config: dict[str, dict[str, Any]] | None = None
) -> ResourceValidationPolicy:
    def validate(args: ResourceValidationArgs, report_violation: ReportViolation) -> None:
        props = dict(_raw(args.props))
        # Outputs the resource declares secret are stored encrypted whatever the inputs say.
        for key in getattr(args.opts, "additional_secret_outputs", None) or []:
            if key in props:
                props[key] = rules.mark_secret(props[key])
        for message in check(args.resource_type, props, args.name, args.get_config()):
            report_violation(message, None)

    return ResourceValidationPolicy(validate=validate, **_mandatory(name, description, config))


def _stack_policy(
    name: str,
    description: str,
    check: Callable[[list[rules.StackResource], Mapping[str, Any]], list[str]],
    config: dict[str, dict[str, Any]] | None = None,
) -> StackValidationPolicy:
    def validate(args: StackValidationArgs, report_violation: ReportViolation) -> None:
        resources = [rules.StackResource(r.resource_type, r.name, _raw(r.props)) for r in args.resources]
        for message in check(resources, args.get_config()):
            report_violation(message, None)

    return StackValidationPolicy(validate=validate, **_mandatory(name, description, config))


_QUANTITY = {"type": "string", "minLength": 1}

POLICIES = [
    _resource_policy(
        "container-resources",
        "Every container (Docker and Kubernetes) has CPU and memory limits and requests, within the stack's ceilings.",
        rules.check_container_resources,
        {
            "maxCpu": {**_QUANTITY, "default": "4", "description": "highest CPU limit or request, e.g. '2' or '1500m'"},
            "maxMemory": {**_QUANTITY, "default": "8Gi", "description": "highest memory limit or request, e.g. '4Gi'"},
        },
    ),
    _resource_policy(
        "image-references",
        "No ':latest' image (any case, or no tag) where the stack forbids it; digests where the stack requires them.",
        rules.check_image_references,
        {
            "forbidLatest": {"type": "boolean", "default": False},
            "requireDigest": {"type": "boolean", "default": False},
        },
    ),
    _resource_policy(
        "health-probes",
        "Every Deployment container has readiness and liveness probes; every Docker container a healthcheck.",
        rules.check_health_probes,
    ),
    _resource_policy(
        "container-hardening",
        "Containers run as non-root with a read-only root filesystem, no privilege escalation and all "
        "capabilities dropped.",
        rules.check_container_hardening,
    ),
    _resource_policy(
        "hpa-min-replicas",
        "A HorizontalPodAutoscaler never goes below the stack's replica floor (2 in prod).",
        rules.check_hpa_min_replicas,
        {"minReplicas": {"type": "integer", "minimum": 1, "default": 1}},
    ),
    _resource_policy(
        "no-plaintext-secrets",
        "Credentials come from secret references (Kubernetes secretKeyRef, Pulumi stack secrets), never as "
        "plaintext values.",
        rules.check_plaintext_secrets,
        {"secretEnvNames": {"type": "array", "items": {"type": "string"}, "default": []}},
    ),
    _resource_policy(
        "docker-loopback-ports",
        "Docker containers publish ports on a loopback address only, unless the stack allows otherwise.",
        rules.check_docker_ports,
        {"allowPublicPorts": {"type": "boolean", "default": False}},
    ),
    _stack_policy(
        "plugin-network-policy-and-pdb",
        "Every plugin Deployment has a NetworkPolicy and a PodDisruptionBudget selecting its pods.",
        rules.check_plugin_companions,
        {
            "requireNetworkPolicy": {"type": "boolean", "default": True},
            "requirePdb": {"type": "boolean", "default": True},
        },
    ),
    _stack_policy(
        "hpa-owns-replicas",
        "A Deployment scaled by a HorizontalPodAutoscaler does not set spec.replicas itself (on a live object: "
        "Pulumi's field manager does not own it).",
        rules.check_hpa_owns_replicas,
    ),
]

PolicyPack(name=PACK_NAME, enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
