"""The DRUM component against the numpy model in Amaranth's simulator (no external tools)."""

import numpy as np
import pytest

from hwsim.drum import DrumMulParams
from hwsim.sim.amaranth_sim import simulate
from hwsim.units import get_unit

DRUM = get_unit("drum-mul")


def check(params, count, seed=0, stall_seed=None):
    vec = DRUM.vectors(params, count, seed)
    got = simulate(DRUM.component(params), vec, stall_seed=stall_seed)
    want = DRUM.model(params, vec)["p"]
    g = np.array([int(x) for x in got["p"]], dtype=object)
    bad = np.flatnonzero(g != want.astype(object))
    assert bad.size == 0, (f"{params.top_name}: {bad.size} mismatches; first at "
                           f"a={vec['a'][bad[0]]} b={vec['b'][bad[0]]}: rtl {g[bad[0]]} "
                           f"model {want[bad[0]]}")
    return len(vec["a"])


@pytest.mark.parametrize("params", [DrumMulParams(width=5, k=k) for k in range(2, 6)]
                         + [DrumMulParams(width=4, k=2, stages=1),
                            DrumMulParams(width=5, k=3, stages=3)], ids=lambda p: p.top_name)
def test_exhaustive_small(params):
    assert check(params, None) == 4 ** params.width


@pytest.mark.parametrize("params", [pytest.param(DrumMulParams(width=24, k=2), marks=pytest.mark.slow), DrumMulParams(width=24, k=24),
                                    DrumMulParams(width=16, k=6, stages=2)],
                         ids=lambda p: p.top_name)
def test_wide_random(params):
    check(params, 1000, seed=params.width, stall_seed=1 if params.stages else None)
