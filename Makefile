# The two commands of the README contract: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8050
PIP_INSTALL := $(BIN)/pip install --quiet --disable-pip-version-check

.PHONY: setup demo refresh serve test test-fast bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -r requirements.txt -r requirements-dev.txt
	touch $@

## demo: set up, refresh on the bundled data (once), serve the dashboard on http://$(HOST):$(PORT)
demo: setup
	$(BIN)/python -m jobs.refresh --if-missing
	@echo "Dashboard on http://$(HOST):$(PORT)  (Ctrl+C to stop)"
	$(BIN)/gunicorn dashboard.wsgi:server --bind $(HOST):$(PORT) --workers 2 --no-control-socket

## refresh: publish a new snapshot from the configured input (default: bundled data)
refresh: setup
	$(BIN)/python -m jobs.refresh

## test: every test (unit, Redis, browser); installs redis-server/chromium when missing and root
test: setup
	scripts/system-deps.sh
	$(BIN)/python -m pytest --headless

clean:
	rm -rf $(VENV) .store .pytest_cache .hypothesis
