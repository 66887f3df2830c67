# The two commands that matter: `make demo` and `make test`. Both set up everything from nothing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: setup host demo test test-unit test-lab lint bench clean lock

setup: host $(VENV)/.installed

host:
	@bash lab/setup-host.sh

# Exactly the versions in requirements.lock (hash-checked), then callsla itself without
# resolving anything again. `make lock` rewrites the lock after a change to pyproject.toml.
$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --require-hashes -r requirements.lock
	$(PY) -m pip install -q --no-deps -e .
	@touch $@

# Debian 12's CPython 3.11 on x86_64 (glibc 2.36); every wheel's hash is kept, so aarch64 and
# later glibc install from the same lock.
lock: $(VENV)/.installed
	$(VENV)/bin/uv pip compile pyproject.toml --extra dev --extra bench --generate-hashes \
		--python-version 3.11 --python-platform x86_64-manylinux_2_36 --no-header \
		--quiet -o requirements.lock

demo: setup
	$(PY) -m lab demo

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-cache
	$(PY) devtools/import_cycles.py

# The lab tests wait on real call flows (rings of seconds, 20 s status messages), not on the
# CPU: two pytest-xdist workers, each with a lab of its own on its own ports (offset, offset
# + 50: tests/integration/conftest.py), a whole test module to a worker. TEST_WORKERS=0: serial.
TEST_WORKERS ?= 2
PARALLEL := -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder
# This module finds each prompt of the whisper in the held caller's recording (correlation
# 0.6): with the CPU contended (two labs, or other work, on 2 cores) the recording lost a
# prompt in 4 of 7 runs; alone it passed each time. So it runs first, with the machine to
# itself (one lab), and the rest after it in two workers.
ALONE := tests/integration/agi_scripts/test_attended_announcement.py

test: setup lint
	$(PY) -m pytest $(ALONE)
	$(PY) -m pytest $(PARALLEL) --ignore=$(ALONE)

test-unit: $(VENV)/.installed
	$(PY) -m pytest -m "not lab"

test-lab: setup
	$(PY) -m pytest $(ALONE)
	$(PY) -m pytest -m lab $(PARALLEL) --ignore=$(ALONE)

bench: setup
	@for b in bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean:
	rm -rf .lab .pytest_cache .mypy_cache .ruff_cache
