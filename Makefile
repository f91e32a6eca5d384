# The two commands of the README: `make demo` runs the job locally, `make test` runs every test.
# Both set themselves up: a .venv with exactly the locked dependencies of requirements/local.txt, every
# version and hash checked (and, for tests, the pinned AWS CDK CLI of package.json), rebuilt from scratch
# whenever the lock changes. `make lock` regenerates the locks after pyproject.toml changes.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA_ROOT ?= data
RUN_SLOT ?= 2026-11-22T14
TEST_WORKERS ?= 2

LOCK := requirements/local.txt
PIP := $(BIN)/python -m pip --quiet --disable-pip-version-check
UV_PIP := $(BIN)/uv --quiet pip

.PHONY: demo test bench lint lint-imports setup lock wheels deploy clean

# A new venv each time the lock changes, so that it holds the lock and nothing else. The locked build tools
# come first (pip, setuptools and uv, by pip); then uv installs the lock, hash-checked, in parallel and from
# its cache (~/.cache/uv) when it has the wheels: 13 s instead of pip's 85 s on a fresh clone here (32 s the
# first time, with nothing cached). Nothing is built in isolation (pyspark is an sdist, and so is the
# project), so no build tool is fetched that the lock does not name. uv reads its index from UV_INDEX_URL
# (or uv.toml), not from pip.conf.
$(VENV)/.installed: pyproject.toml $(LOCK) requirements/build.txt
	@scripts/check_prereqs.sh python
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --require-hashes --no-deps -r requirements/build.txt
	$(UV_PIP) install --python $(BIN)/python --require-hashes --no-deps --no-build-isolation -r $(LOCK)
	$(UV_PIP) install --python $(BIN)/python --no-deps --no-build-isolation -e .
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

## Runs every test, offline, in TEST_WORKERS processes (pytest-xdist; 0: in this one), each test file wholly in one.
## Each process starts its own Spark JVM of 3 GB, and a test may start one more. On 2 cores, 2 processes took
## 11.3-12.4 min for 824-828 tests on four fresh clones of 2026-12-05 (10.1-10.8 min for 824 on a quieter day, commit
## af9ae7c). 3 processes were not faster (22.8 min once, with other work beside them, against 18.2 min for 2 at
## commit cacc7bd): the suite is bound by CPU.
## More cores may take more processes (`make test TEST_WORKERS=4`), given the memory.
test: $(VENV)/.installed node_modules/.installed
	@scripts/check_prereqs.sh java node
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

bench: $(VENV)/.installed
	@scripts/check_prereqs.sh java
	$(BIN)/python benchmarks/extract_coverage.py
	$(BIN)/python benchmarks/transform_scale.py
	$(BIN)/python benchmarks/demo_time.py

lint: lint-imports
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## Checks the import contracts of pyproject.toml's [tool.importlinter]: the layers' directions, no import cycle.
lint-imports: $(VENV)/.installed
	$(BIN)/lint-imports

## Resolves pyproject.toml into requirements/local.txt and requirements/cluster.txt, every version and hash
## (from the package index, or from uv's cache alone when the index cannot be reached).
lock: $(VENV)/.installed
	$(BIN)/python -m infra.dependencies lock

## Downloads the cluster's wheels (requirements/cluster.txt) into build/cluster-wheels: a deploy step.
wheels: $(VENV)/.installed
	$(BIN)/python -m infra.dependencies wheels

## Deploys the stack with the cluster's wheels; CDK_ARGS passes context, e.g. CDK_ARGS="-c alarm_email=ops@example.com".
deploy: wheels node_modules/.installed
	. $(BIN)/activate && npx cdk deploy $(CDK_ARGS)

clean:
	rm -rf $(DATA_ROOT) cdk.out .pytest_cache
