# The README's two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Where `make run` serves: `make run PORT=8001`, `make run HOST=0.0.0.0` (all interfaces).
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format bench bench-quick clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py setup_demo
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

test: $(STAMP)
	@if [ -x "$${MALL_CHROMIUM:-/usr/bin/chromium}" ]; then \
		echo "Chromium found: the browser (e2e) tests run too."; \
	else \
		echo "NOTE: no Chromium at $${MALL_CHROMIUM:-/usr/bin/chromium}: the browser (e2e) tests are SKIPPED."; \
		echo "      Install it (apt-get install -y chromium) to run them."; \
	fi
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# `make bench BENCH_ARGS="--orders 1000000 --checkout-levels 1,8"`: issue 16's million.
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python bench/run.py $(BENCH_ARGS)

bench-quick: $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python bench/run.py --quick

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles .pytest_cache test-artifacts
