# Two commands matter: `make run` builds the dataset from the landing folder, `make test` tests.
# Both create the environment first when it is missing (installing uv with pip if needed).

SHELL := /bin/bash
PYTHON ?= python3
UV_VERSION := 0.13.9
UV := $(or $(shell command -v uv 2>/dev/null),$(CURDIR)/.tools/bin/uv)
VENV := .venv
DATA_DIR := $(or $(PAPERS_DATA_DIR),data/build)
UI_PORT ?= 3000
# imports are about twice as slow without bytecode, and these machines set PYTHONDONTWRITEBYTECODE
export UV_COMPILE_BYTECODE := 1

.PHONY: run test lint ui verify bench bench-neighbours clean

$(CURDIR)/.tools/bin/uv:
	$(PYTHON) -m venv .tools
	.tools/bin/pip install --quiet "uv==$(UV_VERSION)"

$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --quiet
	@touch $@

run: $(VENV)/.synced  ## build the dataset from $PAPERS_LANDING_DIR (default data/landing)
	$(VENV)/bin/trending-papers build

test: $(VENV)/.synced lint  ## lint, type-check and run the test suite
	$(VENV)/bin/pytest -n 2 --dist loadfile -q

lint: $(VENV)/.synced
	$(VENV)/bin/ruff check pipelines assets expectations tests
	$(VENV)/bin/ruff format --check pipelines assets expectations tests
	$(VENV)/bin/pyright

ui: $(VENV)/.synced  ## the Dagster UI on 127.0.0.1:3000, its instance under the data folder
	env --default-signal=INT,TERM $(VENV)/bin/trending-papers ui --host 127.0.0.1 --port $(UI_PORT)

verify: $(VENV)/.synced  ## recheck a release: make verify RELEASE=2026-11-26 (default: latest)
	$(VENV)/bin/trending-papers verify $(RELEASE)

# benchmarks run in their own environment: dlt, psutil and py-spy are not project dependencies
BENCH_VENV := bench/.venv
SHAPE ?= tiny
REPS ?= 3

$(BENCH_VENV)/.synced: bench/requirements.txt | $(UV)
	$(UV) venv --quiet --allow-existing --python 3.11 $(BENCH_VENV)
	$(UV) pip sync --quiet --python $(BENCH_VENV)/bin/python bench/requirements.txt
	@touch $@

bench: $(VENV)/.synced $(BENCH_VENV)/.synced  ## make bench SHAPE=tiny|years|stress REPS=3
	$(BENCH_VENV)/bin/python -m bench.run --shape $(SHAPE) --reps $(REPS)

# embedding and neighbour listing alone at the sizes of the big shapes, texts made from the papers
# of a built release (`make run` first): make bench-neighbours PAPERS="30000 100000 359000"
PAPERS ?= 30000 100000
bench-neighbours: $(VENV)/.synced  ## cost of embeddings and nearest papers at PAPERS papers
	$(VENV)/bin/python -m bench.neighbours --release $(DATA_DIR)/releases/latest --papers $(PAPERS)

clean:  ## remove everything the pipeline wrote under data/build (the landing folder stays)
	rm -rf data/build
