"""The Kubernetes e2e tests' ephemeral stack: it lives in the package, for the benchmarks too."""

from plexica_infra.localenv.ephemeral_kube import (
    PASSPHRASE,
    POLICY,
    SECRETS,
    SMALL_REQUESTS,
    STATE_DIR,
    KubeProject,
    require_toolchain,
)

__all__ = ["PASSPHRASE", "POLICY", "SECRETS", "SMALL_REQUESTS", "STATE_DIR", "KubeProject", "require_toolchain"]
