"""Performer feature-map unit (Amaranth) against the model in Amaranth's simulator."""

import numpy as np
import pytest

from hwsim.performer import FeatureKind, PerformerParams
from hwsim.sim.amaranth_sim import simulate_stream
from hwsim.units import get_unit

PERF = get_unit("performer")
CONFIGS = [PerformerParams(dim=3, features=4), PerformerParams(dim=4, features=9, kind=FeatureKind.IID),
           PerformerParams(dim=2, features=5, kind=FeatureKind.ORTHOGONAL_QUANTILE, omega_seed=3),
           PerformerParams(dim=1, features=1)]


@pytest.mark.parametrize("params", CONFIGS, ids=lambda p: p.top_name)
def test_performer_hdl_matches_model(params):
    vec = PERF.vectors(params, 40, 2)
    got = simulate_stream(PERF.component(params), vec["x"], stall_seed=4,
                          out_len=params.features).astype(np.int64)
    want = PERF.model(params, vec)["y"]
    bad = np.flatnonzero((got != want).any(axis=1))
    assert bad.size == 0, f"x={vec['x'][bad[0]]}: rtl {got[bad[0]]} model {want[bad[0]]}"
