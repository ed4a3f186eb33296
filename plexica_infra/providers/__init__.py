"""Pulumi dynamic providers that drive plugins through the Core API.

- `PluginRecord`: the plugin registered with the Core API.
- `HealthGate`: waits until every instance of a plugin is live, ready and
  within its p95 latency budgets.
- `ServiceRegistration`: a plugin's endpoints in the Core API service registry.
- `PluginRegistration`: the plugin installed and ACTIVE (or DISABLED).

Wire them in that order (each `depends_on` the previous one): the service registry
keys on plugins the Core API knows, and install health-checks the endpoints it
holds. Every resource names its Core API's dialect (`guide` or `plexica-v1`, see
`plexica_infra.providers.dialects`) and auth (`static` token or OAuth2
`client-credentials`). Errors are `CoreApiError`s; see
`plexica_infra.providers._exceptions` for the hierarchy. Each resource's inputs are
one pydantic model (`HealthGateInputs`, `PluginRecordInputs`, ...; see `_inputs`).
`reported` makes a provider method's `PlexicaError`s reach the user as their one
line from Pulumi's dynamic provider host (every provider of ours has it).
"""

from plexica_infra.providers._auth import (
    AUTH_MODES,
    TOKEN_REFRESH_MARGIN_SECONDS,
    AuthMode,
    ClientCredentials,
    Credentials,
    StaticCredentials,
    clear_token_cache,
)
from plexica_infra.providers._base import ProviderBase, ProviderResource
from plexica_infra.providers._config import (
    CLIENT_SECRET_CONFIG_KEY,
    CLIENT_SECRET_ENV_VAR,
    CONNECT_TIMEOUT_SECONDS,
    LIFECYCLE_READ_TIMEOUT_SECONDS,
    MAX_CONVERGE_STEPS,
    POOL_TIMEOUT_SECONDS,
    READ_TIMEOUT_SECONDS,
    RETRY_INITIAL_BACKOFF_SECONDS,
    RETRY_MAX_ATTEMPTS,
    RETRY_MAX_BACKOFF_SECONDS,
    RETRY_MAX_ELAPSED_SECONDS,
    SETTLE_TIMEOUT_SECONDS,
    TOKEN_CONFIG_KEY,
    TOKEN_ENV_VAR,
    WRITE_TIMEOUT_SECONDS,
    TransportSettings,
    is_local_host,
    tls_verify,
)
from plexica_infra.providers._core_api_provider import CoreApiProvider, CoreApiResource
from plexica_infra.providers._exceptions import (
    CoreApiAuthError,
    CoreApiConfigError,
    CoreApiConflictError,
    CoreApiError,
    CoreApiNotFoundError,
    CoreApiResponseError,
    CoreApiTimeoutError,
    CoreApiUnreachableError,
    HealthGateError,
    LatencyBudgetError,
    LifecycleConvergenceError,
)
from plexica_infra.providers._health_gate import (
    HEALTH_GATE_DEADLINE_SECONDS,
    HEALTH_GATE_FAILURE_THRESHOLD,
    HEALTH_GATE_START_PERIOD_SECONDS,
    LATENCY_SAMPLES,
    LIVE_P95_BUDGET_MS,
    READY_P95_BUDGET_MS,
    HealthGate,
    HealthGateProvider,
)
from plexica_infra.providers._health_probe import PROBE_TIMEOUT_SECONDS, percentile, run_health_gate
from plexica_infra.providers._host import reported
from plexica_infra.providers._inputs import (
    PROBE_INTERVAL_SECONDS,
    CoreApiConnection,
    HealthGateInputs,
    PluginRecordInputs,
    PluginRegistrationInputs,
    ProviderInputs,
    ServiceRegistrationInputs,
)
from plexica_infra.providers._outage import OUTAGE_MEMORY_SECONDS, OUTAGE_PROBE_ATTEMPTS, OUTAGE_PROBE_SECONDS
from plexica_infra.providers._pickle_guard import pickle_state_restored
from plexica_infra.providers._plugin_lifecycle import PluginLifecycle
from plexica_infra.providers._plugin_provider import PluginProvider
from plexica_infra.providers._plugin_record import PluginRecord, PluginRecordProvider
from plexica_infra.providers._plugin_registration import PluginRegistration, PluginRegistrationProvider
from plexica_infra.providers._service_registration import (
    ServiceRegistration,
    ServiceRegistrationProvider,
)
from plexica_infra.providers._transport import CoreApiClient
from plexica_infra.providers.dialects import Dialect, GuideDialect, PlexicaV1Dialect, PluginView, ServiceView

__all__ = [
    "AUTH_MODES",
    "CLIENT_SECRET_CONFIG_KEY",
    "CLIENT_SECRET_ENV_VAR",
    "CONNECT_TIMEOUT_SECONDS",
    "HEALTH_GATE_DEADLINE_SECONDS",
    "HEALTH_GATE_FAILURE_THRESHOLD",
    "HEALTH_GATE_START_PERIOD_SECONDS",
    "LATENCY_SAMPLES",
    "LIFECYCLE_READ_TIMEOUT_SECONDS",
    "LIVE_P95_BUDGET_MS",
    "MAX_CONVERGE_STEPS",
    "OUTAGE_MEMORY_SECONDS",
    "OUTAGE_PROBE_ATTEMPTS",
    "OUTAGE_PROBE_SECONDS",
    "POOL_TIMEOUT_SECONDS",
    "PROBE_INTERVAL_SECONDS",
    "PROBE_TIMEOUT_SECONDS",
    "READY_P95_BUDGET_MS",
    "READ_TIMEOUT_SECONDS",
    "RETRY_INITIAL_BACKOFF_SECONDS",
    "RETRY_MAX_ATTEMPTS",
    "RETRY_MAX_BACKOFF_SECONDS",
    "RETRY_MAX_ELAPSED_SECONDS",
    "SETTLE_TIMEOUT_SECONDS",
    "TOKEN_CONFIG_KEY",
    "TOKEN_ENV_VAR",
    "TOKEN_REFRESH_MARGIN_SECONDS",
    "WRITE_TIMEOUT_SECONDS",
    "AuthMode",
    "ClientCredentials",
    "CoreApiAuthError",
    "CoreApiClient",
    "CoreApiConfigError",
    "CoreApiConflictError",
    "CoreApiConnection",
    "CoreApiError",
    "CoreApiNotFoundError",
    "CoreApiProvider",
    "CoreApiResource",
    "CoreApiResponseError",
    "CoreApiTimeoutError",
    "CoreApiUnreachableError",
    "Credentials",
    "Dialect",
    "GuideDialect",
    "HealthGate",
    "HealthGateError",
    "HealthGateInputs",
    "HealthGateProvider",
    "LatencyBudgetError",
    "LifecycleConvergenceError",
    "PlexicaV1Dialect",
    "PluginLifecycle",
    "PluginProvider",
    "PluginRecord",
    "PluginRecordInputs",
    "PluginRecordProvider",
    "PluginRegistration",
    "PluginRegistrationInputs",
    "PluginRegistrationProvider",
    "PluginView",
    "ProviderBase",
    "ProviderInputs",
    "ProviderResource",
    "ServiceRegistration",
    "ServiceRegistrationInputs",
    "ServiceRegistrationProvider",
    "ServiceView",
    "StaticCredentials",
    "TransportSettings",
    "clear_token_cache",
    "is_local_host",
    "percentile",
    "pickle_state_restored",
    "reported",
    "run_health_gate",
    "tls_verify",
]
