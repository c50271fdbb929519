"""Exported REALM-style Verilog in Icarus Verilog and Verilator (cocotb) against the model.

Exhaustive at width 8 (the front configuration keep_bits 3, m 2, q 2) on both simulators; one
wide configuration (width 16, keep_bits 5, m 3, q 3) with every pair of corner values and
20,000 seeded random vectors on Icarus. Every output is compared by exact integer equality.
"""

import pytest

from hwsim.realm import RealmMulParams
from hwsim.units import get_unit
from hwsim.vectors import corner_values
from rtl import run_and_check, sim_matrix

REALM = get_unit("realm-mul")
RANDOM = 20_000

EXHAUSTIVE = [RealmMulParams(width=8, keep_bits=3, m=2, q=2)]
WIDE = [RealmMulParams(width=16, keep_bits=5, m=3, q=3)]
VERILATOR_SUBSET = {p.top_name for p in EXHAUSTIVE}


@pytest.mark.parametrize("params,sim", sim_matrix(EXHAUSTIVE, VERILATOR_SUBSET))
def test_realm_exhaustive(params, sim, tmp_path, record_bench):
    r = run_and_check(REALM, params, sim, None, 0, tmp_path, record_bench)
    assert r.vectors == 4 ** params.width


@pytest.mark.parametrize("params,sim", sim_matrix(WIDE, set()))
def test_realm_wide_random(params, sim, tmp_path, record_bench):
    r = run_and_check(REALM, params, sim, RANDOM, params.width, tmp_path, record_bench)
    assert r.vectors == RANDOM + corner_values(params.width, False).size ** 2
