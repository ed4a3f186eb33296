"""`pr-preview`: what a pull request changes in prod, checked by the policy pack, with no cluster.

The engine can only say what changes against a state. A pull request's base has never
been applied anywhere CI can read, so this builds that state: in a throwaway backend it
runs the base commit's program as a render-only prod stack (`kubernetes.renderYamlTo`:
the Kubernetes provider writes YAML and applies nothing; a render stack registers
nothing with the Core API), then previews the head commit's program on that same stack
with the policy pack. The preview therefore lists exactly what the pull request adds,
changes, replaces or removes. Without a base, everything is new.

Writes into the output directory what `python -m plexica_infra report` reads:
`validate.json`, `prod.preview.json`, `prod.events.jsonl`, `prod.exit`.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from plexica_infra.config import CONFIG_NAMESPACE, SECRET_KEYS
from plexica_infra.localenv._proc import Progress, default_progress
from plexica_infra.localenv.errors import LocalEnvError
from plexica_infra.localenv.stack import policy_pack_args
from plexica_infra.localenv.toolchain import REPO, pulumi_env

__all__ = ["REVIEW_STACK", "pr_preview"]

#: The render stack both runs share, so that base and head resources have the same URNs.
REVIEW_STACK = "prod"
_PASSPHRASE = "pr-preview-ephemeral"
#: Placeholder secrets: a render stack sends them nowhere, and they are Pulumi secrets anyway.
_PLACEHOLDERS = {key: f"preview-placeholder-{key}" for key in SECRET_KEYS}


def _render_config(project_dir: Path, render_dir: Path, target: Path) -> None:
    """Pulumi.prod.yaml of `project_dir` with YAML rendering switched on."""
    source = project_dir / f"Pulumi.{REVIEW_STACK}.yaml"
    document = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    config = document.setdefault("config", {})
    kube = dict(config.get(f"{CONFIG_NAMESPACE}:kubernetes") or {})
    kube["renderYamlTo"] = str(render_dir)
    config[f"{CONFIG_NAMESPACE}:kubernetes"] = kube
    # Secrets are set below with this run's passphrase; drop the committed ciphertexts.
    for key in SECRET_KEYS:
        config.pop(f"{CONFIG_NAMESPACE}:{key}", None)
    document.pop("encryptionsalt", None)
    target.write_text(yaml.safe_dump(document), encoding="utf-8")


def _program_copy(source: Path, target: Path) -> Path:
    """The program files of a checkout, with Pulumi.yaml pointed at this repository's .venv."""
    target.mkdir(parents=True)
    for name in ("__main__.py", "Pulumi.yaml"):
        shutil.copy2(source / name, target / name)
    for folder in ("plugins", "plexica_infra"):
        if (source / folder).is_dir():
            shutil.copytree(source / folder, target / folder, ignore=shutil.ignore_patterns("__pycache__"))
    settings = yaml.safe_load((target / "Pulumi.yaml").read_text(encoding="utf-8"))
    settings.setdefault("runtime", {}).setdefault("options", {})["virtualenv"] = str(Path(sys.executable).parents[1])
    (target / "Pulumi.yaml").write_text(yaml.safe_dump(settings), encoding="utf-8")
    return target


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("pulumi", path=env["PATH"])
    if binary is None:
        raise LocalEnvError("the Pulumi CLI is not built yet; run `make setup` first")
    return subprocess.run([binary, *args], cwd=cwd, env=env, text=True, capture_output=True, check=False)


def _checked(result: subprocess.CompletedProcess[str], what: str) -> None:
    if result.returncode != 0:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise LocalEnvError(f"{what} failed (exit {result.returncode}): {' | '.join(tail)}")


def pr_preview(
    state_dir: Path,
    out_dir: Path,
    *,
    base_dir: Path | None = None,
    project_dir: Path = REPO,
    progress: Progress | None = None,
) -> int:
    """Write the review files for `project_dir` (head) against `base_dir`; returns the preview's exit code."""
    say = progress or default_progress
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="plexica-pr-") as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "backend").mkdir()
        env = pulumi_env(backend=tmp / "backend", passphrase=_PASSPHRASE)
        # `--event-log` (the only place policy violations come out as data) is a debug flag.
        env["PULUMI_DEBUG_COMMANDS"] = "true"
        programs = {"head": project_dir, **({"base": base_dir} if base_dir else {})}
        runs: dict[str, tuple[Path, dict[str, str], list[str]]] = {}
        for label, source in programs.items():
            work = _program_copy(source, tmp / label)
            config = tmp / f"{label}.yaml"
            # One render directory for both: it is a provider setting, and a changed one replaces everything.
            _render_config(source, tmp / "render", config)
            # The checkout's own package, not the one installed in the venv, runs its program.
            args = ["--stack", REVIEW_STACK, "--config-file", str(config)]
            runs[label] = (work, {**env, "PYTHONPATH": str(work)}, args)

        head, head_env, head_args = runs["head"]
        say(f"validate --stack {REVIEW_STACK}")
        validate = subprocess.run(
            [sys.executable, "-m", "plexica_infra", "validate", "plugins", "--stack", REVIEW_STACK, "--json"],
            cwd=project_dir,
            env={**head_env, "PYTHONPATH": str(head)},
            text=True,
            capture_output=True,
            check=False,
        )
        if validate.returncode not in (0, 1):
            raise LocalEnvError(f"validate failed (exit {validate.returncode}): {validate.stderr.strip()[-500:]}")
        (out_dir / "validate.json").write_text(validate.stdout, encoding="utf-8")

        _checked(_run(["stack", "init", REVIEW_STACK, "--non-interactive"], head, head_env), "pulumi stack init")
        for work, run_env, args in runs.values():
            for key, value in _PLACEHOLDERS.items():
                command = ["config", "set", "--secret", f"{CONFIG_NAMESPACE}:{key}", value, *args]
                _checked(_run(command, work, run_env), f"pulumi config set {CONFIG_NAMESPACE}:{key}")
        if "base" in runs:
            work, run_env, args = runs["base"]
            say(f"rendering the base ({base_dir}) as the state to compare with (applies nothing)")
            up = ["up", "--yes", "--skip-preview", "--non-interactive", "--suppress-outputs", *args]
            _checked(_run(up, work, run_env), "`pulumi up` of the base's render stack")

        say("pulumi preview of the head, with the policy pack")
        events = out_dir / f"{REVIEW_STACK}.events.jsonl"
        events.unlink(missing_ok=True)
        # No refresh (Pulumi.yaml says `refresh: always`): the base state is rendered YAML, and
        # refreshing it would ask a cluster that does not exist.
        command = ["preview", "--json", "--non-interactive", "--refresh=false", "--event-log", str(events)]
        command += [*policy_pack_args(REVIEW_STACK, project_dir), *head_args]
        preview = _run(command, head, head_env)
        (out_dir / f"{REVIEW_STACK}.preview.json").write_text(preview.stdout or "{}", encoding="utf-8")
        (out_dir / f"{REVIEW_STACK}.exit").write_text(f"{preview.returncode}\n", encoding="utf-8")
        say(f"review files in {out_dir} (preview exit {preview.returncode})")
        return preview.returncode
