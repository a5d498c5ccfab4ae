# Two commands on a fresh machine:  make demo   and   make test
# Each runs the (idempotent) set-up first: a second run checks it in seconds.
VENV ?= .venv
PY := $(VENV)/bin/python
export VENV

.PHONY: setup demo test clean-demo

setup:
	@bash tools/setup_env.sh

demo: setup
	$(PY) tools/demo.py

test: setup
	$(PY) -m pytest tests

clean-demo:
	rm -rf data/demo_polyps912 work_dirs/fcn8s_vgg16_demo
