# servicehall — two commands: `make run` and `make test`. Both start with `make install` (idempotent).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
VENDOR := src/servicehall/web/static/vendor
POSTGRES_URL ?= postgres://postgres@127.0.0.1:5432/servicehall
export SERVICEHALL_DEPLOYMENT ?= local
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install run test test-sqlite test-postgresql lint serve demo clean messages assets

install: $(VENV)/.installed assets messages

$(VENV)/.installed: pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

assets: $(VENDOR)/htmx.min.js $(VENDOR)/echarts.min.js

# One `npm ci` per change of package.json/package-lock.json; the stamp lives in node_modules, so deleting
# node_modules reinstalls, and every vendored file below is copied from the same install.
NPM_STAMP := node_modules/.servicehall-installed

$(NPM_STAMP): package.json package-lock.json
	@if ! command -v npm >/dev/null 2>&1; then \
		echo "npm not found: installing Node.js from Debian's packages" && \
		(apt-get install -y -qq nodejs npm >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq nodejs npm)); \
	fi
	npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
	@touch $@

$(VENDOR)/htmx.min.js: $(NPM_STAMP)
	@mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $@

$(VENDOR)/echarts.min.js: $(NPM_STAMP)
	@mkdir -p $(VENDOR)
	cp node_modules/echarts/dist/echarts.min.js $@

messages: $(VENV)/.installed
	@$(BIN)/python -m servicehall.operations.messages compile

run: install
	$(BIN)/servicehall demo
	@echo "servicehall 正在 http://127.0.0.1:8000 提供服务（Ctrl+C 停止） / serving at http://127.0.0.1:8000"
	@echo "定时巡查每 60 秒运行一次（排队、考勤、红黄牌、投诉与整改超期） / the periodic sweeps run every 60 s in the background"
	@$(BIN)/servicehall sweep --every 60 >var/sweep.log 2>&1 & sweeper=$$!; \
		trap 'kill $$sweeper 2>/dev/null' EXIT INT TERM; \
		$(BIN)/uvicorn servicehall.config.asgi:application --host 127.0.0.1 --port 8000 --no-access-log

lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/python manage.py makemigrations --check --dry-run

test: lint test-sqlite test-postgresql

test-sqlite: install
	@echo "== tests on SQLite (embedded default) =="
	@env -u DATABASE_URL $(BIN)/pytest || { status=$$?; [ $$status -eq 5 ] && echo "pytest collected no tests: failing (exit 5)"; exit $$status; }

test-postgresql: install
	@if $(BIN)/python -m servicehall.operations.probe_postgresql "$(or $(DATABASE_URL),$(POSTGRES_URL))"; then \
		echo "== tests on PostgreSQL =="; \
		DATABASE_URL="$(or $(DATABASE_URL),$(POSTGRES_URL))" $(BIN)/pytest || { status=$$?; \
			[ $$status -eq 5 ] && echo "pytest collected no tests: failing (exit 5)"; exit $$status; }; \
	elif [ "$${SERVICEHALL_REQUIRE_POSTGRESQL:-0}" = "1" ]; then \
		echo "PostgreSQL is required here (SERVICEHALL_REQUIRE_POSTGRESQL=1) but not reachable."; exit 1; \
	else \
		echo "PostgreSQL not reachable at $(or $(DATABASE_URL),$(POSTGRES_URL)): skipping the PostgreSQL run (SQLite only)."; \
	fi

clean:
	rm -rf $(VENV) node_modules $(VENDOR) var/static
