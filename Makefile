# hwsim: `make demo` and `make test` work on a fresh machine (they set up first).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
JOBS ?= 2
OUT ?= out

.PHONY: setup demo test test-fast bench lint clean

# Virtualenv + editable install with the dev extra; Icarus Verilog from apt when missing.
# The stamp is refreshed whenever pyproject.toml changes.
$(VENV)/.stamp: pyproject.toml
	@command -v iverilog >/dev/null || { echo "installing Icarus Verilog (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iverilog; }
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	@touch $@

setup: $(VENV)/.stamp

demo: setup
	$(VENV)/bin/hwsim demo -o $(OUT)

test: setup
	$(PY) -m pytest -n $(JOBS) --dist loadgroup

test-fast: setup
	$(PY) -m pytest -n $(JOBS) --dist loadgroup -m "not hdl and not slow"

bench: setup
	$(PY) benchmarks/run.py

lint: setup
	$(PY) -m pyflakes hwsim hdl sim tests benchmarks

clean:
	rm -rf $(VENV) build *.egg-info $(OUT) .pytest_cache
