# Two entry points: `make demo` and `make test`. Both create the environment and install first.
PY ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-stamp
STAMP := $(VENV)/.installed-stamp
OUT := out
# pip byte-compiles what it installs on one core (about 55 s of the runtime pins on this 2-core
# machine); installing with --no-compile and compiling with compileall on every core takes about 30 s.
# The byte code is needed ahead of time: with PYTHONDONTWRITEBYTECODE set (as here), nothing would be
# cached on import and every process would compile its imports again. A file compileall cannot
# compile is left to the import (a message, not an error).
PIP := $(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile
# The libraries' own test folders are left out: nothing imports them here, and they are about half of
# the compilation (measured: 46 s with them, 23 s without, in a runtime environment).
COMPILE := $(BIN)/python -m compileall -q -j 0 -x '/tests?/' $(VENV)/lib src > /dev/null || echo "compileall: some files are left to compile on import"

.PHONY: install install-runtime demo test lint typecheck unit generated lock clean

$(BIN)/python:
	$(PY) -m venv $(VENV)

# What exoresist needs to run (make demo): requirements-runtime.lock, the subset of requirements.lock
# without the test and development tools (browser driver, libroadrunner, linters), which roughly
# halves the installation time of a fresh clone.
# The ODE engine is compiled by numba on its first use (about 35 s on one core; cached next to the
# sources). Compiling it here, while compileall byte-compiles on the other core, takes it out of the
# first run: a culture simulation of a few days uses the same engine as every trial.
WARM := $(BIN)/exoresist simulate --context culture --therapy sorafenib --days 6 --every 3 > /dev/null || echo "warm-up failed: the ODE engine compiles on first use"

$(RUNTIME_STAMP): $(BIN)/python pyproject.toml requirements-runtime.lock
	$(PIP) -r requirements-runtime.lock
	$(PIP) --no-deps -e .
	{ $(WARM); } & { $(COMPILE); }; wait
	touch $(RUNTIME_STAMP)

# Everything, test and development tools included (make test).
$(STAMP): $(RUNTIME_STAMP) requirements.lock
	$(PIP) -r requirements.lock
	$(COMPILE)
	touch $(STAMP)

install-runtime: $(RUNTIME_STAMP)

install: $(STAMP)

demo: install-runtime
	$(BIN)/exoresist demo --out $(OUT)

lint: install
	$(BIN)/ruff check src tests scripts benchmarks
	$(BIN)/ruff format --check src tests scripts benchmarks

typecheck: install
	$(BIN)/mypy

# Generated files must match what the code generates from the KB.
generated: install
	$(BIN)/exoresist kb validate
	$(BIN)/exoresist kb format --check
	$(BIN)/exoresist kb coverage --check -o docs/coverage.md
	$(BIN)/exoresist kb schema --check -o src/exoresist/kb/schema/records.schema.json
	$(BIN)/exoresist model parameters --check -o docs/parameters.md

unit: install
	$(BIN)/pytest -n 2 -q

test: lint typecheck generated unit

# Regenerate requirements.lock from pyproject.toml in a throw-away environment, then
# requirements-runtime.lock: the same versions, installing the package without its dev extra.
lock:
	rm -rf .lockenv && $(PY) -m venv .lockenv
	.lockenv/bin/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	.lockenv/bin/python -m pip freeze --exclude-editable --all | grep -v '^pip==' > requirements.lock
	rm -rf .lockenv && $(PY) -m venv .lockenv
	.lockenv/bin/python -m pip install --quiet --disable-pip-version-check -c requirements.lock -e .
	.lockenv/bin/python -m pip freeze --exclude-editable --all | grep -v '^pip==' > requirements-runtime.lock
	rm -rf .lockenv

clean:
	rm -rf $(VENV) $(OUT) .mypy_cache .ruff_cache .pytest_cache
