#!/usr/bin/env bash
# Command (b): sets the environment up if needed, then runs the test suite.
# Extra arguments go to pytest (e.g. tools/run_tests.sh -k limb -x).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VENV="$(bash "$ROOT/tools/setup_env.sh" | tail -n 1)"
cd "$ROOT"
# One pytest-xdist worker per core, at most 4 (NSRM_TEST_WORKERS=N for N <= 4,
# 0 for one process); a later -n in the arguments wins.
WORKERS=(-n "${NSRM_TEST_WORKERS:-auto}" --maxprocesses=4)
echo "[tests] $VENV/bin/python -m pytest ${WORKERS[*]} $*" >&2
exec "$VENV/bin/python" -m pytest "${WORKERS[@]}" "$@"
