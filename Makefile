# The DDR platform: one command for each thing you do. Every target does its own setup.
SHELL := /bin/bash
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo $(HOME)/.local/bin/uv)
STORE ?= sqlite
RUN := $(UV) run --frozen
# Settings default to production (which refuses development keys and local key stores); what make runs
# here is a development stack, its demo and its tests. A deployment never runs through this Makefile.
export DDR_ENVIRONMENT ?= development

.PHONY: setup up down status demo test test-all lint bench schemas clean

$(UV):
	python3 -m pip install --quiet --user "uv==$(UV_VERSION)" || python3 -m pip install --quiet "uv==$(UV_VERSION)"

.venv/.synced: $(UV) pyproject.toml uv.lock contracts/pyproject.toml $(wildcard services/*/pyproject.toml)
	$(UV) sync --frozen --all-packages
	touch $@

## setup: virtualenv and dependencies, Kafka's jars, PostgreSQL when STORE=postgres (idempotent)
setup: .venv/.synced
	bash deploy/local/kafka.sh fetch
	@if [ "$(STORE)" = postgres ]; then bash deploy/local/postgres.sh install; fi

## up: start Kafka, the stores and every service natively (STORE=sqlite|postgres)
up: setup
	$(RUN) ddr stack up --store $(STORE)

## demo: start a fresh stack (what an earlier run wrote is deleted first, as `make clean` does), drive the report-shaped caseload through the public APIs, print the funnel and a path
REGISTERED ?= 2300
UNFIT ?= 535
demo: setup clean
	$(RUN) ddr stack up --store $(STORE)
	$(RUN) python -m tests.e2e.demo --registered $(REGISTERED) --unfit $(UNFIT)

## down: stop everything `make up` started
down: .venv/.synced
	$(RUN) ddr stack down

status: .venv/.synced
	$(RUN) ddr stack status

## test: the suite against a real Kafka broker and real PostgreSQL (started for the run); services on PostgreSQL, the event store on both
test: setup
	bash deploy/local/postgres.sh install
	$(RUN) pytest --service-backends=postgres

## test-all: the whole suite, every service's tests on SQLite as well as PostgreSQL
test-all: setup
	bash deploy/local/postgres.sh install
	$(RUN) pytest

## lint: ruff, mypy --strict, import-linter contracts, checked-in schemas agree with the code
lint: .venv/.synced
	$(RUN) ruff check .
	$(RUN) ruff format --check .
	$(RUN) mypy
	$(RUN) lint-imports
	$(RUN) python -m ddr_contracts.schemas check

## schemas: regenerate contracts/schemas (refuses a change that breaks an existing event version)
schemas: .venv/.synced
	$(RUN) python -m ddr_contracts.schemas write

## bench: benchmarks; figures to var/bench/*.json and docs/benchmarks.md
bench: setup
	bash deploy/local/postgres.sh install
	$(RUN) python -m tests.bench.run

## clean: stop the stack and delete what it wrote (stores, Kafka's data, logs, audit checkpoints); var/secrets stays
clean: down
	rm -rf var/stores var/log var/kafka var/audit var/run
