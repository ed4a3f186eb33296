"""One pydantic inputs model per dynamic resource (see `_model` for what comes from it).

ProviderInputs
├── HealthGateInputs
└── CoreApiConnection            the Core API inputs every Core API resource shares
    ├── ServiceRegistrationInputs
    ├── PluginRecordInputs
    └── PluginRegistrationInputs
"""

from plexica_infra.providers._inputs._connection import CoreApiConnection
from plexica_infra.providers._inputs._model import Problem, ProviderInputs, raise_input_problems
from plexica_infra.providers._inputs._resources import (
    PROBE_INTERVAL_SECONDS,
    HealthGateInputs,
    PluginRecordInputs,
    PluginRegistrationInputs,
    ServiceRegistrationInputs,
)

__all__ = [
    "PROBE_INTERVAL_SECONDS",
    "CoreApiConnection",
    "HealthGateInputs",
    "PluginRecordInputs",
    "PluginRegistrationInputs",
    "Problem",
    "ProviderInputs",
    "ServiceRegistrationInputs",
    "raise_input_problems",
]
