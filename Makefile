# Marketing data warehouse for e-commerce shops. `make help` lists the targets.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export UV_COMPILE_BYTECODE := 1
export DAGSTER_DISABLE_TELEMETRY := 1
export PATH := $(CURDIR)/$(BIN):$(PATH)

SCALE ?= 0.05
SEED ?= 7
DROP ?= data/drops/sample
WAREHOUSE ?= data/warehouse.duckdb

.PHONY: help demo test ui build sample bench bench-growth lint clean dbt-parse report chromium contract erase audience-export

help:
	@echo "make demo    install, generate a sample drop (SCALE=$(SCALE)) and build everything"
	@echo "make test    install test dependencies and run lint + the whole test suite"
	@echo "make ui      open the Dagster UI on http://127.0.0.1:3000"
	@echo "make build   build the warehouse from any drop: make build DROP=/path WAREHOUSE=/path.duckdb [BUILD_ARGS=--full-rebuild]"
	@echo "make sample  generate a sample drop only (SCALE, SEED, DROP)"
	@echo "make erase   erase one customer's personal data: make erase CUSTOMER=<customer_id> [WAREHOUSE=...] [REQUEST=<id>]"
	@echo "make audience-export CAMPAIGN=win_back OUT=file.csv   ad-platform customer match (SHA-256 e-mails, opted-in only)"
	@echo "make report  render the KPI report (HTML) from an existing warehouse (WAREHOUSE)"
	@echo "make bench   run the benchmark, results in bench/results/"
	@echo "make bench-growth SCALE=10   a larger shop, if this disk holds it (after make bench)"
	@echo "make contract  regenerate dbt's contract macros, the sources YAML and docs/raw_exports.md's table from contract/"
	@echo "make clean   remove generated data, the venv and build output"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv

$(VENV)/.installed: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $@

# Parsed with the vars the Dagster dbt step passes for WAREHOUSE, so that warehouse's first
# build (make demo) reuses this parse instead of parsing the project again
# (dagster_project/transform/parse.py).
dbt/target/manifest.json: $(VENV)/.installed $(shell find dbt/models dbt/macros dbt/seeds dbt/tests -type f 2>/dev/null) dbt/profiles.yml dbt/dbt_project.yml
	$(BIN)/python -m dagster_project.transform.parse --warehouse $(WAREHOUSE)
	@touch $@

dbt-parse: dbt/target/manifest.json

# The raw contract is typed once in contract/; dbt's copies and the docs table are written
# from it (tests/unit/test_contract.py fails when they drift).
contract: $(VENV)/.installed
	$(BIN)/python -m contract.generate

sample: $(VENV)/.installed
	$(BIN)/python -m sample_data --scale $(SCALE) --seed $(SEED) --out $(DROP)

build: dbt/target/manifest.json
	$(BIN)/python -m dagster_project.build --drop $(DROP) --warehouse $(WAREHOUSE) $(BUILD_ARGS)

demo: sample build
	@echo
	@echo "Warehouse: $(abspath $(WAREHOUSE))  (DuckDB; schemas raw, staging, intermediate, marts, ml, audit)"
	@SHOP_WAREHOUSE_PATH=$(WAREHOUSE) $(BIN)/python -c 'from dagster_project.settings import Settings; s = Settings.from_env(); print(f"KPI report: {s.report_dir}/latest.html  (open it in a browser)\nServing copy for BI tools (DuckDB 1.1+ clients): {s.serving_path}")'
	@echo "Query it:  $(BIN)/python -c \"import duckdb; print(duckdb.connect('$(basename $(WAREHOUSE)).serving.duckdb', read_only=True).sql('select * from marts.channels limit 5'))\""
	@echo "Dagster UI: make ui   then open http://127.0.0.1:3000"

erase: dbt/target/manifest.json
	@test -n "$(CUSTOMER)" || { echo "usage: make erase CUSTOMER=<customer_id> [WAREHOUSE=...] [REQUEST=<request id>]"; exit 2; }
	$(BIN)/python -m dagster_project.privacy erase --customer "$(CUSTOMER)" --warehouse $(WAREHOUSE) $(if $(REQUEST),--request-id "$(REQUEST)")

audience-export: $(VENV)/.installed
	@test -n "$(CAMPAIGN)" -a -n "$(OUT)" || { echo "usage: make audience-export CAMPAIGN=<campaign type> OUT=<file.csv> [WAREHOUSE=...]"; exit 2; }
	$(BIN)/python -m dagster_project.privacy audience-export --campaign-type "$(CAMPAIGN)" --out "$(OUT)" --warehouse $(WAREHOUSE)

report: $(VENV)/.installed
	$(BIN)/python -m dagster_project.report --warehouse $(WAREHOUSE)

ui: dbt/target/manifest.json
	SHOP_WAREHOUSE_PATH=$(WAREHOUSE) SHOP_DROP_DIR=$(DROP) $(BIN)/python -m dagster_project.ui -h 127.0.0.1 -p 3000

lint: $(VENV)/.installed
	$(BIN)/ruff check dagster_project ml tests bench expectations contract sample_data
	$(BIN)/python -m contract.generate --check

# The report's browser tests need headless Chromium (Debian package; CJK font for names).
chromium:
	@command -v chromium >/dev/null || command -v chromium-browser >/dev/null || \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-wqy-zenhei; \
	  else echo "Chromium is missing and cannot be installed here (not root): the report's browser tests will fail. Install the chromium package."; fi

test: dbt/target/manifest.json lint chromium
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup --durations=15

bench: dbt/target/manifest.json
	$(BIN)/python -m bench.run

SCALE ?= 10
bench-growth: dbt/target/manifest.json
	$(BIN)/python -m bench.growth --scale $(SCALE)

clean:
	rm -rf data dbt/target dbt/logs $(VENV) .pytest_cache .ruff_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
