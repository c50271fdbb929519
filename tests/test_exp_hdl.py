"""Amaranth exp units against the model, exhaustively, in Amaranth's simulator."""

import numpy as np
import pytest

from hwsim.exp import ExpBase, ExpMethod, ExpParams
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
