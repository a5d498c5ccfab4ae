#!/usr/bin/env bash
# Idempotent environment set-up for mmseg-fcn-classic.
#
# Creates (or reuses) a virtual environment and installs the pinned stack:
# torch 2.13, mmengine 0.10.7, mmcv 2.1.0 *with ops*, mmsegmentation 1.2.2 and this
# package in editable mode. A second run only checks and returns within seconds.
#
# mmcv 2.1.0 has no wheels for torch 2.13, so when no mmcv with compiled ops is
# importable it is built from source: setuptools<82 (its setup.py imports
# pkg_resources) and --no-build-isolation with torch, wheel, ninja and psutil already
# present. An isolated build silently produces mmcv without ops. pip caches the built
# wheel, so later fresh environments on the same machine reuse it.
#
# Environment variables:
#   VENV       virtual environment path (default: .venv next to this repo's Makefile)
#   PYTHON     interpreter used to create it (default: python3)
#   TORCH_SPEC torch requirement (default: torch==2.13.0)
#   TORCH_INDEX_URL  index to take torch from, e.g. the PyTorch CUDA index (README)
#   MAX_JOBS   parallel compile jobs for mmcv (default: nproc)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
STAMP="$VENV/.mmseg_fcn_classic_setup"
PY="$VENV/bin/python"

log() { printf '[setup] %s\n' "$*" >&2; }

# Everything the stamp depends on: change any of these and set-up runs again.
fingerprint() {
  cat "$ROOT/setup.py" "$ROOT/requirements/runtime.txt" "$ROOT/tools/setup_env.sh" \
    | sha256sum | cut -d' ' -f1
}

check_stack() {
  "$PY" - <<'PYEOF'
import importlib, sys
import mmcv, mmcv.ops  # noqa: F401  (ops must be compiled in)
import mmengine, mmseg, mmseg_fcn_classic  # noqa: F401
assert mmcv.__version__ == '2.1.0', mmcv.__version__
assert mmengine.__version__ == '0.10.7', mmengine.__version__
assert mmseg.__version__ == '1.2.2', mmseg.__version__
try:
    importlib.import_module('torchvision')
except ModuleNotFoundError:
    pass  # optional extra
PYEOF
}

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(fingerprint)" ]] && check_stack 2>/dev/null; then
  log "environment $VENV is ready"
  exit 0
fi

if [[ ! -x "$PY" ]]; then
  log "creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$PY" -m pip install --disable-pip-version-check)

log "installing build tools and $TORCH_SPEC"
"${PIP[@]}" -q "setuptools<82" wheel ninja psutil
"${PIP[@]}" -q "$TORCH_SPEC" ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"}

# Decide from the installed files, not from an import: `import mmcv` also needs
# mmengine, which is installed below.
has_mmcv_ops() {
  "$PY" - <<'PYEOF'
import glob, importlib.metadata as md, importlib.util as u, os, sys
try:
    ok = md.version('mmcv') == '2.1.0'
except md.PackageNotFoundError:
    ok = False
spec = u.find_spec('mmcv') if ok else None
ok = ok and spec is not None and bool(
    glob.glob(os.path.join(os.path.dirname(spec.origin), '_ext*.so')))
sys.exit(0 if ok else 1)
PYEOF
}

if has_mmcv_ops; then
  log "mmcv 2.1.0 with compiled ops already present"
else
  log "building mmcv 2.1.0 with ops from source (about 14 min on 2 cores; pip caches the wheel)"
  "$PY" -m pip uninstall -y -q mmcv mmcv-lite 2>/dev/null || true
  MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
    "${PIP[@]}" --no-build-isolation "mmcv==2.1.0"
  if ! has_mmcv_ops; then
    log "ERROR: mmcv 2.1.0 was installed without its compiled ops (mmcv/_ext*.so)."
    log "Check that torch, wheel, ninja and psutil are installed and setuptools<82."
    exit 1
  fi
fi

log "installing the pinned stack and this package"
"${PIP[@]}" -q -r "$ROOT/requirements/runtime.txt"
"${PIP[@]}" -q --no-build-isolation --no-deps -e "$ROOT"
"${PIP[@]}" -q -r "$ROOT/requirements/tests.txt"

# torchvision is optional; never leave one behind that cannot import (the PyPI wheel is
# a CUDA build that raises with CPU torch and then crashes mmengine's collect_env).
if "$PY" -c "import importlib.util as u; exit(0 if u.find_spec('torchvision') else 1)"; then
  if ! "$PY" -c "import torchvision" 2>/dev/null; then
    log "removing a torchvision that fails to import against this torch"
    "$PY" -m pip uninstall -y -q torchvision
  fi
fi

if ! check_stack; then
  log "ERROR: the installed stack does not import (see the traceback above)."
  exit 1
fi
fingerprint > "$STAMP"
log "environment $VENV is ready"
