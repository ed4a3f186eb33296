"""Stack secrets set through stdin, never on a command line.

The Automation API's `set_all_config` puts every value on `pulumi config set-all`'s
argv, readable by anyone on the machine in /proc/*/cmdline. Secrets go through
`pulumi config set --secret KEY` with the value on stdin instead, as the README
tells users to type or pipe them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

from plexica_infra.localenv.errors import LocalEnvError

__all__ = ["set_secret_config"]


def set_secret_config(
    pulumi: str, *, stack: str, work_dir: Path, env: Mapping[str, str], values: Mapping[str, str]
) -> None:
    """`pulumi config set --secret` for each key, its value on stdin."""
    for key, value in values.items():
        result = subprocess.run(
            [pulumi, "config", "set", "--secret", "--stack", stack, key],
            input=value,
            cwd=work_dir,
            env=dict(env),
            check=False,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            # pulumi's own message names the key, never the value (it came on stdin).
            reason = (result.stderr.strip().splitlines() or ["no message"])[-1]
            raise LocalEnvError(f"stack {stack}: could not set secret {key}: {reason}")
