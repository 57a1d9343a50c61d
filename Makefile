# The two commands: `make run` (set up and start everything) and `make test`.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
RASA_VENV := .venv-rasa
RASA := $(RASA_VENV)/bin/rasa
RASA_STAMP := $(RASA_VENV)/.installed-stamp
PROFILE ?= $(or $(TASDEED_PROFILE),eg)
RASA_ARGS := --domain bot/domain.yml --config bot/config.yml
export RASA_TELEMETRY_ENABLED := false
export ACTION_SERVER_URL ?= http://127.0.0.1:5055/webhook

.PHONY: run test setup rasa-env nlu model nlu-report services lint typecheck bench clean wheelhouse

$(STAMP): pyproject.toml scripts/setup-core.sh
	scripts/setup-core.sh
	@touch $(STAMP)

$(RASA_STAMP): scripts/setup-rasa.sh
	scripts/setup-rasa.sh
	@touch $(RASA_STAMP)

setup: $(STAMP)

rasa-env: $(RASA_STAMP)

services:
	scripts/ensure-services.sh
	scripts/ensure-haproxy.sh

# Debian's chromium (and fonts with Arabic glyphs) for the simulator page tests.
.PHONY: browser
browser:
	scripts/ensure-browser.sh

# Training data, normalised by the core's normaliser exactly as live messages are.
nlu: setup
	$(PY) scripts/build_nlu.py

# Train the model; Rasa itself skips training when data, domain and config are unchanged.
model: rasa-env nlu
	$(RASA) data validate $(RASA_ARGS) --data bot/data var/nlu/train --fail-on-warnings
	$(RASA) train $(RASA_ARGS) --data bot/data var/nlu/train --out var/models --fixed-model-name tasdeed

# The held-out set and the test stories, in CI too: Rasa's intent and entity reports
# (var/reports/rasa-nlu), story tests that fail on any wrong prediction, per-dialect figures.
nlu-report: model
	$(RASA) test core --model var/models/tasdeed.tar.gz --stories bot/tests/test_stories.yml --out var/reports/rasa-core --fail-on-prediction-errors
	$(RASA) test nlu --model var/models/tasdeed.tar.gz --nlu var/nlu/test --out var/reports/rasa-nlu
	$(PY) scripts/nlu_report.py

# Rasa's HTTP API token (the IVR's NLU); a local one unless the environment or .env sets it.
run: export RASA_TOKEN ?= local-dev-token
run: setup model
	TASDEED_PROFILE=$(PROFILE) $(PY) -m billing prepare
	TASDEED_PROFILE=$(PROFILE) $(VENV)/bin/honcho -f Procfile start

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: setup
	$(VENV)/bin/mypy

test: setup services browser lint typecheck model
	$(PY) -m pytest -q -p no:cacheprovider
	$(MAKE) --no-print-directory nlu-report

# Wheels for docker/Dockerfile and docker/Dockerfile.rasa, downloaded here (pip download) so
# that `docker build` never reaches a registry; WHEELHOUSE_RASA=0 skips Rasa's (the official
# rasa/rasa image needs none).
wheelhouse: setup rasa-env
	scripts/fill-wheelhouse.sh

# docker/compose.yaml built and run on this machine (host networking, every container on
# 127.0.0.1): one USSD and one chat payment through HAProxy, then `down -v`
# (scripts/docker-test.sh; root, Docker; base images from Debian's packages). Not in `make test`.
.PHONY: docker-test
docker-test: setup wheelhouse
	scripts/docker-test.sh

bench: setup services model
	$(PY) bench/bench_contract.py
	$(PY) bench/bench_ussd.py
	$(PY) bench/bench_ivr.py
	$(PY) bench/bench_notices.py

clean:
	rm -rf $(VENV) $(RASA_VENV) var/*.db var/models var/nlu
