"""The REALM-style model against an independent Python reference written from its docstring
(the product in Python integers, the correction table in exact fractions), its special cases
and its derived error bound."""

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim.mitchell import MitchellMulParams, mitchell_mul
from hwsim.realm import RealmMulParams, error_bound, realm_mul, realm_table


# -- the reference, one value at a time, from the module docstring --------------------------

def ref_table(width: int, t: int, M: int, q: int) -> list[int]:
    """Step 3's table: per cell, the c in 0..2**q-1 with the least mean relative error over
    the sample fractions (exact rationals), among those keeping fmax_i + fmax_j + c below
    2**(t+1); ties to the smaller c."""
    F = width - 1
    R = min(F, 8)
    samples = (list(range(1 << R)) if R == F
               else [(2 * u + 1) << (F - R - 1) for u in range(1 << R)])
    cells: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for fa in samples:
        for fb in samples:
            ta, tb = fa >> (F - t), fb >> (F - t)
            cells.setdefault((ta >> (t - M), tb >> (t - M)), []).append((fa, fb))
    table = []
    for i in range(1 << M):
        for j in range(1 << M):
            fmax = lambda r: ((r + 1) << (t - M)) - 1  # noqa: E731
            best, best_c = None, 0
            for c in range(1 << q):
                if fmax(i) + fmax(j) + c >= 1 << (t + 1):
                    continue
                total = Fraction(0)
                for fa, fb in cells[i, j]:
                    s = (fa >> (F - t)) + (fb >> (F - t)) + c
                    approx = Fraction((1 << t) + s % (1 << t), 1 << t) * 2 ** (s >> t)
                    exact = Fraction((1 << F) + fa, 1 << F) * Fraction((1 << F) + fb, 1 << F)
                    total += abs(approx / exact - 1)
                if best is None or total < best:
                    best, best_c = total, c
            table.append(best_c)
    return table


def ref_mul(a: int, b: int, width: int, t: int, M: int, table) -> int:
    """Steps 1-5 with Python integers."""
    if a == 0 or b == 0:
        return 0
    F = width - 1

    def log(x):
        k = x.bit_length() - 1
        return k, ((x - (1 << k)) << (F - k)) >> (F - t)

    (ka, fa), (kb, fb) = log(a), log(b)
    s = fa + fb + table[(fa >> (t - M)) * (1 << M) + (fb >> (t - M))]
    assert s < 1 << (t + 1)
    if s < 1 << t:
        m, e = (1 << t) + s, ka + kb
    else:
        m, e = s, ka + kb + 1
    shift = e - t
    return m << shift if shift >= 0 else m >> -shift


def all_pairs(n):
    a, b = np.meshgrid(np.arange(1 << n), np.arange(1 << n), indexing="ij")
    return a.ravel(), b.ravel()


# -- tests ------------------------------------------------------------------------------------

@pytest.mark.parametrize("width,t,M,q", [(4, 3, 3, 1), (5, 2, 1, 2), (6, 3, 2, 2), (6, 5, 2, 3),
                                         (6, 5, 0, 3), (6, 1, 1, 1), (7, 4, 3, 3)])
def test_table_matches_exact_reference(width, t, M, q):
    assert list(realm_table(width - 1, t, M, q)) == ref_table(width, t, M, q)


def test_table_matches_exact_reference_at_8_bits():
    assert list(RealmMulParams(width=8, keep_bits=3, m=2, q=2).table) == ref_table(8, 3, 2, 2)


def test_table_corrects_more_than_the_truncation_bias():
    """Two fractions truncated to t bits lose one LSB on average (half each): every entry of
    the 8-bit front configuration is 1 or 2 LSBs, larger (2) where Mitchell's own error,
    x*y without carry, is largest (fractions near 1/2)."""
    table = RealmMulParams(width=8, keep_bits=3, m=2, q=2).table
    assert set(table) == {1, 2}
    assert table[1 * 4 + 1] == table[1 * 4 + 2] == table[2 * 4 + 1] == 2
    assert table[0] == table[15] == 1


@pytest.mark.parametrize("t,M,q", [(1, 0, 0), (1, 1, 1), (2, 2, 2), (3, 0, 1), (3, 2, 2),
                                   (4, 3, 3), (5, 1, 2), (5, 4, 5)])
def test_exhaustive_width_6_matches_reference(t, M, q):
    p = RealmMulParams(width=6, keep_bits=t, m=M, q=q)
    a, b = all_pairs(6)
    got = realm_mul(a, b, p)
    assert got.dtype == np.int64
    assert got.tolist() == [ref_mul(int(x), int(y), 6, t, M, p.table) for x, y in zip(a, b)]


@st.composite
def config_and_operands(draw):
    width = draw(st.integers(4, 24))
    t = draw(st.integers(1, width - 1))
    M = draw(st.integers(0, min(t, 4)))
    q = draw(st.integers(0, min(t, 5)))  # (q up to 8: test_table_keeps_the_sum_below_two)
    ops = st.lists(st.integers(0, (1 << width) - 1), min_size=1, max_size=16)
    a = draw(ops)
    b = draw(st.lists(st.integers(0, (1 << width) - 1), min_size=len(a), max_size=len(a)))
    return RealmMulParams(width=width, keep_bits=t, m=M, q=q), a, b


@settings(max_examples=150, deadline=None)
@given(config_and_operands())
def test_random_configs_match_reference(case):
    p, a, b = case
    got = realm_mul(np.array(a, dtype=np.int64), np.array(b, dtype=np.int64), p)
    assert got.tolist() == [ref_mul(x, y, p.width, p.keep_bits, p.m, p.table)
                            for x, y in zip(a, b)]


@pytest.mark.parametrize("width,t,M", [(8, 3, 2), (8, 7, 0), (10, 4, 3)])
def test_q_zero_is_mitch_w(width, t, M):
    a, b = all_pairs(width) if width <= 8 else (np.arange(1 << width), np.arange(1 << width)[::-1])
    got = realm_mul(a, b, RealmMulParams(width=width, keep_bits=t, m=M, q=0))
    want = mitchell_mul(a, b, MitchellMulParams(width=width,
                                                keep_bits=None if t == width - 1 else t))
    np.testing.assert_array_equal(got, want.astype(np.int64))


def test_zero_gives_zero_and_broadcasts():
    p = RealmMulParams(width=16, keep_bits=5, m=3, q=3)
    assert realm_mul(0, np.arange(0, 1 << 16, 257), p).tolist() == [0] * 256
    assert realm_mul(np.arange(1 << 16), 0, p).max() == 0
    got = realm_mul([[1], [3]], [5, 7, 9], p)
    assert got.shape == (2, 3)
    assert got.tolist() == [[ref_mul(x, y, 16, 5, 3, p.table) for y in (5, 7, 9)] for x in (1, 3)]


@pytest.mark.parametrize("width", [4, 8, 16, 24])
def test_table_keeps_the_sum_below_two(width):
    """fmax_i + fmax_j + c < 2**(t+1) for every entry: the carry is at most 1 and the
    largest operands still give a product below 2**(2N)."""
    for t in sorted({1, 2, width // 2, width - 1}):
        for M in sorted({0, min(t, 2), min(t, 4)}):
            q = min(t, 8 if width <= 8 else 4)
            p = RealmMulParams(width=width, keep_bits=t, m=M, q=q)
            for idx, c in enumerate(p.table):
                i, j = divmod(idx, 1 << M)
                assert ((i + 1) << (t - M)) - 1 + ((j + 1) << (t - M)) - 1 + c < 1 << (t + 1)
            top = (1 << width) - 1
            assert 0 < int(realm_mul(top, top, p)) < 1 << (2 * width)


def test_error_bound_constants():
    """d = max (log2(1+x) - x) over [0, 1), at x = 1/ln 2 - 1."""
    from hwsim.realm import MITCHELL_LOG_GAP
    x = np.linspace(0, 1, 1_000_001)
    assert MITCHELL_LOG_GAP == pytest.approx(np.max(np.log2(1 + x) - x), abs=1e-12)
    assert MITCHELL_LOG_GAP == pytest.approx(0.0860713, abs=1e-7)


def _check_bound(a, b, p, got):
    lo, hi = error_bound(p)
    exact = a.astype(np.float64) * b
    slack = 1e-12 * exact  # float64 rounding of 2**lo * a*b, far below the integer steps
    assert np.all(got <= exact * 2.0 ** hi + slack)
    assert np.all(got > exact * 2.0 ** lo - 1 - slack)


@pytest.mark.parametrize("t,M,q", [(1, 0, 1), (3, 0, 0), (3, 0, 1), (3, 2, 2), (4, 3, 2),
                                   (7, 0, 0), (7, 4, 7)])
def test_error_bound_exhaustive_8_bits(t, M, q):
    p = RealmMulParams(width=8, keep_bits=t, m=M, q=q)
    a, b = all_pairs(8)
    _check_bound(a, b, p, realm_mul(a, b, p))


def test_error_bound_is_not_loose_by_much():
    """Mitch-w (q = 0), t = 3: the bound's lower end 2**-(2d + 2 eps) ~ 0.746 is within 2 %
    of the product at x_a = x_b = 5/8 - 2**-15 (truncated to 1/2, where Mitchell's ratio is
    8/9: 2 / (13/8)**2 ~ 0.757)."""
    p = RealmMulParams(width=16, keep_bits=3, m=0, q=0)
    lo, _ = error_bound(p)
    x = (1 << 15) + (1 << 14) - 1 + (1 << 12)  # fraction 1/2 + 1/8 - 2**-15: truncates to 1/2
    ratio = int(realm_mul(x, x, p)) / x ** 2
    assert 2.0 ** lo < ratio < 2.0 ** lo * 1.02


@settings(max_examples=150, deadline=None)
@given(config_and_operands())
def test_error_bound_random(case):
    p, a, b = case
    a, b = np.array(a, dtype=np.int64), np.array(b, dtype=np.int64)
    nz = (a > 0) & (b > 0)
    _check_bound(a[nz], b[nz], p, realm_mul(a[nz], b[nz], p))


def test_mred_of_the_front_configuration_at_8_bits():
    """The docs' number: MRED 3.73 % over every pair of non-zero 8-bit operands."""
    p = RealmMulParams(width=8, keep_bits=3, m=2, q=2)
    a, b = all_pairs(8)
    nz = (a > 0) & (b > 0)
    exact = a[nz] * b[nz]
    mred = np.mean(np.abs(realm_mul(a[nz], b[nz], p) - exact) / exact)
    assert mred == pytest.approx(0.0373, abs=5e-5)


def test_refuses_bad_params_and_operands():
    with pytest.raises(ValueError, match=r"^RealmMulParams.width must be an integer in 4..24, "
                                         r"not 3$"):
        RealmMulParams(width=3)
    with pytest.raises(ValueError, match=r"^RealmMulParams.keep_bits must be an integer in "
                                         r"1..7, not 8$"):
        RealmMulParams(keep_bits=8)
    with pytest.raises(TypeError, match=r"^RealmMulParams.keep_bits must be an integer in "
                                        r"1..7, not None$"):
        RealmMulParams(keep_bits=None)
    with pytest.raises(ValueError, match=r"^RealmMulParams.m must be an integer in 0..2, not 3$"):
        RealmMulParams(keep_bits=2, m=3)
    with pytest.raises(ValueError, match=r"^RealmMulParams.m must be an integer in 0..4, not 5$"):
        RealmMulParams(width=16, keep_bits=8, m=5)
    with pytest.raises(ValueError, match=r"^RealmMulParams.q must be an integer in 0..3, not 4$"):
        RealmMulParams(keep_bits=3, q=4)
    with pytest.raises(TypeError, match=r"^RealmMulParams.q must be an integer in 0..3, not 1.0$"):
        RealmMulParams(q=1.0)
    with pytest.raises(ValueError, match=r"^RealmMulParams.stages must be an integer in 0..8, "
                                         r"not 9$"):
        RealmMulParams(stages=9)
    with pytest.raises(ValueError, match=r"^realm_mul: a has values outside \[0, 256\)"):
        realm_mul(256, 1, RealmMulParams())
    with pytest.raises(ValueError, match=r"^realm_mul: b has values outside \[0, 256\)"):
        realm_mul(1, -1, RealmMulParams())
    with pytest.raises(TypeError, match=r"^realm_mul: a must be integers, not dtype float64$"):
        realm_mul(1.5, 1, RealmMulParams())
    with pytest.raises(TypeError, match=r"^realm_mul: params must be a RealmMulParams"):
        realm_mul(1, 1, object())


def test_params_derive_names_and_widths():
    p = RealmMulParams(width=16, keep_bits=5, m=3, q=3)
    assert (p.top_name, p.out_width, p.input_bits, p.in_range, p.latency, p.signed) == (
        "realm_mul_u16_t5_m3_q3", 32, 32, (0, 1 << 16), 0, False)
    assert RealmMulParams(stages=2).top_name == "realm_mul_u8_t3_m2_q2_p2"
    assert RealmMulParams.from_dict(p.to_dict()) == p
    assert p.to_dict() == {"width": 16, "keep_bits": 5, "m": 3, "q": 3, "stages": 0}
    assert len(p.table) == 64 and all(0 <= c < 8 for c in p.table)
