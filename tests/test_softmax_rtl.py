"""Exported softmax Verilog in Icarus and Verilator against the model, exact equality.

* cocotb stream bench (Python drives ``valid``/``ready`` with seeded random stalls): the
  corner vectors + 2,000 random vectors per configuration; Icarus runs every configuration,
  Verilator a cross-section.
* batched stream testbench (generated Verilog, LFSR stalls, memory files): corners + 20,000
  random vectors per configuration on Verilator (every configuration) and Icarus (the four
  length-8 ones without the Taylor polynomial or the Mitchell divider: Icarus runs the
  others at only ~100-300 vectors/s).
"""

import pytest

from hwsim.exp import ExpBase, ExpMethod
from hwsim.fixed import FixedFormat as F
from hwsim.softmax import Normalizer, SoftmaxForm, SoftmaxParams, corner_logits
from hwsim.sim.batched import run_batched
from hwsim.units import get_unit
from rtl import run_and_check, sim_matrix

SOFTMAX = get_unit("softmax")
COCOTB_RANDOM = 2_000
BATCHED_RANDOM = 20_000

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
VERILATOR_SUBSET = {CONFIGS[i].top_name for i in (0, 4, 8, 10, 13)}


@pytest.mark.parametrize("params,sim", sim_matrix(CONFIGS, VERILATOR_SUBSET))
def test_softmax_cocotb_stream(params, sim, tmp_path, record_bench):
    r = run_and_check(SOFTMAX, params, sim, COCOTB_RANDOM, 5, tmp_path, record_bench)
    assert r.vectors == COCOTB_RANDOM + len(corner_logits(params))


# Icarus evaluates the Taylor Horner chain, the Mitchell divider and long vectors at only
# ~100-300 vectors/s (a minute per configuration); Verilator runs those
ICARUS_BATCHED = {p.top_name for p in CONFIGS if p.length == 8 and p.form is not SoftmaxForm.TAYLOR
                  and p.normalizer is not Normalizer.MITCHELL_DIV and not p.stages}


@pytest.mark.parametrize("params,sim", sim_matrix(CONFIGS, ICARUS_BATCHED, sim_limited="icarus"))
def test_softmax_batched(params, sim, tmp_path, record_bench):
    r = run_batched(SOFTMAX, params, sim=sim, vectors=BATCHED_RANDOM, seed=9, build_root=tmp_path)
    record_bench(r)
    assert r.vectors == BATCHED_RANDOM + len(corner_logits(params))
    assert r.mismatches == 0, r.examples
