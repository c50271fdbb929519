"""Exported attention-head Verilog against the model, exact equality.

The head is proven only by sub-block (tests/test_formal_attention.py: its two MAC paths), so
its stream level is simulated here:

* batched stream testbench (generated Verilog, LFSR stalls): the corner problems + 3,038
  random (Q, K, V) sets per configuration on Verilator (~400 sets/s; exact, Mitchell with
  keep_bits, pipelined and streaming softmax inside); Icarus evaluates a head at only
  ~2-10 sets/s, so it runs 60 sets of the exact head;
* cocotb stream bench (Python-driven random stalls): corners + 10 sets, on Icarus the exact,
  Mitchell and streaming-softmax heads, on Verilator the exact head.
"""

import pytest

from hwsim.attention import AttentionParams, Multiplier, corner_problems
from hwsim.sim.batched import run_batched
from hwsim.units import get_unit
from rtl import run_and_check, sim_matrix

ATT = get_unit("attention")
#: Icarus evaluates a head at ~2-10 sets/s: it checks its reading of the Verilog and the
#: handshake on few sets; the 4 Verilator batched runs take the 150 sets that moved
SETS = 3_038
ICARUS_SETS = 60
COCOTB_SETS = 10
CONFIGS = [AttentionParams(length=8, dim=8),
           AttentionParams(length=8, dim=8, multiplier=Multiplier.MITCHELL),
           AttentionParams(length=4, dim=16, multiplier=Multiplier.MITCHELL, keep_bits=3),
           AttentionParams(length=8, dim=8, softmax_stages=8),  # pipelined softmax inside
           # the streaming softmax inside (the 40 MHz head of docs/units/attention.md)
           AttentionParams(length=8, dim=8, softmax_streaming=True, softmax_stages=17)]


@pytest.mark.parametrize("params,sim", sim_matrix(CONFIGS, {CONFIGS[0].top_name},
                                                    sim_limited="icarus",
                                                    skip={CONFIGS[1].top_name}))
def test_attention_batched(params, sim, tmp_path, record_bench):
    sets = SETS if sim == "verilator" else ICARUS_SETS
    r = run_batched(ATT, params, sim=sim, vectors=sets, seed=2, build_root=tmp_path)
    record_bench(r)
    assert r.vectors == sets + len(corner_problems(params))
    assert r.mismatches == 0, r.examples


# the streaming-softmax head: cocotb with stalls on Icarus, batched on Verilator (above)
@pytest.mark.parametrize("params,sim", sim_matrix(CONFIGS[:2] + CONFIGS[-1:],
                                                    {CONFIGS[0].top_name}))
def test_attention_cocotb_stream(params, sim, tmp_path, record_bench):
    r = run_and_check(ATT, params, sim, COCOTB_SETS, 4, tmp_path, record_bench)
    assert r.vectors == COCOTB_SETS + len(corner_problems(params))


@pytest.mark.unit("attention", sim="verilator")
@pytest.mark.sim
def test_largest_head_on_verilator(tmp_path, record_bench):
    """L = d = 32 (the size the issue asks for), Mitchell products: corners + 40 problems."""
    from rtl import require_sim
    require_sim("verilator")
    p = AttentionParams(length=32, dim=32, multiplier=Multiplier.MITCHELL)
    r = run_batched(ATT, p, sim="verilator", vectors=40, seed=8, build_root=tmp_path)
    record_bench(r)
    assert r.vectors == 40 + len(corner_problems(p)) and r.mismatches == 0, r.examples
