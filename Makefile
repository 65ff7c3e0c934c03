# Two commands for a new user: `make demo` and `make test`. Both create .venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test lint bench clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# torch first: 2.13.0 resolves to the local CPU wheel; any other spec pulls CUDA builds.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/rca demo

test: $(STAMP)
	$(BIN)/ruff check rca tests experiments
	HF_HUB_OFFLINE=1 $(BIN)/pytest -q --durations=15

lint: $(STAMP)
	$(BIN)/ruff check rca tests experiments
	$(BIN)/ruff format --check rca tests experiments

bench: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m experiments.bench_ingest

clean:
	rm -rf $(VENV) .rca .pytest_cache
