# haocha — `make run` starts the platform with demo data; `make test` runs the whole suite.
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8000
PG_URL ?= postgres://postgres@127.0.0.1:5432/test

.PHONY: run test test-sqlite test-postgres bench mutation lint format sysdeps clean

$(STAMP): pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $(STAMP)

# System packages the tests need: Debian's Chromium and CJK fonts (browser tests), wrk (benchmarks).
sysdeps:
	@missing=""; command -v chromium >/dev/null 2>&1 || missing="$$missing chromium"; \
	command -v wrk >/dev/null 2>&1 || missing="$$missing wrk"; \
	fc-list :lang=zh 2>/dev/null | grep -q . || missing="$$missing fonts-noto-cjk"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

run: $(STAMP)
	$(BIN)/haocha migrate --noinput -v 0
	$(BIN)/haocha demo --if-empty
	PORT=$(PORT) $(BIN)/haocha serve --no-migrate --with-worker

test: $(STAMP) sysdeps lint test-sqlite test-postgres

test-sqlite: $(STAMP)
	$(BIN)/pytest

# The same suite on PostgreSQL; skipped with a warning when no server answers, unless HAOCHA_REQUIRE_POSTGRES=1.
test-postgres: $(STAMP)
	@if $(PY) -c "import psycopg,sys; psycopg.connect('$(PG_URL)', connect_timeout=3).close()" 2>/dev/null; then \
	  DATABASE_URL=$(PG_URL) $(BIN)/pytest; \
	elif [ "$$HAOCHA_REQUIRE_POSTGRES" = 1 ]; then \
	  echo "PostgreSQL at $(PG_URL) is not reachable" >&2; exit 1; \
	else \
	  echo "WARNING: PostgreSQL at $(PG_URL) is not reachable; the PostgreSQL run was skipped" >&2; \
	fi

bench: $(STAMP) sysdeps
	$(BIN)/haocha bench all --json

# Mutation testing of the rules (mutmut; modules and tests in pyproject.toml [tool.mutmut]); prints the
# share of mutants killed per module and every mutant no test killed.
mutation: $(STAMP)
	rm -rf mutants var/test-mutation.sqlite3
	HAOCHA_TEST_DATABASE=$(CURDIR)/var/test-mutation.sqlite3 $(BIN)/mutmut run --max-children 1 >/dev/null 2>&1 || \
	  HAOCHA_TEST_DATABASE=$(CURDIR)/var/test-mutation.sqlite3 $(BIN)/mutmut run --max-children 1
	$(PY) tools/mutation_report.py --verify

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var/ test-artifacts/ mutants/
