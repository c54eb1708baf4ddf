# Two commands on a fresh clone: `make run` serves the API, `make test` runs the suite.
# Both create .venv and install the pinned requirements on first use.
# `make run HOST=0.0.0.0 PORT=8001` serves on another address or port.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
MANAGE := $(BIN)/python manage.py
STAMP  := $(VENV)/.installed
HOST   ?= 127.0.0.1
PORT   ?= 8000

.DEFAULT_GOAL := help
.PHONY: help install run migrate seed test fuzz lint format lock worker beat bench check-deploy clean
.PHONY: typecheck coverage

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-13s %s\n", $$1, $$2}'
	@echo "Variables: HOST (default 127.0.0.1) and PORT (default 8000) for run, e.g. make run PORT=8001;"
	@echo "           PYTHON (default python3) creates .venv"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): requirements/dev.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements/dev.txt
	@touch $@

install: $(STAMP) ## Create .venv and install the pinned dev requirements

# One line per database, saying whether it applied migrations or had none to apply (from migrate's
# own output); on an error the whole output prints, with its traceback, and make stops.
migrate: install ## Migrate all three databases (default, analytics, logs)
	@for db in default analytics logs; do \
		out=$$($(MANAGE) migrate --noinput --database=$$db 2>&1) || { echo "$$out"; exit 1; }; \
		applied=$$(echo "$$out" | grep -c '^  Applying ' || true); \
		if [ "$$applied" -gt 0 ]; then \
			echo "migrate: database '$$db': $$applied migration(s) applied"; \
		else \
			echo "migrate: database '$$db' was up to date"; \
		fi; \
	done

seed: migrate ## Create or update the system roles and permissions
	$(MANAGE) seed_permissions

run: seed ## Install, migrate, seed, create a dev admin, serve on HOST:PORT (make run PORT=8001)
	$(MANAGE) ensure_dev_admin
	$(MANAGE) runserver $(HOST):$(PORT)

# One process per core (pytest-xdist); `make test ARGS="-n 0"` runs serially, and ARGS takes any
# other pytest options too: make test ARGS="tests/accounts -x".
test: install ## Run the whole test suite in parallel (make test ARGS="-n 0" runs it serially)
	$(BIN)/pytest -n auto $(ARGS)

# The same suite with branch coverage of apps/ and config/, combined across the processes; fails
# under the floor, `fail_under` in pyproject.toml's [tool.coverage.report]. CI runs it on PostgreSQL.
coverage: install ## Run the suite with branch coverage; fails under the floor (pyproject.toml)
	$(BIN)/pytest -n auto --cov=apps --cov=config --cov-branch --cov-report=term $(ARGS)

# The nightly size: 1000 cases an operation and 200 stateful scenarios, a new seed each run (printed
# with any failure; SCHEMATHESIS_SEED=<seed> replays it). Takes tens of minutes.
fuzz: install ## Fuzz the OpenAPI contract at the nightly size (SCHEMATHESIS_SEED=<seed> replays a run)
	SCHEMATHESIS_MAX_EXAMPLES=$${SCHEMATHESIS_MAX_EXAMPLES:-1000} $(BIN)/pytest tests/core/test_contract.py -p no:cacheprovider

lint: install ## Ruff lint and format check, import contracts and types (pyproject.toml), no missing migrations
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	DJANGO_SETTINGS_MODULE=config.settings.test $(MANAGE) makemigrations --check --dry-run

# Strict on services and selectors, gradual elsewhere: see [tool.mypy] in pyproject.toml.
typecheck: install ## Type-check apps/ and config/ with mypy (the Django and DRF plugins)
	$(BIN)/mypy

format: install ## Apply ruff's fixes and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

lock: install ## Re-pin requirements/*.txt from pyproject.toml
	$(BIN)/uv pip compile --quiet --python-version 3.11 pyproject.toml -o requirements/base.txt
	$(BIN)/uv pip compile --quiet --python-version 3.11 pyproject.toml --extra prod -o requirements/prod.txt
	$(BIN)/uv pip compile --quiet --python-version 3.11 pyproject.toml --extra dev -o requirements/dev.txt

# Both refuse to start without CELERY_BROKER_URL (environment or .env): see config/celery.py.
worker: install ## Run a Celery worker (needs CELERY_BROKER_URL)
	$(BIN)/celery -A config worker --loglevel=INFO

beat: install ## Run Celery beat (needs CELERY_BROKER_URL)
	$(BIN)/celery -A config beat --loglevel=INFO --schedule var/celerybeat-schedule

bench: install ## Run a benchmark: make bench [SCENARIO=requests] [ARGS="--rounds 3"] (benchmarks/README.md)
	$(BIN)/python -m benchmarks $(or $(SCENARIO),login) $(ARGS)

# Seconds of load per scenario on tiny data, against the same throwaway stack (PostgreSQL and Redis
# from BENCH_POSTGRES_URL and BENCH_REDIS_URL): proves the benchmarks still run, measures nothing.
.PHONY: bench-smoke
bench-smoke: install ## Run every benchmark scenario once at a tiny size (a check for CI)
	$(BIN)/python -m benchmarks --smoke $(ARGS)

check-deploy: install ## Django's deployment checks against the production settings (needs the prod env)
	DJANGO_SETTINGS_MODULE=config.settings.prod $(MANAGE) check --deploy --fail-level WARNING

clean: ## Remove the virtualenv, the SQLite files and caches
	rm -rf $(VENV) var .pytest_cache .ruff_cache
	rm -rf .mypy_cache .import_linter_cache .coverage .coverage.* htmlcov
