# The two commands that matter: `make demo` and `make test`. Both set up everything from nothing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup host demo test test-unit test-lab lint bench clean

setup: host $(VENV)/.installed

host:
	@bash lab/setup-host.sh

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

demo: setup
	$(PY) -m lab demo

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	$(PY) devtools/import_cycles.py

test: setup lint
	$(PY) -m pytest

test-unit: $(VENV)/.installed
	$(PY) -m pytest -m "not lab"

test-lab: setup
	$(PY) -m pytest -m lab

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf .lab .pytest_cache .mypy_cache .ruff_cache
