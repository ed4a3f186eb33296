"""Unit tests of the cluster's and the rollback's own logic (no cluster needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dnslib import QTYPE, RCODE, DNSRecord

from plexica_infra.k8s.rollout_verdict import CRASH_REASONS, judge_rollout, previous_template, template_hash
from plexica_infra.localenv.cluster._components import cni_config, containerd_config, kubelet_config
from plexica_infra.localenv.cluster._dns import answer
from plexica_infra.localenv.cluster._layout import ADDRESSES, ClusterPaths
from plexica_infra.localenv.cluster._pki import Pki


def _deployment(**status: Any) -> dict[str, Any]:
    return {
        "metadata": {"generation": 3, "annotations": {"deployment.kubernetes.io/revision": "4"}},
        "spec": {"replicas": 2},
        "status": {"observedGeneration": 3, **status},
    }


def _pod(**container: Any) -> dict[str, Any]:
    return {"metadata": {"name": "plugin-crm-abc"}, "status": {"containerStatuses": [container]}}


def test_rollout_done_only_when_every_replica_is_new_and_available() -> None:
    assert judge_rollout(
        _deployment(updatedReplicas=2, replicas=2, availableReplicas=2), [], elapsed=1, deadline=60
    ).done
    # An old pod still there (surge): not done yet.
    going = judge_rollout(_deployment(updatedReplicas=2, replicas=3, availableReplicas=2), [], elapsed=1, deadline=60)
    assert not going.done and going.failure is None
    # The controller has not seen the new generation yet.
    stale = _deployment(updatedReplicas=2, replicas=2, availableReplicas=2)
    stale["status"]["observedGeneration"] = 2
    assert not judge_rollout(stale, [], elapsed=1, deadline=60).done


def test_rollout_failure_triggers() -> None:
    progressing = {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded"}
    deadline = judge_rollout(_deployment(conditions=[progressing]), [], elapsed=1, deadline=30)
    assert deadline.failure == "readiness never passed within 30s"
    ours = judge_rollout(_deployment(updatedReplicas=1, replicas=3), [], elapsed=31, deadline=30)
    assert ours.failure == "readiness never passed within 30s"
    for reason in CRASH_REASONS:
        crashed = judge_rollout(_deployment(), [_pod(state={"waiting": {"reason": reason}})], elapsed=1, deadline=30)
        assert crashed.failure == f"pod plugin-crm-abc is in {reason}"
    restarts = judge_rollout(_deployment(), [_pod(state={"running": {}}, restartCount=2)], elapsed=1, deadline=30)
    assert restarts.failure == "pod plugin-crm-abc crashed (2 restarts)"
    # One restart alone is not a crash loop yet.
    assert judge_rollout(_deployment(), [_pod(restartCount=1)], elapsed=1, deadline=30).failure is None


def _rs(revision: str, image: str) -> dict[str, Any]:
    return {
        "metadata": {"annotations": {"deployment.kubernetes.io/revision": revision}},
        "spec": {
            "template": {
                "metadata": {"labels": {"plugin": "crm", "pod-template-hash": f"h{revision}"}},
                "spec": {"containers": [{"image": image}]},
            }
        },
    }


def test_previous_template_is_the_newest_older_revision_without_its_hash_label() -> None:
    replica_sets = [_rs("1", "crm:1.0"), _rs("3", "crm:1.1"), _rs("4", "crm:2.0-broken"), _rs("2", "crm:0.9")]
    found = previous_template(_deployment(), replica_sets)
    assert found is not None
    revision, template = found
    assert revision == 3 and template["spec"]["containers"][0]["image"] == "crm:1.1"
    assert template["metadata"]["labels"] == {"plugin": "crm"}
    assert replica_sets[1]["spec"]["template"]["metadata"]["labels"]["pod-template-hash"] == "h3"  # not mutated
    assert previous_template(_deployment(), [_rs("4", "crm:2.0")]) is None


def test_template_hash_follows_the_spec_only() -> None:
    a = {"metadata": {"name": "x"}, "spec": {"replicas": 1}}
    assert template_hash(a) == template_hash({"metadata": {"name": "y"}, "spec": {"replicas": 1}})
    assert template_hash(a) != template_hash({"spec": {"replicas": 2}})


class _Index:
    def lookup(self, name: str, namespace: str) -> str | None:
        return {("plugin-crm", "plexica"): "10.96.0.42"}.get((name, namespace))


def _ask(name: str, qtype: str = "A") -> DNSRecord:
    return DNSRecord.parse(answer(bytes(DNSRecord.question(name, qtype).pack()), _Index(), "cluster.local"))  # type: ignore[arg-type]


def test_cluster_dns_answers_services_only() -> None:
    found = _ask("plugin-crm.plexica.svc.cluster.local")
    assert [str(rr.rdata) for rr in found.rr] == ["10.96.0.42"] and found.header.rcode == RCODE.NOERROR
    assert _ask("plugin-nope.plexica.svc.cluster.local").header.rcode == RCODE.NXDOMAIN
    assert _ask("plexica.svc.cluster.local").header.rcode == RCODE.NXDOMAIN
    assert _ask("example.org").header.rcode == RCODE.REFUSED
    empty = _ask("plugin-crm.plexica.svc.cluster.local", "AAAA")
    assert empty.header.rcode == RCODE.NOERROR and not empty.rr and empty.q.qtype == QTYPE.AAAA


def test_node_configs_keep_to_our_own_directories_and_loopback(tmp_path: Path) -> None:
    paths = ClusterPaths(tmp_path / "cluster")
    text = containerd_config(paths)
    assert "restrict_oom_score_adj = true" in text
    assert f'address = "{paths.containerd_socket}"' in text and f'Root = "{paths.runc_root}"' in text
    assert "/run/containerd" not in text and "/var/lib/containerd" not in text
    kubelet = kubelet_config(Pki(paths.pki), paths, ADDRESSES)
    assert kubelet["cgroupDriver"] == "cgroupfs" and kubelet["failSwapOn"] is False and kubelet["failCgroupV1"] is False
    assert kubelet["address"] == "127.0.0.1" and kubelet["readOnlyPort"] == 0
    cni = cni_config(paths, ADDRESSES)
    plugin = cni["plugins"][0]  # type: ignore[index]
    assert plugin["ipam"]["dataDir"] == str(paths.cni_ipam) and plugin["ipMasq"] is False
