# flaskish: `make run` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run test lint bench bench-smoke bench-wrk docs compat clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	@# setuptools warns about every editable install of a flat layout (a
	@# framed box that reads like an error); the install is fine.
	PYTHONWARNINGS="ignore:Editable installation" $(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install flaskish with its dev tools

# make run PORT=8001 RELOAD=1: another port, restarting on code changes.
PORT ?= 8000
RELOAD ?=
run: $(STAMP) ## Serve examples/quickstart.py on http://127.0.0.1:8000 (PORT=, RELOAD=1)
	$(BIN)/uvicorn --app-dir examples quickstart:app --host 127.0.0.1 --port $(PORT) \
	  $(if $(filter-out 0,$(RELOAD)),--reload --reload-dir examples,)

test: $(STAMP) ## The suite with branch coverage (floor 94%), the blog and chat examples (headless Chromium), the benchmark smoke
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest
	@# The blog (Flask's tutorial app) runs in a process of its own: it calls
	@# install_as_flask(), and the main suite imports real Flask for interop tests.
	@# Its headless-Chromium test (the blog flow and the debug page) writes
	@# build/debug-page.png.
	$(BIN)/coverage run -m pytest -p no:cacheprovider -o pythonpath=examples/blog examples/blog/tests
	@# The chat example, with its headless-Chromium test (Debian's chromium and
	@# chromium-driver: .ci/run installs them; without them that test fails).
	$(BIN)/coverage run -m pytest -p no:cacheprovider -o pythonpath=examples/chat examples/chat/tests
	$(BIN)/coverage combine --quiet || true
	$(BIN)/coverage report
	$(BIN)/python benchmarks/run.py --smoke

lint: $(STAMP) ## ruff check and ruff format --check on all the Python; mypy --strict; lint-imports (the layers)
	$(BIN)/ruff check flaskish tests benchmarks examples
	$(BIN)/ruff format --check flaskish tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/lint-imports

# The benchmark's own environment: flaskish plus the peers it is measured
# against (Quart, Flask, gunicorn) and matplotlib; never flaskish's dependencies.
BENCH_VENV := benchmarks/.venv
BENCH_STAMP := $(BENCH_VENV)/.installed

$(BENCH_STAMP): pyproject.toml benchmarks/requirements.txt
	$(PYTHON) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/pip install --quiet --upgrade pip
	$(BENCH_VENV)/bin/pip install --quiet -e . -r benchmarks/requirements.txt
	touch $(BENCH_STAMP)

# wrk (Debian package) drives the loopback runs; without it only the
# in-process numbers are measured.
bench-wrk:
	@command -v wrk >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing wrk: apt-get install -y wrk"; \
	    apt-get install -y -qq wrk >/dev/null 2>&1 \
	      || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; } \
	      || echo "could not install wrk; the loopback runs will be skipped"; \
	  else \
	    echo "wrk is not installed: 'sudo apt-get install wrk' for the loopback runs" \
	      "(the in-process runs go ahead without it)"; \
	  fi; }

bench: $(BENCH_STAMP) bench-wrk ## Benchmark vs raw ASGI, Starlette, Quart, Flask; write benchmarks/RESULTS.md (~12 min, the migrated app included)
	$(BENCH_VENV)/bin/python benchmarks/run.py $(BENCH_ARGS)

bench-smoke: $(STAMP) ## Answer every benchmark scenario once, checked, no timing (part of make test)
	$(BIN)/python benchmarks/run.py --smoke

docs: $(STAMP) ## Run every code sample in docs/ (the docs are Markdown)
	$(BIN)/pytest tests/test_docs.py -q

# Flask extensions' own test suites, run with `flask` resolved to flaskish
# (compat/README.md). Its own environment: real Flask, the pinned extensions
# and their test dependencies (compat/requirements.txt), flaskish editable.
# Flask-Caching's Redis and memcached tests need redis-server and memcached:
# run.py apt-get installs them when missing (as root; else it fails) and
# starts them on 127.0.0.1 for that suite only.
# COMPAT_ARGS: extension names and/or --real-flask.
COMPAT_VENV := compat/.venv
COMPAT_STAMP := $(COMPAT_VENV)/.installed

$(COMPAT_STAMP): pyproject.toml compat/requirements.txt
	$(PYTHON) -m venv --clear $(COMPAT_VENV)
	$(COMPAT_VENV)/bin/pip install --quiet --upgrade pip
	$(COMPAT_VENV)/bin/pip install --quiet -r compat/requirements.txt -e .
	$(COMPAT_VENV)/bin/pip check
	touch $(COMPAT_STAMP)

compat: $(COMPAT_STAMP) ## Run 7 Flask extensions' own test suites on flaskish (COMPAT_ARGS=...)
	$(COMPAT_VENV)/bin/python compat/run.py $(COMPAT_ARGS)

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) benchmarks/.venv .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .coverage .coverage.* htmlcov
	rm -rf $(COMPAT_VENV) compat/.work
