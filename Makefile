# fobkit: `make sim` runs the simulator, `make test` the whole suite.
# Both set up what they need first: .venv, node_modules, system packages.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
NODE_INSTALLED := node_modules/.installed

.PHONY: setup test lint bench sim clean

setup: $(INSTALLED) $(NODE_INSTALLED)
	@scripts/setup-system
	@PYTHON=$(PYTHON) scripts/setup-privacyidea
	@$(PY) scripts/fetch-ssd1306

$(INSTALLED): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[server,test]'
	touch $@

$(NODE_INSTALLED): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

lint: $(INSTALLED)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# Two pytest-xdist workers, each test file on one of them (module fixtures built once): most of the
# suite's wall time is waiting (second boundaries, timeouts, servers starting), docs/testing.md.
TEST_WORKERS ?= 2

test: setup lint
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadfile

bench: setup
	$(PY) -m benchmarks

sim: $(INSTALLED)
	$(VENV)/bin/fob sim --demo --name demo

clean:
	rm -rf $(VENV) node_modules .peers .pytest_cache .ruff_cache .hypothesis
