PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# `make serve` listens on this machine only; SERVE_HOST=0.0.0.0 opens it to the network.
SERVE_HOST ?= 127.0.0.1

.PHONY: demo test lint typecheck check messages serve worker beat bench-ingest clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python manage.py demo

test: $(STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/python manage.py translations --check

# After marking strings: find them (GNU gettext's xgettext) and recompile the catalogues.
messages: $(STAMP)
	$(BIN)/python manage.py translations --update

typecheck: $(STAMP)
	$(BIN)/mypy customers channels_app automation inbox config

check: lint typecheck test

serve: $(STAMP)
	$(BIN)/python manage.py serve --host $(SERVE_HOST) --workers $${WEB_CONCURRENCY:-2}

worker: $(STAMP)
	$(BIN)/celery -A config worker --loglevel=INFO

beat: $(STAMP)
	$(BIN)/celery -A config beat --loglevel=INFO --schedule var/celerybeat-schedule

bench-ingest: $(STAMP)
	$(BIN)/python bench/ingest.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var .pytest_cache
