# The hub's two commands: `make demo` and `make test`. Everything else is a step of those.
SHELL := /bin/bash
UV_VERSION := 0.13.8
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
ROWS ?= 7000
HUB_HOME ?= .hub
PYTEST_ARGS ?= -n auto --dist loadfile
export UV_PYTHON_DOWNLOADS := never

.PHONY: setup demo test lint bench clean help airflow

help:  ## list the targets
	@grep -E '^[a-z]+:.*##' Makefile | sed 's/:.*## /\t/'

$(CURDIR)/.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/python -m pip install --quiet "uv==$(UV_VERSION)"

.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --frozen
	touch $@

setup: .venv/.synced  ## create .venv from uv.lock (bootstraps uv when missing)

demo: setup  ## generate five departments' exports, ingest and derive through Airflow, serve the API (ROWS=7000 residents)
	$(UV) run --frozen hub demo --rows $(ROWS)

airflow: setup  ## write HUB_HOME/airflow/airflow.cfg for plain Airflow (`airflow standalone`, the UI); FORCE=1 replaces one
	$(UV) run --frozen hub airflow-config $(if $(FORCE),--force)

test: setup lint  ## run the whole test suite
	$(UV) run --frozen pytest $(PYTEST_ARGS)

lint: setup  ## ruff and mypy
	$(UV) run --frozen ruff check .
	$(UV) run --frozen mypy

bench: setup  ## benchmarks; results go to docs/benchmarks.md
	$(UV) run --frozen python -m bench

clean:  ## delete the demo state (HUB_HOME, default .hub) and the environment (.venv, .tools)
	@home='$(HUB_HOME)'; \
	if [ -z "$$home" ]; then echo "make clean: HUB_HOME is empty; deleting nothing" >&2; exit 1; fi; \
	real=$$(realpath -m -- "$$home"); \
	case "$(CURDIR)/" in "$${real%/}/"*) echo "make clean: HUB_HOME=$$home holds this checkout; deleting nothing" >&2; exit 1;; esac; \
	if [ "$$real" = "$$(realpath -m -- "$${HOME:-/}")" ]; then echo "make clean: HUB_HOME=$$home is your home folder; deleting nothing" >&2; exit 1; fi
	rm -rf -- '$(HUB_HOME)' .venv .tools
