"""Amaranth components against the numpy models, in Amaranth's simulator (no external tools)."""

import numpy as np
import pytest

from hwsim import MitchellDivParams, MitchellMulParams
from hwsim.sim.amaranth_sim import simulate
from hwsim.units import get_unit
from hwsim.vectors import corner_values

MUL = get_unit("mitchell-mul")
DIV = get_unit("mitchell-div")


def check(spec, params, count, seed=0, stall_seed=None, corner_pairs=None):
    """Model against HDL on ``spec.vectors``; ``corner_pairs`` keeps every pair with an
    extreme operand (0, +-1, the range ends) and that many of the other corner pairs, seeded
    (the full corner grid of a 32-bit signed unit is 57,600 pairs in the Python simulator)."""
    vec = spec.vectors(params, count, seed)
    if corner_pairs is not None:
        vec = _sample_corners(params, vec, corner_pairs, seed)
    got = simulate(spec.component(params), vec, stall_seed=stall_seed)
    want = spec.model(params, vec)
    assert set(got) == set(want)
    for port in want:
        g = np.array([int(x) for x in got[port]], dtype=object)
        w = np.array([int(x) for x in want[port]], dtype=object)
        bad = np.flatnonzero(g != w)
        assert bad.size == 0, (
            f"{params.top_name}: {bad.size} mismatches on {port}; first at "
            + ", ".join(f"{k}={int(v[bad[0]])}" for k, v in vec.items())
            + f": rtl {g[bad[0]]} model {w[bad[0]]}")
    return len(vec["a"])


def _sample_corners(params, vec, keep, seed):
    n = corner_values(params.width, params.signed).size ** 2
    lo, hi = params.in_range
    extreme = np.array([lo, lo + 1, -1, 0, 1, hi - 1])
    a, b = vec["a"][:n], vec["b"][:n]
    edge = np.isin(a, extreme) | np.isin(b, extreme)
    rest = np.flatnonzero(~edge)
    assert rest.size > keep  # else there is nothing to sample
    chosen = np.sort(np.random.default_rng(seed).choice(rest, keep, replace=False))
    idx = np.concatenate([np.flatnonzero(edge), chosen, np.arange(n, len(vec["a"]))])
    return {k: v[idx] for k, v in vec.items()}


@pytest.mark.parametrize("params", [
    MitchellMulParams(width=4), MitchellMulParams(width=4, signed=True),
    MitchellMulParams(width=5, keep_bits=1), MitchellMulParams(width=4, signed=True, keep_bits=0),
    MitchellMulParams(width=2), MitchellMulParams(width=2, signed=True),
], ids=lambda p: p.top_name)
def test_mul_exhaustive_small(params):
    assert check(MUL, params, None) == 4 ** params.width


@pytest.mark.parametrize("params", [
    MitchellMulParams(width=8), MitchellMulParams(width=8, signed=True, keep_bits=3),
    pytest.param(MitchellMulParams(width=16, signed=True), marks=pytest.mark.slow),
    pytest.param(MitchellMulParams(width=32), marks=pytest.mark.slow),
    pytest.param(MitchellMulParams(width=32, signed=True, keep_bits=10), marks=pytest.mark.slow),
], ids=lambda p: p.top_name)
def test_mul_random(params):
    wide = params.width == 32 and params.signed
    n = check(MUL, params, 1500, seed=params.width, corner_pairs=4000 if wide else None)
    assert n >= 1500 + (4000 if wide else corner_values(params.width, params.signed).size ** 2)


@pytest.mark.parametrize("params", [
    MitchellMulParams(width=8, stages=1), MitchellMulParams(width=8, signed=True, stages=2),
    MitchellMulParams(width=12, stages=3), MitchellMulParams(width=6, keep_bits=2, stages=5),
], ids=lambda p: p.top_name)
def test_mul_pipelined_with_stalls(params):
    check(MUL, params, 800, seed=1, stall_seed=2)


@pytest.mark.parametrize("params", [
    MitchellDivParams(width=4, frac_bits=0), MitchellDivParams(width=4, frac_bits=8),
    MitchellDivParams(width=5, frac_bits=3, keep_bits=1), MitchellDivParams(width=2, frac_bits=0),
    MitchellDivParams(width=3, frac_bits=32),
], ids=lambda p: p.top_name)
def test_div_exhaustive_small(params):
    assert check(DIV, params, None) == 4 ** params.width


@pytest.mark.parametrize("params", [
    MitchellDivParams(width=8, frac_bits=8), MitchellDivParams(width=16, frac_bits=0, keep_bits=5),
    pytest.param(MitchellDivParams(width=32, frac_bits=32), marks=pytest.mark.slow), MitchellDivParams(width=24, frac_bits=12),
], ids=lambda p: p.top_name)
def test_div_random(params):
    check(DIV, params, 1500, seed=params.width)


@pytest.mark.parametrize("params", [
    MitchellDivParams(width=8, frac_bits=8, stages=1), MitchellDivParams(width=10, frac_bits=4, stages=3),
], ids=lambda p: p.top_name)
def test_div_pipelined_with_stalls(params):
    check(DIV, params, 800, seed=1, stall_seed=3)


def test_component_signature_and_latency():
    from amaranth.hdl import signed as s
    dut = MUL.component(MitchellMulParams(width=8, signed=True, stages=2))
    members = dut.signature.members
    assert set(members) == {"a", "b", "p", "in_valid", "out_valid"}
    assert members["p"].shape == s(16) and dut.latency == 2
    div = DIV.component(MitchellDivParams(width=8, frac_bits=4))
    assert set(div.signature.members) == {"a", "b", "q", "div_by_zero"} and div.latency == 0
    with pytest.raises(TypeError, match=r"^MitchellMultiplier needs MitchellMulParams, not "):
        MUL.hdl_class()(MitchellDivParams())


@pytest.mark.parametrize("width", [1, 2, 3, 5, 8, 9])
def test_leading_zeros_and_normalize_by_count_every_input(width):
    """``leading_zeros`` (the parallel count) and ``normalize(x, count=...)`` against Python,
    for every input of widths that are and are not powers of two; the self-detecting
    ``normalize(x)`` must give the same count and value."""
    from amaranth.hdl import Module
    from amaranth.lib import wiring
    from amaranth.lib.wiring import In, Out

    from hwsim.hdl.mitchell import leading_zeros, normalize
    cbits = max(1, (width - 1).bit_length())

    class Probe(wiring.Component):
        x: In(width)
        zero: Out(1)
        count: Out(cbits)
        value: Out(width)
        count_self: Out(cbits)
        value_self: Out(width)
        latency = 0

        def elaborate(self, platform):
            m = Module()
            zero, count = leading_zeros(self.x)
            _, value = normalize(self.x, count=count)
            count_self, value_self = normalize(self.x)
            m.d.comb += [self.zero.eq(zero), self.count.eq(count), self.value.eq(value),
                         self.count_self.eq(count_self), self.value_self.eq(value_self)]
            return m

    x = np.arange(1 << width, dtype=np.int64)
    out = simulate(Probe(), {"x": x})
    lz = np.array([width - int(v).bit_length() for v in x])
    lz[0] = (1 << cbits) - 1  # x == 0: an all-ones count and an all-zero value
    assert np.array_equal(out["zero"], (x == 0).astype(np.int64))
    assert np.array_equal(out["count"], lz)
    assert np.array_equal(out["value"], (x << np.minimum(lz, width)) & ((1 << width) - 1))
    assert np.array_equal(out["count_self"], out["count"])
    assert np.array_equal(out["value_self"], out["value"])
