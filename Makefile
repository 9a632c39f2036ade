# Two entry points: `make run` (the shop on http://127.0.0.1:8000) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/shop

.PHONY: run test lint venv deploy-check scale-check

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-* && touch $@

run: venv
	scripts/run-dev.sh

# The import rules (.importlinter, docs/architecture.md), the deployment checks and the
# translations (complete and compiled) first: they fail fast. Then every test, then the
# scale-out proof through PgBouncer and nginx.
test: venv
	$(BIN)/lint-imports
	scripts/deploy-check.sh --ci
	$(BIN)/python scripts/check_translations.py
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/pytest --create-db
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/python scripts/scale_check.py

# `manage.py check --deploy --fail-level WARNING` with a made-up production environment
# (on a server, run scripts/deploy-check.sh without --ci: it checks the real one).
deploy-check: venv
	scripts/deploy-check.sh --ci

# The concurrency, idempotency and payment tests through PgBouncer in transaction mode,
# and the race tests through nginx to two gunicorn nodes (scripts/scale_check.py).
scale-check: venv
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/python scripts/scale_check.py

lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports

.PHONY: bench bench-quick
# Checkout benchmark: raw SQL floor vs place_order() vs the HTTP API (see bench/README.md).
bench: venv
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/python -m bench.run

bench-quick: venv
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/python -m bench.run --quick

.PHONY: bench-catalog
# Catalog search and filters at 100,000 products: p50/p95 of the page and the API
# (a kept database, shop_search_bench; see bench/README.md "Catalog").
bench-catalog: venv
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/python -m bench.catalog

.PHONY: faults
# Fault matrix: the stack under load, one fault at a time (about 5 minutes; bench/faults.py).
faults: venv
	DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(BIN)/python -m bench.faults
