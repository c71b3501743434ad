# Causerie: the two commands of the README (`make run`, `make test`) and a few more.
# Everything lands in .venv; nothing is installed system-wide except Debian's
# chromium for the browser tests (and only when we are root).

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app app
PYTEST_ARGS ?=
HOST ?= 127.0.0.1
PORT ?= 5000
DB ?= sqlite

# Stamps: reinstall only when pyproject.toml changes.
INSTALLED := $(VENV)/.installed
DEV_INSTALLED := $(VENV)/.dev-installed

.DEFAULT_GOAL := help
.PHONY: help venv dev run worker test bench bench-outbox bench-import spam-bench serve chromium migrate clean

help:
	@echo "make run     install, migrate, load the demo and serve on http://$(HOST):$(PORT), with the worker"
	@echo "             beside it (no MAIL_SERVER: it prints every e-mail, links included, here)"
	@echo "make worker  only the worker: delivers e-mail and webhooks (flask --app app worker)"
	@echo "make test    install dev dependencies and run the whole suite (PYTEST_ARGS=... to pass options)"
	@echo "make bench   seed threads of 10..10,000 comments (and a lopsided one, and one under discussion) and"
	@echo "             load-test them under gunicorn, logged out and in (DB=postgres: the same on a throwaway"
	@echo "             database of the local PostgreSQL), then"
	@echo "             POST against the commit issue 16 was filed on, side by side (bench_post_baseline.py),"
	@echo "             the worker's throughput, memory and cost to posting (make bench-outbox alone)"
	@echo "make bench-import  import a generated 100,000-comment Disqus file and export it again:"
	@echo "             seconds and peak memory against the targets (DB=postgres: on the local PostgreSQL)"
	@echo "make spam-bench  replay the labelled comment sets (../shared/data/spam) through the spam filter"
	@echo "             in time order: AUC, precision/recall per window, scoring time, model size, refit time"
	@echo "make serve   production server: gunicorn with gunicorn.conf.py (CAUSERIE_BIND, WEB_CONCURRENCY);"
	@echo "             run 'flask --app app worker' beside it (same DATABASE_URL, SECRET_KEY, PUBLIC_URL,"
	@echo "             MAIL_*), e.g. as a systemd unit: see docs/worker.md"
	@echo "make clean   remove the virtualenv and caches (keeps instance/: your database and secret key)"

venv: $(INSTALLED)

# A virtualenv with an up-to-date pip. When this Python's own pip can install
# into another interpreter (--python, pip >= 22.3), the venv is made without
# ensurepip, whose bundled wheel takes longer to unpack than a fresh pip takes
# to download: that keeps `make run` on a new machine well within a minute.
$(BIN)/pip:
	@if $(PYTHON) -m pip --help 2>/dev/null | grep -q -- '--python <python>'; then \
		echo "$(PYTHON) -m venv --without-pip $(VENV) && $(PYTHON) -m pip --python $(BIN)/python install --upgrade pip"; \
		$(PYTHON) -m venv --without-pip $(VENV) && \
		$(PYTHON) -m pip --python $(BIN)/python install --quiet --upgrade pip; \
	else \
		echo "$(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --upgrade pip"; \
		$(PYTHON) -m venv $(VENV) && $(BIN)/python -m pip install --quiet --upgrade pip; \
	fi

$(INSTALLED): pyproject.toml | $(BIN)/pip
	$(BIN)/python -m pip install --quiet -e .
	@touch $@

dev: $(DEV_INSTALLED)

$(DEV_INSTALLED): $(INSTALLED) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

migrate: venv
	$(FLASK) db upgrade

# The demo command arrives with the widget; until then run skips it quietly.
# The worker runs in the background while the development server runs; the trap stops it when the
# server stops (Ctrl-C stops both).
run: migrate
	@if $(FLASK) demo --help >/dev/null 2>&1; then $(FLASK) demo --url http://$(HOST):$(PORT)/; else echo "(no demo command yet: skipping the demo data)"; fi
	@export PUBLIC_URL=$${PUBLIC_URL:-http://$(HOST):$(PORT)}; \
	$(FLASK) worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT; trap 'exit 130' INT TERM; \
	echo "worker started (pid $$worker); serving on http://$(HOST):$(PORT)"; \
	$(FLASK) run --host $(HOST) --port $(PORT)

worker: migrate
	PUBLIC_URL=$${PUBLIC_URL:-http://$(HOST):$(PORT)} $(FLASK) worker

# The browser tests drive Debian's chromium; a downloaded browser (playwright install) is never used.
chromium:
	@if [ -x /usr/bin/chromium ]; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser tests..."; \
		DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else \
		echo "NOTE: /usr/bin/chromium is missing, so the browser tests will be skipped."; \
		echo "      Install it with: sudo apt-get install chromium   (never 'playwright install')"; \
	fi

test: dev chromium
	$(BIN)/pytest $(PYTEST_ARGS)

bench: dev
	$(BIN)/python scripts/bench.py --db $(DB)
	$(BIN)/python scripts/bench_post_baseline.py --db $(DB)
	@if [ -f scripts/bench_render.py ]; then $(BIN)/python scripts/bench_render.py; fi
	$(BIN)/python scripts/bench_outbox.py

bench-outbox: dev
	$(BIN)/python scripts/bench_outbox.py

bench-import: dev
	$(BIN)/python scripts/bench_import.py $(if $(filter postgres,$(DB)),--database-url postgresql+psycopg://postgres@127.0.0.1:5432/test)

spam-bench: venv
	$(BIN)/python scripts/spam_bench.py

serve: migrate
	$(BIN)/gunicorn -c gunicorn.conf.py "app:create_app()"

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .hypothesis schemathesis-report
	find . -name __pycache__ -type d -prune -not -path './.git/*' -exec rm -rf {} +
