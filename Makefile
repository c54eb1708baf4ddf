# Two commands on a fresh clone: `make run` serves the API, `make test` runs the suite.
# Both create .venv and install the pinned requirements on first use.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install run migrate seed test lint format lock worker beat bench check-deploy clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-13s %s\n", $$1, $$2}'

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements/dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@touch $@

install: $(STAMP) ## Create .venv and install the pinned dev requirements

migrate: install ## Migrate all three databases (default, analytics, logs)
	$(MANAGE) migrate --noinput
	$(MANAGE) migrate --noinput --database=analytics
	$(MANAGE) migrate --noinput --database=logs

seed: migrate ## Create or update the system roles and permissions
	$(MANAGE) seed_permissions

run: seed ## Install, migrate, seed, create a dev admin and serve on http://127.0.0.1:8000
	$(MANAGE) ensure_dev_admin
	$(MANAGE) runserver $(HOST):$(PORT)

test: install ## Run the whole test suite (set DATABASE_URL & co. to run it on PostgreSQL/Redis)
	$(BIN)/pytest

lint: install ## Ruff lint and format check, and no missing migrations
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DJANGO_SETTINGS_MODULE=config.settings.test $(MANAGE) makemigrations --check --dry-run

format: install ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock: install ## Re-pin requirements/*.txt from pyproject.toml
	$(BIN)/uv pip compile --quiet --python-version 3.11 pyproject.toml -o requirements/base.txt
	$(BIN)/uv pip compile --quiet --python-version 3.11 pyproject.toml --extra prod -o requirements/prod.txt
	$(BIN)/uv pip compile --quiet --python-version 3.11 pyproject.toml --extra dev -o requirements/dev.txt

worker: install ## Run a Celery worker (needs CELERY_BROKER_URL)
	$(BIN)/celery -A config worker --loglevel=INFO

beat: install ## Run Celery beat (needs CELERY_BROKER_URL)
	$(BIN)/celery -A config beat --loglevel=INFO --schedule var/celerybeat-schedule

bench: install ## Run the benchmarks (see benchmarks/README.md)
	$(BIN)/python benchmarks/run.py

check-deploy: install ## Django's deployment checks against the production settings (needs the prod env)
	DJANGO_SETTINGS_MODULE=config.settings.prod $(MANAGE) check --deploy --fail-level WARNING

clean: ## Remove the virtualenv, the SQLite files and caches
	rm -rf $(VENV) var .pytest_cache .ruff_cache
