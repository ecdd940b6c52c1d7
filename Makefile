# pullwatch: `make demo` runs the main job on bundled data; `make test` runs everything.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30
# The real Azure CLI, to check offline that every az command line in the deploy guide and the azd
# hook parses (tests/infra/azcli.py) and that every remediation step's command is in its command
# table (tests/azcli/cli_table.py); its own environment: it pins many azure-* packages.
AZCLI_VENV := .venv-azcli
AZURE_CLI_VERSION := 2.91.0

.PHONY: demo test lint typecheck unit install tools checkov-env azcli-env bench bench-export bench-faults clean

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $@

tools/node_modules/.installed: tools/package.json tools/package-lock.json
	cd tools && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(CHECKOV_VENV)/.installed:
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet "checkov==$(CHECKOV_VERSION)"
	touch $@

$(AZCLI_VENV)/.installed:
	$(PYTHON) -m venv $(AZCLI_VENV)
	$(AZCLI_VENV)/bin/python -m pip install --quiet "azure-cli==$(AZURE_CLI_VERSION)"
	touch $@

install: $(BIN)/.installed
tools: tools/node_modules/.installed
checkov-env: $(CHECKOV_VENV)/.installed
azcli-env: $(AZCLI_VENV)/.installed

demo: $(BIN)/.installed
	$(BIN)/python -m pullwatch demo

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(BIN)/.installed
	$(BIN)/mypy

unit: $(BIN)/.installed tools/node_modules/.installed $(CHECKOV_VENV)/.installed $(AZCLI_VENV)/.installed
	$(BIN)/python -m pytest

test: lint typecheck unit

bench: $(BIN)/.installed
	$(BIN)/python benchmarks/classify_bench.py
	$(BIN)/python benchmarks/verify_latency.py
	$(BIN)/python benchmarks/workspaces_bench.py

bench-export: $(BIN)/.installed
	$(BIN)/python benchmarks/export_bench.py

# Delivery under faults (concurrent runs, crashes, slow channels, a 1,000-revision storm) with
# Azurite and local webhook servers: the README's "Delivery guarantees" figures.
bench-faults: $(BIN)/.installed tools/node_modules/.installed
	$(BIN)/python benchmarks/faults_bench.py

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) $(AZCLI_VENV) tools/node_modules .pytest_cache .mypy_cache .ruff_cache .pullwatch
