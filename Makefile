# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install lint format check-deploy drill bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## The app on the embedded default: SQLite, no services, demo data, tasks in process.
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  NCEdCloud Portal: http://$(HOST):$(PORT)/  (demo accounts and password: see README.md)"
	@echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# axe-core for the browser tests' accessibility checks (test-only; see package.json).
node_modules/.package-lock.json: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --loglevel=error; \
	else echo "npm not found: the browser tests will be skipped (see README, Browser tests)"; fi

## Install the test dependencies and run the test suite.
test: $(STAMP) node_modules/.package-lock.json
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Fault drills against throw-away PostgreSQL, Redis and Celery processes (see README).
DRILL_STUDENTS ?= 20000
drill: $(STAMP)
	$(BIN)/python -m drills --students $(DRILL_STUDENTS) --logs var/drill-logs --json var/drill-results.json

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## The district-scale benchmark: needs DATABASE_URL (PostgreSQL), and CELERY_BROKER_URL (Redis)
## for the hashing part. See README.md, "Benchmark".
STUDENTS ?= 160000
bench: $(STAMP)
	$(BIN)/python manage.py bench_regeneration --students $(STUDENTS) --json var/bench.json

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache node_modules test-artifacts
