#!/usr/bin/env bash
# Command (b): sets the environment up if needed, then runs the test suite.
# Extra arguments go to pytest (e.g. tools/run_tests.sh -k limb -x).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$(bash "$ROOT/tools/setup_env.sh" | tail -n 1)"
cd "$ROOT"
echo "[tests] $VENV/bin/python -m pytest $*" >&2
exec "$VENV/bin/python" -m pytest "$@"
