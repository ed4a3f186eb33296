#!/usr/bin/env bash
# Install checkov into its own venv (.venv-checkov): it pins many dependencies that
# would clash with the project's. Idempotent: does nothing when the pinned version
# is already there. Called by `make setup`; tests/k8s/test_security_scan.py runs
# the installed binary.
set -euo pipefail

CHECKOV_VERSION="3.3.30"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${CHECKOV_VENV:-$ROOT/.venv-checkov}"
PYTHON="${PYTHON:-python3}"

if [[ -x "$VENV/bin/checkov" ]] && "$VENV/bin/python" -m pip show checkov 2>/dev/null \
    | grep -qx "Version: $CHECKOV_VERSION"; then
  echo "checkov $CHECKOV_VERSION already installed in $VENV"
  exit 0
fi

"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet "checkov==$CHECKOV_VERSION"
"$VENV/bin/checkov" --version
