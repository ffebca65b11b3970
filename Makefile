# Two commands on a fresh Debian/Ubuntu machine: `make demo` and `make test`.
# DATABASE_URL=postgresql://... switches both to an existing PostGIS.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
UV_VERSION := 0.13.8
UV     := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/ehbo/uv-$(UV_VERSION)

.PHONY: demo test lint bench setup system lock clean

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

# The exact versions in requirements-dev.txt (`make lock` writes it), installed by uv, then the
# project itself, editable. --no-deps: the lock is the whole list, so nothing unlocked slips
# in; `lock.sh --check` and `uv pip check` stop the build when it misses what pyproject.toml
# asks for. --seed keeps pip in .venv for quick experiments. uv leaves the .pyc files to each
# module's first import, but where PYTHONDONTWRITEBYTECODE forbids writing them every process
# would compile its imports again (~5 s of CPU for our stack), so there they are made now.
$(VENV)/.installed: pyproject.toml requirements-dev.txt | $(UV)
	$(UV) venv --quiet --allow-existing --seed --python $(PYTHON) $(VENV)
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -r requirements-dev.txt -e . \
	    $(if $(PYTHONDONTWRITEBYTECODE),--compile-bytecode)
	@PYTHON=$(BIN)/python sh scripts/lock.sh --check
	$(UV) pip check --quiet --python $(BIN)/python
	touch $@

# uv itself: one binary per version in the user's cache, shared by every checkout.
$(UV):
	@PYTHON="$(PYTHON)" sh scripts/get-uv.sh $(UV_VERSION) $@

# After editing the dependency lists in pyproject.toml; LOCK_ARGS=--upgrade moves every pin
# to the newest release that fits (--upgrade-package NAME: one).
lock: | $(UV)
	UV=$(UV) sh scripts/lock.sh $(LOCK_ARGS)

clean:
	-$(BIN)/ehbo db stop 2>/dev/null
	rm -rf $(VENV) .pg .cache artifacts *.egg-info
