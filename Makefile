# Every target bootstraps .venv itself so a fresh clone needs only python3 and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run run-exporter run-receiver demo test lint typecheck unit bench screenshots dashboards clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $(STAMP)

venv: $(STAMP)

run: $(STAMP)
	$(BIN)/python deploy/run_stack.py

run-exporter: $(STAMP)
	$(BIN)/tocsin-exporter

run-receiver: $(STAMP)
	$(BIN)/tocsin-receiver serve

demo: $(STAMP)
	$(BIN)/python deploy/run_stack.py --demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest

test: lint typecheck unit

bench: $(STAMP)
	$(BIN)/python -m tests.bench

# Regenerate dashboards/*.json from dashboards/*.py (the unit tests fail while they differ).
dashboards: $(STAMP)
	$(BIN)/python -m dashboards.generate

screenshots: $(STAMP)
	TOCSIN_UPDATE_SCREENSHOTS=1 $(BIN)/pytest -q tests/browser/test_web_screenshots.py

clean:
	rm -rf $(VENV) tocsin-data .pytest_cache .mypy_cache .ruff_cache
