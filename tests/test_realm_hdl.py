"""The REALM-style component against the numpy model in Amaranth's simulator (no external
tools)."""

import numpy as np
import pytest

from hwsim.realm import RealmMulParams
from hwsim.sim.amaranth_sim import simulate
from hwsim.units import get_unit

REALM = get_unit("realm-mul")


def check(params, count, seed=0, stall_seed=None):
    vec = REALM.vectors(params, count, seed)
    got = simulate(REALM.component(params), vec, stall_seed=stall_seed)
    want = REALM.model(params, vec)["p"]
    g = np.array([int(x) for x in got["p"]], dtype=object)
    bad = np.flatnonzero(g != want.astype(object))
    assert bad.size == 0, (f"{params.top_name}: {bad.size} mismatches; first at "
                           f"a={vec['a'][bad[0]]} b={vec['b'][bad[0]]}: rtl {g[bad[0]]} "
                           f"model {want[bad[0]]}")
    return len(vec["a"])


@pytest.mark.parametrize("params", [RealmMulParams(width=5, keep_bits=t, m=m, q=q)
                                    for t, m, q in [(1, 1, 1), (2, 0, 0), (2, 2, 2), (3, 1, 2),
                                                    (4, 0, 1), (4, 3, 4)]]
                         + [RealmMulParams(width=4, keep_bits=2, m=1, q=1, stages=1),
                            RealmMulParams(width=5, keep_bits=3, m=2, q=2, stages=3)],
                         ids=lambda p: p.top_name)
def test_exhaustive_small(params):
    assert check(params, None) == 4 ** params.width


@pytest.mark.parametrize("params", [RealmMulParams(width=24, keep_bits=1, m=0, q=1),
                                    RealmMulParams(width=24, keep_bits=23, m=4, q=8),
                                    RealmMulParams(width=16, keep_bits=5, m=3, q=3, stages=2)],
                         ids=lambda p: p.top_name)
def test_wide_random(params):
    check(params, 1000, seed=params.width, stall_seed=1 if params.stages else None)
