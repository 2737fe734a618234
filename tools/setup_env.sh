#!/usr/bin/env bash
# Idempotent environment setup for the NSRM MMPose extension.
#
# Two parts:
#   * the STACK, shared by every checkout on the machine: a venv under
#     $NSRM_HOME/stacks/ holding the pinned OpenMMLab stack (torch/torchvision,
#     mmcv 2.1.0 compiled WITH its ops, mmengine/mmpose/mmdet and every
#     transitive pin of requirements/*.txt) and nothing of any checkout. It is
#     named after a hash of requirements/, so checkouts with the same pins
#     share it. Compiling mmcv (~15 min on 2 cores) happens once per machine:
#     the wheel is cached under $NSRM_HOME/wheels.
#   * the checkout's own venv, `.venv` in the repository (ignored by git):
#     a light venv that sees the stack through a .pth file and holds the
#     editable install of THIS checkout, so scripts, MMPose's tools and
#     `import projects.nsrm` never run another clone's code. A second clone
#     sets up in seconds. A .venv whose editable install points at another
#     checkout (or an old symlinked .venv) is detected and repaired.
#
# Environment variables:
#   NSRM_HOME   cache folder (default: ${XDG_CACHE_HOME:-~/.cache}/nsrm-mmpose)
#   NSRM_VENV   the checkout's venv (default: <repository>/.venv)
#   PYTHON      base interpreter, must be CPython 3.11 (default: python3.11 or python3)
#
# Prints the checkout's venv path as its last line; `source .venv/bin/activate`
# works afterwards.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NSRM_HOME="${NSRM_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/nsrm-mmpose}"
VENV="${NSRM_VENV:-$REPO/.venv}"
WHEELS="$NSRM_HOME/wheels"
MMCV_VERSION=2.1.0
# Bump when the way the stack is built changes (not its pins: those are hashed).
STACK_LAYOUT=2

log() { printf '[setup] %s\n' "$*" >&2; }
die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

pick_python() {
    if [ -n "${PYTHON:-}" ]; then echo "$PYTHON"; return; fi
    for cand in python3.11 python3; do
        if command -v "$cand" >/dev/null 2>&1; then echo "$cand"; return; fi
    done
    die "no python3 found; install CPython 3.11 or set PYTHON"
}

stack_stamp() {
    # Everything that decides what the stack holds.
    { echo "layout $STACK_LAYOUT"; cat "$REPO"/requirements/*.txt; } |
        sha256sum | cut -c1-16
}

STACK="$NSRM_HOME/stacks/py311-$(stack_stamp)"
STACK_SITE="$STACK/lib/python3.11/site-packages"

run_pip() {
    # pip install into the stack, quiet; shows pip's messages (minus
    # local-index noise) and stops the setup when pip fails.
    local logf rc=0
    logf="$(mktemp)"
    "$STACK/bin/python" -m pip install -q --disable-pip-version-check "$@" >"$logf" 2>&1 || rc=$?
    grep -v -E '^WARNING: Location|requires setuptools>=|dependency resolver does not currently|which is incompatible' "$logf" >&2 || true
    rm -f "$logf"
    [ "$rc" -eq 0 ] || die "pip install $* failed (exit $rc)"
}

check_imports() {
    # $1: interpreter. Run outside the repository so that only the installed
    # paths count.
    (cd / && "$1" -W ignore - <<'EOF'
import torch, torchvision, mmengine, mmcv, mmpose, mmdet  # noqa: F401
from mmcv.ops import nms  # noqa: F401  (compiled ops present)
import mmpose.models, mmpose.visualization, mmpose.apis  # noqa: F401
EOF
    )
}

build_mmcv_wheel() {
    # Builds mmcv with its ops against the stack's torch and caches the wheel.
    local torch_ver out tmp src
    torch_ver="$("$STACK/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])')"
    out="$WHEELS/torch-$torch_ver"
    mkdir -p "$out"
    MMCV_WHEEL="$(ls "$out"/mmcv-"$MMCV_VERSION"-*.whl 2>/dev/null | head -n 1 || true)"
    if [ -n "$MMCV_WHEEL" ]; then
        log "using cached mmcv wheel: $MMCV_WHEEL"
        return
    fi
    tmp="$(mktemp -d)"
    log "building mmcv $MMCV_VERSION with ops against torch $torch_ver (once per machine, ~15 min on 2 cores)"
    "$STACK/bin/python" -m pip download -q --no-deps --no-binary :all: --no-build-isolation \
        "mmcv==$MMCV_VERSION" -d "$tmp" >"$tmp/download.log" 2>&1 ||
        { cat "$tmp/download.log" >&2; die "could not download the mmcv $MMCV_VERSION source archive"; }
    [ -f "$tmp/mmcv-$MMCV_VERSION.tar.gz" ] || die "could not download the mmcv $MMCV_VERSION source archive"
    tar -xzf "$tmp/mmcv-$MMCV_VERSION.tar.gz" -C "$tmp"
    src="$tmp/mmcv-$MMCV_VERSION"
    # torch >= 2.10 headers require C++20; mmcv 2.1.0 hard-codes -std=c++17.
    sed -i 's/-std=c++17/-std=c++20/g' "$src/setup.py"
    (cd "$src" && MMCV_WITH_OPS=1 FORCE_CUDA="${FORCE_CUDA:-0}" MAX_JOBS="$(nproc)" \
        "$STACK/bin/python" -m pip wheel -q --no-deps --no-build-isolation . -w "$tmp/wheel") >&2 ||
        die "building mmcv failed (log above)"
    mv "$tmp"/wheel/mmcv-*.whl "$out/"
    rm -rf "$tmp"
    MMCV_WHEEL="$(ls "$out"/mmcv-"$MMCV_VERSION"-*.whl | head -n 1)"
    log "cached $MMCV_WHEEL"
}

ensure_stack() {
    # The shared stack, built once per set of pins; a lock keeps two
    # checkouts that set up at the same time from building it twice.
    local py
    mkdir -p "$NSRM_HOME/stacks"
    exec 9>"$STACK.lock"
    flock 9
    if [ -f "$STACK/.complete" ] && check_imports "$STACK/bin/python" 2>/dev/null; then
        flock -u 9
        return
    fi
    py="$(pick_python)"
    "$py" -c 'import sys; assert sys.version_info[:2] == (3, 11), sys.version' 2>/dev/null ||
        die "$py is not CPython 3.11 (the pinned torch wheels are cp311); set PYTHON"
    rm -f "$STACK/.complete"
    if [ ! -x "$STACK/bin/python" ]; then
        log "creating the shared stack $STACK"
        "$py" -m venv "$STACK"
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
    log "checking the stack imports"
    check_imports "$STACK/bin/python" || die "the stack does not import (see the traceback above)"
    touch "$STACK/.complete"
    flock -u 9
}

own_package_dir() {
    # Where the checkout's venv imports projects.nsrm from (run outside the
    # repository, so the editable install decides, not the working folder).
    (cd / && "$VENV/bin/python" -c \
        'import os, projects.nsrm as m; print(os.path.dirname(os.path.realpath(m.__file__)))' 2>/dev/null) || true
}

ensure_venv() {
    # The checkout's own venv: sees the stack, holds this checkout editable.
    local py site want
    want="$(realpath "$REPO")/projects/nsrm"
    if [ -L "$VENV" ]; then
        log "replacing the symlinked $VENV (shared venvs of earlier versions) by a venv of this checkout"
        rm -f "$VENV"
    fi
    if [ -x "$VENV/bin/python" ] && [ -f "$VENV/.nsrm-stamp" ] &&
        [ "$(cat "$VENV/.nsrm-stamp")" = "$STACK" ] &&
        [ "$(own_package_dir)" = "$want" ]; then
        return
    fi
    if [ -x "$VENV/bin/python" ] && [ -f "$VENV/.nsrm-stamp" ]; then
        log "repairing $VENV (it used $(cat "$VENV/.nsrm-stamp"), imports projects.nsrm from '$(own_package_dir)')"
    fi
    py="$(readlink -f "$STACK/bin/python")"
    rm -rf "$VENV"
    log "creating $VENV (this checkout's venv; the stack is $STACK)"
    "$py" -m venv --without-pip "$VENV"
    site="$("$VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
    # addsitedir (not a bare path) so that the stack's own .pth files apply
    echo "import site; site.addsitedir('$STACK_SITE')" >"$site/nsrm_stack.pth"
    log "installing this checkout in editable mode (pip install -e .)"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-deps \
        --no-build-isolation -e "$REPO" >&2 || die "pip install -e $REPO failed"
    [ "$(own_package_dir)" = "$want" ] ||
        die "$VENV imports projects.nsrm from '$(own_package_dir)', not $want"
    echo "$STACK" >"$VENV/.nsrm-stamp"
}

main() {
    mkdir -p "$NSRM_HOME"
    ensure_stack
    ensure_venv
    log "environment ready: $VENV (stack: $STACK)"
    echo "$VENV"
}

main "$@"
