"""L-Mul's two readings: ``lmul`` (the bit patterns added, a mantissa carry into the
exponent) and ``lmul-paper`` (the formula ``(1 + x + y + 2**-l(m)) * 2**(ea+eb)`` read
literally and rounded to nearest even), checked against an exact rational reference written
from the formula, and the fraction of normal pairs where the two differ (docs/units/float.md)."""

from fractions import Fraction

import numpy as np
import pytest

from hwsim.float_mul import (
    FloatMethod, FloatMulParams, FloatType, float_corners, float_mul, float_values,
)


def _ell(m: int) -> int:
    return m if m <= 3 else (3 if m == 4 else 4)


def _round_to_format(v: Fraction, fmt: FloatType) -> float:
    """``v`` > 0 rounded to M + 1 significant bits, ties to even (unbounded exponent), then
    flushed below the smallest normal and overflowed above the largest finite value (e4m3:
    saturated to 448), as float64."""
    m = fmt.man_bits
    e = v.numerator.bit_length() - v.denominator.bit_length()
    if Fraction(2) ** e > v:
        e -= 1
    scaled = v / Fraction(2) ** (e - m)          # in [2**M, 2**(M+1))
    q = scaled.numerator // scaled.denominator
    rest = scaled - q
    if rest > Fraction(1, 2) or (rest == Fraction(1, 2) and q % 2):
        q += 1
    r = Fraction(q) * Fraction(2) ** (e - m)
    lo = Fraction(float(float_values(fmt.min_normal, fmt)))
    hi = Fraction(float(float_values(fmt.max_finite, fmt)))
    if r < lo:
        return 0.0
    if r > hi:
        return float(hi) if not fmt.has_inf else float("inf")
    return float(r)


def _paper(a: int, b: int, fmt: FloatType) -> float:
    """The formula on two normal positive patterns, exactly, then rounded."""
    m = fmt.man_bits
    ea, eb = (a >> m) - fmt.bias, (b >> m) - fmt.bias
    x, y = Fraction(a & ((1 << m) - 1), 1 << m), Fraction(b & ((1 << m) - 1), 1 << m)
    return _round_to_format((1 + x + y + Fraction(1, 2 ** _ell(m))) * Fraction(2) ** (ea + eb), fmt)


def _normal_magnitudes(fmt: FloatType, count: int, seed: int) -> np.ndarray:
    """Positive normal finite patterns: every one for 8-bit formats, else the corners' normal
    ones and ``count`` seeded random ones."""
    lo, hi = fmt.min_normal, fmt.max_finite + 1
    if fmt.bits == 8:
        mags = np.arange(lo, hi, dtype=np.int64)
    else:
        c = float_corners(fmt)
        c = c[(c >= lo) & (c < hi)]
        mags = np.concatenate([c, np.random.default_rng(seed).integers(lo, hi, count)])
    if not fmt.has_inf:
        mags = mags[mags != fmt.nan]
    return mags


@pytest.mark.parametrize("fmt", list(FloatType), ids=lambda f: f.value)
def test_lmul_paper_is_the_formula_rounded(fmt):
    mags = _normal_magnitudes(fmt, 60, seed=3)
    a, b = (x.ravel() for x in np.meshgrid(mags, mags, indexing="ij"))
    if a.size > 6_000:
        pick = np.random.default_rng(4).choice(a.size, 6_000, replace=False)
        a, b = a[pick], b[pick]
    got = float_values(float_mul(a, b, FloatMulParams(fmt=fmt, method=FloatMethod.LMUL_PAPER)), fmt)
    want = np.array([_paper(int(x), int(y), fmt) for x, y in zip(a.tolist(), b.tolist())])
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (f"{bad.size} of {a.size} differ; first a={a[bad[0]]:#x} "
                           f"b={b[bad[0]]:#x}: {got[bad[0]]} != {want[bad[0]]}")
    # signs: XOR, the magnitude unchanged
    s = fmt.sign_bit
    neg = float_mul(a | s, b, FloatMulParams(fmt=fmt, method=FloatMethod.LMUL_PAPER))
    assert np.array_equal(float_values(neg, fmt), -got)


@pytest.mark.parametrize("fmt", list(FloatType), ids=lambda f: f.value)
def test_the_readings_differ_exactly_where_the_mantissa_sum_carries(fmt):
    """Equal without a carry; with one, equal only where ``x + y + 2**-l(m)`` is exactly 1."""
    mags = _normal_magnitudes(fmt, 300, seed=5)
    a, b = (x.ravel() for x in np.meshgrid(mags, mags, indexing="ij"))
    lm = float_mul(a, b, FloatMulParams(fmt=fmt, method=FloatMethod.LMUL))
    lp = float_mul(a, b, FloatMulParams(fmt=fmt, method=FloatMethod.LMUL_PAPER))
    m = fmt.man_bits
    fsum = (a & ((1 << m) - 1)) + (b & ((1 << m) - 1)) + (1 << (m - _ell(m)))
    both_extreme = ((lm == 0) & (lp == 0)) | ((lm == fmt.huge) & (lp == fmt.huge))
    assert np.array_equal(lm[fsum < (1 << m)], lp[fsum < (1 << m)])
    differ = (lm != lp)
    expect = (fsum > (1 << m)) & ~both_extreme
    assert np.array_equal(differ, expect), np.flatnonzero(differ != expect)[:5]


def test_a_carry_worked_example():
    """bf16 1.75 x 1.5: lmul adds the patterns (0x3FE0 + 0x3FC0 - 0x3F80 + 8 = 0x4028, 2.625);
    the formula gives (1 + 0.75 + 0.5 + 2**-4) = 2.3125, exactly representable."""
    a, b = 0x3FE0, 0x3FC0
    lm = int(float_mul(a, b, FloatMulParams(method=FloatMethod.LMUL)))
    lp = int(float_mul(a, b, FloatMulParams(method=FloatMethod.LMUL_PAPER)))
    fmt = FloatType.BF16
    assert (lm, float(float_values(lm, fmt))) == (0x4028, 2.625)
    assert (lp, float(float_values(lp, fmt))) == (0x4014, 2.3125)


@pytest.mark.parametrize("fmt", [FloatType.E4M3, FloatType.E5M2], ids=lambda f: f.value)
def test_the_difference_float_md_states(fmt):
    """docs/units/float.md's table: every normal pair of the 8-bit formats, counted here."""
    from pathlib import Path
    mags = _normal_magnitudes(fmt, 0, seed=0)
    mags = np.concatenate([mags, mags | fmt.sign_bit])
    a, b = (x.ravel() for x in np.meshgrid(mags, mags, indexing="ij"))
    lm = float_mul(a, b, FloatMulParams(fmt=fmt, method=FloatMethod.LMUL))
    lp = float_mul(a, b, FloatMulParams(fmt=fmt, method=FloatMethod.LMUL_PAPER))
    row = (f"| {fmt.value} | {a.size:,} (every pair) | {int((lm != lp).sum()):,} | "
           f"{100 * (lm != lp).mean():.1f} % |")
    text = (Path(__file__).parents[1] / "docs" / "units" / "float.md").read_text()
    assert row in text.splitlines(), row


def test_the_minilm_study_reports_both_readings():
    """minilm-units takes products/linear = lmul-paper in float formats (not bfp), its default
    sweep has both readings in every float format, and its float table labels them apart."""
    from hwsim.studies import get_study
    from hwsim.studies import minilm_units as mu
    base = dict(get_study("minilm-units").params, softmax="float", product_format="bf16")
    mu.check(dict(base, products="lmul-paper"))
    with pytest.raises(ValueError, match=r"^minilm-units: products = lmul-paper needs a float "
                                         r"product_format \(fp32, bf16, fp16, e4m3, e5m2\), not bfp$"):
        mu.check(dict(base, products="lmul-paper", product_format="bfp"))
    pts = mu.default_sweep()["points"]
    for f in ("bf16", "fp16", "e4m3", "e5m2"):
        got = {p.get("products") for p in pts if p.get("product_format") == f}
        assert {"lmul", "lmul-paper"} <= got, f
    rows = [{"params": dict(base, products=k, sentences=10, float_scale="tensor"), "seed": 0,
             "metrics": {"cos_mean": c, "cos_min": c, "spearman": c, "nn_agreement": 1.0,
                         "n_sentences": 10}}
            for k, c in (("lmul", 0.9997), ("lmul-paper", 0.9979))]
    text = "\n".join(mu._float_tables(rows))
    assert "| bf16 | L-Mul | 0.99970 (0.9997) | 0.99970 | 1.000 |" in text
    assert "| bf16 | L-Mul, paper formula | 0.99790 (0.9979) | 0.99790 | 1.000 |" in text
