#!/usr/bin/env bash
# Sourced by the shell tools: sets PYTHON to the checkout's venv interpreter
# (<repository>/.venv, made by tools/setup_env.sh) unless PYTHON is set.
# Stops with a clear message when the venv is missing.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ -z "${PYTHON:-}" ]; then
    PYTHON="$ROOT/.venv/bin/python"
    if [ ! -x "$PYTHON" ]; then
        echo "error: no venv at $ROOT/.venv; run 'bash tools/setup_env.sh' first (or set PYTHON=/path/to/python)" >&2
        exit 1
    fi
fi
