"""Exported DRUM Verilog in Icarus Verilog and Verilator against the model (cocotb; the wide
unit's Verilator vectors through the batched testbench).

Per simulator one pipelined configuration exhaustive (width 8, k = 6, two stages: its valid
chain with input bubbles) and one wide combinational one (width 16, k = 6) with every pair of
corner values and seeded random vectors (20,000 on Icarus, 200,000 on Verilator). The
combinational width-8 units (k = 3, 4, 6, 8) and the k = 4 pipeline are proved for all inputs
from the same Verilog (tests/test_formal_drum.py), so they are not simulated again. Every
output is compared by exact integer equality.
"""

import pytest

from hwsim.drum import DrumMulParams
from hwsim.units import get_unit
from hwsim.vectors import corner_values
from rtl import base_sim, run_and_check, sim_matrix

DRUM = get_unit("drum-mul")
RANDOM = {"icarus": 20_000, "verilator": 200_000}

EXHAUSTIVE = [DrumMulParams(width=8, k=6, stages=2)]
WIDE = [DrumMulParams(width=16, k=6)]
VERILATOR_SUBSET = {p.top_name for p in EXHAUSTIVE + WIDE}


@pytest.mark.parametrize("params,sim", sim_matrix(EXHAUSTIVE, VERILATOR_SUBSET))
def test_drum_exhaustive(params, sim, tmp_path, record_bench):
    r = run_and_check(DRUM, params, sim, None, 0, tmp_path, record_bench)
    assert r.vectors == 4 ** params.width


# the 200,000 Verilator vectors through the batched testbench (the exhaustive pipeline's
# cocotb bench checks the handshake on Verilator): 24 s of CPU through cocotb
@pytest.mark.parametrize("params,sim", sim_matrix(WIDE, VERILATOR_SUBSET,
                                                batched_limited={p.top_name for p in WIDE}))
def test_drum_wide_random(params, sim, tmp_path, record_bench):
    n = RANDOM[base_sim(sim)]
    r = run_and_check(DRUM, params, sim, n, params.width, tmp_path, record_bench)
    assert r.vectors == n + corner_values(params.width, False).size ** 2
