# jobrunner developer commands. `make dev` runs the whole platform locally, `make test` the
# test suite; both install what is missing first. No Docker needed.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.jobrunner-installed
PACKAGES := shared services/worker services/cli services/api services/master
# Every dependency and test tool, pinned with hashes (requirements/dev.in; `make lock`).
LOCK := requirements/dev.lock
LOCK_ARGS ?=
PYTEST_ARGS ?=
NODE_STAMP := frontend/node_modules/.jobrunner-installed
DASHBOARD := frontend/dist/index.html
DASHBOARD_SRC := $(shell find frontend/src -type f 2>/dev/null) frontend/index.html frontend/vite.config.ts \
	frontend/tsconfig.app.json frontend/package.json VERSION
PLAYWRIGHT_ARGS ?=

.PHONY: install lock infra-up infra-down dev test test-python test-frontend test-cluster frontend client bench bench-fleet

install: $(STAMP)

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstalls only when the lock, VERSION, a pyproject.toml (or this file) changed since the last
# install: the locked dependencies (the versions the images install), then the packages of this
# checkout, editable, without dependencies. The CLI again at the end, alone: pip may reinstall
# the worker after it, and uninstalling a worker package of before services/cli removes the
# `jobrunner` script that package used to own.
$(STAMP): $(LOCK) VERSION $(addsuffix /pyproject.toml,$(PACKAGES)) Makefile | $(PY)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q --require-hashes -r $(LOCK)
	$(PY) -m pip install -q --no-deps $(addprefix -e ,$(PACKAGES))
	$(PY) -m pip install -q --no-deps --force-reinstall -e services/cli
	touch $@

# After changing a dependency in a pyproject.toml or requirements/*.in: regenerate
# requirements/*.lock and commit them (tests/test_lock.py fails while they are stale).
# LOCK_ARGS=--upgrade takes the newest version of everything.
lock: install
	@scripts/lock.sh $(LOCK_ARGS)

infra-up:
	@scripts/install-deps.sh
	@scripts/rabbitmq.sh start
	@scripts/mongodb.sh start

infra-down:
	@scripts/rabbitmq.sh stop
	@scripts/mongodb.sh stop

dev: install frontend
	$(PY) scripts/dev.py

# The dashboard: npm ci only when package-lock.json changed, a build only when a source did.
frontend: $(DASHBOARD)

$(NODE_STAMP): frontend/package-lock.json
	cd frontend && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(DASHBOARD): $(NODE_STAMP) $(DASHBOARD_SRC)
	cd frontend && npm run --silent build -- --logLevel warn

# After changing the API: regenerate frontend/openapi.json and frontend/src/client, then commit
# them (`make test` fails while they are stale).
client: install $(NODE_STAMP)
	cd frontend && npm run --silent generate-client

# Starts the local services the tests need unless they already run (or RABBITMQ_URL /
# MONGODB_URL point elsewhere) and stops again only what it started.
test: test-python test-frontend

# Two pytest runs (scripts/pytest.sh): most tests on PYTEST_WORKERS (2) workers, then those that
# stop the shared RabbitMQ node alone.
test-python: install
	@PY=$(PY) scripts/with-infra.sh scripts/pytest.sh $(PYTEST_ARGS)

# Vitest, the generated API client against the API's schema, then the Playwright specs in
# Debian's chromium against the real platform (frontend/tests/global-setup.ts starts it).
test-frontend: install frontend
	@scripts/install-deps.sh chromium
	cd frontend && npx vitest run
	cd frontend && node scripts/check-client.mjs
	@scripts/with-infra.sh bash -c 'cd frontend && npx playwright test $(PLAYWRIGHT_ARGS)'

# The RabbitMQ cluster tests (marker `cluster`, left out of `make test`): a three-node cluster
# of scripts/rabbitmq-cluster.sh (started unless it runs, stopped again only if started here),
# MongoDB as for `make test`; a node is lost mid-run.
test-cluster: install
	@scripts/rabbitmq-cluster.sh run scripts/with-infra.sh \
		$(PY) -m pytest -m cluster tests/faults/test_rabbitmq_cluster.py $(PYTEST_ARGS)

BENCH_STAMP := $(VENV)/.jobrunner-bench-installed
$(BENCH_STAMP): benchmarks/requirements.txt | $(STAMP)
	$(PY) -m pip install -q -r benchmarks/requirements.txt
	touch $@

# Throughput, latency and idle CPU side by side with Celery (benchmarks/run.py); BENCH_ARGS
# passes options, e.g. make bench BENCH_ARGS="--jobs 500 --profile". Then bench-fleet.
BENCH_ARGS ?=
bench: install $(BENCH_STAMP)
	@scripts/with-infra.sh $(PY) benchmarks/run.py $(BENCH_ARGS)
	@$(MAKE) --no-print-directory bench-fleet

# One master holding FLEET_SESSIONS simulated workers (benchmarks/fleet.py, about two minutes at
# the default 1,000): time to all online, heartbeats, the master's RSS and event-loop lag, jobs
# across the fleet. FLEET_ARGS passes options, e.g. make bench-fleet FLEET_SESSIONS=2000
# FLEET_ARGS=--profile.
FLEET_SESSIONS ?= 1000
FLEET_ARGS ?=
bench-fleet: install $(BENCH_STAMP)
	@scripts/with-infra.sh $(PY) benchmarks/fleet.py --sessions $(FLEET_SESSIONS) $(FLEET_ARGS)
