#!/usr/bin/env bash
# Command (a), the main job on the built-in data:
#   1. sets the environment up if needed (tools/setup_env.sh),
#   2. generates the synthetic hands CONFIG trains on if absent (its
#      dataloaders' data_root, labelling and occlusion, after any
#      --cfg-options given: data/synthetic_hands for the default config),
#   3. trains CONFIG on the CPU (a few minutes on 2 cores),
#   4. evaluates the best checkpoint with MMPose's PCK/AUC/EPE evaluators,
#   5. prints where the checkpoint, the log and the metrics are.
# Usage: bash tools/main_job.sh [CONFIG] [extra tools/train.py args]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
CONFIG="${1:-configs/nsrm/lpm_g1g6_synthetic_cpu.py}"
shift || true
VENV="$(bash "$ROOT/tools/setup_env.sh" | tail -n 1)"
PY="$VENV/bin/python"
cd "$ROOT"
NAME="$(basename "$CONFIG" .py)"
WORK_DIR="${WORK_DIR:-work_dirs/$NAME}"

# the --cfg-options among the train args may switch the data set
CFG_OPTS=()
IN_CFG_OPTS=0
for ARG in "$@"; do
    case "$ARG" in
        --cfg-options) IN_CFG_OPTS=1 ;;
        --*) IN_CFG_OPTS=0 ;;
        *) if [ "$IN_CFG_OPTS" = 1 ]; then CFG_OPTS+=("$ARG"); fi ;;
    esac
done
"$PY" tools/generate_synthetic_hands.py --from-config "$CONFIG" \
    ${CFG_OPTS[@]+--cfg-options "${CFG_OPTS[@]}"}
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK_DIR" "$@"
CKPT="$(ls -t "$WORK_DIR"/best_*.pth 2>/dev/null | head -n 1 || true)"
[ -n "$CKPT" ] || CKPT="$(cat "$WORK_DIR/last_checkpoint")"
"$PY" tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK_DIR/test" \
    --out "$WORK_DIR/test_metrics.json"
LOG="$(ls -t "$WORK_DIR"/*/*.log | head -n 1)"
echo
echo "== main job done =="
echo "checkpoint: $CKPT"
echo "train log:  $LOG"
echo "metrics:    $WORK_DIR/test_metrics.json"
cat "$WORK_DIR/test_metrics.json"; echo
