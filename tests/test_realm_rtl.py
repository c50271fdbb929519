"""Exported REALM-style Verilog in Icarus Verilog and Verilator (cocotb) against the model.

Per simulator the front configuration (width 8, keep_bits 3, m 2, q 2) exhaustive with one
pipeline stage (its combinational and two-stage Verilog are proved for all inputs,
tests/test_formal_realm.py, so not simulated again), and one wide combinational configuration
(width 16, keep_bits 5, m 3, q 3) with every pair of corner values and seeded random vectors
(20,000 on Icarus, 100,000 on Verilator). Every output is compared by exact integer equality.
"""

import pytest

from hwsim.realm import RealmMulParams
from hwsim.units import get_unit
from hwsim.vectors import corner_values
from rtl import run_and_check, sim_matrix

REALM = get_unit("realm-mul")
RANDOM = {"icarus": 20_000, "verilator": 100_000}

EXHAUSTIVE = [RealmMulParams(width=8, keep_bits=3, m=2, q=2, stages=1)]
WIDE = [RealmMulParams(width=16, keep_bits=5, m=3, q=3)]
VERILATOR_SUBSET = {p.top_name for p in EXHAUSTIVE + WIDE}


@pytest.mark.parametrize("params,sim", sim_matrix(EXHAUSTIVE, VERILATOR_SUBSET))
def test_realm_exhaustive(params, sim, tmp_path, record_bench):
    r = run_and_check(REALM, params, sim, None, 0, tmp_path, record_bench)
    assert r.vectors == 4 ** params.width


@pytest.mark.parametrize("params,sim", sim_matrix(WIDE, VERILATOR_SUBSET))
def test_realm_wide_random(params, sim, tmp_path, record_bench):
    r = run_and_check(REALM, params, sim, RANDOM[sim], params.width, tmp_path, record_bench)
    assert r.vectors == RANDOM[sim] + corner_values(params.width, False).size ** 2
