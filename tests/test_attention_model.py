"""Attention head model: accuracy against float attention, structure, errors."""

import numpy as np
import pytest

from hwsim.attention import (
    AttentionParams, Multiplier, attention_fixed, attention_real, attention_scores,
    attention_vectors, corner_problems, split_problem,
)
from hwsim.fixed import FixedFormat as F


def problems(p, n=400, seed=0):
    return split_problem(attention_vectors(p, n, seed), p)


def test_exact_head_error_is_bounded_by_its_quantisation():
    """Probabilities are off by at most the softmax's measured error (LUT exp, 12-bit
    outputs: < 2**-6 here) and the scores' input rounding; |v| < 2 and the output LSB add
    the rest. The bound is loose but can fail: a wrong scale or shift breaks it by far."""
    p = AttentionParams(length=8, dim=8)
    q, k, v = problems(p)
    got = p.out_fmt.to_float(attention_fixed(q, k, v, p))
    want = attention_real(q, k, v, p)
    assert np.abs(got - want).max() < 0.1
    assert np.abs(got - want).mean() < 0.01


def test_mitchell_head_is_worse_than_exact_and_keep_bits_worse_still():
    errs = []
    for kw in ({}, {"multiplier": Multiplier.MITCHELL}, {"multiplier": Multiplier.MITCHELL, "keep_bits": 2}):
        p = AttentionParams(**kw)
        q, k, v = problems(p)
        errs.append(np.abs(p.out_fmt.to_float(attention_fixed(q, k, v, p)) - attention_real(q, k, v, p)).mean())
    assert errs[0] < errs[1] < errs[2]


def test_scale_is_an_exact_shift_for_powers_of_four():
    p = AttentionParams(dim=16, length=4)
    assert p.scale_const == 2 ** (p.scale_bits - 2)
    q, k, _ = problems(p, 50)
    acc = (q[..., :, None, :] * k[..., None, :, :]).sum(-1)
    shift = 2 + 2 * p.in_fmt.frac_bits - p.softmax_in_fmt.frac_bits
    want = np.clip(acc >> shift, p.softmax_in_fmt.min_raw, p.softmax_in_fmt.max_raw)
    assert np.array_equal(attention_scores(q, k, p), want)


def test_identical_keys_give_the_mean_of_v():
    p = AttentionParams(length=4, dim=4, out_fmt=F(2, 12))
    rng = np.random.default_rng(1)
    q = rng.integers(-64, 64, (1, 4, 4))
    k = np.repeat(rng.integers(-64, 64, (1, 1, 4)), 4, axis=1)
    v = rng.integers(-64, 64, (1, 4, 4))
    got = p.out_fmt.to_float(attention_fixed(q, k, v, p))
    assert np.allclose(got, p.in_fmt.to_float(v).mean(axis=1, keepdims=True), atol=0.01)


def test_corners_are_well_formed():
    p = AttentionParams(length=4, dim=3)
    c = corner_problems(p)
    assert c.shape == (6, 3 * 4 * 3) and c.min() >= p.in_fmt.min_raw and c.max() <= p.in_fmt.max_raw


@pytest.mark.parametrize("kwargs,exc,msg", [
    (dict(length=0), ValueError, r"AttentionParams.length must be an integer in 1..32, not 0"),
    (dict(dim=33), ValueError, r"AttentionParams.dim must be an integer in 1..32, not 33"),
    (dict(keep_bits=3), ValueError, r"AttentionParams.keep_bits applies to the Mitchell "
                                    r"multiplier only; multiplier is exact"),
    (dict(multiplier="mitchell"), TypeError, r"AttentionParams.multiplier must be a Multiplier "
                                             r"\(exact, mitchell\), not 'mitchell'"),
    (dict(softmax_out_fmt=F(0, 3, False), length=32), ValueError,
     r"AttentionParams: SoftmaxParams.out_fmt UQ0.3 is too narrow for length 32: 1/32 needs "
     r"frac_bits >= 6 to be at least 2 LSBs"),
])
def test_bad_params(kwargs, exc, msg):
    with pytest.raises(exc, match=f"^{msg}$"):
        AttentionParams(**kwargs)


def test_bad_shapes():
    p = AttentionParams(length=4, dim=2)
    z = np.zeros((1, 4, 2), np.int64)
    with pytest.raises(ValueError, match=r"^attention_fixed: k must have shape \(\.\.\., 4, 2\) "
                                         r"for length 4 and dim 2, not \(1, 3, 2\)$"):
        attention_fixed(z, np.zeros((1, 3, 2), np.int64), z, p)


@pytest.mark.parametrize("p", [AttentionParams(), AttentionParams(length=5, dim=3, in_fmt=F(3, 2)),
                               AttentionParams(multiplier=Multiplier.MITCHELL, dim=32)])
def test_accumulator_widths_hold_every_sum_and_the_score_bound_is_reached(p):
    """The HDL sizes its accumulators from these bounds; the extreme corner reaches the Q.K^T
    bound exactly (so the width cannot be smaller), random and corner problems stay inside."""
    from hwsim.attention import _mult
    w, lo = p.in_fmt.width, p.in_fmt.min_raw
    assert (p.dim << (2 * w - 2)) < 1 << (p.score_acc_width - 1)
    assert (p.dim << (2 * w - 2)) >= 1 << (p.score_acc_width - 3)
    x = np.concatenate([corner_problems(p), attention_vectors(p, 200, seed=1)])
    q, k, v = split_problem(x, p)
    s = _mult(q[..., :, None, :], k[..., None, :, :], p.multiplier, p.score_mult).sum(-1)
    assert np.abs(s).max() == p.dim * lo * lo  # the all-minimum corner
    assert np.abs(s).max() < 1 << (p.score_acc_width - 1)
    from hwsim.softmax import softmax_fixed
    prob = softmax_fixed(attention_scores(q, k, p), p.softmax_params)
    acc = _mult(prob[..., :, :, None], v[..., None, :, :], p.multiplier, p.value_mult).sum(-2)
    assert np.abs(acc).max() < 1 << (p.value_acc_width - 1)
