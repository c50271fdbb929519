"""The exp models against the mathematics: Taylor facts, proven error bounds, properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.exp import (
    IBERT_A, IBERT_B, IBERT_C, ExpBase, ExpMethod, ExpParams, exp_fixed, exp_real,
    taylor_minimizer, taylor_poly,
)
from hwsim.fixed import FixedFormat as F

# -- even-order Taylor facts ---------------------------------------------------------------

PUBLISHED_MINIMA = {2: (-1.0, 0.5), 4: (-1.596, 0.2704), 6: (-2.181, 0.1493), 8: (-2.759, 0.0833)}


@pytest.mark.parametrize("order", [2, 4, 6, 8])
def test_taylor_minimizers_match_published_table(order):
    t, f = taylor_minimizer(order)
    want_t, want_f = PUBLISHED_MINIMA[order]
    assert round(t, 3) == want_t and round(f, 4) == want_f
    # a minimum: f_n' = f_{n-1} vanishes there, f_n'' = f_{n-2} > 0, f_n(t*) = t*^n / n!
    assert abs(taylor_poly(t, order - 1)) < 1e-12
    assert taylor_poly(t, order - 2) > 0
    assert math.isclose(f, t ** order / math.factorial(order), rel_tol=1e-9)


@pytest.mark.parametrize("order", [2, 4, 6, 8])
def test_even_orders_are_positive_everywhere(order):
    x = np.linspace(-50, 50, 200_001)
    assert taylor_poly(x, order).min() >= taylor_minimizer(order)[1] - 1e-12 > 0


@pytest.mark.parametrize("order", [1, 3, 5, 7])
def test_odd_orders_go_negative(order):
    # odd degree with a positive leading coefficient: -> -inf as x -> -inf
    assert taylor_poly(-2.0 * order - 2, order) < 0


# -- proven bounds of each method (inputs whose result is well inside the output range) -----

def ratio_on_range(p: ExpParams):
    x = np.arange(*p.in_range)
    exact = exp_real(x, p)
    keep = (exact >= 2.0 ** (10 - p.out_fmt.frac_bits)) & (exact <= p.out_fmt.max_raw * p.out_fmt.lsb / 2)
    approx = p.out_fmt.to_float(exp_fixed(x[keep], p))
    return approx / exact[keep]


def quantisation_slack(p: ExpParams) -> float:
    """Relative error from the output LSB (results >= 2**10 LSB) and the internal roundings."""
    return 2.0 ** -10 + 4 * 2.0 ** -p.internal_bits


CONFIGS = [dict(base=b, in_fmt=i, out_fmt=o) for b in ExpBase
           for i, o in ((F(4, 8), F(12, 12, False)), (F(3, 10), F(6, 16, False)))]


@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_mitchell_antilog_bound(cfg):
    # (1 + f) / 2**f has its maximum 2 / (e ln 2) at f = 1/ln 2 - 1 and is >= 1
    r = ratio_on_range(ExpParams(method=ExpMethod.MITCHELL, **cfg))
    slack = quantisation_slack(ExpParams(**cfg))
    assert r.min() >= 1 - slack and r.max() <= 2 / (math.e * math.log(2)) + slack
    assert r.max() > 2 / (math.e * math.log(2)) - 0.002  # the bound is attained


@pytest.mark.parametrize("lut_bits", [2, 4, 6, 8])
@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_lut_midpoint_bound(cfg, lut_bits):
    # a midpoint entry is within half a segment, 2**(+-1 / 2**(t+1)), of every 2**f it serves
    p = ExpParams(method=ExpMethod.LUT, lut_bits=lut_bits, **cfg)
    r = ratio_on_range(p)
    half = 2.0 ** (1 / 2 ** (lut_bits + 1))
    slack = quantisation_slack(p)
    assert 1 / half - slack <= r.min() and r.max() <= half + slack


@pytest.mark.parametrize("segments", [1, 4, 16, 64])
@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_pwl_chord_bound(cfg, segments):
    # chords of the convex 2**f lie above it. On a segment of width h with chord slope
    # c = (2**h - 1) / h (relative to its left knot), (1 + c u) / 2**u peaks at
    # u = 1/ln 2 - 1/c with the value c 2**(1/c) / (e ln 2), the same for every segment.
    p = ExpParams(method=ExpMethod.PWL, segments=segments, **cfg)
    r = ratio_on_range(p)
    h = 1 / segments
    c = (2 ** h - 1) / h
    peak = c * 2 ** (1 / c) / (math.e * math.log(2))
    slack = quantisation_slack(p)
    assert r.min() >= 1 - slack and r.max() <= peak + slack


@pytest.mark.parametrize("cfg", CONFIGS, ids=str)
def test_ibert_polynomial_bound(cfg):
    # the fixed-point unit is as good as I-BERT's real polynomial on [-ln 2, 0]
    pp = np.linspace(-math.log(2), 0, 100_001)
    poly = (IBERT_A * (pp + IBERT_B) ** 2 + IBERT_C) / np.exp(pp)
    p = ExpParams(method=ExpMethod.IBERT, **cfg)
    r = ratio_on_range(p)
    slack = quantisation_slack(p) + 2.0 ** -p.internal_bits * 8
    assert poly.min() - slack <= r.min() and r.max() <= poly.max() + slack


def horner_error_bound(t: np.ndarray, p: ExpParams) -> np.ndarray:
    """Worst-case error (internal LSBs) of the truncated Horner chain at real inputs ``t``.

    Step k: ``floor(t * acc)`` adds at most 1 LSB to ``|t| * e_{k+1}``; multiplying by the
    rounded 1/k (off by at most 2**-(C+1)) and flooring adds ``|prod| 2**-(C+1) + 1``.
    """
    R, C = p.internal_bits, p.const_bits
    e = np.zeros_like(t)
    acc = np.ones_like(t)
    for k in range(p.order, 0, -1):
        prod_err = np.abs(t) * e + 1
        prod = np.abs(t) * acc * 2.0 ** R
        if k > 1:
            prod_err = prod_err / k + prod / k * 2.0 ** -(C + 1) * k + 1
        e = prod_err
        acc = 1 + np.abs(t) * acc / k
    return e


@pytest.mark.parametrize("order", [2, 4, 6, 8])
@pytest.mark.parametrize("base", list(ExpBase))
def test_taylor_unit_follows_clamped_polynomial(order, base):
    p = ExpParams(method=ExpMethod.TAYLOR, order=order, base=base, in_fmt=F(3, 8),
                  out_fmt=F(8, 12, False))
    x = np.arange(*p.in_range)
    t = p.in_fmt.to_float(x) * (math.log(2) if base is ExpBase.TWO else 1.0)
    t_used = np.maximum(t, p.taylor_clamp * 2.0 ** -p.internal_bits)
    exact = taylor_poly(t_used, order)
    got = p.out_fmt.to_float(exp_fixed(x, p))
    # input conversion (base 2: floor of t ln 2) moves t by <= 1 internal LSB, times the slope
    slope = np.abs(taylor_poly(t_used, order - 1)) + 1
    bound = (horner_error_bound(t_used, p) + slope) * 2.0 ** -p.internal_bits + p.out_fmt.lsb
    assert np.all(np.abs(got - exact) <= bound)
    assert got.min() > 0


# -- properties ----------------------------------------------------------------------------

@st.composite
def exp_params(draw):
    in_int = draw(st.integers(1, 5))
    in_frac = draw(st.integers(0, 12 - in_int))
    out_int = draw(st.integers(0, 8))
    out_frac = draw(st.integers(max(1 - out_int, 0), 16))
    method = draw(st.sampled_from(list(ExpMethod)))
    try:
        return ExpParams(in_fmt=F(in_int, in_frac), out_fmt=F(out_int, out_frac, False),
                         method=method, base=draw(st.sampled_from(list(ExpBase))),
                         lut_bits=draw(st.integers(1, 8)),
                         segments=2 ** draw(st.integers(0, 6)),
                         order=draw(st.sampled_from([2, 4, 6, 8])))
    except ValueError:
        return ExpParams(in_fmt=F(in_int, in_frac), method=method)


@settings(max_examples=150, deadline=None)
@given(exp_params())
def test_monotone_non_decreasing(p):
    """Exhaustive over the input range. Range-reduced methods are exactly monotone: every
    step is monotone in x, and across integer n the mantissa at f -> 1 stays below twice
    the one at f = 0. TAYLOR may step back by one output LSB next to the minimiser, where
    the polynomial is flat and the Horner truncations (each monotone only for t >= 0) move
    the result by less than one output LSB."""
    y = exp_fixed(np.arange(*p.in_range), p)
    drop = -np.diff(y).min(initial=0)
    assert drop <= (1 if p.method is ExpMethod.TAYLOR else 0)
    assert y.min() >= 0 and y.max() <= p.out_fmt.max_raw


def test_saturates_and_underflows():
    p = ExpParams(in_fmt=F(5, 4), out_fmt=F(2, 8, False))
    y = exp_fixed(np.array([p.in_fmt.max_raw, p.in_fmt.min_raw]), p)
    assert y.tolist() == [p.out_fmt.max_raw, 0]


def test_exp_of_zero_is_one_for_exact_methods():
    for method in (ExpMethod.LUT, ExpMethod.PWL, ExpMethod.MITCHELL):
        p = ExpParams(method=method, base=ExpBase.TWO, lut_bits=8)
        one = 1 << p.out_fmt.frac_bits
        got = int(exp_fixed(np.array([0]), p)[0])
        assert abs(got - one) <= (one >> 9), (method, got)


# -- errors --------------------------------------------------------------------------------

TAYLOR, LUT, PWL = (dict(method=m) for m in (ExpMethod.TAYLOR, ExpMethod.LUT, ExpMethod.PWL))


@pytest.mark.parametrize("kwargs,exc,msg", [
    (dict(order=3, **TAYLOR), ValueError, r"ExpParams.order must be even \(2, 4, 6 or 8\): "
                                          r"odd-order Taylor polynomials of exp go negative, not 3"),
    (dict(order=10, **TAYLOR), ValueError, r"ExpParams.order must be an integer in 2..8, not 10"),
    (dict(segments=3, **PWL), ValueError,
     r"ExpParams.segments must be a power of two in 1..256, not 3"),
    (dict(lut_bits=0, **LUT), ValueError, r"ExpParams.lut_bits must be an integer in 1..12, not 0"),
    (dict(lut_bits=6, in_fmt=F(8, 0), out_fmt=F(8, 1, False), **LUT), ValueError,
     r"ExpParams.lut_bits must be an integer in 1..5, not 6"),  # R = 5
    (dict(lut_bits="6", **PWL), TypeError, r"ExpParams.lut_bits must be an integer, not '6'"),
    (dict(in_fmt=F(4, 8, False)), ValueError, r"ExpParams.in_fmt must be a signed FixedFormat, "
                                              r"not UQ4.8"),
    (dict(out_fmt=F(20, 20, False)), ValueError, r"ExpParams.out_fmt must be at most 32 bits "
                                                 r"wide, not UQ20.20 \(40 bits\)"),
    (dict(method="lut"), TypeError, r"ExpParams.method must be a ExpMethod \(lut, pwl, mitchell, "
                                    r"ibert, taylor\), not 'lut'"),
    (dict(in_fmt="Q4.8"), TypeError, r"ExpParams.in_fmt must be a FixedFormat, not 'Q4.8'"),
    (dict(order=8, in_fmt=F(12, 8), **TAYLOR), ValueError,
     r"ExpParams.in_fmt must keep the order-8 TAYLOR Horner products within 62 bits \(here 120; "
     r"use fewer integer bits, or fewer fraction bits in in_fmt or out_fmt\), not Q12.8"),
])
def test_bad_params(kwargs, exc, msg):
    with pytest.raises(exc, match=f"^{msg}$"):
        ExpParams(**kwargs)


@pytest.mark.parametrize("method", [m for m in ExpMethod if m is not ExpMethod.LUT])
def test_lut_bits_is_only_checked_for_the_lut(method):
    # issue 12 item 9: R = 5 here, below the default lut_bits = 6, which only LUT uses
    kw = dict(in_fmt=F(8, 0), out_fmt=F(8, 1, False), method=method, lut_bits=6)
    p = ExpParams(**kw)
    assert ExpParams.from_dict(p.to_dict()) == p and p.to_dict()["lut_bits"] == 6
    unused = {"lut_bits": 99, "segments": 3, "order": 3}
    used = {ExpMethod.PWL: "segments", ExpMethod.TAYLOR: "order"}.get(method)
    q = ExpParams(**(kw | {k: v for k, v in unused.items() if k != used}))
    assert q.top_name == p.top_name  # the unused fields name no different unit


def test_bad_input_named():
    with pytest.raises(ValueError, match=r"^exp_fixed: x has values outside \[-2048, 2048\) "
                                         r"for format Q4.8 \(first: 5000\)$"):
        exp_fixed([0, 5000], ExpParams())


def test_params_round_trip_json():
    p = ExpParams(method=ExpMethod.IBERT, base=ExpBase.TWO, in_fmt=F(3, 6), stages=2)
    assert ExpParams.from_dict(p.to_dict()) == p
    assert p.to_dict()["in_fmt"] == {"int_bits": 3, "frac_bits": 6, "signed": True}
    assert p.to_dict()["method"] == "ibert"


def test_report_taylor_facts_hold():
    from hwsim.reports.softmax import taylor_facts
    facts = taylor_facts()
    assert len(facts) == 5 and all(holds for *_, holds in facts)
