"""The local Kubernetes cluster (`python -m plexica_infra.localenv cluster-up|cluster-down`).

See `cluster.py` for what runs, and the README's Kubernetes section for what is
real and what is not on it.
"""

from plexica_infra.localenv.cluster._layout import ADDRESSES, ClusterPaths, cluster_paths, kube_bin_dir
from plexica_infra.localenv.cluster.cluster import (
    ClusterInfo,
    cluster_down,
    cluster_status,
    cluster_up,
    leftovers,
    missing_prerequisites,
)

__all__ = [
    "ADDRESSES",
    "ClusterInfo",
    "ClusterPaths",
    "cluster_down",
    "cluster_paths",
    "cluster_status",
    "cluster_up",
    "kube_bin_dir",
    "leftovers",
    "missing_prerequisites",
]
