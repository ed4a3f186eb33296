"""The local Kubernetes cluster and the kube stack: how long things take, against kubectl.

Measures, in one run, on the real local cluster (`plexica_infra.localenv.cluster`):

1. cluster start: cold (`cluster-up` after `cluster-down`: certificates kept, etcd,
   control plane, containerd, kubelet, kube-proxy, DNS, image import) and warm (reuse);
2. `pulumi up` of N plugins (copies of crm, small requests) through the Automation API,
   against what a team would run by hand per the guide: `kubectl apply -f` of the same
   objects (rendered by our builders into another namespace) + `kubectl rollout status`;
3. a rollout (version bump of one plugin): `pulumi up` vs `kubectl set image` + `rollout status`;
4. a failed rollout (readiness never passes) and its rollback: `pulumi up` with the
   rollout guard (detect + restore + serving again) vs by hand: `kubectl apply`,
   `kubectl rollout status --timeout=<deadline>` failing, `kubectl rollout undo`, `rollout status`.

A cluster this run started is stopped at the end; one that was running is left running
(it is restarted after the cold-start measurement). Everything else it creates (stack,
namespaces, emulator, temp dir) is removed. Usage:

    .venv/bin/python bench/bench_kube.py [--plugins 4] [--deadline 20] [--json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import yaml  # noqa: E402
from lightkube.resources.core_v1 import Namespace  # noqa: E402
from pulumi import automation as auto  # noqa: E402

from plexica_infra.config import stack_config_from_mapping  # noqa: E402
from plexica_infra.k8s.objects import platform_objects, plugin_objects  # noqa: E402
from plexica_infra.localenv.cluster import cluster_down, cluster_status, cluster_up, kube_bin_dir  # noqa: E402
from plexica_infra.localenv.emulator_process import start_emulator  # noqa: E402
from plexica_infra.localenv.ephemeral_kube import STATE_DIR, KubeProject  # noqa: E402
from plexica_infra.manifest import PluginManifest  # noqa: E402

RUN = uuid.uuid4().hex[:6]


def _timed(action: Any) -> float:
    start = time.monotonic()
    action()
    return time.monotonic() - start


def _kubectl(kubeconfig: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(kube_bin_dir() / "kubectl"), f"--kubeconfig={kubeconfig}", *args],
        capture_output=True,
        text=True,
        check=check,
    )


def _manual_objects(project: KubeProject, namespace: str) -> list[dict[str, Any]]:
    """The same objects the program emits, for `kubectl apply` (Secrets with placeholder values)."""
    values = {
        "target": "kubernetes",
        "namespace": namespace,
        "coreApiUrl": project.emulator.url,
        "kafkaBrokers": "redpanda:29092",
        "kubernetes": {"rollback": False, "progressDeadlineSeconds": project.deadline_seconds},
    }
    stack = stack_config_from_mapping(values, source="bench")
    manifests = [
        PluginManifest.model_validate(json.loads(p.read_text()))
        for p in sorted(project.plugins_dir.glob("*/plugin.json"))
    ]
    platform = platform_objects(manifests, stack)
    objects: list[dict[str, Any]] = [platform.namespace] if platform.namespace else []
    for _secret, obj in platform.secrets:
        key = next(iter(obj["stringData"]))
        objects.append({**obj, "stringData": {key: "bench-placeholder"}})
    if platform.scrape_config is not None:
        objects.append(platform.scrape_config)
    for manifest in manifests:
        o = plugin_objects(manifest, stack)
        objects += [
            x for x in (o.service_account, o.network_policy, o.deployment, o.service, o.hpa, o.pdb) if x is not None
        ]
    return objects


def _apply_and_wait(kubeconfig: Path, objects: list[dict[str, Any]], namespace: str, timeout: int) -> bool:
    docs = yaml.safe_dump_all(objects)
    subprocess.run(
        [str(kube_bin_dir() / "kubectl"), f"--kubeconfig={kubeconfig}", "apply", "-f", "-"],
        input=docs,
        text=True,
        capture_output=True,
        check=True,
    )
    ok = True
    for obj in objects:
        if obj["kind"] == "Deployment":
            name = obj["metadata"]["name"]
            result = _kubectl(
                kubeconfig,
                "-n",
                namespace,
                "rollout",
                "status",
                f"deployment/{name}",
                f"--timeout={timeout}s",
                check=False,
            )
            ok = ok and result.returncode == 0
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plugins", type=int, default=4)
    parser.add_argument("--deadline", type=int, default=20, help="progressDeadlineSeconds for the failure case")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    quiet = lambda _m: None  # noqa: E731
    results: dict[str, Any] = {}

    was_running = cluster_status(STATE_DIR)["running"]
    cluster_down(STATE_DIR, progress=quiet)
    cold = cluster_up(STATE_DIR, progress=quiet)
    results["cluster_cold_start_s"] = cold.seconds
    results["cluster_warm_start_s"] = cluster_up(STATE_DIR, progress=quiet).seconds

    with tempfile.TemporaryDirectory(prefix="plexica-bench-kube-") as tmp:
        emulator = start_emulator(Path(tmp) / "core-api.db", f"bench-token-{uuid.uuid4().hex}")
        project = KubeProject(
            root=Path(tmp) / "project", emulator=emulator, kubeconfig=cold.kubeconfig, deadline_seconds=args.deadline
        )
        manual_ns = f"plexica-bench-manual-{RUN}"
        try:
            project.create()
            template = project.manifest("crm")
            for folder in list(project.plugins_dir.iterdir()):
                project.remove_manifest(folder.name)
            for i in range(args.plugins):
                data = json.loads(json.dumps(template))
                data["id"], data["name"] = f"bench{i}", f"Bench {i}"
                data["api"]["basePath"] = f"/api/plugins/bench{i}"
                project.write_manifest(f"bench{i}", data)
            project.import_images()
            results["pulumi_up_n_plugins_s"] = _timed(lambda: project.stack.up(color="never"))
            objects = _manual_objects(project, manual_ns)
            results["kubectl_apply_n_plugins_s"] = _timed(
                lambda: _apply_and_wait(cold.kubeconfig, objects, manual_ns, 300)
            )

            # Rollout: one plugin to a new version.
            def bump(m: dict[str, Any], version: str) -> None:
                m["version"] = version
                m["runtime"]["image"] = f"{m['runtime']['image'].rsplit(':', 1)[0]}:{version}"

            project.edit_manifest("bench0", lambda m: bump(m, "1.2.1"))
            project.import_images()
            results["pulumi_rollout_s"] = _timed(lambda: project.stack.up(color="never"))
            results["kubectl_rollout_s"] = _timed(
                lambda: (
                    _kubectl(
                        cold.kubeconfig,
                        "-n",
                        manual_ns,
                        "set",
                        "image",
                        "deployment/plugin-bench0",
                        "plugin-bench0=registry.plexica.io/plugins/crm:1.2.1",
                    ),
                    _kubectl(
                        cold.kubeconfig,
                        "-n",
                        manual_ns,
                        "rollout",
                        "status",
                        "deployment/plugin-bench0",
                        "--timeout=300s",
                    ),
                )
            )

            # A failed rollout and its rollback.
            def broken(m: dict[str, Any]) -> None:
                bump(m, "1.3.0")
                m["api"]["readiness"] = "/health/never-ready"

            project.edit_manifest("bench0", broken)
            project.import_images()

            def guarded() -> None:
                try:
                    project.stack.up(color="never")
                except auto.CommandError:
                    return
                raise AssertionError("the broken rollout succeeded")

            results["pulumi_failed_rollout_and_rollback_s"] = _timed(guarded)
            manual = [
                o
                for o in _manual_objects(project, manual_ns)
                if o["kind"] == "Deployment" and o["metadata"]["name"] == "plugin-bench0"
            ]

            def by_hand() -> None:
                _apply_and_wait(cold.kubeconfig, manual, manual_ns, args.deadline)
                _kubectl(cold.kubeconfig, "-n", manual_ns, "rollout", "undo", "deployment/plugin-bench0")
                _kubectl(
                    cold.kubeconfig, "-n", manual_ns, "rollout", "status", "deployment/plugin-bench0", "--timeout=300s"
                )

            results["kubectl_failed_rollout_and_undo_s"] = _timed(by_hand)
        finally:
            project.remove()
            with contextlib.suppress(Exception):
                project.api.delete(Namespace, manual_ns)
            emulator.stop()
    if not was_running:
        cluster_down(STATE_DIR, progress=quiet)

    ratios = {
        "up_n_plugins_pulumi_vs_kubectl": results["pulumi_up_n_plugins_s"] / results["kubectl_apply_n_plugins_s"],
        "rollout_pulumi_vs_kubectl": results["pulumi_rollout_s"] / results["kubectl_rollout_s"],
        "failed_rollout_guard_vs_kubectl_by_hand": results["pulumi_failed_rollout_and_rollback_s"]
        / results["kubectl_failed_rollout_and_undo_s"],
        "cluster_warm_vs_cold": results["cluster_warm_start_s"] / results["cluster_cold_start_s"],
    }
    if args.json:
        print(json.dumps({"plugins": args.plugins, "seconds": results, "ratios": ratios}, indent=2))
    else:
        print(f"local cluster + kube stack, {args.plugins} plugins, deadline {args.deadline}s")
        for key, value in results.items():
            print(f"  {key:42s} {value:8.1f} s")
        for key, value in ratios.items():
            print(f"  ratio {key:36s} {value:8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
