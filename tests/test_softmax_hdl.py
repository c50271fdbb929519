"""Amaranth softmax against the model in Amaranth's simulator, with random stalls."""

import numpy as np
import pytest

from hwsim.exp import ExpBase, ExpMethod
from hwsim.fixed import FixedFormat as F
from hwsim.softmax import Normalizer, SoftmaxForm, SoftmaxParams, softmax_fixed, softmax_vectors
from hwsim.sim.amaranth_sim import simulate_stream
from hwsim.units import get_unit

SOFTMAX = get_unit("softmax")

CONFIGS = [SoftmaxParams(length=4, form=f, normalizer=n,
                         method=ExpMethod.TAYLOR if f is SoftmaxForm.TAYLOR else ExpMethod.LUT)
           for f in SoftmaxForm for n in Normalizer]
CONFIGS += [
    SoftmaxParams(length=1),
    SoftmaxParams(length=5, form=SoftmaxForm.ONLINE, method=ExpMethod.IBERT, base=ExpBase.TWO,
                  in_fmt=F(3, 5), out_fmt=F(0, 8, False)),
    SoftmaxParams(length=6, method=ExpMethod.PWL, segments=4, normalizer=Normalizer.RECIPROCAL_LUT,
                  recip_bits=3, out_fmt=F(1, 11, False)),
    SoftmaxParams(length=3, form=SoftmaxForm.ONLINE, method=ExpMethod.MITCHELL,
                  normalizer=Normalizer.MITCHELL_DIV),
]
# pipelined output paths (same values, more latency): every normaliser, a few depths
CONFIGS += [
    pytest.param(SoftmaxParams(length=4, stages=1), marks=pytest.mark.slow),
    SoftmaxParams(length=5, form=SoftmaxForm.ONLINE, stages=5),
    pytest.param(SoftmaxParams(length=3, form=SoftmaxForm.TAYLOR, method=ExpMethod.TAYLOR, stages=2), marks=pytest.mark.slow),
    SoftmaxParams(length=2, stages=SoftmaxParams(length=2).quotient_bits),
    SoftmaxParams(length=4, normalizer=Normalizer.MITCHELL_DIV, stages=1),
    # UQ0.8 cannot hold p = 1: a dominant logit drives the pipelined divider's saturation
    SoftmaxParams(length=4, out_fmt=F(0, 8, False), stages=3),
    SoftmaxParams(length=4, form=SoftmaxForm.ONLINE, normalizer=Normalizer.RECIPROCAL_LUT,
                  stages=1),
]


@pytest.mark.parametrize("params", CONFIGS, ids=lambda p: p.top_name)
def test_softmax_hdl_matches_model(params):
    x = softmax_vectors(params, 150, 7)
    got = simulate_stream(SOFTMAX.component(params), x, stall_seed=11).astype(np.int64)
    want = softmax_fixed(x, params)
    bad = np.flatnonzero((got != want).any(axis=1))
    assert bad.size == 0, f"x={x[bad[0]]}: rtl {got[bad[0]]} model {want[bad[0]]}"


def test_component_latency_and_ports():
    from hwsim.hdl.export import ports
    p = SoftmaxParams(length=8)
    c = SOFTMAX.component(p)
    assert c.latency == p.latency == 9
    assert ports(c)["i_stream__payload"] == {"dir": "in", "width": 8, "signed": True}
    assert ports(c)["o_stream__ready"]["dir"] == "in"
