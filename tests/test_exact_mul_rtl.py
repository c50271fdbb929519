"""The exact multiplier's exported Verilog in Icarus and Verilator (cocotb) against its model:
a combinational and a pipelined configuration, exhaustive."""

import pytest

from hwsim.exact_mul import ExactMulParams
from hwsim.units import get_unit
from rtl import run_and_check, sim_matrix

EXACT = get_unit("exact-mul")


RTL = [ExactMulParams(width=8, signed=True), ExactMulParams(width=6, stages=2)]


@pytest.mark.hdl
@pytest.mark.parametrize("params,sim", sim_matrix(RTL, {p.top_name for p in RTL}))
def test_exported_verilog_equals_the_model(params, sim, tmp_path, record_bench):
    r = run_and_check(EXACT, params, sim, None, 0, tmp_path, record_bench)
    assert r.vectors == 4 ** params.width
