"""Exported softmax Verilog in Icarus and Verilator against the model, exact equality.

The softmax has no whole-unit proof (tests/test_formal_softmax.py proves its exp and
normaliser sub-blocks), so every form, normaliser and exp method is simulated here, stream
level included:

* cocotb stream bench (Python drives ``valid``/``ready`` with seeded random stalls): the
  corner vectors + 1,000 random vectors, on Icarus for a combinational and a pipelined output
  path of each form that Icarus runs at >= 100 vectors/s (the Taylor polynomial, the Mitchell
  divider and long vectors run at 25-60 vectors/s there: a minute or more each), on
  Verilator for one combinational and one pipelined configuration.
* batched stream testbench (generated Verilog, LFSR stalls, memory files): corners + 54,750
  random vectors per configuration on Verilator (a cross-section covering every form,
  normaliser, exp method, length and both pipelines: each build costs 20-50 s) and corners +
  5,000 on Icarus for two length-8 configurations.
"""

import pytest

from hwsim.exp import ExpBase, ExpMethod
from hwsim.fixed import FixedFormat as F
from hwsim.softmax import Normalizer, SoftmaxForm, SoftmaxParams, corner_logits
from hwsim.sim.batched import run_batched
from hwsim.units import get_unit
from rtl import run_and_check, sim_matrix

SOFTMAX = get_unit("softmax")
COCOTB_RANDOM = 1_000  # the 4 Icarus + 2 Verilator cocotb runs' other 6,000: Verilator batched
#: Icarus runs the batched bench at ~1,000 vectors/s, Verilator at ~10^5 once built: the
#: random vectors go to Verilator, Icarus checks its reading of the Verilog on 5,000
BATCHED_RANDOM = {"icarus": 5_000, "verilator": 54_750}

CONFIGS = [SoftmaxParams(length=8, form=f, normalizer=n,
                         method=ExpMethod.TAYLOR if f is SoftmaxForm.TAYLOR else ExpMethod.LUT)
           for f in SoftmaxForm for n in Normalizer]
CONFIGS += [
    SoftmaxParams(length=32, method=ExpMethod.IBERT, in_fmt=F(5, 3), out_fmt=F(1, 11, False)),
    SoftmaxParams(length=16, form=SoftmaxForm.ONLINE, method=ExpMethod.PWL, base=ExpBase.TWO,
                  out_fmt=F(0, 8, False), normalizer=Normalizer.RECIPROCAL_LUT, recip_bits=4),
    SoftmaxParams(length=1, method=ExpMethod.MITCHELL),
    # pipelined output paths: the stall-all pipeline under random backpressure
    SoftmaxParams(length=8, stages=1),
    SoftmaxParams(length=8, form=SoftmaxForm.ONLINE, stages=6),
    SoftmaxParams(length=8, normalizer=Normalizer.MITCHELL_DIV, stages=1),
]
VERILATOR_SUBSET = {CONFIGS[i].top_name for i in (0, 13)}
#: cocotb on Icarus: two-pass and online, combinational and pipelined, and the length-1 unit
ICARUS_COCOTB = {CONFIGS[i].top_name for i in (0, 3, 11, 13)}
#: batched on Verilator: two-pass/online/Taylor, exact/Mitchell/reciprocal normaliser, LUT,
#: Taylor, I-BERT, PWL and Mitchell exp, lengths 1, 8, 16, 32, both pipelines
VERILATOR_BATCHED = {CONFIGS[i].top_name for i in (1, 5, 6, 9, 10, 11, 13, 14)}


@pytest.mark.parametrize("params,sim", sim_matrix(CONFIGS, VERILATOR_SUBSET,
                                                    skip=set(p.top_name for p in CONFIGS)
                                                    - ICARUS_COCOTB))
def test_softmax_cocotb_stream(params, sim, tmp_path, record_bench):
    r = run_and_check(SOFTMAX, params, sim, COCOTB_RANDOM, 5, tmp_path, record_bench)
    assert r.vectors == COCOTB_RANDOM + len(corner_logits(params))


# Icarus evaluates the Taylor Horner chain, the Mitchell divider and long vectors at only
# ~100-300 vectors/s (a minute per configuration); Verilator runs those
ICARUS_BATCHED = {CONFIGS[i].top_name for i in (0, 5)}


@pytest.mark.parametrize("params,sim", sim_matrix(CONFIGS, ICARUS_BATCHED, sim_limited="icarus",
                                                    skip=set(p.top_name for p in CONFIGS)
                                                    - VERILATOR_BATCHED))
def test_softmax_batched(params, sim, tmp_path, record_bench):
    n = BATCHED_RANDOM[sim]
    r = run_batched(SOFTMAX, params, sim=sim, vectors=n, seed=9, build_root=tmp_path)
    record_bench(r)
    assert r.vectors == n + len(corner_logits(params))
    assert r.mismatches == 0, r.examples
