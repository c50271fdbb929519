"""Performer (FAVOR+) features: the estimator's published properties, and the fixed-point map."""

import math

import numpy as np
import pytest

from hwsim.performer import (
    FeatureKind, PerformerParams, draw_omega, linear_attention, performer_vectors, phi_fixed,
    phi_float, softmax_attention,
)
from hwsim.fixed import FixedFormat

D = 8
RNG = np.random.default_rng(7)
Q, K = RNG.normal(0, 0.4, D), RNG.normal(0, 0.4, D)
SEEDS = range(1000)


def estimates(kind, m):
    return np.array([phi_float(Q, w) @ phi_float(K, w)
                     for w in (draw_omega(m, D, kind, s) for s in SEEDS)])


@pytest.mark.parametrize("kind", [FeatureKind.IID, FeatureKind.ORTHOGONAL])
@pytest.mark.parametrize("m", [D, 4 * D])
def test_estimator_is_unbiased(kind, m):
    est = estimates(kind, m)
    se = est.std(ddof=1) / math.sqrt(est.size)
    assert abs(est.mean() - math.exp(Q @ K)) <= 3 * se


@pytest.mark.parametrize("kind", list(FeatureKind))
def test_variance_falls_with_m(kind):
    v = [estimates(kind, m).var() for m in (D, 2 * D, 4 * D, 8 * D)]
    assert all(a > b for a, b in zip(v, v[1:])), v


@pytest.mark.parametrize("m", [D, 4 * D])
def test_orthogonal_features_beat_iid(m):
    assert estimates(FeatureKind.ORTHOGONAL, m).var() < estimates(FeatureKind.IID, m).var()


def test_orthogonal_blocks_are_orthogonal_and_seeded():
    w = draw_omega(2 * D, D, FeatureKind.ORTHOGONAL, 3)
    block = w[:D] / np.linalg.norm(w[:D], axis=1, keepdims=True)
    assert np.allclose(block @ block.T, np.eye(D), atol=1e-12)
    assert np.array_equal(w, draw_omega(2 * D, D, FeatureKind.ORTHOGONAL, 3))
    assert not np.array_equal(w, draw_omega(2 * D, D, FeatureKind.ORTHOGONAL, 4))


def test_linear_attention_approaches_softmax_attention():
    rng = np.random.default_rng(0)
    q, k, v = rng.normal(0, 0.3, (3, 6, D))
    exact = softmax_attention(q, k, v)
    err = [np.abs(linear_attention(q, k, v, draw_omega(m, D, FeatureKind.ORTHOGONAL, 1)) - exact).max()
           for m in (8, 512)]
    assert err[1] < err[0] and err[1] < 0.05


def test_fixed_point_features_follow_float_within_the_exp_bound():
    p = PerformerParams()
    x = p.in_fmt.quantize(np.random.default_rng(1).normal(0, 0.4, (400, p.dim)))
    got = p.exp_params.out_fmt.to_float(phi_fixed(x, p))
    want = phi_float(p.in_fmt.to_float(x), p.omega_fmt.to_float(p.omega_raw()))
    big = want >= 2.0 ** (8 - p.frac_bits)  # at least 256 output LSBs
    # LUT midpoint 2**(1/2**(t+1)), output floor (<= 2**-8 here), exponent floors (<= 3 LSBs)
    bound = 2 ** (1 / 2 ** (p.lut_bits + 1)) - 1 + 2.0 ** -8 + 3 * 2.0 ** -p.exp_params.in_fmt.frac_bits
    assert big.sum() > 5000
    assert np.all(np.abs(got[big] / want[big] - 1) <= bound)


def test_bad_params_and_inputs():
    with pytest.raises(ValueError, match=r"^PerformerParams.dim must be an integer in 1..64, not 0$"):
        PerformerParams(dim=0)
    with pytest.raises(TypeError, match=r"^PerformerParams.kind must be a FeatureKind \(iid, "
                                        r"orthogonal, orthogonal_quantile\), not 'iid'$"):
        PerformerParams(kind="iid")
    with pytest.raises(ValueError, match=r"^PerformerParams.omega_seed must be an integer in "
                                         r"0..4294967295, not 4294967296$"):
        PerformerParams(omega_seed=2 ** 32)  # it is part of file and module names
    with pytest.raises(ValueError, match=r"^phi_fixed: x must have shape \(\.\.\., 8\), not \(2, 3\)$"):
        phi_fixed(np.zeros((2, 3), np.int64), PerformerParams())


@pytest.mark.parametrize("p", [PerformerParams(), PerformerParams(dim=16, features=64,
                                                                  in_fmt=FixedFormat(3, 5))])
def test_u_width_holds_omega_x_and_is_reached_within_a_factor_two(p):
    """The HDL's ``u`` register is sized from the ROM; the input that matches the signs of the
    largest omega row at full scale reaches the bound's top bit."""
    w = p.omega_raw()
    f = np.abs(w).sum(1).argmax()
    lo, hi = p.in_fmt.min_raw, p.in_fmt.max_raw
    x = np.concatenate([performer_vectors(p, 300, seed=2),
                        np.where(w[f] >= 0, hi, lo)[None], np.where(w[f] >= 0, lo, hi)[None]])
    u = x @ w.T
    assert np.abs(u).max() < 1 << (p.u_width - 1)
    assert np.abs(u).max() >= 1 << (p.u_width - 3)
