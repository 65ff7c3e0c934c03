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

# Two workers, a test module per worker (--dist loadscope keeps each module's fixtures in one
# process): most tests wait on one Python thread, so two run in little more than the time of
# one (one worker: 23-25 min on a 2-core machine; two: 16 min). Each worker builds the
# session's fitted demo store once.
test: $(STAMP)
	$(BIN)/ruff check rca tests experiments
	HF_HUB_OFFLINE=1 $(BIN)/pytest -q -n 2 --dist loadscope --durations=15

lint: $(STAMP)
	$(BIN)/ruff check rca tests experiments
	$(BIN)/ruff format --check rca tests experiments

bench: $(STAMP)
	HF_HUB_OFFLINE=1 $(BIN)/python -m experiments.bench_ingest

clean:
	rm -rf $(VENV) .rca .pytest_cache
