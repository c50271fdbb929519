"""Amaranth exp units against the model, exhaustively, in Amaranth's simulator."""

import numpy as np
import pytest

from hwsim.exp import MAX_STAGES, ExpBase, ExpMethod, ExpParams
from hwsim.fixed import FixedFormat as F
from hwsim.sim.amaranth_sim import simulate
from hwsim.units import get_unit

EXP = get_unit("exp")

CONFIGS = [ExpParams(method=m, base=b, **kw)
           for m in ExpMethod for b in ExpBase
           for kw in (dict(), dict(in_fmt=F(3, 5), out_fmt=F(1, 7, False), stages=2,
                                   lut_bits=3, segments=1, order=8),
                      dict(in_fmt=F(2, 10), out_fmt=F(0, 16, False), stages=1,
                           lut_bits=10, segments=64, order=2))]


@pytest.mark.parametrize("params", CONFIGS, ids=lambda p: p.top_name)
def test_exp_hdl_exhaustive(params):
    vec = EXP.vectors(params, None, 0)
    got = simulate(EXP.component(params), vec, stall_seed=1 if params.stages else None)
    g = np.array([int(v) for v in got["y"]], dtype=np.int64)
    want = EXP.model(params, vec)["y"]
    bad = np.flatnonzero(g != want)
    assert g.size == 2 ** params.in_fmt.width
    assert bad.size == 0, f"x={vec['x'][bad[0]]}: rtl {g[bad[0]]} model {want[bad[0]]}"


def test_component_rejects_wrong_params():
    from hwsim.hdl.exp import ExpUnit
    with pytest.raises(TypeError, match=r"^ExpUnit needs ExpParams, not dict$"):
        ExpUnit({})


def _useful_stages(params) -> int:
    """Stage counts up to this one place a register at a new cut point (beyond: output)."""
    from hwsim.hdl.exp import cut_points
    return len(cut_points(params)[0]) + 1


PIPELINES = ([ExpParams(stages=s) for s in range(1, MAX_STAGES + 1)]
             + [ExpParams(method=m, base=b, stages=min(_useful_stages(ExpParams(method=m, base=b)),
                                                         MAX_STAGES))
                for m in ExpMethod for b in ExpBase if (m, b) != (ExpMethod.LUT, ExpBase.E)]
             + [ExpParams(method=m, in_fmt=F(3, 5), out_fmt=F(4, 8, False), stages=s)
                for m in (ExpMethod.PWL, ExpMethod.IBERT)
                for s in range(2, _useful_stages(ExpParams(method=m)))])


@pytest.mark.parametrize("params", PIPELINES, ids=lambda p: p.top_name)
def test_pipelined_exp_every_stage_count(params):
    """Every stage count of the default unit and every method at its deepest pipeline:
    exhaustive, with seeded in_valid bubbles, and the measured latency is ``stages``."""
    from hwsim.sim.amaranth_sim import measure_latency
    vec = EXP.vectors(params, None, 0)
    got = simulate(EXP.component(params), vec, stall_seed=3)
    g = np.array([int(v) for v in got["y"]], dtype=np.int64)
    want = EXP.model(params, vec)["y"]
    assert g.size == want.size
    bad = np.flatnonzero(g != want)
    assert bad.size == 0, f"x={vec['x'][bad[0]]}: rtl {g[bad[0]]} model {want[bad[0]]}"
    assert measure_latency(EXP.component(params), {"x": 0}) == params.stages == params.latency


def test_cut_points_and_register_order():
    from hwsim.hdl.exp import cut_points
    names, order = cut_points(ExpParams())
    assert names == ["log2_mul", "log2", "mant", "shift"]
    assert [names[i] for i in order] == ["log2", "log2_mul", "mant", "shift"]
    names, order = cut_points(ExpParams(method=ExpMethod.TAYLOR, order=2))
    assert names == ["t", "horner2a", "horner2b", "horner1b"]
    assert [names[i] for i in order] == ["t", "horner1b", "horner2b", "horner2a"]
    for p in [ExpParams(method=m, base=b, order=o) for m in ExpMethod for b in ExpBase
              for o in (2, 4, 8)]:
        names, order = cut_points(p)
        assert sorted(order) == list(range(len(names))), p


def test_const_mul_is_exact():
    from amaranth.hdl import Module, Signal, signed

    from hwsim.hdl.exp import const_mul, csd_digits
    for k in (0, 1, 3, 7, 378194, 181704, (1 << 38) - 1, 0x2AAAAAAAA):
        assert sum(d << s for s, d in csd_digits(k)) == k
        digits = [s for s, _ in csd_digits(k)]
        assert all(b - a >= 2 for a, b in zip(digits, digits[1:]))  # no adjacent digits
    from amaranth.sim import Simulator
    m = Module()
    x = Signal(signed(9))
    outs = {(k, off): const_mul(m, x, k, lambda _n, **v: v, f"c{k}", off)[0]
            for k in (1, 5, 378194, 181704) for off in (0, -7 << 20, 12 << 40)}
    seen = []

    async def bench(ctx):
        for xv in (-256, -1, 0, 1, 77, 255):
            ctx.set(x, xv)
            seen.extend(ctx.get(v) == xv * k + off for (k, off), v in outs.items())

    sim = Simulator(m)
    sim.add_testbench(bench)
    sim.run()
    assert seen and all(seen)


def test_pipeline_order_must_be_a_permutation():
    from amaranth.hdl import Module

    from hwsim.hdl.pipeline import Pipeline
    with pytest.raises(ValueError, match=r"^Pipeline order must be a permutation of "
                                         r"range\(3\), not \[0, 0, 2\]$"):
        Pipeline(Module(), 2, 3, None, [0, 0, 2])
    pipe = Pipeline(Module(), 3, 3, None, [2, 0, 1])  # two internal registers: cuts 2 and 0
    assert [pipe.next_registered, pipe.cut("a") == {}, pipe.next_registered] == [True, True, False]
