"""`python -m plexica_infra validate` as a pull request runs it: a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO, WritePlugins, shipped_manifest


def run(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "plexica_infra", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_shipped_plugins_validate_with_exit_0() -> None:
    result = run("validate")
    assert result.returncode == 0, result.stderr
    assert "2 plugin manifest(s) valid: crm, analytics" in result.stdout or "valid: analytics, crm" in result.stdout


def test_every_stack_accepts_the_shipped_plugins() -> None:
    for stack in ("local", "dev", "prod"):
        result = run("validate", "--stack", stack)
        assert result.returncode == 0, (stack, result.stdout, result.stderr)


def test_invalid_manifests_exit_1_with_one_line_per_problem(write_plugins: WritePlugins) -> None:
    crm = shipped_manifest("crm")
    crm["runtime"]["resources"]["memory"] = "512Qi"
    crm["api"]["basePath"] = "/api/other"
    plugins_dir = write_plugins({"crm": crm})
    result = run("validate", str(plugins_dir))
    assert result.returncode == 1
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 2
    assert all(line.startswith(f"{plugins_dir}/crm/plugin.json: /") for line in lines)
    assert "Traceback" not in result.stdout + result.stderr
    assert "2 problems found" in result.stderr


def test_json_output_lists_file_pointer_message(write_plugins: WritePlugins) -> None:
    crm = shipped_manifest("crm")
    crm["runtime"]["imag"] = "x"
    result = run("validate", str(write_plugins({"crm": crm})), "--json")
    assert result.returncode == 1
    [problem] = json.loads(result.stdout)
    assert problem["pointer"] == "/runtime/imag"
    assert problem["file"].endswith("crm/plugin.json")
    assert "did you mean 'image'" in problem["message"]


def test_valid_json_output_is_an_empty_list() -> None:
    result = run("validate", "--json")
    assert (result.returncode, json.loads(result.stdout)) == (0, [])


def test_prod_stack_forbids_latest(write_plugins: WritePlugins, tmp_path: Path) -> None:
    crm = shipped_manifest("crm")
    crm["runtime"]["image"] = "registry.plexica.io/plugins/crm:latest"
    plugins_dir = write_plugins({"crm": crm})
    (tmp_path / "Pulumi.prod.yaml").write_text((REPO / "Pulumi.prod.yaml").read_text())
    (tmp_path / "Pulumi.dev.yaml").write_text((REPO / "Pulumi.dev.yaml").read_text())
    assert run("validate", str(plugins_dir), "--stack", "dev").returncode == 0
    result = run("validate", str(plugins_dir), "--stack", "prod")
    assert result.returncode == 1
    assert (
        "/runtime/image: image 'registry.plexica.io/plugins/crm:latest' uses the mutable 'latest' tag" in result.stdout
    )


def test_bad_stack_config_is_reported_with_key(write_plugins: WritePlugins, tmp_path: Path) -> None:
    plugins_dir = write_plugins()
    (tmp_path / "Pulumi.qa.yaml").write_text(
        "config:\n  plexica:target: dockr\n  plexica:coreApiUrl: https://x:3000\n"
        "  plexica:kafkaBroker: k:1\n  plexica:plugins:\n    billing: {replicas: 2}\n"
    )
    result = run("validate", str(plugins_dir), "--stack", "qa")
    assert result.returncode == 1
    out = result.stdout
    assert "Pulumi.qa.yaml: /config/plexica:target: plexica:target: Input should be 'docker' or 'kubernetes'" in out
    assert "plexica:kafkaBroker: unknown config key; did you mean 'plexica:kafkaBrokers'?" in out


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("validate", "--no-such-flag").returncode == 2
    unknown_stack = run("validate", "--stack", "nope")
    assert unknown_stack.returncode == 2
    assert "known stacks: dev, kube, local, prod" in unknown_stack.stderr


def test_missing_plugins_folder_exits_1_with_hint(tmp_path: Path) -> None:
    result = run("validate", str(tmp_path / "plugins"))
    assert result.returncode == 1
    assert "plugins folder not found; create plugins/<id>/plugin.json" in result.stdout


def test_plaintext_secret_in_a_stack_file_is_reported(write_plugins: WritePlugins, tmp_path: Path) -> None:
    plugins_dir = write_plugins()
    (tmp_path / "Pulumi.qa.yaml").write_text(
        "config:\n  plexica:target: docker\n  plexica:coreApiUrl: https://x:3000\n"
        "  plexica:kafkaBrokers: k:1\n  plexica:jwtSecret: not-encrypted-value\n"
        "  plexica:plugins:\n    crn: {replicas: 2}\n"
    )
    result = run("validate", str(plugins_dir), "--stack", "qa")
    assert result.returncode == 1
    assert "plexica:jwtSecret: is a secret but stored in plaintext" in result.stdout
    assert "not-encrypted-value" not in result.stdout
    assert "/config/plexica:plugins/crn: override for unknown plugin 'crn'" in result.stdout


def test_unreadable_stack_file_is_one_problem(write_plugins: WritePlugins, tmp_path: Path) -> None:
    plugins_dir = write_plugins()
    (tmp_path / "Pulumi.qa.yaml").write_text("config: [unclosed\n")
    (tmp_path / "Pulumi.qb.yaml").write_text("encryptionsalt: x\n")
    broken = run("validate", str(plugins_dir), "--stack", "qa")
    assert broken.returncode == 1
    assert broken.stdout.startswith("Pulumi.qa.yaml: /: cannot read stack file:")
    missing = run("validate", str(plugins_dir), "--stack", "qb")
    assert (missing.returncode, missing.stdout.splitlines()[0]) == (
        1,
        "Pulumi.qb.yaml: /config: stack file has no 'config' mapping",
    )
    assert "Traceback" not in broken.stderr + missing.stderr
