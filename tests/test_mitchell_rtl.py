"""Exported Mitchell Verilog in Icarus Verilog and Verilator (cocotb) against the models.

Exhaustive for every configuration of widths <= 8; corners + seeded random vectors (10,000 on
Icarus, 30,000 on Verilator) for widths 12, 16, 24 and 32. Every output is compared by exact
integer equality.

Icarus runs the whole matrix except the configurations tests/test_formal.py proves from the
same Verilog text (``PROVED``): one combinational and one pipelined configuration per unit
through the cocotb bench (``COCOTB``), the others through the batched testbench (the same
vectors and stall pattern, a fifth of the CPU time). Verilator compiles each configuration to C++ (20-50 s a
build), so it runs one combinational and one pipelined configuration per unit, exhaustive
and wide; the bulk vectors on Verilator go through the batched testbench
(tests/test_batched.py, hundreds of thousands of vectors a second).
"""

import pytest

from hwsim import MitchellDivParams, MitchellMulParams
from hwsim.units import get_unit
from hwsim.vectors import corner_values
from rtl import base_sim, run_and_check, sim_matrix

MUL, DIV = get_unit("mitchell-mul"), get_unit("mitchell-div")
#: random vectors of the wide configurations per simulator: Icarus runs ~5k vectors/s, so it
#: gets fewer; the equivalence at every width up to 32 is proved formally (test_formal.py,
#: make prove), the simulations cross-check the exported Verilog on two simulators
RANDOM = {"icarus": 10_000, "verilator": 30_000}

MUL_EXHAUSTIVE = [MitchellMulParams(width=w, signed=s, keep_bits=k, stages=st)
                  for w in (4, 8) for s in (False, True) for k in (None, w // 2 - 1)
                  for st in (0, 2)]
DIV_EXHAUSTIVE = [MitchellDivParams(width=w, frac_bits=f, keep_bits=k, stages=st)
                  for w in (4, 8) for f in (0, 8) for k in (None, w // 2 - 1) for st in (0, 2)]
MUL_WIDE = [MitchellMulParams(width=w, signed=s, stages=st)
            for w in (12, 16, 24, 32) for s, st in ((False, 0), (True, 2))]
DIV_WIDE = [MitchellDivParams(width=w, frac_bits=f, stages=st)
            for w, f, st in ((12, 12, 0), (16, 8, 2), (24, 0, 0), (32, 32, 1))]

ids = lambda p: p.top_name  # noqa: E731

VERILATOR_SUBSET = {
    "mitchell_mul_s8_k3_p2", "mitchell_mul_u32",      # pipelined exhaustive, combinational wide
    "mitchell_div_u8_f8", "mitchell_div_u16_f8_p2",   # combinational exhaustive, pipelined wide
}
#: through the cocotb bench on Icarus: per unit one combinational, one pipelined
COCOTB = {"mitchell_mul_s4", "mitchell_mul_s4_k1_p2", "mitchell_div_u4_f8", "mitchell_div_u4_f0_k1_p2"}
#: proved for all inputs (test_formal.py: test_combinational_units_are_proved,
#: test_pipelines_are_proved_by_bmc) from the Verilog these benches would simulate
PROVED = {"mitchell_mul_u8", "mitchell_mul_s8", "mitchell_div_u8_f0", "mitchell_div_u8_f8_p2"}
assert VERILATOR_SUBSET | PROVED | COCOTB <= {p.top_name for p in
                                     MUL_EXHAUSTIVE + DIV_EXHAUSTIVE + MUL_WIDE + DIV_WIDE}


@pytest.mark.parametrize("params,sim", sim_matrix(MUL_EXHAUSTIVE, VERILATOR_SUBSET, skip=PROVED,
                                                cocotb=COCOTB))
def test_mul_exhaustive(params, sim, tmp_path, record_bench):
    r = run_and_check(MUL, params, sim, None, 0, tmp_path, record_bench)
    assert r.vectors == 4 ** params.width


@pytest.mark.parametrize("params,sim", sim_matrix(DIV_EXHAUSTIVE, VERILATOR_SUBSET, skip=PROVED,
                                                cocotb=COCOTB))
def test_div_exhaustive(params, sim, tmp_path, record_bench):
    r = run_and_check(DIV, params, sim, None, 0, tmp_path, record_bench)
    assert r.vectors == 4 ** params.width


@pytest.mark.parametrize("params,sim", sim_matrix(MUL_WIDE, VERILATOR_SUBSET, cocotb=COCOTB))
def test_mul_wide_random(params, sim, tmp_path, record_bench):
    r = run_and_check(MUL, params, sim, RANDOM[base_sim(sim)], params.width, tmp_path, record_bench)
    assert r.vectors == RANDOM[base_sim(sim)] + corner_values(params.width, params.signed).size ** 2


@pytest.mark.parametrize("params,sim", sim_matrix(DIV_WIDE, VERILATOR_SUBSET, cocotb=COCOTB))
def test_div_wide_random(params, sim, tmp_path, record_bench):
    r = run_and_check(DIV, params, sim, RANDOM[base_sim(sim)], params.width, tmp_path, record_bench)
    assert r.vectors == RANDOM[base_sim(sim)] + corner_values(params.width, False).size ** 2
