#!/usr/bin/env bash
# Idempotent environment setup for the NSRM MMPose extension.
#
# Creates (or checks) a virtual environment holding the pinned OpenMMLab stack:
# torch/torchvision (requirements/torch.txt), mmcv 2.1.0 compiled WITH its ops,
# mmengine/mmpose/mmdet and their exact runtime pins (requirements/*.txt), and
# installs this repository into it in editable mode. Afterwards every
# requirement declared by the installed packages is satisfied, so a plain
# `pip install -e .` in that venv works too.
#
# The slow part, compiling mmcv's ops (~15 min on 2 cores), happens once per
# machine: the built wheel is cached under $NSRM_HOME/wheels. The venv itself
# lives in $NSRM_HOME too, with a stamp of the requirement files, so a repeat
# run (also from a fresh clone) only verifies the imports.
#
# Environment variables:
#   NSRM_HOME   cache folder (default: ${XDG_CACHE_HOME:-~/.cache}/nsrm-mmpose)
#   NSRM_VENV   venv path (default: $NSRM_HOME/venv-py311)
#   PYTHON      base interpreter, must be CPython 3.11 (default: python3.11 or python3)
#
# Prints the venv path as its last line. A `.venv` symlink in the repository
# root points to it, so `source .venv/bin/activate` works afterwards.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NSRM_HOME="${NSRM_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/nsrm-mmpose}"
VENV="${NSRM_VENV:-$NSRM_HOME/venv-py311}"
WHEELS="$NSRM_HOME/wheels"
MMCV_VERSION=2.1.0

run_pip() {
    # pip install, quiet; shows pip's messages (minus local-index noise) and
    # stops the setup when pip fails.
    local logf rc=0
    logf="$(mktemp)"
    "$VENV/bin/pip" install -q --disable-pip-version-check "$@" >"$logf" 2>&1 || rc=$?
    grep -v -E '^WARNING: Location|requires setuptools>=|dependency resolver does not currently|which is incompatible' "$logf" >&2 || true
    rm -f "$logf"
    [ "$rc" -eq 0 ] || die "pip install $* failed (exit $rc)"
}

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

pick_python() {
    if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return; fi
    for cand in python3.11 python3; do
        if command -v "$cand" >/dev/null 2>&1; then echo "$cand"; return; fi
    done
    die "no python3 found; install CPython 3.11 or set PYTHON"
}

stamp_of() {
    # Everything that decides what the venv holds.
    cat "$REPO"/requirements/*.txt "$REPO/tools/setup_env.sh" "$REPO/setup.py" |
        sha256sum | cut -c1-16
}

check_imports() {
    "$VENV/bin/python" -W ignore - <<'EOF'
import torch, torchvision, mmengine, mmcv, mmpose, mmdet  # noqa: F401
from mmcv.ops import nms  # noqa: F401  (compiled ops present)
import mmpose.models, mmpose.visualization, mmpose.apis  # noqa: F401
import projects.nsrm  # noqa: F401  (editable install of this repo)
EOF
}

build_mmcv_wheel() {
    # Builds mmcv with its ops against the venv's torch and caches the wheel.
    local torch_ver out tmp src
    torch_ver="$("$VENV/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])')"
    out="$WHEELS/torch-$torch_ver"
    mkdir -p "$out"
    MMCV_WHEEL="$(ls "$out"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)"
    if [ -n "$MMCV_WHEEL" ]; then
        log "using cached mmcv wheel: $MMCV_WHEEL"
        return
    fi
    tmp="$(mktemp -d)"
    log "building mmcv $MMCV_VERSION with ops against torch $torch_ver (once per machine, ~15 min on 2 cores)"
    "$VENV/bin/pip" download -q --no-deps --no-binary :all: --no-build-isolation \
        "mmcv==$MMCV_VERSION" -d "$tmp" >"$tmp/download.log" 2>&1 ||
        { cat "$tmp/download.log" >&2; die "could not download the mmcv $MMCV_VERSION source archive"; }
    [ -f "$tmp/mmcv-$MMCV_VERSION.tar.gz" ] || die "could not download the mmcv $MMCV_VERSION source archive"
    tar -xzf "$tmp/mmcv-$MMCV_VERSION.tar.gz" -C "$tmp"
    src="$tmp/mmcv-$MMCV_VERSION"
    # torch >= 2.10 headers require C++20; mmcv 2.1.0 hard-codes -std=c++17.
    sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
    (cd "$src" && MMCV_WITH_OPS=1 FORCE_CUDA="${FORCE_CUDA:-0}" MAX_JOBS="$(nproc)" \
        "$VENV/bin/pip" wheel -q --no-deps --no-build-isolation . -w "$tmp/wheel") >&2 ||
        die "building mmcv failed (log above)"
    mv "$tmp"/wheel/mmcv-*.whl "$out/"
    rm -rf "$tmp"
    MMCV_WHEEL="$(ls "$out"/mmcv-"$MMCV_VERSION"-*.whl | head -n 1)"
    log "cached $MMCV_WHEEL"
}

main() {
    local py want have
    mkdir -p "$NSRM_HOME"
    want="$(stamp_of)"
    if [ -x "$VENV/bin/python" ] && [ -f "$VENV/.nsrm-stamp" ]; then
        have="$(cat "$VENV/.nsrm-stamp")"
        if [ "$have" = "$want $REPO" ] && check_imports 2>/dev/null; then
            log "environment up to date: $VENV"
            ln -sfn "$VENV" "$REPO/.venv"
            echo "$VENV"
            return
        fi
    fi

    py="$(pick_python)"
    "$py" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' 2>/dev/null ||
        die "$py is not CPython 3.11 (the pinned torch wheels are cp311); set PYTHON"
    if [ ! -x "$VENV/bin/python" ]; then
        log "creating venv $VENV"
        "$py" -m venv "$VENV"
    fi
    log "installing torch + torchvision (requirements/torch.txt)"
    run_pip -r "$REPO/requirements/torch.txt"
    log "installing build tools (requirements/build.txt)"
    run_pip -r "$REPO/requirements/build.txt"
    build_mmcv_wheel
    log "installing mmcv $MMCV_VERSION (with ops), runtime pins, mmpose, mmdet"
    run_pip --no-deps "$MMCV_WHEEL"
    run_pip -r "$REPO/requirements/runtime.txt"
    run_pip --no-deps -r "$REPO/requirements/openmmlab.txt"
    log "installing what they declare but never import (requirements/declared.txt)"
    local req
    for req in $(grep -v '^#' "$REPO/requirements/declared.txt"); do
        run_pip --no-deps --no-build-isolation "$req"
    done
    log "installing this repository in editable mode (pip install -e .)"
    run_pip --no-deps --no-build-isolation -e "$REPO"
    log "checking imports"
    check_imports || die "the environment does not import (see the traceback above)"
    echo "$want $REPO" >"$VENV/.nsrm-stamp"
    ln -sfn "$VENV" "$REPO/.venv"
    log "environment ready: $VENV"
    echo "$VENV"
}

main "$@"
