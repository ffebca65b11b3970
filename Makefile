# Two commands on a fresh Debian/Ubuntu machine: `make demo` and `make test`.
# DATABASE_URL=postgresql://... switches both to an existing PostGIS.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000

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

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

clean:
	-$(BIN)/ehbo db stop 2>/dev/null
	rm -rf $(VENV) .pg .cache artifacts *.egg-info
