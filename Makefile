# The two commands of the README: `make demo` runs the job locally, `make test` runs every test.
# Both set themselves up: a .venv with the pinned dependencies of pyproject.toml (and, for tests,
# the pinned AWS CDK CLI of package.json), rebuilt only when those files change.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA_ROOT ?= data
RUN_SLOT ?= 2026-11-22T14

.PHONY: demo test bench lint setup clean

$(VENV)/.installed: pyproject.toml
	@scripts/check_prereqs.sh python
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade "pip>=23.2"
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
	@touch $@

node_modules/.installed: package.json package-lock.json
	@scripts/check_prereqs.sh node
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

setup: $(VENV)/.installed

## Runs the whole job on the embedded simulated world (no AWS, no internet) and prints the answers.
demo: $(VENV)/.installed
	@scripts/check_prereqs.sh java
	$(BIN)/python -m etl run --demo --data-root $(DATA_ROOT) --run-slot $(RUN_SLOT) --show --report

## Runs every test, offline.
test: $(VENV)/.installed node_modules/.installed
	@scripts/check_prereqs.sh java node
	$(BIN)/python -m pytest

bench: $(VENV)/.installed
	@scripts/check_prereqs.sh java
	$(BIN)/python benchmarks/extract_coverage.py
	$(BIN)/python benchmarks/transform_scale.py

lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(DATA_ROOT) cdk.out .pytest_cache
