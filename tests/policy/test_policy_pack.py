"""The policy pack through a real `pulumi preview`: the engine starts the pack through our
own Python language host (RunPlugin), the pack checks every resource of
`tests/policy/program`, and the mandatory violations fail the preview with each
policy's message.

One preview serves every case (it is the slow part): each policy has resources that
break it (`bad-*`), which must be reported with the policy's message, and resources
that keep it (`good-*`), which must never be. That the real program passes every
policy is checked where it is previewed and deployed: tests/e2e (prod preview, local
stack) run with the pack.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from plexica_infra.localenv.toolchain import pulumi_env
from plexica_infra.report import PolicyViolation, parse_policy_events

pytestmark = pytest.mark.engine

REPO = Path(__file__).resolve().parents[2]
PULUMI = REPO / ".tools" / "bin" / "pulumi"
PROGRAM = Path(__file__).parent / "program"

CONFIG = {
    "all": "mandatory",
    "container-resources": {"maxCpu": "1", "maxMemory": "1Gi"},
    "image-references": {"forbidLatest": True, "requireDigest": True},
    "hpa-min-replicas": {"minReplicas": 2},
    "docker-loopback-ports": {"allowPublicPorts": False},
    "plugin-network-policy-and-pdb": {"requireNetworkPolicy": True, "requirePdb": True},
}

#: Per policy: (resource the violation is about, a fragment of the message saying what to change).
VIOLATIONS: dict[str, list[tuple[str, str]]] = {
    "container-resources": [
        ("bad-container", "has no CPU limit; set `cpus`"),
        ("bad-container", "has no memory limit; set `memory`"),
        ("bad-container", "has no memory request; set `memoryReservation`"),
        ("bad-greedy-container", "cpus 2 exceeds the stack's ceiling 1"),
        ("bad-greedy-container", "memory 4096MiB exceeds the stack's ceiling 1Gi"),
        ("plugin-bad", "has no resources; set requests and limits for cpu and memory"),
    ],
    "image-references": [
        ("bad-container", "has tag 'LATEST'; this stack refuses ':latest'"),
        ("bad-container", "is not pinned by digest"),
        ("plugin-bad", "has no tag (Docker reads it as 'latest')"),
        ("plugin-bad", "is not pinned by digest"),
    ],
    "health-probes": [
        ("bad-container", "has no healthcheck"),
        ("plugin-bad", "has no readinessProbe; add one on the plugin's api.readiness path"),
        ("plugin-bad", "has no livenessProbe; add one on the plugin's api.liveness path"),
    ],
    "container-hardening": [
        ("bad-container", "runs as root; set `user` to a non-root uid"),
        ("bad-container", "has a writable root filesystem; set `read_only=True`"),
        ("bad-container", "allows privilege escalation; add 'no-new-privileges:true'"),
        ("bad-container", "keeps Linux capabilities; drop them all"),
        ("plugin-bad", "may run as root; set securityContext.runAsNonRoot: true"),
        ("plugin-bad", "set securityContext.readOnlyRootFilesystem: true"),
        ("plugin-bad", "set securityContext.allowPrivilegeEscalation: false"),
        ("plugin-bad", "set securityContext.capabilities.drop: ['ALL']"),
    ],
    "hpa-min-replicas": [("plugin-bad-hpa", "has minReplicas 1; this stack needs at least 2")],
    "no-plaintext-secrets": [
        ("bad-container", "gets DATABASE_URL in plaintext; pass it from a stack secret"),
        ("plugin-bad", "sets JWT_SECRET as a plain value; use valueFrom.secretKeyRef"),
    ],
    "docker-loopback-ports": [
        ("bad-container", "publishes port 3100 on 0.0.0.0 (every interface); bind it to 127.0.0.1"),
        ("bad-greedy-container", "publishes port 3100 on 0.0.0.0; bind it to 127.0.0.1"),
    ],
    "plugin-network-policy-and-pdb": [
        ("plugin-bad", "has no NetworkPolicy selecting its pods"),
        ("plugin-bad", "has no PodDisruptionBudget selecting its pods"),
    ],
    "hpa-owns-replicas": [("plugin-bad", "sets spec.replicas 3 while HorizontalPodAutoscaler plugin-bad-hpa")],
}
GOOD_NAMES = ("good-container", "plugin-good", "plexica-database", "good-secret", "good-hpa", "good-deployment")


@dataclass(frozen=True)
class Preview:
    returncode: int
    output: str
    violations: list[PolicyViolation]

    def of(self, policy: str) -> list[PolicyViolation]:
        return [v for v in self.violations if v.policy == policy]


@pytest.fixture(scope="module")
def preview(tmp_path_factory: pytest.TempPathFactory) -> Preview:
    assert PULUMI.exists(), f"{PULUMI} is missing: run `make setup` first"
    work = tmp_path_factory.mktemp("policy-program")
    shutil.copy(PROGRAM / "__main__.py", work / "__main__.py")
    settings = yaml.safe_load((PROGRAM / "Pulumi.yaml").read_text())
    settings["runtime"]["options"]["virtualenv"] = str(REPO / ".venv")
    (work / "Pulumi.yaml").write_text(yaml.safe_dump(settings))
    config = work / "policy-config.json"
    config.write_text(json.dumps(CONFIG))
    (work / "backend").mkdir()
    env = pulumi_env(backend=work / "backend", passphrase="policy-test")
    env |= {"POLICY_TEST_RENDER_DIR": str(work / "render"), "PULUMI_DEBUG_COMMANDS": "true"}

    def pulumi(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PULUMI), *args, "--non-interactive"],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )

    init = pulumi("stack", "init", "cases")
    assert init.returncode == 0, init.stderr
    events = work / "events.jsonl"
    result = pulumi(
        "preview",
        "--stack",
        "cases",
        "--policy-pack",
        str(REPO / "policy"),
        "--policy-pack-config",
        str(config),
        "--event-log",
        str(events),
    )
    violations = parse_policy_events(events.read_text().splitlines()) if events.exists() else []
    return Preview(result.returncode, result.stdout + result.stderr, violations)


def test_mandatory_violations_fail_the_preview(preview: Preview) -> None:
    assert preview.returncode != 0, preview.output[-3000:]
    assert "Traceback" not in preview.output, preview.output[-3000:]
    assert preview.violations, f"the engine reported no policy event:\n{preview.output[-3000:]}"
    assert {v.level for v in preview.violations} == {"mandatory"}
    assert {v.policy for v in preview.violations} == set(VIOLATIONS)


@pytest.mark.parametrize("policy", sorted(VIOLATIONS))
def test_violating_resources_are_reported_with_the_policy_message(preview: Preview, policy: str) -> None:
    reported = preview.of(policy)
    for resource, fragment in VIOLATIONS[policy]:
        matching = [v for v in reported if resource in v.message and fragment in v.message]
        assert matching, f"{policy}: nothing about {resource!r} saying {fragment!r} in {[v.message for v in reported]}"
        # The engine's own output carries the message too: that is what a user reads.
        assert fragment in preview.output


@pytest.mark.parametrize("policy", sorted(VIOLATIONS))
def test_compliant_resources_pass(preview: Preview, policy: str) -> None:
    about_good = [v.message for v in preview.of(policy) if any(name in v.message for name in GOOD_NAMES)]
    assert not about_good
    # Every violation is one we expect: nothing else in the program trips the policy.
    expected = VIOLATIONS[policy]
    unexpected = [
        v.message for v in preview.of(policy) if not any(r in v.message and f in v.message for r, f in expected)
    ]
    assert not unexpected


def test_no_secret_value_reaches_the_output(preview: Preview) -> None:
    # The compliant Docker env and Secret carry this password as Pulumi secrets; the pack's
    # messages name variables, never values.
    assert all("pw@postgres" not in v.message for v in preview.violations)
    assert "not-a-secret-at-all" not in "".join(v.message for v in preview.violations)
