# creditgate — the commands a newcomer and CI use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
UV := $(VENV)/bin/uv
UV_VERSION := 0.13.9
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
# The suite runs in parallel processes (pytest-xdist), one per core and at most four: each worker collects the
# suite and migrates a database of its own first, which more workers would not pay back. TEST_WORKERS=0 runs it
# in one process. Whole files go to one worker (--dist loadfile): a module's server fixture starts once.
TEST_WORKERS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); echo $$(( n > 4 ? 4 : n )))
PYTEST_PARALLEL := -n $(TEST_WORKERS) --dist loadfile

.PHONY: install run test test-fast test-slow test-e2e e2e-deps check lint format typecheck hadolint check-deploy openapi lock bench bench-floor bench-history bench-console bench-audit bench-export bench-behaviour clean

# Bytecode is compiled at install: where PYTHONDONTWRITEBYTECODE is set, every command would otherwise compile
# each module it imports, every time (seconds per `creditgate` command).
$(STAMP): pyproject.toml requirements-dev.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet "uv==$(UV_VERSION)"
	$(UV) pip install --quiet --python $(PY) --compile-bytecode -r requirements-dev.lock
	$(UV) pip install --quiet --python $(PY) --compile-bytecode --no-deps -e .
	touch $(STAMP)

install: $(STAMP) ## create .venv and install the pinned dependencies

run: $(STAMP) ## migrate the database, then serve on $(HOST):$(PORT) (prints a dev key when none is configured)
	$(VENV)/bin/creditgate migrate
	$(VENV)/bin/creditgate serve --dev --host "$(HOST)" --port "$(PORT)"

test: check ## lint, type-check, then the suite on CREDITGATE_DATABASE_URL (SQLite by default), in parallel
	$(PY) -m pytest -q $(PYTEST_PARALLEL) -m "not slow and not e2e"

test-fast: $(STAMP) ## the suite without the linters, in parallel, stopping at the first failure
	$(PY) -m pytest -q -x $(PYTEST_PARALLEL) -m "not slow and not e2e"

test-slow: $(STAMP) ## several processes and long loads; -s prints each run's figures (pytest exit 5, "no tests", counts as a pass)
	$(PY) -m pytest -q -s -m slow || [ $$? -eq 5 ]

e2e-deps: ## Debian's chromium for the browser tests (Playwright drives it; it never downloads a browser)
	@if [ ! -x /usr/bin/chromium ]; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi

test-e2e: $(STAMP) e2e-deps ## the console in headless Chromium; screenshots land in test-artifacts/
	$(PY) -m pytest -q -m e2e

check: lint typecheck hadolint check-deploy ## ruff, mypy, hadolint and the deploy/ files against their schemas

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

typecheck: $(STAMP)
	$(VENV)/bin/mypy

hadolint: $(STAMP)
	$(VENV)/bin/hadolint Dockerfile

check-deploy: $(STAMP) ## deploy/compose.yaml against the compose specification, the manifests against Kubernetes' schemas
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec deploy/compose.yaml
	$(VENV)/bin/kubernetes-validate --strict --quiet deploy/kubernetes/*.yaml

openapi: $(STAMP) ## regenerate openapi/openapi.json from the app
	$(VENV)/bin/creditgate openapi > openapi/openapi.json

lock: $(STAMP) ## re-resolve the pinned dependency files from pyproject.toml
	$(UV) pip compile pyproject.toml -q -o requirements.lock --python-version 3.11
	$(UV) pip compile pyproject.toml --extra dev -q -o requirements-dev.lock --python-version 3.11

bench: $(STAMP) ## decisions/s and latency vs the bare endpoint, SQLite and PostgreSQL (wrk); see BENCHMARKS.md
	$(PY) -m bench.run --mode latency --mode throughput --mode floor

bench-floor: $(STAMP) ## the stack's own floor: what each layer of the decision route costs, as ratios to bare
	$(PY) -m bench.run --mode floor --no-others

bench-history: $(STAMP) ## history query p99 and decision p50 at 10k and 1M stored decisions
	$(PY) -m bench.run --mode history

bench-console: $(STAMP) ## server time per console page at 1M stored decisions (SQLite; --database-url for PostgreSQL)
	$(PY) -m bench.console_bench

bench-audit: $(STAMP) ## audit-chain verification rate over 1M events (SQLite; --postgres URL for a scratch PostgreSQL)
	$(PY) -m bench.audit_bench

bench-export: $(STAMP) ## CSV export of 100k decisions: rows/s and peak memory (SQLite; --postgres URL as above)
	$(PY) -m bench.export_bench

SCALE ?= 1.0
bench-behaviour: $(STAMP) ## behaviour figures of 100k customers from 5.1M invoices and payments (SCALE=0.1 for a tenth), then decision latency with the behaviour input on and off
	$(PY) -m bench.behaviour_bench --scale $(SCALE)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
