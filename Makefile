# The two commands from the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
DEV_ENV := CAREPOOL_ENV=development
# The tests run in a random order (pytest-randomly). One seed per `make test`, printed so that a
# failing order can be replayed with `make test SEED=N` (a SEED given on the command line wins).
SEED := $(shell $(PYTHON) -c 'import random; print(random.randrange(10**9))')

.PHONY: install demo serve test test-sqlite test-postgres mutation clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

## make demo: install, migrate the SQLite database, start the local Stripe server (unless STRIPE_SECRET_KEY
## is set), load the demo data and serve on 127.0.0.1:$(PORT); see scripts/demo.sh
demo: install
	PORT=$(PORT) ./scripts/demo.sh

serve: install
	$(DEV_ENV) $(BIN)/gunicorn --bind 127.0.0.1:$(PORT) --workers 2 --access-logfile - wsgi:app

## make test: install and run the whole suite on SQLite, then on PostgreSQL when TEST_DATABASE_URL is set
test: install
	@echo "Checking the import layers (pyproject.toml [tool.importlinter]):"
	$(BIN)/lint-imports --no-cache --no-logo
	@echo "Tests run in random order with seed $(SEED); replay this order with: make test SEED=$(SEED)"
	$(MAKE) test-sqlite SEED=$(SEED)
	@if [ -n "$$TEST_DATABASE_URL" ]; then $(MAKE) test-postgres SEED=$(SEED); else echo "TEST_DATABASE_URL is not set: skipped the PostgreSQL run"; fi

# Both run on two processes, which take tests from each other when one runs out (--dist worksteal: the slow browser
# crawls otherwise leave one process busy at the end); each SQLite worker has its own database file, and each PostgreSQL worker
# its own database beside TEST_DATABASE_URL's (`test_gw0`, `test_gw1`), created by tests/conftest.py.
test-sqlite: install
	env -u TEST_DATABASE_URL $(BIN)/pytest -q -n 2 --dist worksteal -p randomly --randomly-seed=$(SEED)

# The PostgreSQL run leaves out what gives the same result on any database: the browser tests (their
# live demo server runs on SQLite) and every test with no database fixture (tests/conftest.py).
test-postgres: install
	CAREPOOL_DATABASE_TESTS_ONLY=1 $(BIN)/pytest -q -n 2 --dist worksteal -p randomly --randomly-seed=$(SEED) -m "not browser"

## make mutation: mutation-test the pure rules with mutmut (slow, not part of `make test`);
## MODULES="ledger/rules.py ledger/merkle.py" runs a subset. The last line printed is JSON.
mutation: install
	$(BIN)/python scripts/mutation.py $(MODULES)

clean:
	rm -rf $(VENV) instance .pytest_cache .hypothesis mutants
