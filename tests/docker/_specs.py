"""The shipped plugins' container specs, for the spec tests."""

from __future__ import annotations

from plexica_infra.config import StackConfig
from plexica_infra.docker.container import container_specs
from plexica_infra.docker.container_spec import ContainerSpec
from tests.docker.conftest import _base_config, manifest

CRM = manifest("crm")
ANALYTICS = manifest("analytics")
DEPS = {"crm": CRM}


def crm_spec(stack: StackConfig | None = None) -> ContainerSpec:
    (spec,) = container_specs(CRM, stack or _base_config())
    return spec


def analytics_spec(stack: StackConfig | None = None) -> ContainerSpec:
    (spec,) = container_specs(ANALYTICS, stack or _base_config(), DEPS)
    return spec
