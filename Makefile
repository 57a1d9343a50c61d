# The two commands: `make run` (set up and start everything) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
PROFILE ?= $(or $(TASDEED_PROFILE),eg)

.PHONY: run test setup services lint typecheck unit integration bench clean

$(STAMP): pyproject.toml scripts/setup-core.sh
	scripts/setup-core.sh
	@touch $(STAMP)

setup: $(STAMP)

services:
	scripts/ensure-services.sh

run: setup
	TASDEED_PROFILE=$(PROFILE) $(PY) -m billing prepare
	TASDEED_PROFILE=$(PROFILE) $(VENV)/bin/honcho -f Procfile start

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

test: setup services lint typecheck
	$(PY) -m pytest -q -p no:cacheprovider

bench: setup services
	$(PY) bench/bench_contract.py
	$(PY) bench/bench_ussd.py
	$(PY) bench/bench_ivr.py

clean:
	rm -rf $(VENV) var/*.db
