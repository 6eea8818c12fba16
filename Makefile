# The two commands of the README contract: `make demo` and `make test`; `make check` before every commit.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8050

.PHONY: setup demo refresh serve check test test-fast test-spark bench bench-refresh clean lock audit messages messages-check

setup: $(VENV)/.installed

$(VENV)/.installed: requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	scripts/install.sh $(BIN)/python requirements-dev.txt
	touch $@

## demo: set up, refresh on the bundled data (once), serve the dashboard on http://$(HOST):$(PORT)
##       (workers, threads, timeouts, logs: gunicorn.conf.py)
demo: setup
	$(BIN)/python -m jobs.refresh --if-missing
	@echo "Dashboard on http://$(HOST):$(PORT)  (Ctrl+C to stop)"
	$(BIN)/gunicorn dashboard.wsgi:server --bind $(HOST):$(PORT)

## refresh: publish a new snapshot from the configured input (default: bundled data)
refresh: setup
	$(BIN)/python -m jobs.refresh

## serve: serve the dashboard on http://$(HOST):$(PORT) from the configured store, as it is (no refresh)
serve: setup
	$(BIN)/gunicorn dashboard.wsgi:server --bind $(HOST):$(PORT)

## check: lint (ruff), types (mypy), import contracts (lint-imports), translations (messages-check), the unit
##        tests (pytest -m unit); about a minute, no Redis, no browser. Settings: pyproject.toml.
##        Without reinstalling: `make -o setup check`
check: setup messages-check
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -m unit

## messages: extract the interface's messages (_(), ngettext(), N_() in dashboard/) and merge them into every
##        dashboard/locale/<lang>/LC_MESSAGES/messages.po (new ones empty, changed ones fuzzy): then translate
messages: setup
	$(BIN)/python scripts/messages.py update

## messages-check: fail, listing them, when a message of the code has no translation (missing, empty, fuzzy)
messages-check: setup
	$(BIN)/python scripts/messages.py check

## test: every test (unit, Redis, server, browser); installs redis-server/chromium when missing and root
test: setup
	scripts/system-deps.sh
	$(BIN)/python -m pytest --headless

## test-fast: every test but the browser ones (real Redis and gunicorn, no Chromium)
test-fast: setup
	scripts/system-deps.sh
	$(BIN)/python -m pytest -m "not browser"

## test-spark: the optional Spark engine (README "Spark engine"): installs a Java runtime when missing (apt:
##        openjdk-17-jre-headless), builds .venv-spark (runtime + pytest + PySpark) and runs tests/spark: the Spark
##        aggregates on hand-made frames and the parity of both engines on the bundled data, on Spark local[1]
SPARK_VENV := .venv-spark
test-spark: $(SPARK_VENV)/.installed
	scripts/java-deps.sh
	$(SPARK_VENV)/bin/python -m pytest -o addopts="-q -p no:cacheprovider --strict-markers" tests/spark

$(SPARK_VENV)/.installed: requirements-spark.txt
	$(PYTHON) -m venv $(SPARK_VENV)
	scripts/install.sh $(SPARK_VENV)/bin/python requirements-spark.txt
	touch $@

## lock: recompile the hash-pinned lock files from requirements*.in (needs the package index)
TOOLS := .venv-tools/bin
$(TOOLS)/pip-compile:
	$(PYTHON) -m venv .venv-tools
	$(TOOLS)/pip install --quiet pip-tools==7.6.2 pip-audit==2.10.1
lock: $(TOOLS)/pip-compile
	for f in requirements requirements-dev requirements-bench requirements-spark; do \
	  $(TOOLS)/pip-compile --generate-hashes --allow-unsafe --strip-extras --no-emit-index-url \
	    --no-emit-find-links --quiet -o $$f.txt $$f.in; done

## audit: known vulnerabilities in the locked runtime packages (needs a vulnerability database online;
##        this build machine has none, so CI does not run it)
audit: $(TOOLS)/pip-compile
	$(TOOLS)/pip-audit --require-hashes --disable-pip -r requirements.txt

clean:
	rm -rf $(VENV) $(SPARK_VENV) .store .pytest_cache .hypothesis .mypy_cache .ruff_cache

## bench-dashboard: dashboard speed (cold start, latency at 1/10/20 users, payloads, Redis size), the load test
##       (20 users, 60 s, zero errors, flat worker memory) and the soak (a refresh every 2 s for 5 min, 4 readers,
##       file store and private Redis). Results: bench/out/{load,soak,dashboard}.json, bench/out/dashboard.md, and
##       section 2 of docs/PERFORMANCE.md
.PHONY: bench-dashboard
bench-dashboard: setup
	scripts/system-deps.sh
	$(BIN)/python -m bench.load --users 20 --seconds 60
	$(BIN)/python -m bench.soak --seconds 300 --every 2 --readers 4 --store both
	$(BIN)/python -m bench.dashboard

## bench: every figure of docs/PERFORMANCE.md (about 25 min): bench-refresh, then bench-dashboard
bench: bench-refresh bench-dashboard

## bench-refresh: refresh speed (every stage against a lower bound and a seed-style baseline), scale (1/5/10 M
##        synthetic lines), recommendation quality (time split, variants tried); then docs/PERFORMANCE.md sections
##        1 and 3. Results: bench/out/{refresh_stages,scale,recommendations}.json, docs/scale.png
bench-refresh: setup
	scripts/install.sh $(BIN)/python requirements-bench.txt
	$(BIN)/python -m bench.refresh_stages --rounds 7
	$(BIN)/python -m bench.scale --lines 1000000 5000000 10000000 --repeat 2
	$(BIN)/python -m bench.recommendations
	$(BIN)/python -m bench.report
