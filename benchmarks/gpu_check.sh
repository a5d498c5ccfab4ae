#!/usr/bin/env bash
# Issue 12, item 6: the GPU figures in one run (a few minutes on an H200).
#
#   source .device/device-env.sh && bash benchmarks/gpu_check.sh "$OUT"
#   bash benchmarks/gpu_check.sh --dry-run OUT   # CPU: a tiny version of every step
#
# Steps (each under its own time limit, 520 s in all; a failed step does not stop
# the others):
#   data    generated VOC2012 + SBD data (500x375 jpg, palette png, SBD .mat)
#   b1      tools/benchmark.py --device cuda --modes fp32 bf16-cl, batch 1, 500x375,
#           against the plain baseline, plus the data pipelines (samples/s per
#           worker, workers needed for the GPU's rate)
#   b16     the same at batch 16, 512x512 (FCN-8s and baseline; cudnn.benchmark,
#           as fixed-size crops would run): % of the bf16 GEMM peak
#   train   tools/train.py configs/fcn8s_vgg16_voc.py --amp bf16 on that data, full
#           width, no pretrained weights, 200 iterations (plain --amp where
#           tools/train.py's --amp takes no dtype yet; the summary says so)
#   dist    tools/dist_train.sh ... 1 (NCCL)
#   test    tools/test.py on the train step's checkpoint
#   sync    benchmarks/sync_check.py on the config the train step dumped:
#           torch.cuda.set_sync_debug_mode around one training step
# Files in OUT (7): summary.txt (status, seconds and command of each step, then
# the findings), log.txt (all output), env.txt, bench_b1.json, bench_b16.json,
# bench.md (both Markdown pages), sync.json. Exit status: the number of failed steps.
# The dry run (tests/test_benchmarks/test_gpu_check.py) uses a narrow model, tiny
# images, 2 iterations, no --amp and models in one process (--no-isolate).
set -uo pipefail

DRY=0
if [[ "${1:-}" == --dry-run ]]; then DRY=1; shift; fi
if [[ $# -ne 1 ]]; then
  echo "usage: $0 [--dry-run] OUT_DIR" >&2; exit 2
fi
mkdir -p "$1"
OUT=$(cd "$1" && pwd)
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=${PYTHON:-python}
export PYTHON=$PY
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
LOG=$OUT/log.txt
SUMMARY=$OUT/summary.txt
: > "$LOG"
FAILED=0

if (( DRY )); then
  MODE="dry run (CPU, tiny)"
  DEVICE=cpu
  SCALE=3          # time limits: a loaded CPU is slower than the GPU machine
  DATA_ARGS=(--count 2 --val 1 --size 40 52)
  NARROW=$("$PY" - <<'EOF'
from mmseg_fcn_classic.models.utils.fcn_spec import head_inputs
from mmseg_fcn_classic.testing.narrow import FC_CHANNELS, WIDTHS
head = head_inputs(widths=WIDTHS, fc_channels=FC_CHANNELS)
t = lambda v: str(tuple(v)).replace(' ', '')
print(f'model.backbone.widths={t(WIDTHS)} model.backbone.fc_channels={FC_CHANNELS} '
      f"model.decode_head.in_channels={t(head['in_channels'])} "
      f"model.decode_head.in_index={t(head['in_index'])}")
EOF
)
  TINY=(--size 40 52 --widths 4 8 8 16 16 --fc-channels 16 --threads 1
        --gemm-size 256 --warmup 1 --reps 1 --train-reps 1 --no-malloc --no-optimized
        --no-isolate)
  B1=("${TINY[@]}" --variants 8s --data-samples 2 --data-reps 1)
  B16=("${TINY[@]}" --batch 2 --variants 8s --no-data --cudnn-benchmark)
  AMP=()           # AmpOptimWrapper needs a GPU
  ITERS=2 DIST_ITERS=2
else
  MODE="GPU"
  DEVICE=cuda
  SCALE=1
  DATA_ARGS=(--count 16 --val 4)
  NARROW=""
  B1=(--size 375 500 --warmup 5 --reps 20 --train-reps 20)
  B16=(--size 512 512 --batch 16 --variants 8s --warmup 3 --reps 10 --train-reps 10
       --no-data --cudnn-benchmark)
  AMP=(--amp bf16)
  ITERS=200 DIST_ITERS=50
fi

DATA=$WORK/voc_sbd
# the VOC configs' loaders, pointed at the generated data; no pretrained weights
DATA_OPTS="train_dataloader.dataset.data_root=$DATA val_dataloader.dataset.data_root=$DATA test_dataloader.dataset.data_root=$DATA load_from=None"
train_opts() {  # iterations -> --cfg-options values
  echo "$DATA_OPTS $NARROW train_cfg.max_iters=$1 train_cfg.val_interval=$1 default_hooks.checkpoint.interval=$1 default_hooks.logger.interval=10"
}

printf '# benchmarks/gpu_check.sh: %s, %s\n# step status seconds command\n' \
  "$MODE" "$(date -Is)" > "$SUMMARY"

step() {  # name limit_s command...
  local name=$1 limit=$(( $2 * SCALE )); shift 2
  local start=$SECONDS rc
  echo "=== $name: $*" >> "$LOG"
  timeout --kill-after=10 "$limit" "$@" >> "$LOG" 2>&1
  rc=$?
  local status=ok
  if (( rc == 124 || rc == 137 )); then status="TIMEOUT(${limit}s)";
  elif (( rc != 0 )); then status="FAILED(rc=$rc)"; fi
  [[ $status == ok ]] || FAILED=$(( FAILED + 1 ))
  echo "=== $name: $status after $(( SECONDS - start ))s" >> "$LOG"
  printf '%-6s %-14s %4ss  %s\n' "$name" "$status" "$(( SECONDS - start ))" "$*" \
    >> "$SUMMARY"
}

if (( ! DRY )) && [[ $("$PY" tools/train.py --help 2>&1) != *bf16* ]]; then
  AMP=(--amp)  # a tools/train.py whose --amp takes no dtype: mmengine's fp16 default
  echo "# tools/train.py --amp takes no dtype in this checkout: train/dist use --amp (fp16)" \
    >> "$SUMMARY"
fi

{ nvidia-smi 2>&1 || echo "no nvidia-smi"
  "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, 'available', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
  nproc; free -g 2>/dev/null; df -h "$WORK" 2>/dev/null
} > "$OUT/env.txt" 2>&1

export PORT=${PORT:-29517}  # tools/dist_train.sh
step data 30 "$PY" -m benchmarks.data "$DATA" "${DATA_ARGS[@]}"
step b1 140 "$PY" tools/benchmark.py --device "$DEVICE" --modes fp32 bf16-cl "${B1[@]}" \
  --note "benchmarks/gpu_check.sh, batch 1" \
  --out "$OUT/bench_b1.json" --markdown "$WORK/b1.md"
step b16 110 "$PY" tools/benchmark.py --device "$DEVICE" --modes fp32 bf16-cl "${B16[@]}" \
  --note "benchmarks/gpu_check.sh, batch 16" \
  --out "$OUT/bench_b16.json" --markdown "$WORK/b16.md"
# shellcheck disable=SC2046  # the options are words on purpose
step train 75 "$PY" tools/train.py configs/fcn8s_vgg16_voc.py ${AMP[@]+"${AMP[@]}"} \
  --work-dir "$WORK/train" --cfg-options $(train_opts "$ITERS")
# shellcheck disable=SC2046
step dist 75 bash tools/dist_train.sh configs/fcn8s_vgg16_voc.py 1 \
  ${AMP[@]+"${AMP[@]}"} --work-dir "$WORK/dist" --cfg-options $(train_opts "$DIST_ITERS")
CKPT=$(cat "$WORK/train/last_checkpoint" 2>/dev/null || echo "$WORK/train/missing.pth")
# shellcheck disable=SC2086
step test 45 "$PY" tools/test.py configs/fcn8s_vgg16_voc.py "$CKPT" \
  --work-dir "$WORK/test" --cfg-options $DATA_OPTS $NARROW
step sync 45 "$PY" -m benchmarks.sync_check "$WORK/train/fcn8s_vgg16_voc.py" \
  --work-dir "$WORK/sync" --out "$OUT/sync.json"

cat "$WORK"/b1.md "$WORK"/b16.md > "$OUT/bench.md" 2>/dev/null
"$PY" - "$OUT" >> "$SUMMARY" 2>&1 <<'EOF'
import json, os.path as osp, sys
out = sys.argv[1]
for name in ('bench_b1.json', 'bench_b16.json', 'sync.json'):
    path = osp.join(out, name)
    if not osp.exists(path):
        print(f'\n{name}: missing')
        continue
    with open(path) as f:
        res = json.load(f)
    print(f'\n{name}:')
    if name == 'sync.json':
        print(f"  zero_syncs={res['zero_syncs']} error_mode={res['error_mode']} "
              f"error_site={res['error_site']} {res.get('reason', '')}")
        for s in res['syncs']:
            print(f"  sync: {s['site']} ({s['thread']})")
        continue
    for m in res['models']:
        t = m.get('training', {})
        print(f"  {m['name']}: training {t.get('median_s', 0) * 1e3:.1f} ms, "
              f"{t.get('images_per_s', 0):.1f} images/s, "
              f"{100 * t.get('peak_fraction_median', 0):.0f}% of GEMM peak, "
              f"+{t.get('peak_memory_mib', 0):.0f} MiB")
    for line in res.get('findings', []):
        print(f'  * {line}')
EOF
echo "failed steps: $FAILED" >> "$SUMMARY"
cat "$SUMMARY"
exit "$FAILED"
