"""Softmax models: derived bounds on the probability sums, accuracy, invariances, errors."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from hwsim.exp import ExpBase, ExpMethod
from hwsim.fixed import FixedFormat as F
from hwsim.softmax import (
    Normalizer, SoftmaxForm, SoftmaxParams, corner_logits, softmax_fixed, softmax_real,
    softmax_reference, softmax_vectors,
)


def sum_bounds(p: SoftmaxParams) -> tuple[float, float] | None:
    """Range of sum_i p_i (real values), derived in docs/units/softmax.md.

    The normaliser: every one floors each of the L outputs (losing < 1 LSB each) and
    saturation only lowers them. EXACT_DIV is otherwise exact; the Mitchell quotient lies in
    [1, 9/8] times the exact one; the reciprocal table's midpoint is within 2**-(rb+1) of
    1/(1+x) (relative), and rounding its entries to G bits adds 2**-G.

    TWO_PASS and TAYLOR divide by the sum of the very values they normalise. ONLINE divides
    the final exp values (each the exact one times [a, b], the antilog ratio range widened by
    the internal roundings) by a running sum in which every term went through up to L exp
    evaluations (itself and the rescales): the ratio lies in [a / b**L, b / a**L], plus the
    floors of the L exp values and L-1 rescales over S >= a. With a TAYLOR exp inside ONLINE
    the factors are unbounded (f_n(d) is far from e**d for d << 0): no bound (None).
    """
    from hwsim.exp import antilog_ratio_range
    lsb = p.out_fmt.lsb
    lo, hi = 1 - p.length * lsb, 1.0
    if p.normalizer is Normalizer.MITCHELL_DIV:
        hi = 9 / 8
    elif p.normalizer is Normalizer.RECIPROCAL_LUT:
        d = 2.0 ** -(p.recip_bits + 1)
        g = 2.0 ** -p.recip_frac_bits
        delta = d + g + d * g
        lo, hi = (1 - delta) - p.length * lsb, 1 + delta
    if p.form is not SoftmaxForm.ONLINE:
        return lo, hi
    if p.method is ExpMethod.TAYLOR:
        return None
    ep = p.exp_params
    a, b = antilog_ratio_range(ep)
    a *= 1 - 2.0 ** -(ep.internal_bits - 2)
    b *= 1 + 2.0 ** -(ep.internal_bits - 1)
    L = p.length
    floors = 2 * L * 2.0 ** -p.exp_frac_bits / a
    return lo * a / b ** L - floors, hi * b / a ** L + floors


@st.composite
def softmax_params(draw):
    length = draw(st.integers(1, 16))
    in_int = draw(st.integers(1, 6))
    in_frac = draw(st.integers(0, 8))
    need = max(0, (length - 1).bit_length()) + 1
    out_frac = draw(st.integers(need, 16))
    out_int = draw(st.integers(0, 1))
    form = draw(st.sampled_from(list(SoftmaxForm)))
    method = ExpMethod.TAYLOR if form is SoftmaxForm.TAYLOR else draw(st.sampled_from(list(ExpMethod)))
    if form is SoftmaxForm.TAYLOR:
        in_int = min(in_int, 4)  # f_8 of larger logits overflows a 32-bit exp output
    kwargs = dict(length=length, in_fmt=F(in_int, in_frac),
                  out_fmt=F(out_int, out_frac, False), form=form, method=method,
                  base=draw(st.sampled_from(list(ExpBase))),
                  lut_bits=draw(st.integers(1, 8)), segments=2 ** draw(st.integers(0, 5)),
                  order=draw(st.sampled_from([2, 4, 6, 8])),
                  normalizer=draw(st.sampled_from(list(Normalizer))),
                  recip_bits=draw(st.integers(1, 10)))
    try:
        return SoftmaxParams(**kwargs)
    except ValueError:  # rejected with a message (e.g. widths beyond the limits)
        assume(False)


@settings(max_examples=200, deadline=None)
@given(softmax_params(), st.integers(0, 2 ** 32 - 1))
def test_outputs_non_negative_and_sums_bounded(p, seed):
    x = softmax_vectors(p, 200, seed)
    y = softmax_fixed(x, p)
    assert y.min() >= 0 and y.max() <= p.out_fmt.max_raw
    s = p.out_fmt.to_float(y).sum(axis=-1)
    bounds = sum_bounds(p)
    if bounds is None:
        return
    lo, hi = bounds
    assert s.min() >= lo - 1e-12 and s.max() <= hi + 1e-12, (s.min(), s.max(), lo, hi)


@settings(max_examples=100, deadline=None)
@given(softmax_params(), st.integers(0, 2 ** 32 - 1),
       st.one_of(st.integers(-300, -1), st.integers(1, 300)))
def test_shift_invariance_of_max_subtracting_forms(p, seed, shift):
    """TWO_PASS and ONLINE only ever see differences of logits, so adding a constant to
    every logit (without leaving the format) changes nothing, bit for bit. Each vector gets
    ``shift`` clipped to the room its own logits leave in the format, so every vector is
    compared; the all-0 and all-(-1) corner vectors always have room on the side of
    ``shift``, so some vector really moves."""
    assume(p.form is not SoftmaxForm.TAYLOR)  # not shift-invariant (the test below)
    x = softmax_vectors(p, 100, seed)
    lo, hi = p.in_range
    room_down, room_up = lo - x.min(axis=-1), hi - 1 - x.max(axis=-1)
    shifts = np.clip(shift, room_down, room_up)[:, None]
    assert (shifts != 0).any()
    x2 = x + shifts
    assert x2.min() >= lo and x2.max() < hi
    assert (softmax_fixed(x2, p) == softmax_fixed(x, p)).all()


def test_taylor_is_not_shift_invariant():
    p = SoftmaxParams(form=SoftmaxForm.TAYLOR, method=ExpMethod.TAYLOR, length=2)
    x = np.array([[0, 16]])  # logits 0 and 1
    assert not (softmax_fixed(x, p) == softmax_fixed(x + 32, p)).all()


@pytest.mark.parametrize("form", [SoftmaxForm.TWO_PASS, SoftmaxForm.ONLINE])
@pytest.mark.parametrize("lut_bits", [4, 6, 8])
def test_lut_softmax_accuracy_bound(form, lut_bits):
    """Each exp value is the exact one times [1/r, r], r = 2**(1/2**(t+1)) (the midpoint
    table), minus a floor of 2**-E. TWO_PASS: p_i / P_i in [1/r**2, r**2]. ONLINE multiplies
    a running sum by up to L-1 rescale factors, each within [1/r, r]: [r**-(L+1), r**(L+1)].
    Absolute slack: the floors of the L+1 exp values (over S >= 1) and of p_i."""
    p = SoftmaxParams(form=form, method=ExpMethod.LUT, lut_bits=lut_bits, length=8,
                      in_fmt=F(4, 4), out_fmt=F(1, 15, False))
    x = softmax_vectors(p, 5000, 1)
    got = p.out_fmt.to_float(softmax_fixed(x, p))
    want = softmax_real(x, p)
    r = 2.0 ** (1 / 2 ** (lut_bits + 1))
    k = 2 if form is SoftmaxForm.TWO_PASS else p.length + 1
    slack = 2.0 ** -p.exp_frac_bits * (p.length + 1) + p.out_fmt.lsb
    if form is SoftmaxForm.ONLINE:
        slack += 2.0 ** -p.exp_frac_bits * p.length  # one floor per rescale
    assert np.all(got <= want * r ** k + slack)
    assert np.all(got >= want / r ** k - slack)


def test_taylor_form_matches_its_reference():
    p = SoftmaxParams(form=SoftmaxForm.TAYLOR, method=ExpMethod.TAYLOR, order=6, length=8)
    x = softmax_vectors(p, 5000, 2)
    got = p.out_fmt.to_float(softmax_fixed(x, p))
    # Horner error well below 2**-E per value (tests/test_exp_model.py), floors of p
    assert np.abs(got - softmax_reference(x, p)).max() < 16 * 2.0 ** -p.exp_frac_bits


def test_corners_behave():
    p = SoftmaxParams(length=4, out_fmt=F(1, 15, False))
    c = corner_logits(p)
    y = p.out_fmt.to_float(softmax_fixed(c, p))
    equal = (c == c[:, :1]).all(axis=1)
    assert np.allclose(y[equal], 0.25, atol=2 * p.out_fmt.lsb)  # all equal: uniform
    one_hot = np.array([p.in_fmt.max_raw, p.in_fmt.min_raw, p.in_fmt.min_raw, p.in_fmt.min_raw])
    y1 = p.out_fmt.to_float(softmax_fixed(one_hot, p))
    assert y1[0] > 0.999 and y1[1:].max() < 1e-3


def test_online_equals_two_pass_with_exact_at_zero_exp_on_ascending_input():
    # with no rescale (the max comes first) the online sum is the two-pass sum
    p2 = SoftmaxParams(form=SoftmaxForm.TWO_PASS, length=8)
    po = SoftmaxParams(form=SoftmaxForm.ONLINE, length=8)
    rng = np.random.default_rng(3)
    x = rng.integers(-128, 100, (500, 8))
    x[:, 0] = 127
    assert (softmax_fixed(x, p2) == softmax_fixed(x, po)).all()


# -- errors ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs,exc,msg", [
    (dict(length=0), ValueError, r"SoftmaxParams.length must be an integer in 1..64, not 0"),
    (dict(length=64, out_fmt=F(0, 6, False)), ValueError,
     r"SoftmaxParams.out_fmt UQ0.6 is too narrow for length 64: 1/64 needs frac_bits >= 7 to "
     r"be at least 2 LSBs"),
    (dict(order=3, form=SoftmaxForm.TAYLOR, method=ExpMethod.TAYLOR), ValueError,
     r"SoftmaxParams: the exp unit is invalid: ExpParams.order must be even \(2, 4, 6 or 8\): "
     r"odd-order Taylor polynomials of exp go negative, not 3"),
    (dict(length=64, out_fmt=F(-4, 28, False), form=SoftmaxForm.ONLINE), ValueError,
     r"SoftmaxParams.out_fmt must keep the online rescale s \* e within 63 bits \(here 71\), "
     r"not UQ-4.28"),
    (dict(form=SoftmaxForm.TAYLOR), ValueError,
     r"SoftmaxParams: form taylor evaluates the Taylor polynomial, so method must be taylor, "
     r"not lut"),
    (dict(normalizer="exact"), TypeError,
     r"SoftmaxParams.normalizer must be a Normalizer \(exact_div, mitchell_div, "
     r"reciprocal_lut\), not 'exact'"),
    (dict(in_fmt=F(4, 4, False)), ValueError, r"SoftmaxParams.in_fmt must be a signed "
                                              r"FixedFormat, not UQ4.4"),
    (dict(stages=35), ValueError, r"SoftmaxParams.stages must be an integer in 0..34, "
                                      r"not 35"),
    (dict(normalizer=Normalizer.RECIPROCAL_LUT, stages=2), ValueError,
     r"SoftmaxParams.stages must be an integer in 0..1, not 2"),
])
def test_bad_params(kwargs, exc, msg):
    with pytest.raises(exc, match=f"^{msg}$"):
        SoftmaxParams(**kwargs)


def test_bad_shapes_and_values():
    p = SoftmaxParams(length=4)
    with pytest.raises(ValueError, match=r"^softmax_fixed: x must have shape \(\.\.\., 4\) for "
                                         r"length 4, not \(2, 3\)$"):
        softmax_fixed(np.zeros((2, 3), np.int64), p)
    with pytest.raises(ValueError, match=r"^softmax_fixed: x has values outside \[-128, 128\) "
                                         r"for format Q4.4 \(first: 200\)$"):
        softmax_fixed([[0, 1, 2, 200]], p)
    with pytest.raises(ValueError, match=r"^softmax has no exhaustive mode \(32 input bits per "
                                         r"vector\); give a vector count$"):
        softmax_vectors(p, None)


def test_params_round_trip():
    p = SoftmaxParams(form=SoftmaxForm.ONLINE, normalizer=Normalizer.RECIPROCAL_LUT,
                      base=ExpBase.TWO, in_fmt=F(3, 5), recip_bits=5)
    assert SoftmaxParams.from_dict(p.to_dict()) == p
    assert math.isclose(sum(softmax_real(np.zeros(8, np.int64), SoftmaxParams())), 1.0)
