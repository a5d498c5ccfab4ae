#!/usr/bin/env bash
# The reference staged recipe: FCN-32s from ImageNet VGG16, then FCN-16s from FCN-32s's
# final weights, then FCN-8s from FCN-16s's. Each stage finds its predecessor through
# `load_from = 'stage://work_dirs/<previous config>'`; finished stages are skipped and
# an interrupted one resumes, so re-running this script continues where it stopped.
#
#   tools/train_staged.sh [train.py args...]               # one process
#   NPROC=8 tools/train_staged.sh [train.py args...]       # tools/dist_train.sh (+NNODES...)
#   STAGES="a.py b.py c.py" WORK_ROOT=runs/voc CFG_OPTIONS="k=v ..." tools/train_staged.sh
#
# Stage i>0 is given load_from=stage://$WORK_ROOT/<stage i-1>, so any WORK_ROOT and
# STAGES chain correctly. Put config overrides in CFG_OPTIONS, not in --cfg-options
# (a second --cfg-options flag would replace this one).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
PYTHON=${PYTHON:-python}
export PYTHON
STAGES=${STAGES:-"configs/fcn32s_vgg16_voc.py configs/fcn16s_vgg16_voc.py configs/fcn8s_vgg16_voc.py"}
WORK_ROOT=${WORK_ROOT:-work_dirs}
NPROC=${NPROC:-1}

prev=""
for cfg in $STAGES; do
  name=$(basename "$cfg" .py)
  work_dir="$WORK_ROOT/$name"
  opts=(${CFG_OPTIONS:-})
  [[ -n "$prev" ]] && opts+=("load_from=stage://$prev")
  cfg_args=()
  [[ ${#opts[@]} -gt 0 ]] && cfg_args=(--cfg-options "${opts[@]}")
  prev="$work_dir"
  if "$PYTHON" -c \
      "import sys, mmseg_fcn_classic.engine.stage as c; sys.exit(0 if c.stage_finished(sys.argv[1]) else 1)" \
      "$work_dir" 2>/dev/null; then
    echo "[train_staged] $name: finished earlier ($work_dir), skipping"
    continue
  fi
  echo "[train_staged] $name: training in $work_dir"
  if [[ "$NPROC" -gt 1 || "${NNODES:-1}" -gt 1 ]]; then
    "$HERE/dist_train.sh" "$cfg" "$NPROC" --work-dir "$work_dir" --resume "${cfg_args[@]}" "$@"
  else
    "$PYTHON" -m mmseg_fcn_classic.tools.train "$cfg" --work-dir "$work_dir" --resume "${cfg_args[@]}" "$@"
  fi
done
