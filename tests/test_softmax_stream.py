"""The full-throughput softmax (``SoftmaxParams(streaming=True)``): bit-exact against the
model under random input gaps and output stalls, one vector per L cycles without stalls.

* Amaranth simulator: every normaliser, lengths 1..8, exp methods and formats, two stall
  seeds; the no-stall cycle count (N vectors: ``N L + latency + L - 1`` cycles, first logit
  to last probability) and the measured latency;
* exported Verilog on Icarus and Verilator: the cocotb stream bench (corners + 2,000 random
  vectors, seeded stalls on both sides) followed by its no-stall throughput run
  (``hwsim.sim.tb_softmax``), and the batched testbench (corners + 20,000 vectors) on
  Verilator.
"""

import json

import numpy as np
import pytest

from hwsim.exp import ExpBase, ExpMethod
from hwsim.fixed import FixedFormat as F
from hwsim.softmax import (Normalizer, SoftmaxForm, SoftmaxParams, corner_logits, softmax_fixed,
                           softmax_vectors)
from hwsim.sim.amaranth_sim import measure_latency, simulate_stream
from hwsim.units import get_unit
from rtl import run_and_check, sim_matrix

SOFTMAX = get_unit("softmax")

#: the configuration `hwsim synth softmax --length 8 --streaming --stages 17` measures
HEADLINE = SoftmaxParams(length=8, streaming=True, stages=17)

CONFIGS = [
    HEADLINE,
    SoftmaxParams(length=8, streaming=True),                       # combinational normaliser
    SoftmaxParams(length=1, streaming=True, stages=2),
    SoftmaxParams(length=2, streaming=True, stages=SoftmaxParams(length=2).quotient_bits),
    SoftmaxParams(length=3, streaming=True, method=ExpMethod.TAYLOR, order=2, stages=4),
    SoftmaxParams(length=5, streaming=True, normalizer=Normalizer.MITCHELL_DIV, stages=1),
    SoftmaxParams(length=4, streaming=True, normalizer=Normalizer.MITCHELL_DIV),
    SoftmaxParams(length=6, streaming=True, method=ExpMethod.PWL, segments=4,
                  normalizer=Normalizer.RECIPROCAL_LUT, recip_bits=3, out_fmt=F(1, 11, False),
                  stages=1),
    SoftmaxParams(length=5, streaming=True, method=ExpMethod.IBERT, base=ExpBase.TWO,
                  in_fmt=F(3, 5), out_fmt=F(0, 8, False), stages=3),  # saturating p = 1
]


@pytest.mark.parametrize("seed", [11, 12])
@pytest.mark.parametrize("params", CONFIGS, ids=lambda p: p.top_name)
def test_streaming_matches_model_under_stalls(params, seed):
    x = softmax_vectors(params, 120, seed)
    got = simulate_stream(SOFTMAX.component(params), x, stall_seed=seed).astype(np.int64)
    want = softmax_fixed(x, params)
    bad = np.flatnonzero((got != want).any(axis=1))
    assert bad.size == 0, f"x={x[bad[0]]}: rtl {got[bad[0]]} model {want[bad[0]]}"


@pytest.mark.parametrize("params", CONFIGS, ids=lambda p: p.top_name)
def test_streaming_one_vector_per_length_cycles(params):
    c = SOFTMAX.component(params)
    assert c.latency == params.latency == (params.length + params.stream_exp_stages
                                           + params.stages + 3)
    x = softmax_vectors(params, 40, 3)
    L, cycles = params.length, {}
    for n in (20, 40):
        got, cycles[n] = simulate_stream(c, x[:n], with_cycles=True)
        assert (got.astype(np.int64) == softmax_fixed(x[:n], params)).all()
        # the bench stops the cycle after the last probability
        assert cycles[n] == n * L + params.latency + L - 1, (n, cycles[n])
    per_vector = (cycles[40] - cycles[20]) / 20
    print(f"{params.top_name}: {cycles[40]} cycles for 40 vectors, {per_vector} per vector, "
          f"latency {params.latency}")
    assert per_vector == L
    assert measure_latency(c, x[0].tolist()) == params.latency


def test_default_is_not_streaming():
    assert SoftmaxParams().streaming is False
    assert SoftmaxParams().top_name == "softmax_two_pass_l8_exp_lut6_div_q4_4_uq1_15"
    assert HEADLINE.top_name == "softmax_two_pass_l8_exp_lut6_div_q4_4_uq1_15_p17_stream"
    assert SoftmaxParams.from_dict(HEADLINE.to_dict()) == HEADLINE


@pytest.mark.parametrize("form", [SoftmaxForm.ONLINE, SoftmaxForm.TAYLOR])
def test_streaming_refuses_other_forms(form):
    with pytest.raises(ValueError, match=rf"^SoftmaxParams.form must be two_pass when "
                                         rf"streaming, not {form.value}$"):
        SoftmaxParams(form=form, method=ExpMethod.TAYLOR, streaming=True)


def test_streaming_must_be_bool():
    with pytest.raises(TypeError, match=r"^SoftmaxParams.streaming must be a bool, not 1$"):
        SoftmaxParams(streaming=1)


RTL_CONFIGS = [HEADLINE,
               SoftmaxParams(length=3, streaming=True, normalizer=Normalizer.RECIPROCAL_LUT,
                             stages=1)]


@pytest.mark.parametrize("params,sim", sim_matrix(RTL_CONFIGS, {HEADLINE.top_name}))
def test_streaming_cocotb(params, sim, tmp_path, record_bench):
    r = run_and_check(SOFTMAX, params, sim, 2_000, 5, tmp_path, record_bench)
    assert r.vectors == 2_000 + len(corner_logits(params))
    print(f"{params.top_name} on {sim}: random stalls, {r.vectors} vectors in {r.cycles} cycles "
          f"({r.cycles / r.vectors:.2f} per vector)")
    t = json.loads((tmp_path / f"{params.top_name}_{sim}" / "result.json").read_text())["throughput"]
    print(f"{params.top_name} on {sim}: {t['vectors']} vectors without stalls in {t['cycles']} "
          f"cycles, {t['cycles_per_vector']} cycles per vector, latency {t['latency']}")
    assert t["mismatches"] == 0
    assert t["cycles_per_vector"] == params.length
    assert t["cycles"] == t["vectors"] * params.length + params.latency + params.length - 1
    assert t["latency"] == params.latency


@pytest.mark.parametrize("params,sim", sim_matrix([HEADLINE], set(), sim_limited="icarus"))
def test_streaming_batched(params, sim, tmp_path, record_bench):
    from hwsim.sim.batched import run_batched
    r = run_batched(SOFTMAX, params, sim=sim, vectors=20_000, seed=9, build_root=tmp_path)
    record_bench(r)
    assert r.vectors == 20_000 + len(corner_logits(params))
    assert r.mismatches == 0, r.examples
