"""The report's entry point as the workflow runs it, shared by the report tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent / "fixtures"
REPO = Path(__file__).resolve().parents[2]


def run_report(directory: Path) -> subprocess.CompletedProcess[str]:
    """`python -m plexica_infra report DIRECTORY` from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "plexica_infra", "report", str(directory)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
