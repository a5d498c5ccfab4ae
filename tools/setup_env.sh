#!/usr/bin/env bash
# Idempotent environment set-up for mmseg-fcn-classic.
#
# Creates (or reuses) a virtual environment and installs the pinned stack:
# torch 2.13, mmengine 0.10.7, mmcv 2.1.0 *with ops*, mmsegmentation 1.2.2 and this
# package in editable mode. A second run only checks and returns within seconds.
#
# Every `pip install` below passes `-c requirements/constraints.txt`, so a version
# fixed there (setuptools<82, torch, numpy, opencv-python, ...) holds for the whole
# set-up: a later install cannot move it (pip fails instead). `-c` adds to any
# constraint file in pip's own configuration; PIP_CONSTRAINT would replace it, so this
# script never sets it.
#
# mmcv 2.1.0 has no wheels for torch 2.13, so when no mmcv with compiled ops is
# installed it is built from its source distribution (`--no-binary mmcv`): with
# --no-build-isolation (an isolated build silently produces mmcv without ops), after
# torch, wheel, ninja, psutil and setuptools<82 (its setup.py imports pkg_resources)
# are installed and checked. pip caches the built wheel unless PIP_NO_CACHE_DIR=1.
#
# Environment variables:
#   VENV       virtual environment path (default: .venv next to this repo's Makefile)
#   PYTHON     interpreter used to create it (default: python3; CPython >= 3.11)
#   TORCH_SPEC torch requirement (default: torch==2.13.0; must agree with constraints.txt)
#   TORCH_INDEX_URL  extra index to take torch from, e.g. the PyTorch CUDA index (README)
#   MAX_JOBS   parallel compile jobs for mmcv (default: nproc)
#
# `tools/setup_env.sh --check-build` only runs the pre-build check on $VENV's python.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
PYTHON="${PYTHON:-python3}"
TORCH_SPEC="${TORCH_SPEC:-torch==2.13.0}"
CONSTRAINTS="$ROOT/requirements/constraints.txt"
STAMP="$VENV/.mmseg_fcn_classic_setup"
PY="$VENV/bin/python"

log() { printf '[setup] %s\n' "$*" >&2; }

# Everything the stamp depends on: change any of these and set-up runs again.
fingerprint() {
  cat "$ROOT/setup.py" "$ROOT/requirements/runtime.txt" "$ROOT/requirements/tests.txt" \
    "$CONSTRAINTS" "$ROOT/tools/setup_env.sh" | sha256sum | cut -d' ' -f1
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

# What building mmcv 2.1.0 with ops from source needs of the interpreter, checked right
# before the build so that a broken environment fails here, with the fix, instead of
# deep inside mmcv's setup.py or (worse) with an mmcv that lacks its ops.
check_build_env() {
  PATH="$VENV/bin:$PATH" "$PY" - "$CONSTRAINTS" <<'PYEOF'
import importlib, os, shutil, sys, sysconfig, warnings
import os.path as osp

warnings.simplefilter('ignore')  # pkg_resources' deprecation, torch without numpy

constraints = sys.argv[1]
pip_c = f'{sys.executable} -m pip install -c {constraints}'
problems = []

try:
    import pkg_resources  # noqa: F401  (mmcv's setup.py imports it)
except Exception as e:  # ImportError, or a setuptools that fails to import
    problems.append(
        f'`import pkg_resources` fails ({type(e).__name__}: {e}); mmcv 2.1.0\'s setup.py '
        f'needs it and setuptools>=82 no longer ships it. Fix: {pip_c} "setuptools<82"')
try:
    import setuptools
    major = int(setuptools.__version__.split('.')[0])
    if major >= 82:
        problems.append(
            f'setuptools {setuptools.__version__} is installed; mmcv 2.1.0 needs '
            f'setuptools<82 (pkg_resources). Fix: {pip_c} "setuptools<82"')
except Exception as e:
    problems.append(f'setuptools does not import ({type(e).__name__}: {e}). '
                    f'Fix: {pip_c} "setuptools<82"')

for mod, dist in (('torch', 'torch'), ('wheel', 'wheel'), ('ninja', 'ninja'),
                  ('psutil', 'psutil')):
    try:
        importlib.import_module(mod)
    except Exception as e:
        problems.append(
            f'`import {mod}` fails ({type(e).__name__}: {e}); the build runs without '
            f'isolation, so {dist} must be installed first. Fix: {pip_c} {dist}')

if shutil.which('ninja') is None:  # torch's BuildExtension runs `ninja` from PATH
    problems.append('the `ninja` executable is not on PATH; torch would fall back to '
                    f'a slow serial build. Fix: {pip_c} ninja')
cxx_name = (os.environ.get('CXX') or 'c++').split()[0]  # what torch's build uses
cxx = shutil.which(cxx_name)
if cxx is None:
    problems.append(f'no C++ compiler `{cxx_name}` on PATH (CXX selects another). '
                    'Fix: install one, e.g. `apt-get install g++` (Debian/Ubuntu)')
include = sysconfig.get_paths()['include']
if not osp.isfile(osp.join(include, 'Python.h')):
    problems.append(f'Python.h is missing from {include}; the ops are a Python C++ '
                    'extension. Fix: install the Python development headers '
                    '(e.g. `apt-get install python3-dev`)')

if problems:
    print('[setup] ERROR: cannot build mmcv 2.1.0 with ops in '
          f'{sys.prefix}:', file=sys.stderr)
    for p in problems:
        print(f'[setup]   - {p}', file=sys.stderr)
    sys.exit(1)
import setuptools, torch  # noqa: E401
print(f'[setup] build environment OK: setuptools {setuptools.__version__} '
      f'(pkg_resources importable), torch {torch.__version__}, wheel, ninja, psutil, '
      f'{cxx}', file=sys.stderr)
PYEOF
}

if [[ "${1:-}" == "--check-build" ]]; then
  [[ -x "$PY" ]] || { log "ERROR: no virtual environment at $VENV"; exit 1; }
  check_build_env
  exit
fi

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$(fingerprint)" ]] && check_stack 2>/dev/null; then
  log "environment $VENV is ready"
  exit 0
fi

if [[ ! -x "$PY" ]]; then
  if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    log "ERROR: $PYTHON is not CPython >= 3.11, which the pinned stack needs"
    log "(requirements/constraints.txt: numpy 2.4, scipy 1.17). Set PYTHON=python3.11."
    exit 1
  fi
  log "creating virtual environment $VENV"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$PY" -m pip install --disable-pip-version-check -c "$CONSTRAINTS")

log "installing build tools and $TORCH_SPEC (constraints: requirements/constraints.txt)"
"${PIP[@]}" -q setuptools wheel ninja psutil "$TORCH_SPEC" \
  ${TORCH_INDEX_URL:+--extra-index-url "$TORCH_INDEX_URL"}

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
  check_build_env
  log "building mmcv 2.1.0 with ops from source (about 14 min on 2 idle cores;" \
      "pip caches the wheel unless PIP_NO_CACHE_DIR=1)"
  "$PY" -m pip uninstall -y -q mmcv mmcv-lite 2>/dev/null || true
  PATH="$VENV/bin:$PATH" MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
    "${PIP[@]}" --no-build-isolation --no-binary mmcv "mmcv==2.1.0"
  if ! has_mmcv_ops; then
    log "ERROR: mmcv 2.1.0 was installed without its compiled ops (mmcv/_ext*.so)."
    log "Run \`VENV=$VENV bash tools/setup_env.sh --check-build\` and fix what it names."
    exit 1
  fi
fi

log "installing the pinned stack and this package"
"${PIP[@]}" -q -r "$ROOT/requirements/runtime.txt" -r "$ROOT/requirements/tests.txt"
"${PIP[@]}" -q --no-build-isolation --no-deps -e "$ROOT"

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
