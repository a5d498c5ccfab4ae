# Two commands on a fresh machine:  make demo   and   make test
# Each runs the (idempotent) set-up first: a second run checks it in seconds.
# The set-up installs with `-c requirements/constraints.txt` on every pip call.
# CI (.ci/run) runs `make test` with a new VENV and PIP_NO_CACHE_DIR=1.
VENV ?= .venv
PY := $(VENV)/bin/python
export VENV

.PHONY: setup demo test clean-demo

setup:
	@bash tools/setup_env.sh

demo: setup
	$(PY) tools/demo.py

test: setup
	$(PY) -m pytest -n 2 tests --doctest-modules mmseg_fcn_classic

clean-demo:
	rm -rf data/demo_polyps912 work_dirs/fcn8s_vgg16_demo
