# Two commands for a newcomer: `make run` (service + demo data on SQLite) and `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
# Reinstall whenever the declared dependencies change.
STAMP := $(VENV)/.installed-$(shell cksum pyproject.toml | cut -d' ' -f1)

.PHONY: run test lint sdl install clean-db

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

## Set up, migrate the embedded SQLite database, load demo data and serve on :8000.
run: $(STAMP)
	MCKS_ENV=development $(BIN)/mcks migrate
	MCKS_ENV=development $(BIN)/mcks demo
	MCKS_ENV=development $(BIN)/mcks serve

## Set up and run the whole suite (SQLite; PostgreSQL when DATABASE_URL points at one).
test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

sdl: $(STAMP)
	$(BIN)/mcks export-schema

clean-db:
	rm -rf var/
