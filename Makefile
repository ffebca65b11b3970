# Two commands on a fresh Debian/Ubuntu machine: `make demo` and `make test`.
# DATABASE_URL=postgresql://... switches both to an existing PostGIS.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
UV_VERSION := 0.13.8

.PHONY: demo test lint bench setup system clean

demo: setup
	$(BIN)/ehbo demo --port $(PORT)

test: setup lint
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check responders routing tests bench
	$(BIN)/mypy

bench: setup
	@WITH_BENCH_TOOLS=1 PYTHON="$(PYTHON)" sh scripts/system-packages.sh
	$(BIN)/python bench/run_all.py

setup: system $(VENV)/.installed

system:
	@PYTHON="$(PYTHON)" sh scripts/system-packages.sh

# The exact versions in requirements-dev.txt (scripts/lock.sh writes it), installed by uv,
# pinned here and fetched with the venv's own pip, then the project itself, editable.
# --no-deps: the lock is the whole list, so nothing unlocked can slip in; `uv pip check` and
# `lock.sh --check` then stop the build if it misses something that pyproject.toml asks for.
$(VENV)/.installed: pyproject.toml requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -r requirements-dev.txt -e .
	$(BIN)/uv pip check --quiet --python $(BIN)/python
	@PYTHON=$(BIN)/python sh scripts/lock.sh --check
	touch $@

clean:
	-$(BIN)/ehbo db stop 2>/dev/null
	rm -rf $(VENV) .pg .cache artifacts *.egg-info
