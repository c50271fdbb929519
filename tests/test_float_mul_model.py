"""The float-mul / float-div models against an independent reference.

``ref`` below is written from the ``hwsim.float_mul`` docstring one element at a time in
Python integers, in the *value* domain (Mitchell's ``log2 ~ k + x`` in units of 2**-M, the
exact product's significand rounded by its bit length), not by adding patterns, so it shares
none of the model's code. The exact method is checked a second time against float64
multiplication rounded by numpy (float32, float16) and ml_dtypes (bfloat16, float8) where
the result is normal. Exhaustive for the 8-bit formats; corners x corners + seeded random
for the 16- and 32-bit ones.
"""

import numpy as np
import pytest
from rtl import require_module

from hwsim import FloatFormat, mitchell_div_float, mitchell_mul_float
from hwsim.float_mul import (
    FloatDivParams, FloatMethod, FloatMulParams, FloatType, float_bits, float_corners,
    float_div, float_mul, float_pairs, float_values, lmul_offset,
)
from hwsim.units import get_unit

FORMATS = list(FloatType)
WIDE_RANDOM = 20_000

# (bits, exponent bits, has inf, l(m)) written from the docstring and the OCP / IEEE specs
SPEC = {FloatType.FP32: (32, 8, True), FloatType.BF16: (16, 8, True),
        FloatType.FP16: (16, 5, True), FloatType.E4M3: (8, 4, False),
        FloatType.E5M2: (8, 5, True)}


def _l(m: int) -> int:
    """L-Mul's l(m) (Luo and Sun 2024): m for m <= 3, 3 for m = 4, 4 for m > 4."""
    return m if m <= 3 else 3 if m == 4 else 4


def ref(a: int, b: int, fmt: FloatType, method: str) -> int:
    """One result pattern; ``method`` in mitchell, lmul, exact, div."""
    w, e_bits, has_inf = SPEC[fmt]
    m = w - 1 - e_bits
    bias = 2 ** (e_bits - 1) - 1
    emax = 2 ** e_bits - 1
    sign = ((a >> (w - 1)) ^ (b >> (w - 1))) & 1
    max_finite = (emax << m) - 1 if has_inf else (emax << m) | (2 ** m - 2)
    huge = emax << m if has_inf else max_finite
    qnan = (emax << m) | (1 << (m - 1)) if has_inf else (emax << m) | (2 ** m - 1)

    def cls(x):
        e, f = (x >> m) & emax, x & (2 ** m - 1)
        if e == 0:
            return "zero", 0, 0
        if e == emax and has_inf:
            return ("inf" if f == 0 else "nan"), e, f
        if e == emax and f == 2 ** m - 1:
            return "nan", e, f
        return "normal", e, f

    ca, ea, fa = cls(a)
    cb, eb, fb = cls(b)
    out = lambda mag: (sign << (w - 1)) | mag  # noqa: E731
    if "nan" in (ca, cb):
        return qnan
    if method == "div":
        if (ca, cb) in (("zero", "zero"), ("inf", "inf")):
            return qnan
        if cb == "zero" or ca == "inf":
            return out(huge)
        if ca == "zero" or cb == "inf":
            return out(0)
    else:
        if {ca, cb} == {"zero", "inf"}:
            return qnan
        if "inf" in (ca, cb):
            return out(huge)
        if "zero" in (ca, cb):
            return out(0)
    ka, kb = ea - bias, eb - bias
    if method == "exact":
        p = (2 ** m + fa) * (2 ** m + fb)  # value p * 2**(ka + kb - 2m)
        drop = p.bit_length() - (m + 1)
        q, r = p >> drop, p % (1 << drop)
        if r * 2 > (1 << drop) or (r * 2 == (1 << drop) and q % 2 == 1):
            q += 1
        e = ka + kb - 2 * m + drop + m
        if q == 2 ** (m + 1):
            q, e = q // 2, e + 1
        frac = q - 2 ** m
    else:
        # log2 ~ k + x in units of 2**-m
        la, lb = ka * 2 ** m + fa, kb * 2 ** m + fb
        total = la - lb if method == "div" else la + lb
        if method == "lmul":
            total += 2 ** (m - _l(m))
        e, frac = total // 2 ** m, total % 2 ** m
    biased = e + bias
    if biased < 1:
        return out(0)
    mag = (biased << m) | frac
    return out(huge if mag > max_finite else mag)


def ref_array(a, b, fmt, method):
    return np.array([ref(int(x), int(y), fmt, method) for x, y in zip(a, b)], dtype=np.int64)


def vectors(fmt, seed=0):
    return float_pairs(fmt, None if fmt.bits == 8 else WIDE_RANDOM, seed)


def run(fmt, method, a, b):
    if method == "div":
        return float_div(a, b, FloatDivParams(fmt=fmt))
    return float_mul(a, b, FloatMulParams(fmt=fmt, method=FloatMethod(method)))


@pytest.mark.parametrize("method", ["mitchell", "lmul", "exact", "div"])
@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
def test_model_equals_reference(fmt, method):
    a, b = vectors(fmt, seed=fmt.bits)
    got = run(fmt, method, a, b)
    want = ref_array(a, b, fmt, method)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (f"{bad.size} mismatches; first a={a[bad[0]]:#x} b={b[bad[0]]:#x}: "
                           f"model {got[bad[0]]:#x} reference {want[bad[0]]:#x}")


def _numpy_rounded(x: np.ndarray, fmt: FloatType) -> np.ndarray | None:
    """float64 values rounded to nearest even into ``fmt`` by numpy / ml_dtypes, back as
    float64."""
    if fmt is FloatType.FP32:
        return x.astype(np.float32).astype(np.float64)
    if fmt is FloatType.FP16:
        return x.astype(np.float16).astype(np.float64)
    ml = require_module("ml_dtypes", "ml")  # CI fails when it is missing
    dt = {FloatType.BF16: ml.bfloat16, FloatType.E4M3: ml.float8_e4m3fn,
          FloatType.E5M2: ml.float8_e5m2}[fmt]
    return x.astype(dt).astype(np.float64)


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
def test_exact_equals_float_rounding(fmt):
    """Where the rounded product is a normal finite value, the exact method is float64
    multiplication (exact: 2(M+1) <= 48 bits) rounded into the format by numpy."""
    a, b = vectors(fmt, seed=7)
    x, y = float_values(a, fmt), float_values(b, fmt)
    lo = float(float_values(fmt.min_normal, fmt))
    normal_in = np.isfinite(x) & np.isfinite(y) & (np.abs(x) >= lo) & (np.abs(y) >= lo)
    with np.errstate(over="ignore", invalid="ignore"):
        want = _numpy_rounded(x * y, fmt)
        keep = normal_in & np.isfinite(want) & (np.abs(x * y) >= lo)
    hi = float(float_values(fmt.max_finite, fmt))
    got = float_values(float_mul(a, b, FloatMulParams(fmt=fmt, method=FloatMethod.EXACT)), fmt)
    keep &= np.abs(want) <= hi
    assert keep.sum() > 0.3 * keep.size
    np.testing.assert_array_equal(got[keep], want[keep])
    # below the smallest normal the two rules differ: gradual underflow rounds on the
    # subnormal grid, the unit rounds to M+1 bits with an unbounded exponent and flushes
    # what stays below (tininess after rounding): 0 or the smallest normal, never between
    with np.errstate(invalid="ignore"):
        tiny = normal_in & (np.abs(x * y) < lo)
    assert set(np.abs(got[tiny]).tolist()) <= {0.0, lo}


@pytest.mark.parametrize("fmt", FORMATS, ids=lambda f: f.value)
def test_special_classes_named(fmt):
    """Each special class by name, so a failure says which rule broke."""
    s, m = fmt.sign_bit, fmt.man_bits
    one, two = fmt.one, fmt.one + (1 << m)
    sub, nan = 1, fmt.nan
    mul = lambda a, b, meth=FloatMethod.MITCHELL: int(  # noqa: E731
        float_mul(a, b, FloatMulParams(fmt=fmt, method=meth)))
    div = lambda a, b: int(float_div(a, b, FloatDivParams(fmt=fmt)))  # noqa: E731
    for meth in FloatMethod:
        assert mul(0, two, meth) == 0 and mul(s, two, meth) == s  # +-0
        assert mul(sub, two, meth) == 0 and mul(sub | s, two, meth) == s  # subnormal in = 0
        assert mul(nan, one, meth) == nan and mul(s | nan, one, meth) == nan
        assert mul(one, s | one, meth) == s | (one + (lmul_offset(fmt) if meth in (FloatMethod.LMUL, FloatMethod.LMUL_PAPER) else 0))
        # overflow: the largest finite squared
        assert mul(fmt.max_finite, fmt.max_finite, meth) == fmt.huge
        assert mul(fmt.max_finite, s | fmt.max_finite, meth) == s | fmt.huge
        # underflow flush: the smallest normal squared
        assert mul(fmt.min_normal, fmt.min_normal, meth) == 0
        assert mul(s | fmt.min_normal, fmt.min_normal, meth) == s
    assert div(one, 0) == fmt.huge and div(s | one, 0) == s | fmt.huge
    assert div(0, 0) == nan and div(0, two) == 0 and div(s, two) == s
    assert div(fmt.min_normal, fmt.max_finite) == 0
    assert div(fmt.max_finite, fmt.min_normal) == fmt.huge
    if fmt.has_inf:
        inf = fmt.inf
        for meth in FloatMethod:
            assert mul(inf, 0, meth) == nan and mul(0, s | inf, meth) == nan
            assert mul(inf, s | two, meth) == s | inf and mul(inf, sub, meth) == nan
            assert mul(inf + 1, one, meth) == nan  # signalling NaN in
        assert div(inf, inf) == nan and div(one, inf) == 0 and div(s | inf, two) == s | inf
    else:  # e4m3: 0x78 is 256.0, not inf; 0x7F is the only NaN; overflow saturates to 448
        assert float_values(0x78, fmt) == 256.0 and float_values(fmt.max_finite, fmt) == 448.0
        assert mul(0x78, one) == 0x78
        assert mul(0x7E, two) == 0x7E and mul(0x77, 0x77) == 0x7E
        assert nan == 0x7F and np.isnan(float_values(0x7F, fmt))
        assert mul(0x7F, 0) == nan and mul(0xFF, one) == nan


def test_lmul_offsets():
    """2**(M - l(M)) mantissa LSBs: l(7) = 4 for bf16, l(3) = 3 for e4m3, l(2) = 2 for e5m2."""
    assert {f: lmul_offset(f) for f in FloatType} == {
        FloatType.FP32: 1 << 19, FloatType.BF16: 8, FloatType.FP16: 64,
        FloatType.E4M3: 1, FloatType.E5M2: 1}
    # bf16 1.5 x 1.5: Mitchell 2.0 (0x4000), L-Mul 2 * (1 + 2**-4) = 2.125 (0x4008), the
    # paper's formula 1 + 0.5 + 0.5 + 2**-4 = 2.0625 (0x4004), exact 2.25
    p = {meth: int(float_mul(0x3FC0, 0x3FC0, FloatMulParams(method=meth))) for meth in FloatMethod}
    assert p == {FloatMethod.MITCHELL: 0x4000, FloatMethod.LMUL: 0x4008,
                 FloatMethod.LMUL_PAPER: 0x4004, FloatMethod.EXACT: 0x4010}


@pytest.mark.parametrize("divide", [False, True])
@pytest.mark.parametrize("fmt", [FloatFormat.FP32, FloatFormat.BF16, FloatFormat.FP16],
                         ids=lambda f: f.name)
def test_mitchell_float_functions_share_the_core(fmt, divide):
    """``mitchell_mul_float`` / ``mitchell_div_float`` on values = the unit on patterns."""
    ft = FloatType[fmt.name]
    a, b = float_pairs(ft, 5_000, 11)
    uint = np.uint32 if fmt.bits == 32 else np.uint16
    va, vb = a.astype(uint), b.astype(uint)
    if fmt is not FloatFormat.BF16:
        va, vb = va.view(fmt.storage), vb.view(fmt.storage)
    f = mitchell_div_float if divide else mitchell_mul_float
    got = np.asarray(f(va, vb, fmt)).view(uint).astype(np.int64)
    want = (float_div(a, b, FloatDivParams(fmt=ft)) if divide
            else float_mul(a, b, FloatMulParams(fmt=ft)))
    np.testing.assert_array_equal(got, want)


def test_corners_cover_every_class():
    for fmt in FloatType:
        c = float_corners(fmt)
        mag = c & (fmt.sign_bit - 1)
        assert 0 in mag and 1 in mag and fmt.min_normal in mag and fmt.one in mag
        assert fmt.max_finite in mag and fmt.nan in mag and (c >= fmt.sign_bit).any()
        if fmt.has_inf:
            assert fmt.inf in mag and fmt.inf + 1 in mag
    a, b = float_pairs(FloatType.E4M3, None)
    assert a.size == 1 << 16 and len(set(zip(a.tolist(), b.tolist()))) == 1 << 16


def test_real_pairs_are_finite_normals():
    spec = get_unit("float-mul")
    p = FloatMulParams(fmt=FloatType.FP16)
    approx, exact = spec.real(p, spec.vectors(p, 10_000, 0))
    assert approx.size > 5_000 and np.isfinite(approx).all() and np.isfinite(exact).all()
    lo = float(float_values(p.fmt.min_normal, p.fmt))
    r = (approx / exact)[np.abs(exact) >= 2 * lo]  # below that, Mitchell's product may flush
    assert r.min() >= 8 / 9 - 1e-12 and r.max() <= 1.0  # Mitchell: product / exact in [8/9, 1]


# -- parameters and bad input ------------------------------------------------------------------

def test_params_names_round_trip():
    p = FloatMulParams(fmt=FloatType.E4M3, method=FloatMethod.LMUL, stages=2)
    assert p.top_name == "float_mul_e4m3_lmul_p2" and p.latency == 2 and p.out_width == 8
    assert FloatMulParams.from_dict(p.to_dict()) == p
    assert p.to_dict() == {"fmt": "e4m3", "method": "lmul", "stages": 2}
    d = FloatDivParams(fmt=FloatType.FP32)
    assert d.top_name == "float_div_fp32" and FloatDivParams.from_dict(d.to_dict()) == d


@pytest.mark.parametrize("make,exc,msg", [
    (lambda: FloatMulParams(fmt="bf16"), TypeError,
     r"^FloatMulParams\.fmt must be a FloatType \(fp32, bf16, fp16, e4m3, e5m2\), not 'bf16'$"),
    (lambda: FloatMulParams(method="lmul"), TypeError,
     r"^FloatMulParams\.method must be a FloatMethod \(mitchell, lmul, lmul-paper, exact\), not 'lmul'$"),
    (lambda: FloatMulParams(stages=9), ValueError,
     r"^FloatMulParams\.stages must be an integer in 0\.\.8, not 9$"),
    (lambda: FloatDivParams(fmt=FloatFormat.BF16), TypeError,
     r"^FloatDivParams\.fmt must be a FloatType \(fp32, bf16, fp16, e4m3, e5m2\), "
     r"not <FloatFormat\.BF16: \(16, 8\)>$"),
    (lambda: float_mul([256], [1], FloatMulParams(fmt=FloatType.E5M2)), ValueError,
     r"^float_mul: a has values outside \[0, 256\) for e5m2 bit patterns \(first: 256\)$"),
    (lambda: float_div([1.0], [1], FloatDivParams()), TypeError,
     r"^float_div: a must be integers, not dtype float64$"),
    (lambda: float_mul([1], [1], FloatDivParams()), TypeError,
     r"^float_mul: params must be a FloatMulParams, not FloatDivParams\(.*\)$"),
    (lambda: float_mul([1, 2], [1, 2, 3], FloatMulParams()), ValueError,
     r"^float_mul: a and b must have shapes that broadcast together, not \(2,\) and \(3,\)$"),
    (lambda: float_pairs(FloatType.FP16, None), ValueError,
     r"^exhaustive vectors are limited to the 8-bit formats \(2\*\*16 pairs\), not fp16; "
     r"give a count$"),
])
def test_bad_input(make, exc, msg):
    with pytest.raises(exc, match=msg):
        make()


def test_core_refuses_a_non_mitchell_divider():
    with pytest.raises(ValueError, match=r"^float_bits: the divider is Mitchell only, not exact$"):
        float_bits(np.array([1]), np.array([1]), FloatType.BF16, FloatMethod.EXACT, divide=True)


@pytest.mark.parametrize("bits, fmt, err, msg", [
    (256, FloatType.E4M3, ValueError,
     r"^float_values: bits has values outside \[0, 256\) for e4m3 bit patterns \(first: 256\)$"),
    (0x13F80, FloatType.BF16, ValueError,
     r"^float_values: bits has values outside \[0, 65536\) for bf16 bit patterns \(first: 81792\)$"),
    (-1, FloatType.E4M3, ValueError, r"^float_values: bits has values outside \[0, 256\)"),
    (1.5, FloatType.BF16, TypeError, r"^float_values: bits must be integers, not dtype float64$"),
    (0x3F80, "bf16", TypeError, r"^float_values.fmt must be a FloatType"),
])
def test_float_values_refuses_what_is_not_a_pattern(bits, fmt, err, msg):
    """Out-of-range or non-integer patterns were masked or truncated into a wrong value
    (256 in e4m3 read as 0.0, 1.5 in bf16 as 9.18e-41); now refused as float_mul does."""
    with pytest.raises(err, match=msg):
        float_values(bits, fmt)


@pytest.mark.parametrize("fmt", [FloatType.E5M2, FloatType.FP16])
def test_lmul_overflows_are_counted_not_fatal(fmt, capsys):
    """L-Mul's offset can carry a product whose exact value is finite past the largest
    finite value: characterisation counts those inputs and measures the others (was: exit 2,
    'approx has non-finite values')."""
    import math

    from hwsim.cli import main
    from hwsim.eval.characterize import characterize
    spec = get_unit("float-mul")
    params = FloatMulParams(fmt=fmt, method=FloatMethod.LMUL)
    exhaustive = fmt is FloatType.E5M2
    c = characterize(spec, params, samples=None if exhaustive else 200_000, seed=3)
    rng = np.random.default_rng(3)
    v = ({"a": np.repeat(np.arange(256), 256), "b": np.tile(np.arange(256), 256)} if exhaustive
         else {k: rng.integers(0, 1 << fmt.bits, 200_000, dtype=np.int64) for k in ("a", "b")})
    approx, exact = spec.real(params, v)
    bad = ~np.isfinite(approx)
    assert np.isfinite(exact).all() and c.overflows == int(bad.sum()) > 0
    assert c.metrics.n == int((~bad).sum()) and math.isfinite(c.metrics.mred)
    assert main(["characterize", "float-mul", "--method", "lmul", "--fmt", fmt.value,
                 "--samples", "100000"]) == 0
    assert "overflow to inf" in capsys.readouterr().out
