"""Exported exp Verilog in Icarus and Verilator (cocotb), exhaustive over every input.

Every method and base on Icarus (combinational and pipelined), except the configurations
tests/test_formal_exp.py proves for all inputs from the same Verilog (``PROVED``): one
combinational and one pipelined configuration through the cocotb bench (``COCOTB``), the
others through the batched testbench (the same vectors and stall pattern); on
Verilator (20-50 s a build) two pipelines exhaustive and one wide combinational unit
(24-bit input, no proof at that size) with 60,000 seeded random inputs. Pipelined units run
twice in the bench (``sim/tb_exp.py``): with ~30 % seeded ``in_valid`` bubbles and back to
back, every result checked in order and at exactly ``latency`` cycles after its input.
"""

import json

import pytest

from hwsim.exp import ExpBase, ExpMethod, ExpParams
from hwsim.fixed import FixedFormat as F
from hwsim.units import get_unit
from rtl import BATCHED, run_and_check, sim_matrix

EXP = get_unit("exp")

CONFIGS = [ExpParams(method=m, base=b, stages=st)
           for m in ExpMethod for b, st in ((ExpBase.E, 0), (ExpBase.TWO, 2))]
CONFIGS += [ExpParams(method=ExpMethod.LUT, in_fmt=F(4, 8), out_fmt=F(1, 15, False), lut_bits=8),
            ExpParams(method=ExpMethod.TAYLOR, order=8, in_fmt=F(3, 9), out_fmt=F(2, 14, False))]
# the default unit at the pipelines that close timing (docs/units/exp.md), and the deepest
# pipelines of the methods with multipliers
CONFIGS += [ExpParams(stages=st) for st in (3, 5)]
CONFIGS += [ExpParams(method=ExpMethod.IBERT, stages=10), ExpParams(method=ExpMethod.PWL, stages=7),
            ExpParams(method=ExpMethod.TAYLOR, stages=8)]
VERILATOR_SUBSET = {"exp2_taylor4_q4_8_uq12_12_p2", "exp_ibert_q4_8_uq12_12_p10"}
#: proved for all inputs from the same Verilog (test_formal_exp.py: every method at base e,
#: combinational, and the default unit at 3 and 5 stages)
PROVED = {f"exp_{m}_q4_8_uq12_12" for m in ("lut6", "pwl8", "ibert", "taylor4", "mitchell")}
PROVED |= {"exp_lut6_q4_8_uq12_12_p3", "exp_lut6_q4_8_uq12_12_p5"}
#: through the cocotb bench on Icarus
COCOTB = {"exp_taylor8_q3_9_uq2_14", "exp2_lut6_q4_8_uq12_12_p2"}
assert VERILATOR_SUBSET | PROVED | COCOTB <= {p.top_name for p in CONFIGS}
#: combinational, 24-bit input: random vectors (Verilator runs them at ~10**4 a second)
WIDE = [ExpParams(method=ExpMethod.IBERT, in_fmt=F(4, 20), out_fmt=F(4, 28, False))]
WIDE_RANDOM = 60_000


@pytest.mark.parametrize("params,sim", sim_matrix(CONFIGS, VERILATOR_SUBSET, skip=PROVED,
                                                cocotb=COCOTB))
def test_exp_exhaustive(params, sim, tmp_path, record_bench):
    r = run_and_check(EXP, params, sim, None, 0, tmp_path, record_bench)
    n = 2 ** params.in_fmt.width
    assert r.vectors == n
    if params.stages and not sim.endswith(BATCHED):  # the cocotb bench's own counts
        res = json.loads((tmp_path / f"{params.top_name}_{sim}" / "result.json").read_text())
        assert res["timing_errors"] == 0
        assert res["throughput_cycles"] == n + params.latency  # one result per cycle
        assert 0.25 < res["bubble_fraction"] < 0.35
        assert res["cycles"] > n / 0.75  # the bubbles really slowed the first run down


@pytest.mark.parametrize("params,sim", sim_matrix(WIDE, set(), sim_limited="icarus"))
def test_exp_wide_random(params, sim, tmp_path, record_bench):
    r = run_and_check(EXP, params, sim, WIDE_RANDOM, 3, tmp_path, record_bench)
    assert WIDE_RANDOM < r.vectors < WIDE_RANDOM + 100  # the corners, then the random inputs
