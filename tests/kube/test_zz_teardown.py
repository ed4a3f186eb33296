"""Last in the session: stopping the cluster leaves nothing of it on the host.

If the cluster was running before the session (e.g. `make up STACK=kube`), it is
started again afterwards, so running the tests never takes it away.
"""

from __future__ import annotations

import pytest

from plexica_infra.localenv.cluster import ClusterInfo, cluster_down, cluster_up, leftovers
from plexica_infra.localenv.ephemeral_kube import STATE_DIR

pytestmark = [pytest.mark.e2e, pytest.mark.cluster]


def test_cluster_down_leaves_no_process_mount_bridge_netns_or_chain(cluster: ClusterInfo) -> None:
    cluster_down(STATE_DIR, progress=lambda _m: None)
    try:
        assert leftovers(STATE_DIR) == {"processes": [], "mounts": [], "bridge": [], "netns": [], "iptables": []}
        # A second cluster-down is a no-op, not an error.
        assert cluster_down(STATE_DIR, progress=lambda _m: None) is False
    finally:
        if not cluster.started:
            cluster_up(STATE_DIR, progress=lambda _m: None)
