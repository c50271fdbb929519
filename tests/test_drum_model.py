"""The DRUM model against an independent Python-integer reference written from the paper's
description (``tests/reference.py``), its exact cases and its derived error bounds."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import reference as ref
from hwsim.drum import DrumMulParams, drum_mul, drum_segment


def all_pairs(n):
    a, b = np.meshgrid(np.arange(1 << n), np.arange(1 << n), indexing="ij")
    return a.ravel(), b.ravel()


@pytest.mark.parametrize("k", range(2, 7))
def test_exhaustive_width_6_matches_reference(k):
    p = DrumMulParams(width=6, k=k)
    a, b = all_pairs(6)
    got = drum_mul(a, b, p)
    assert got.dtype == np.int64
    assert got.tolist() == [ref.drum_mul(int(x), int(y), 6, k) for x, y in zip(a, b)]


@st.composite
def config_and_operands(draw):
    width = draw(st.integers(4, 24))
    k = draw(st.integers(2, width))
    ops = st.lists(st.integers(0, (1 << width) - 1), min_size=1, max_size=16)
    a = draw(ops)
    b = draw(st.lists(st.integers(0, (1 << width) - 1), min_size=len(a), max_size=len(a)))
    return DrumMulParams(width=width, k=k), a, b


@settings(max_examples=300, deadline=None)
@given(config_and_operands())
def test_random_configs_match_reference(case):
    p, a, b = case
    got = drum_mul(np.array(a, dtype=np.int64), np.array(b, dtype=np.int64), p)
    assert got.tolist() == [ref.drum_mul(x, y, p.width, p.k) for x, y in zip(a, b)]


@pytest.mark.parametrize("width,k", [(8, 4), (10, 3), (10, 7)])
def test_exact_when_both_operands_below_2_to_the_k(width, k):
    p = DrumMulParams(width=width, k=k)
    x = np.arange(1 << k)
    a, b = (v.ravel() for v in np.meshgrid(x, x))
    np.testing.assert_array_equal(drum_mul(a, b, p), a * b)
    # ... and not above: 2**k + 1 drops its bit 0 (s = 1) and the segment's forced 1 makes
    # it 2**k + 2
    big = (1 << k) + 1
    assert int(drum_mul(big, 1, p)) == big + 1


def test_k_equal_width_is_exact():
    a, b = all_pairs(6)
    np.testing.assert_array_equal(drum_mul(a, b, DrumMulParams(width=6, k=6)), a * b)


def test_zero_gives_zero_and_broadcasts():
    p = DrumMulParams(width=16, k=6)
    assert drum_mul(0, np.arange(0, 1 << 16, 257), p).tolist() == [0] * 256
    assert drum_mul([[1], [3]], [5, 7, 9], p).tolist() == [[5, 7, 9], [15, 21, 27]]


@pytest.mark.parametrize("width", [8, 12])
@pytest.mark.parametrize("k", [2, 3, 5, 8])
def test_segment_error_bound(width, k):
    """For x >= 2**k: -(2**s - 1) <= seg * 2**s - x <= 2**s and 2**(s+k-1) <= x, so
    |seg * 2**s - x| <= x / 2**(k-1) (the upper end reached at x = 2**t, t >= k)."""
    x = np.arange(1 << width, dtype=np.int64)
    seg, s = drum_segment(x, k)
    err = (seg << s) - x
    big = x >= (1 << k)
    assert np.all(err[~big] == 0) and np.all(s[~big] == 0)
    assert np.all((seg[big] >= (1 << (k - 1)) + 1) & (seg[big] < (1 << k)) & (seg[big] % 2 == 1))
    assert np.all((err[big] >= -((1 << s[big]) - 1)) & (err[big] <= (1 << s[big])))
    assert np.all((1 << (s[big] + k - 1)) <= x[big])
    assert np.all(np.abs(err) << (k - 1) <= x)
    powers = np.array([1 << t for t in range(k, width)], dtype=np.int64)
    if powers.size:
        seg_p, s_p = drum_segment(powers, k)
        assert np.all(((seg_p << s_p) - powers) << (k - 1) == powers)  # the bound is reached


@pytest.mark.parametrize("width,k", [(8, k) for k in range(2, 9)] + [(10, 3), (10, 6)])
def test_product_error_bound_exhaustive(width, k):
    """With u = 2**-(k-1) and v = 1/(2**(k-1) + 1) each operand's relative error lies in
    (-v, u], so p / (a*b) lies in ((1-v)**2, (1+u)**2], in integers:
    p * 2**(2k-2) <= a*b * (2**(k-1)+1)**2 and p * (2**(k-1)+1)**2 > a*b * 2**(2k-2) for
    a*b > 0. The upper end is reached at a = b = 2**k (when k < N)."""
    p = DrumMulParams(width=width, k=k)
    a, b = all_pairs(width)
    got = drum_mul(a, b, p)
    exact = a * b
    h, c = 1 << (k - 1), (1 << (k - 1)) + 1  # 2**(k-1), 2**(k-1) + 1
    assert np.all(got * h * h <= exact * c * c)
    nz = exact > 0
    assert np.all(got[nz] * c * c > exact[nz] * h * h)
    assert np.all(got[~nz] == 0)
    if k < width:
        t = 1 << k
        assert int(drum_mul(t, t, p)) * h * h == t * t * c * c


@settings(max_examples=300, deadline=None)
@given(st.integers(4, 24).flatmap(lambda w: st.tuples(
    st.just(w), st.integers(2, w), st.integers(1, (1 << w) - 1), st.integers(1, (1 << w) - 1))))
def test_product_error_bound_random(case):
    """The same bound as exact Python-integer inequalities at every width."""
    width, k, a, b = case
    got = int(drum_mul(a, b, DrumMulParams(width=width, k=k)))
    h, c = 1 << (k - 1), (1 << (k - 1)) + 1
    assert got * h * h <= a * b * c * c
    assert got * c * c > a * b * h * h


def test_refuses_bad_params_and_operands():
    with pytest.raises(ValueError, match=r"^DrumMulParams.width must be an integer in 4..24, "
                                         r"not 3$"):
        DrumMulParams(width=3)
    with pytest.raises(ValueError, match=r"^DrumMulParams.k must be an integer in 2..16, not 1$"):
        DrumMulParams(width=16, k=1)
    with pytest.raises(TypeError, match=r"^DrumMulParams.k must be an integer in 2..8, "
                                        r"not 4.0$"):
        DrumMulParams(k=4.0)
    with pytest.raises(ValueError, match=r"^DrumMulParams.stages must be an integer in 0..8, "
                                         r"not 9$"):
        DrumMulParams(stages=9)
    with pytest.raises(ValueError, match=r"^drum_mul: a has values outside \[0, 256\)"):
        drum_mul(256, 1, DrumMulParams())
    with pytest.raises(ValueError, match=r"^drum_mul: b has values outside \[0, 256\)"):
        drum_mul(1, -1, DrumMulParams())
    with pytest.raises(TypeError, match=r"^drum_mul: params must be a DrumMulParams"):
        drum_mul(1, 1, object())


def test_params_derive_names_and_widths():
    p = DrumMulParams(width=16, k=6)
    assert (p.top_name, p.out_width, p.input_bits, p.in_range, p.latency, p.signed) == (
        "drum_mul_u16_k6", 32, 32, (0, 1 << 16), 0, False)
    assert DrumMulParams(width=8, k=4, stages=2).top_name == "drum_mul_u8_k4_p2"
    assert DrumMulParams.from_dict(p.to_dict()) == p
    assert p.to_dict() == {"width": 16, "k": 6, "stages": 0}
