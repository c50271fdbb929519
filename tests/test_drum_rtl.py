"""Exported DRUM Verilog in Icarus Verilog and Verilator (cocotb) against the model.

Exhaustive at width 8 (k = 4 and 6) on both simulators; one wide configuration (width 16,
k = 6) with every pair of corner values and 20,000 seeded random vectors on Icarus. Every
output is compared by exact integer equality.
"""

import pytest

from hwsim.drum import DrumMulParams
from hwsim.units import get_unit
from hwsim.vectors import corner_values
from rtl import run_and_check, sim_matrix

DRUM = get_unit("drum-mul")
RANDOM = 20_000

EXHAUSTIVE = [DrumMulParams(width=8, k=4), DrumMulParams(width=8, k=6)]
WIDE = [DrumMulParams(width=16, k=6)]
VERILATOR_SUBSET = {p.top_name for p in EXHAUSTIVE}


@pytest.mark.parametrize("params,sim", sim_matrix(EXHAUSTIVE, VERILATOR_SUBSET))
def test_drum_exhaustive(params, sim, tmp_path, record_bench):
    r = run_and_check(DRUM, params, sim, None, 0, tmp_path, record_bench)
    assert r.vectors == 4 ** params.width


@pytest.mark.parametrize("params,sim", sim_matrix(WIDE, set()))
def test_drum_wide_random(params, sim, tmp_path, record_bench):
    r = run_and_check(DRUM, params, sim, RANDOM, params.width, tmp_path, record_bench)
    assert r.vectors == RANDOM + corner_values(params.width, False).size ** 2
