"""Issue 12, findings 1-4: manifests an attacker or an unlucky author writes.

Each input here was accepted (or crashed `validate`) before the fix. Every one must
now be exactly one problem line naming the file, the JSON pointer and the rule.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from plexica_infra._validators import egress_refusal, image_has_latest_tag, printable
from plexica_infra.config import StackConfig
from plexica_infra.errors import ManifestError
from plexica_infra.loader import load_plugins, require_plugins, stack_problems, stack_warnings
from tests.conftest import REPO, WritePlugins, shipped_manifest


def _problems(write_plugins: WritePlugins, manifest: dict[str, Any] | str, folder: str = "crm") -> list[str]:
    return [f"{p.pointer}: {p.message}" for p in load_plugins(write_plugins({folder: manifest})).problems]


def _crm(change: Any) -> dict[str, Any]:
    manifest = shipped_manifest("crm")
    change(manifest)
    return manifest


def _cli(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plexica_infra", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


# 1. Egress ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("destination", "rule"),
    [
        ("0.0.0.0/0", "opens egress to every address"),
        ("::/0", "opens egress to every address"),
        ("169.254.169.254", "cloud metadata endpoint 169.254.169.254"),
        ("169.254.0.0/16", "link-local"),
        ("fe80::1", "link-local (fe80::/10)"),
        ("127.0.0.1", "loopback (127.0.0.0/8)"),
        ("::1", "loopback (::1)"),
        ("fd00:ec2::254", "cloud metadata endpoint (fd00:ec2::254)"),
        ("::ffff:169.254.169.254", "IPv4-mapped addresses"),
        ("0.0.0.0/1", "wider than /8"),
        ("168.0.0.0/6", "wider than /8"),
    ],
)
def test_egress_to_refused_ranges_is_one_problem(write_plugins: WritePlugins, destination: str, rule: str) -> None:
    manifest = _crm(lambda m: m["deployment"].update(egress=[{"to": destination, "ports": [1, 65535]}]))
    [problem] = _problems(write_plugins, manifest)
    assert problem.startswith("/deployment/egress/0/to: ")
    assert rule in problem


def test_egress_zone_id_is_refused(write_plugins: WritePlugins) -> None:
    manifest = _crm(lambda m: m["deployment"].update(egress=[{"to": "fe80::1%eth0", "ports": [443]}]))
    [problem] = _problems(write_plugins, manifest)
    assert problem.startswith("/deployment/egress/0/to: 'fe80::1%eth0' has an IPv6 zone id")


def test_egress_allowlist_is_required_and_respected(write_plugins: WritePlugins) -> None:
    manifest = _crm(lambda m: m["deployment"].update(egress=[{"to": "203.0.113.10", "ports": [443]}]))
    plugins_dir = write_plugins({"crm": manifest})
    plugins = load_plugins(plugins_dir).plugins
    base = {"target": "kubernetes", "coreApiUrl": "https://core.example.com", "kafkaBrokers": "k:1"}

    [refused] = stack_problems(StackConfig.model_validate(base), plugins, source="Pulumi.prod.yaml")
    assert refused.pointer == "/deployment/egress/0/to"
    assert "203.0.113.10/32 is not inside the stack's plexica:egressAllowed (empty" in refused.message

    inside = StackConfig.model_validate({**base, "egressAllowed": ["203.0.113.0/24"]})
    assert stack_problems(inside, plugins, source="Pulumi.prod.yaml") == []
    elsewhere = StackConfig.model_validate({**base, "egressAllowed": ["198.51.100.0/24", "2001:db8::/32"]})
    assert len(stack_problems(elsewhere, plugins, source="Pulumi.prod.yaml")) == 1
    # `pulumi up` runs the same check before creating anything.
    with pytest.raises(ManifestError, match="is not inside the stack's plexica:egressAllowed"):
        require_plugins(plugins_dir, stack=StackConfig.model_validate(base))


def test_the_allowlist_itself_cannot_open_refused_ranges() -> None:
    base = {"target": "kubernetes", "coreApiUrl": "https://core.example.com", "kafkaBrokers": "k:1"}
    for entry in ("0.0.0.0/0", "::/0", "169.254.169.254/32", "10.0.0.0/7"):
        with pytest.raises(ValueError, match="egressAllowed"):
            StackConfig.model_validate({**base, "egressAllowed": [entry]})


def test_egress_refusal_names_the_rule_for_every_metadata_address() -> None:
    import ipaddress

    for address in ("169.254.169.254", "100.100.100.200", "168.63.129.16", "fd00:ec2::254"):
        refusal = egress_refusal(ipaddress.ip_network(address))
        assert (refusal is not None and "metadata" in refusal) or "platform endpoint" in str(refusal)
    assert egress_refusal(ipaddress.ip_network("203.0.113.0/24")) is None


def test_docker_stacks_say_egress_is_not_enforced(write_plugins: WritePlugins, tmp_path: Path) -> None:
    manifest = _crm(lambda m: m["deployment"].update(egress=[{"to": "203.0.113.10", "ports": [443]}]))
    plugins_dir = write_plugins({"crm": manifest})
    docker = StackConfig.model_validate(
        {"target": "docker", "coreApiUrl": "http://127.0.0.1:4010", "kafkaBrokers": "k:1"}
    )
    [warning] = stack_warnings(docker, load_plugins(plugins_dir).plugins)
    assert "/deployment/egress: not enforced on a Docker stack" in warning
    (tmp_path / "Pulumi.qa.yaml").write_text(
        "config:\n  plexica:target: docker\n  plexica:coreApiUrl: http://127.0.0.1:4010\n"
        "  plexica:kafkaBrokers: k:1\n  plexica:egressAllowed: ['203.0.113.0/24']\n"
    )
    result = _cli("validate", str(plugins_dir), "--stack", "qa")
    assert result.returncode == 0, result.stdout
    assert "warning: " in result.stderr and "not enforced on a Docker stack" in result.stderr


def test_validate_stack_prod_refuses_open_egress(write_plugins: WritePlugins, tmp_path: Path) -> None:
    manifest = _crm(lambda m: m["deployment"].update(egress=[{"to": "0.0.0.0/0", "ports": [1, 65535]}]))
    plugins_dir = write_plugins({"crm": manifest, "analytics": shipped_manifest("analytics")})
    (tmp_path / "Pulumi.prod.yaml").write_text((REPO / "Pulumi.prod.yaml").read_text())
    result = _cli("validate", str(plugins_dir), "--stack", "prod")
    assert result.returncode == 1
    assert "/deployment/egress/0/to: 0.0.0.0/0 is wider than /8: it opens egress to every address" in result.stdout


# 2. Validators that cannot be fooled ---------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda m: m.update(version="1.2.0\n"), "/version: '1.2.0\\n' is not a semantic version"),
        (lambda m: m.update(version="\uff11.2.0"), "/version: '\uff11.2.0' is not a semantic version"),
        (
            lambda m: m["runtime"].update(image="registry.plexica.io/plugins/crm:1.2.0\n"),
            "/runtime/image: 'registry.plexica.io/plugins/crm:1.2.0\\n' is not an image reference",
        ),
        (lambda m: m["api"].update(liveness="/health/live\n"), "/api/liveness: path '/health/live\\n' is not a valid"),
        (lambda m: m["api"].update(liveness="/health/%00"), "/api/liveness: path '/health/%00' has a malformed"),
        (lambda m: m["api"].update(readiness="/health/../admin"), "/api/readiness: path '/health/../admin' has a"),
        (lambda m: m["deployment"].update(env={"FOO\n": "x"}), "/deployment/env/FOO\n: 'FOO\\n' is not an"),
        (
            lambda m: m["runtime"]["resources"].update(cpu="\uff15\uff10\uff10m"),
            "/runtime/resources/cpu: invalid CPU quantity",
        ),
        (lambda m: m["runtime"]["resources"].update(cpu="500m\n"), "/runtime/resources/cpu: invalid CPU quantity"),
        (lambda m: m["runtime"]["resources"].update(memory="512Mi\n"), "/runtime/resources/memory: invalid memory"),
        (
            lambda m: m["runtime"]["resources"].update(cpu="9" * 5000 + "m"),
            "/runtime/resources/cpu: invalid CPU quantity '9999",
        ),
        (lambda m: m.update(name="CRM \u202eniknar"), "/name: contains U+202E (right-to-left override)"),
        (lambda m: m.update(name="CRM\x1b[31m"), "/name: contains U+001B"),
        (lambda m: m.update(name="CRM\u200b"), "/name: contains U+200B (zero width space)"),
        (
            lambda m: m["deployment"].update(env={"FEATURE": "on\nINJECTED=1"}),
            "/deployment/env/FEATURE: contains U+000A",
        ),
        (
            lambda m: m["deployment"].update(env={"FEATURE": "x" * 40_000}),
            "/deployment/env/FEATURE: is 40000 characters long; at most 32768 are accepted",
        ),
        (lambda m: m["deployment"].update(dependencies=["a"] * 65), "/deployment/dependencies: List should have at"),
        (lambda m: m["deployment"].update(replicas=10**30), "/deployment/replicas: Input should be less than or equal"),
    ],
)
def test_fooling_inputs_are_one_problem(write_plugins: WritePlugins, change: Any, expected: str) -> None:
    problems = _problems(write_plugins, _crm(change))
    assert len(problems) == 1, problems
    assert problems[0].startswith(expected), problems[0]
    assert len(problems[0]) < 400


def test_messages_about_long_values_stay_short(write_plugins: WritePlugins) -> None:
    [problem] = _problems(write_plugins, _crm(lambda m: m.update(version="1." * 50_000)))
    assert "is not a semantic version" in problem and len(problem) < 300


def test_latest_is_refused_in_any_case(write_plugins: WritePlugins) -> None:
    for tag in ("Latest", "LATEST", "latest"):
        assert image_has_latest_tag(f"registry.plexica.io/plugins/crm:{tag}")
    assert not image_has_latest_tag("registry.plexica.io/plugins/crm:latest@sha256:" + "a" * 64)
    plugins_dir = write_plugins({"crm": _crm(lambda m: m["runtime"].update(image="reg.io/crm:Latest"))})
    [problem] = load_plugins(plugins_dir, allow_latest=False).problems
    assert problem.pointer == "/runtime/image" and "mutable 'latest' tag" in problem.message


def test_hostile_folder_name_cannot_inject_a_ci_log_line(tmp_path: Path) -> None:
    plugins_dir = tmp_path / "plugins"
    (plugins_dir / "x\n::error file=README.md::injected").mkdir(parents=True)
    (plugins_dir / "crm").mkdir()
    (plugins_dir / "crm" / "plugin.json").write_text(json.dumps(shipped_manifest("crm")))
    result = _cli("validate", str(plugins_dir))
    assert result.returncode == 1
    assert not any(line.startswith("::") for line in (result.stdout + result.stderr).splitlines())
    [line] = [line for line in result.stdout.splitlines() if "injected" in line]
    assert "x\\n::error file=README.md::injected" in line


def test_hostile_keys_and_pass_through_strings(write_plugins: WritePlugins) -> None:
    plugins_dir = write_plugins({"crm": _crm(lambda m: m["deployment"].update({"x\n::error::k": 1}))})
    [key] = load_plugins(plugins_dir).problems
    assert str(key).endswith(
        "/deployment/x\\n::error::k: unknown key 'x\\n::error::k' (accepted: autoscaling, "
        "dependencies, egress, env, metricsPath, port, replicas)"
    )
    assert "\n" not in str(key)
    # Core API sections are free text: newlines are fine there, bidi overrides are not.
    assert _problems(write_plugins, _crm(lambda m: m.update(description="line one\nline two"))) == []
    [bidi] = _problems(write_plugins, _crm(lambda m: m.update(description="safe\u2066evil")))
    assert bidi.startswith("/description: contains U+2066")
    services = [{"name": "crm-api", "version": "1.0.0", "endpoints": [{"path": "/x\u202e", "method": "GET"}]}]
    [service] = _problems(write_plugins, _crm(lambda m: m["api"].update(services=services)))
    assert service.startswith("/api/services/0/endpoints/0/path: contains U+202E")


def test_printable_escapes_every_unsafe_character() -> None:
    assert printable("plain text ü") == "plain text ü"
    assert printable("a\nb\u202ec\x00") == "a\\nb\\u202ec\\x00"


# 3. No tracebacks ---------------------------------------------------------------------------


def test_huge_integer_is_one_problem(write_plugins: WritePlugins) -> None:
    text = json.dumps(shipped_manifest("crm")).replace('"port": 3100', '"port": ' + "9" * 5000)
    [problem] = _problems(write_plugins, text)
    assert problem.startswith(": invalid JSON: Exceeds the limit (4300 digits)")


def test_deep_nesting_is_one_problem(write_plugins: WritePlugins) -> None:
    deep = '{"id": "crm", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    [problem] = _problems(write_plugins, deep)
    assert problem == ": invalid JSON: nested too deep; at most 32 levels are accepted"
    shallow_but_deep = {"id": "crm", "extra": json.loads("[" * 40 + "]" * 40)}
    [nested] = _problems(write_plugins, shallow_but_deep)
    assert "nested more than 32 levels deep" in nested


@pytest.mark.parametrize(
    "text",
    [
        '{"id": "crm", "x": ' + "[" * 100_000 + "]" * 100_000 + "}",
        json.dumps(shipped_manifest("crm")).replace('"port": 3100', '"port": ' + "9" * 5000),
    ],
    ids=["deep-nesting", "5000-digit-integer"],
)
def test_validate_cli_prints_one_line_not_a_traceback(write_plugins: WritePlugins, text: str) -> None:
    result = _cli("validate", str(write_plugins({"crm": text})))
    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert len(result.stdout.strip().splitlines()) == 1, result.stdout


# 4. Every check on every run -----------------------------------------------------------------


def test_copied_manifest_names_the_root_cause(write_plugins: WritePlugins) -> None:
    analytics = shipped_manifest("analytics")
    analytics["id"] = "crm"
    result = load_plugins(write_plugins({"crm": shipped_manifest("crm"), "analytics": analytics}))
    lines = [f"{Path(p.file).parent.name}{p.pointer}: {p.message}" for p in result.problems]
    assert "analytics/id: id 'crm' must equal its folder name 'analytics'" in lines
    assert any(line.startswith("analytics/id: duplicate id 'crm': also declared in") for line in lines), lines
    # The symptoms are still reported, next to their cause.
    assert any("/basePath" in line for line in lines)


def test_cross_checks_run_when_both_manifests_are_invalid(write_plugins: WritePlugins) -> None:
    crm = _crm(lambda m: m["runtime"]["resources"].update(cpu="500x"))
    analytics = shipped_manifest("analytics")
    analytics["deployment"]["dependencies"] = ["crn"]
    analytics["version"] = "bad"
    messages = [p.message for p in load_plugins(write_plugins({"crm": crm, "analytics": analytics})).problems]
    assert "unknown plugin 'crn'; did you mean 'crm'?" in messages, messages
