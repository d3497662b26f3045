# Two entry points for a newcomer: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DIQ_DATA_DIR ?= ../shared/data
PYTEST_ARGS ?=

.PHONY: setup test test-slow demo demo-real lint format bench clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c constraints.txt -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

test: setup
	DIQ_DATA_DIR=$(DIQ_DATA_DIR) $(BIN)/python -m pytest $(PYTEST_ARGS)

test-slow: setup
	DIQ_DATA_DIR=$(DIQ_DATA_DIR) $(BIN)/python -m pytest -m slow $(PYTEST_ARGS)

demo: setup
	$(BIN)/diq demo --out runs/demo

demo-real: setup
	DIQ_DATA_DIR=$(DIQ_DATA_DIR) $(BIN)/diq demo --real --out runs/demo-real

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
