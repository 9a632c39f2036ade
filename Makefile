# Two entry points: `make run` (the shop on http://127.0.0.1:8000) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/shop

.PHONY: run test lint venv

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

run: venv
	scripts/run-dev.sh

# The import rules (.importlinter, docs/architecture.md) first: a broken layer fails fast.
test: venv
	$(BIN)/lint-imports
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/pytest --create-db

lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports

.PHONY: bench bench-quick
# Checkout benchmark: raw SQL floor vs place_order() vs the HTTP API (see bench/README.md).
bench: venv
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/python -m bench.run

bench-quick: venv
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/python -m bench.run --quick

.PHONY: faults
# Fault matrix: the stack under load, one fault at a time (about 5 minutes; bench/faults.py).
faults: venv
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/python -m bench.faults
