# Điểm Tựa: `make run` sets up everything and starts the app; `make test` runs the whole suite.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := wsgi.py
STAMP := $(VENV)/.installed
MO := $(patsubst %.po,%.mo,$(wildcard app/translations/*/LC_MESSAGES/messages.po))

.DEFAULT_GOAL := help
.PHONY: help setup run test lint fmt migrate upgrade seed bench i18n demo-code browser clean

help: ## list the targets
	@grep -hE '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info < (3, 14) else "Python 3.11, 3.12 or 3.13 is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $@

app/translations/%/LC_MESSAGES/messages.mo: app/translations/%/LC_MESSAGES/messages.po $(STAMP)
	@$(BIN)/pybabel compile --statistics -i $< -o $@

setup: $(STAMP) $(MO) ## create .venv, compile catalogs, create instance/ keys (never over existing ones)
	@$(BIN)/python -m app.setup_instance

upgrade: setup ## apply database migrations
	@set -o pipefail; $(BIN)/flask db upgrade 2>&1 | { grep -v -e 'Context impl' -e 'Will assume' || true; }

seed: upgrade ## load the official place list, then made-up demo data into an empty database
	@LOG_LEVEL=WARNING $(BIN)/flask places load --quiet
	@LOG_LEVEL=WARNING $(BIN)/flask seed-demo --if-empty

run: seed ## set up everything and serve on http://127.0.0.1:$(PORT)
	@echo
	@echo "Điểm Tựa is starting at http://127.0.0.1:$(PORT)"
	@LOG_LEVEL=WARNING $(BIN)/flask demo-logins
	@echo
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

demo-code: setup ## print the current one-time code of a demo account: make demo-code EMAIL=admin@example.org
	@$(BIN)/flask demo-code $(EMAIL)

browser: ## make sure a system Chromium is there (Debian's package, never a downloaded browser)
	@if command -v chromium >/dev/null || command -v chromium-browser >/dev/null || [ -n "$$CHROMIUM_PATH" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  echo "Installing Debian's chromium package for the browser tests..."; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "No Chromium found: install your system's chromium package, or set CHROMIUM_PATH."; fi

test: setup browser ## set up and run the whole suite (SQLite; TEST_DATABASE_URL=postgresql+psycopg://... for PostgreSQL)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP) ## ruff checks and formatting check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check app tests bench config.py wsgi.py

fmt: $(STAMP) ## format and autofix
	$(BIN)/ruff format app tests bench config.py wsgi.py
	$(BIN)/ruff check --fix .

migrate: setup ## create a migration from model changes: make migrate m="what changed" (then read it)
	$(BIN)/flask db migrate -m "$(m)"

i18n: $(STAMP) ## extract strings and update both catalogs (English filled from the source)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_ngettext:1,2 --project "Diem Tua" -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations --no-fuzzy-matching
	$(BIN)/python -m app.i18n fill-en

bench: setup ## run the benchmarks in bench/ and print their figures (bench/make_*.py and bench/_*.py are helpers)
	@for script in bench/*.py; do case $$script in bench/make_*|bench/_*) continue;; esac; \
	  echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean: ## remove the virtualenv and caches (keeps instance/: keys and database)
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
