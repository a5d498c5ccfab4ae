#!/usr/bin/env bash
# Distributed training with torchrun, on GPUs (NCCL) or, without CUDA, on CPU (gloo).
#   tools/dist_train.sh CONFIG NPROC [train.py args...]
# Multi-node: NNODES, NODE_RANK, MASTER_ADDR and PORT, e.g. on each of 2 nodes:
#   NNODES=2 NODE_RANK=<0|1> MASTER_ADDR=<node0 ip> PORT=29500 tools/dist_train.sh CONFIG 8
set -euo pipefail
if [[ $# -lt 2 ]]; then
  echo "usage: $0 CONFIG NPROC_PER_NODE [train.py args...]" >&2; exit 2
fi
CONFIG=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PYTHON=${PYTHON:-python}

# torchrun sets OMP_NUM_THREADS=1 when it is unset; share the cores instead.
if [[ -z "${OMP_NUM_THREADS:-}" ]]; then
  export OMP_NUM_THREADS=$(( $(nproc) / NPROC > 0 ? $(nproc) / NPROC : 1 ))
fi

exec "$PYTHON" -m torch.distributed.run \
    --nnodes="$NNODES" \
    --node_rank="$NODE_RANK" \
    --master_addr="$MASTER_ADDR" \
    --nproc_per_node="$NPROC" \
    --master_port="$PORT" \
    -m mmseg_fcn_classic.tools.train "$CONFIG" --launcher pytorch "${@:3}"
