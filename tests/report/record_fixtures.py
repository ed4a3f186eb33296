"""Re-record tests/report/fixtures from real engine runs: `make report-fixtures`.

Runs each pull request of `_scenarios.py` (the workflow's `pr-preview` in a scratch
checkout against this repository as the base, with the real engine, providers and policy
pack) and keeps its review files, with the event log cut down to its policy events (the
only events the report reads) and the scratch paths replaced by `<tmp>`.
"""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.report._scenarios import INVENTORY, greedy, run_pull_request, write_manifest

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _bump_crm(head: Path) -> None:
    path = head / "plugins" / "crm" / "plugin.json"
    manifest = json.loads(path.read_text())
    manifest["version"] = "1.3.0"
    manifest["runtime"]["image"] = "registry.plexica.io/plugins/crm:1.3.0"
    manifest["runtime"]["resources"]["memory"] = "768Mi"
    path.write_text(json.dumps(manifest, indent=2) + "\n")


SCENARIOS: dict[str, Callable[[Path], None]] = {
    "add-plugin": lambda head: write_manifest(head, INVENTORY),
    "policy-violation": lambda head: write_manifest(head, greedy(INVENTORY)),
    "update-plugin": _bump_crm,
}


def record(name: str, change: Callable[[Path], None]) -> Path:
    target = FIXTURES / name
    with tempfile.TemporaryDirectory(prefix="plexica-fixture-") as tmp:
        pr = run_pull_request(Path(tmp), change)
        shutil.rmtree(target, ignore_errors=True)
        target.mkdir(parents=True)
        for source in sorted(pr.review_dir.iterdir()):
            text = source.read_text().replace(tmp, "<tmp>")
            if source.name.endswith(".events.jsonl"):
                text = "".join(line + "\n" for line in text.splitlines() if '"policyEvent"' in line)
            (target / source.name).write_text(text)
    return target


def main() -> int:
    for name, change in SCENARIOS.items():
        print(f"recorded {record(name, change)}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
