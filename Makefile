# Everyday commands. `make help` lists them. The README's two commands are `make run` and
# `make test`; CI (.ci/run) runs `make test` after making sure PostgreSQL, Redis and Chromium
# are there.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# The embedded run: DEBUG on, SQLite in the project folder, Celery on the filesystem transport.
RUN_ENV := DEBUG=true
# The test run: real PostgreSQL and Redis. Override either to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/dsr
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
TEST_ENV := DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL)

.DEFAULT_GOAL := help
.PHONY: help setup run test lint fmt check-migrations security worker

help: ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "} {printf "  make %-18s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

setup: $(VENV)/.installed node_modules/.installed ## Install Python and front-end dependencies

run: setup ## Set up, load demo data and run the service on http://127.0.0.1:8000 with a Celery worker and beat
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py seed_demo
	@echo "Starting the web server on http://127.0.0.1:8000 and a Celery worker with beat (Ctrl+C stops both)"
	@trap 'kill 0' INT TERM EXIT; \
	$(RUN_ENV) $(VENV)/bin/celery -A dsr worker --beat --loglevel=INFO --concurrency=1 & \
	$(RUN_ENV) $(PY) manage.py runserver 127.0.0.1:8000

test: setup ## Set up and run the whole test suite on PostgreSQL and Redis
	$(TEST_ENV) $(VENV)/bin/pytest

lint: setup ## Check style with ruff
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: setup ## Format and fix what ruff can
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

check-migrations: setup ## Fail if a model change has no migration
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run

security: setup ## bandit over the code, and pip-audit when an advisory source answers (also run by make test)
	$(PY) .ci/security_checks.py
