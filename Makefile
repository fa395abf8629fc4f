# One command each: `make run` and `make test` set everything up on a fresh machine.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed

.PHONY: run test lint typecheck unit bench schema clean deps plan checkov browser

$(STAMP): pyproject.toml requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

deps: $(STAMP) $(NODE_STAMP)

# The browser tests (tests/browser) drive Debian's chromium with npm's playwright-core:
# Playwright's own browser download needs a CDN, Debian's package comes from the registry
# the machine already uses. apt needs root: as root, or through sudo. Another Chromium:
# `make test CHROMIUM=/path/to/chrome` (the tests read it from the environment).
export CHROMIUM ?= /usr/bin/chromium
BROWSER_STAMP := node_modules/.browser-installed

$(BROWSER_STAMP): $(NODE_STAMP)
	@test -x $(CHROMIUM) || { \
	  if [ "$$(id -u)" = 0 ]; then AS_ROOT=; \
	  elif command -v sudo >/dev/null; then AS_ROOT=sudo; \
	  else echo "make browser: installing chromium needs root: apt-get install chromium" >&2; exit 1; fi; \
	  $$AS_ROOT apt-get update -qq && \
	  $$AS_ROOT env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; }
	touch $@

browser: $(BROWSER_STAMP)

# checkov in a virtual environment of its own: it pins many packages the app also uses.
$(CHECKOV_STAMP): infra/requirements-checkov.txt
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r infra/requirements-checkov.txt
	touch $@

# Every check checkov reports on the templates passes or is justified in the resource's
# metadata (infra/README.md, "Security checks"); offline: no policy download.
checkov: $(CHECKOV_STAMP)
	LOG_LEVEL=ERROR $(CHECKOV_VENV)/bin/checkov --directory infra --framework arm --compact --quiet --skip-download

run: deps
	$(BIN)/imagefactory validate examples/factory
	$(BIN)/python -m scripts.local_run --config examples/factory --scenario examples/local-world.yaml

plan: deps
	$(BIN)/imagefactory plan examples/factory --inventory examples/inventory.json --now 2026-11-24T12:00:00Z

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

unit: deps browser
	$(BIN)/pytest

test: lint typecheck unit checkov

bench: deps
	$(BIN)/python -m bench

schema: $(STAMP)
	$(BIN)/imagefactory schema --write

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules .mypy_cache .ruff_cache .pytest_cache .local
