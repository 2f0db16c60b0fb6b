# The README and CI use these targets; each sets itself up first.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test lint typecheck unit bench bench-dev bench-heldout bench-verdicts bench-alerts bench-dashboard bench-chaos clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(BIN)/compass demo

lint: setup
	$(BIN)/ruff check compass_worker compass_bot compass_lab compass_cli compass_testing tests benchmarks scripts
	$(BIN)/ruff format --check compass_worker compass_bot compass_lab compass_cli compass_testing tests benchmarks scripts
	$(BIN)/lint-imports --no-logo --no-cache

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/pytest -q -m "not slow"

test: lint typecheck
	$(BIN)/pytest -q

bench: setup
	$(BIN)/compass lab bench --split dev --split heldout --out bench-results

bench-dev: setup
	$(BIN)/compass lab bench --split dev --out bench-results

bench-heldout: setup
	$(BIN)/compass lab bench --split heldout --out bench-results

# Every held-out set and nezha-dev in one run, side by side with the engine's goals (~20 min quiet).
bench-verdicts: setup
	$(BIN)/python benchmarks/verdicts.py --out bench-results/verdicts

bench-alerts: setup
	$(BIN)/python benchmarks/alerts.py

bench-dashboard: setup
	$(BIN)/python benchmarks/dashboard.py

# Faults and hostile input against a running bot + workers (loopback only, bounded, ~5 min).
bench-chaos: setup
	$(BIN)/python benchmarks/chaos.py

clean:
	rm -rf $(VENV) bench-results .mypy_cache .ruff_cache .pytest_cache
