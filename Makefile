# flaskish: `make run` and `make test` are all a fresh machine needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help install run test lint bench bench-smoke docs clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) ## Create .venv and install flaskish with its dev tools

run: $(STAMP) ## Serve examples/quickstart.py on http://127.0.0.1:8000
	$(BIN)/uvicorn --app-dir examples quickstart:app --host 127.0.0.1 --port 8000

test: $(STAMP) ## Run the whole test suite with branch coverage (fails under the floor)
	$(BIN)/coverage erase
	$(BIN)/coverage run -m pytest
	$(BIN)/coverage combine --quiet || true
	$(BIN)/coverage report

lint: $(STAMP) ## ruff and mypy --strict on flaskish/
	$(BIN)/ruff check flaskish tests benchmarks examples
	$(BIN)/mypy

bench: $(STAMP) ## Run the benchmarks and write benchmarks/RESULTS.md
	$(BIN)/python benchmarks/run.py

bench-smoke: $(STAMP) ## Run every benchmark once, without timing (part of the tests)
	$(BIN)/python benchmarks/run.py --smoke

docs: $(STAMP) ## Run every code sample in docs/ (the docs are Markdown)
	$(BIN)/pytest tests/test_docs.py -q

clean: ## Remove the virtualenv and caches
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage .coverage.* htmlcov
