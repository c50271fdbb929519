"""The float-mul / float-div components against the models in Amaranth's simulator.

Every format x method (and the divider), combinational and pipelined (with idle cycles on
``in_valid``): each corner pattern against 24 other corners drawn at random, plus seeded
random patterns. The exported Verilog is checked exhaustively (8-bit formats) and on the
structured and random sets in Icarus and Verilator by tests/test_float_mul_rtl.py.
"""

import numpy as np
import pytest

from hwsim.float_mul import FloatDivParams, FloatMethod, FloatMulParams, FloatType, float_corners
from hwsim.sim.amaranth_sim import simulate
from hwsim.units import get_unit

MUL, DIV = get_unit("float-mul"), get_unit("float-div")


def sample(fmt: FloatType, seed: int, per_corner: int = 24, random: int = 2_000):
    rng = np.random.default_rng(seed)
    c = float_corners(fmt)
    a = np.concatenate([np.repeat(c, per_corner), rng.integers(0, 1 << fmt.bits, random)])
    b = np.concatenate([rng.choice(c, c.size * per_corner), rng.integers(0, 1 << fmt.bits, random)])
    return {"a": a.astype(np.int64), "b": b.astype(np.int64)}


def check(spec, params, seed=0, stall_seed=None):
    vec = sample(params.fmt, seed)
    got = simulate(spec.component(params), vec, stall_seed=stall_seed)
    (port, want), = spec.model(params, vec).items()
    g = np.asarray(got[port], dtype=np.int64)
    bad = np.flatnonzero(g != want)
    assert bad.size == 0, (f"{params.top_name}: {bad.size} mismatches; first a={vec['a'][bad[0]]:#x} "
                           f"b={vec['b'][bad[0]]:#x}: rtl {g[bad[0]]:#x} model {want[bad[0]]:#x}")


MUL_CASES = [FloatMulParams(fmt=f, method=m) for f in FloatType for m in FloatMethod]
MUL_CASES += [FloatMulParams(fmt=FloatType.BF16, method=FloatMethod.LMUL, stages=1),
              FloatMulParams(fmt=FloatType.E4M3, method=FloatMethod.EXACT, stages=2),
              FloatMulParams(fmt=FloatType.FP32, method=FloatMethod.MITCHELL, stages=3)]
DIV_CASES = [FloatDivParams(fmt=f) for f in FloatType] + [FloatDivParams(fmt=FloatType.FP16, stages=2)]


@pytest.mark.parametrize("params", MUL_CASES, ids=lambda p: p.top_name)
def test_multiplier(params):
    check(MUL, params, seed=params.fmt.bits, stall_seed=3 if params.stages else None)


@pytest.mark.parametrize("params", DIV_CASES, ids=lambda p: p.top_name)
def test_divider(params):
    check(DIV, params, seed=5, stall_seed=4 if params.stages else None)


def test_components_refuse_other_params():
    from hwsim.hdl.float_mul import FloatDivider, FloatMultiplier
    with pytest.raises(TypeError, match=r"^FloatMultiplier needs FloatMulParams, not "):
        FloatMultiplier(FloatDivParams())
    with pytest.raises(TypeError, match=r"^FloatDivider needs FloatDivParams, not "):
        FloatDivider(FloatMulParams())


def test_exact_baseline_ignores_the_method():
    p = FloatMulParams(fmt=FloatType.E5M2, method=FloatMethod.MITCHELL)
    vec = sample(p.fmt, 1)
    got = simulate(MUL.baseline_component(p), vec)["p"]
    want = MUL.model(FloatMulParams(fmt=p.fmt, method=FloatMethod.EXACT), vec)["p"]
    np.testing.assert_array_equal(np.asarray(got, dtype=np.int64), want)
