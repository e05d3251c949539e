# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test install browser-deps lint format check-deploy drill bench bench-state bench-web bench-import clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	rm -f $(VENV)/.installed-*
	touch $(STAMP)

install: $(STAMP)

## The app on the embedded default: SQLite, no services, demo data, tasks in process, and
## DEBUG on (it is off unless set; with DEBUG on, the settings refuse a host that is not this
## machine while the published development keys are in use).
run: export DEBUG ?= True
run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  NCEdCloud Portal: http://$(HOST):$(PORT)/  (demo accounts and password: see README.md)"
	@echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# The browser tests need Debian's Chromium (never a Playwright download) and axe-core from
# npm. As root with apt-get they are installed here; elsewhere the browser tests are skipped
# and the run ends by saying how to get them.
APT_INSTALL = DEBIAN_FRONTEND=noninteractive apt-get install -y -qq
CAN_APT = [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1
browser-deps:
	@if [ ! -x /usr/bin/chromium ] && $(CAN_APT); then \
	  echo "Installing Debian's chromium for the browser tests ..."; \
	  apt-get update -qq && $(APT_INSTALL) chromium >/dev/null; fi
	@if ! command -v npm >/dev/null 2>&1 && $(CAN_APT); then \
	  echo "Installing npm for axe-core ..."; apt-get update -qq && $(APT_INSTALL) --no-install-recommends npm >/dev/null; fi
	@if [ ! -f node_modules/axe-core/axe.min.js ] && command -v npm >/dev/null 2>&1; then \
	  npm ci --no-audit --no-fund --loglevel=error; fi

BROWSER_HINT = The browser tests were skipped: they need /usr/bin/chromium (apt-get install -y \
chromium) and axe-core (npm ci); run make test as root on Debian to have both installed.

## Install the test dependencies and run the test suite (the browser tests included).
test: $(STAMP) browser-deps
	@$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ ! -x /usr/bin/chromium ] || [ ! -f node_modules/axe-core/axe.min.js ]; then \
	  echo ""; echo "$(BROWSER_HINT)"; fi; exit $$status

## Fault drills against throw-away PostgreSQL, Redis and Celery processes (see README).
DRILL_STUDENTS ?= 20000
drill: $(STAMP)
	$(BIN)/python -m drills --students $(DRILL_STUDENTS) --logs var/drill-logs --json var/drill-results.json

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## The district-scale benchmark: needs DATABASE_URL (PostgreSQL), and CELERY_BROKER_URL (Redis)
## for the hashing part. See README.md, "Benchmark".
STUDENTS ?= 160000
bench: export DEBUG ?= True
bench: $(STAMP)
	$(BIN)/python manage.py bench_regeneration --students $(STUDENTS) --json var/bench.json

## A state day: every PSU of a 1,500,000-student state confirms within a minute, on 1 and 2
## real worker processes; and the web tier (locust against gunicorn) idle and during one.
## Both need DATABASE_URL (PostgreSQL) and CELERY_BROKER_URL (Redis). See README.md.
STATE_STUDENTS ?= 1500000
STATE_PSUS ?= 315
bench-state: export DEBUG ?= True
bench-state: $(STAMP)
	$(BIN)/python -m bench state --students $(STATE_STUDENTS) --psus $(STATE_PSUS) --json var/bench-state.json

bench-web: export DEBUG ?= True
bench-web: $(STAMP)
	$(BIN)/python -m bench web --students $(STATE_STUDENTS) --psus $(STATE_PSUS) --json var/bench-web.json

## A statewide OneRoster bundle (1,500,000 students, 115 districts, 2,500 schools, classes and
## enrollments) imported on PostgreSQL (DATABASE_URL): minutes, rows/s, peak memory at a tenth
## and at all of it, and a re-import that changes nothing. See README.md, "Rosters from the SIS".
IMPORT_STUDENTS ?= 1500000
bench-import: export DEBUG ?= True
bench-import: $(STAMP)
	$(BIN)/python -m bench import --students $(IMPORT_STUDENTS) --json var/bench-import.json

clean:
	rm -rf $(VENV) var staticfiles .pytest_cache node_modules test-artifacts
