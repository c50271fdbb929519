"""Streaming attention head (Amaranth) against the model, in Amaranth's simulator."""

import numpy as np
import pytest

from hwsim.attention import AttentionParams, Multiplier
from hwsim.fixed import FixedFormat as F
from hwsim.sim.amaranth_sim import simulate_stream
from hwsim.softmax import Normalizer
from hwsim.units import get_unit

ATT = get_unit("attention")
CONFIGS = [AttentionParams(length=3, dim=2),
           AttentionParams(length=4, dim=3, multiplier=Multiplier.MITCHELL),
           AttentionParams(length=2, dim=4, multiplier=Multiplier.MITCHELL, keep_bits=2,
                           softmax_normalizer=Normalizer.RECIPROCAL_LUT, out_fmt=F(3, 5)),
           AttentionParams(length=1, dim=1),
           AttentionParams(length=3, dim=2, softmax_stages=5),  # a pipelined softmax inside
           AttentionParams(length=3, dim=2, softmax_streaming=True, softmax_stages=4)]


@pytest.mark.parametrize("params", CONFIGS, ids=lambda p: p.top_name)
def test_attention_hdl_matches_model(params):
    vec = ATT.vectors(params, 24, 3)
    got = simulate_stream(ATT.component(params), vec["x"], stall_seed=9,
                          out_len=params.length * params.dim).astype(np.int64)
    want = ATT.model(params, vec)["y"]
    bad = np.flatnonzero((got != want).any(axis=1))
    assert bad.size == 0, f"problem {bad[0]}: rtl {got[bad[0]]} model {want[bad[0]]}"
