"""The float encoder (``hwsim.float_mul.float_encode``) and the float-unit matmul hook
(``hwsim.eval.hooks.FloatMatmul``) against independent recomputations: numpy's float16 and
ml_dtypes' float8 conversions, a bf16 round-to-nearest-even written on float32 bits, and a
scalar loop of ``float_mul`` calls with a sequential float32 sum."""

from __future__ import annotations

import math
import zlib

import numpy as np
import pytest
from rtl import require_module

from hwsim.float_mul import (
    FloatMethod, FloatMulParams, FloatType, float_encode, float_mul, float_values,
)
from hwsim.eval.hooks import FloatMatmul


# -- the encoder -----------------------------------------------------------------------------

def _fp16_values(rng, n):
    """Random float64 values over fp16's range, with exact midpoints between fp16 neighbours
    (ties) and values around the flush and overflow thresholds."""
    bits = rng.integers(0x0400, 0x7BFF, n).astype(np.uint16)        # positive normals
    lo = bits.view(np.float16).astype(np.float64)
    hi = (bits + 1).view(np.float16).astype(np.float64)
    ties = (lo + hi) / 2                                                # exact in float64
    near = lo + (hi - lo) * rng.uniform(0, 1, n)
    edge = np.array([65504.0, 65519.99, 65520.0, 65536.0, 1e9, 2.0 ** -14,
                     2.0 ** -14 * (1 - 2.0 ** -12), 2.0 ** -15, 2.0 ** -25, 0.0])
    x = np.concatenate([ties, near, edge])
    return np.concatenate([x, -x])


def test_encode_fp16_is_numpys_round_to_nearest_even_where_normal():
    rng = np.random.default_rng(0)
    x = _fp16_values(rng, 5000)
    got = float_encode(x, FloatType.FP16)
    with np.errstate(over="ignore"):
        want = x.astype(np.float16)
    normal = np.abs(want) >= np.float16(2.0 ** -14)     # numpy normal or inf
    np.testing.assert_array_equal(got[normal], want[normal].view(np.uint16).astype(np.int64))
    # below the smallest normal (numpy: subnormal or zero) the unit's convention flushes
    tiny = ~normal
    assert np.all(got[tiny] & 0x7FFF == 0)
    np.testing.assert_array_equal(got[tiny] >> 15, np.signbit(x[tiny]).astype(np.int64))
    assert normal.sum() > 10000 and tiny.sum() >= 6


def test_encode_bf16_is_rne_on_the_float32_bits():
    rng = np.random.default_rng(1)
    # float32 patterns of exponent fields 1..253 (normal, no overflow), both signs, with
    # every low half, including exact ties 0x8000 on odd and even bf16 mantissas
    hi = rng.integers(0x0080, 0x7F00, 20000).astype(np.uint32)
    low = rng.integers(0, 1 << 16, 20000).astype(np.uint32)
    low[:4000] = 0x8000
    bits = (hi << 16) | low
    bits[::2] |= np.uint32(0x80000000)
    x = bits.view(np.float32).astype(np.float64)
    want = (bits + np.uint32(0x7FFF) + ((bits >> 16) & 1)) >> 16      # RNE by bit operations
    np.testing.assert_array_equal(float_encode(x, FloatType.BF16), want.astype(np.int64))


@pytest.mark.parametrize("fmt, name", [(FloatType.E4M3, "float8_e4m3fn"),
                                       (FloatType.E5M2, "float8_e5m2")])
def test_encode_fp8_matches_ml_dtypes_where_normal_and_finite(fmt, name):
    ml_dtypes = require_module("ml_dtypes", "ml")  # CI fails when it is missing
    dt = getattr(ml_dtypes, name)
    top = float(float_values(fmt.max_finite, fmt))
    tiny = float(float_values(fmt.min_normal, fmt))
    rng = np.random.default_rng(2)
    x = np.exp(rng.uniform(math.log(tiny), math.log(top), 20000)) * rng.choice([-1, 1], 20000)
    x = np.concatenate([x, float_values(np.arange(256), fmt)])          # every pattern's value
    x = x[np.isfinite(x)]
    want = x.astype(dt).astype(np.float64)
    ok = (np.abs(want) >= tiny) & np.isfinite(want) & (np.abs(x) <= top)
    got = float_values(float_encode(x, fmt), fmt)
    np.testing.assert_array_equal(got[ok], want[ok])
    assert ok.sum() > 19000


def test_encode_conventions_of_the_unit():
    e4, e5 = FloatType.E4M3, FloatType.E5M2
    x = np.array([464.0, 465.0, 1e6, np.inf, -np.inf, np.nan, -0.0, 2.0 ** -7, -2.0 ** -9,
                  2.0 ** -6 * (1 - 2.0 ** -5)])
    # 464 is the tie between 448 and 480: to even (448); above it e4m3 saturates to 448; a
    # value below the smallest normal that rounds up to it stays normal (after rounding)
    assert float_encode(x, e4).tolist() == [0x7E, 0x7E, 0x7E, 0x7E, 0xFE, 0x7F, 0x80, 0x00,
                                             0x80, 0x08]
    assert float_encode([57344.0, 61440.0, np.inf, np.nan], e5).tolist() == [0x7B, 0x7C, 0x7C,
                                                                              0x7E]
    for fmt in FloatType:  # every normal, zero and inf pattern is its own value's encoding
        if fmt.bits > 16:
            continue
        pats = np.arange(1 << fmt.bits)
        mag = pats & (fmt.sign_bit - 1)
        keep = (mag >= fmt.min_normal) & (mag <= fmt.huge) | (mag == 0)
        np.testing.assert_array_equal(float_encode(float_values(pats, fmt), fmt)[keep], pats[keep])


def test_encode_rejects_bad_arguments():
    with pytest.raises(TypeError, match=r"^float_encode\.fmt must be a FloatType \(fp32, bf16, "
                                        r"fp16, e4m3, e5m2\), not 'bf16'$"):
        float_encode([1.0], "bf16")
    with pytest.raises(TypeError, match=r"^float_encode: x must be real numbers, not dtype "
                                        r"complex128$"):
        float_encode(np.array([1j]), FloatType.BF16)


# -- the hook --------------------------------------------------------------------------------

def _target(fmt: FloatType) -> int:
    """The docstring's t: 2**(2t) <= largest finite, t <= 7 (e4m3 4, the others 7)."""
    return min(int(math.floor(math.log2(float(float_values(fmt.max_finite, fmt))))) // 2, 7)


def _shift(peak: float, fmt: FloatType) -> int:
    if peak == 0 or not math.isfinite(peak):
        return 0
    return _target(fmt) - (math.floor(math.log2(peak)) + 1)


def _scalar_matmul(a, b, params, accumulate, scale):
    """One matrix pair, one scalar float_mul call per product, a sequential sum."""
    fmt = params.fmt
    m, k = a.shape
    n = b.shape[1]
    acc_t = np.float32 if accumulate == "float32" else np.float64
    out = np.zeros((m, n))
    for i in range(m):
        for j in range(n):
            if scale == "tensor":
                sa, sb = _shift(np.abs(a).max(), fmt), _shift(np.abs(b).max(), fmt)
            elif scale == "vector":
                sa, sb = _shift(np.abs(a[i]).max(), fmt), _shift(np.abs(b[:, j]).max(), fmt)
            else:
                sa = sb = 0
            acc = acc_t(0)
            for kk in range(k):
                pa = int(float_encode(a[i, kk] * 2.0 ** sa, fmt))
                pb = int(float_encode(b[kk, j] * 2.0 ** sb, fmt))
                acc = acc_t(acc + acc_t(float_values(int(float_mul(pa, pb, params)), fmt)))
            out[i, j] = float(acc) * 2.0 ** -(sa + sb)
    return out


@pytest.mark.parametrize("fmt, method, accumulate, scale", [
    (FloatType.BF16, FloatMethod.LMUL, "float32", "tensor"),
    (FloatType.BF16, FloatMethod.MITCHELL, "float64", "vector"),
    (FloatType.E4M3, FloatMethod.LMUL, "float32", "tensor"),
    (FloatType.E4M3, FloatMethod.MITCHELL, "float32", "none"),
    (FloatType.E5M2, FloatMethod.EXACT, "float32", "vector"),
    (FloatType.FP16, FloatMethod.LMUL, "float64", "tensor"),
    (FloatType.FP32, FloatMethod.EXACT, "float32", "tensor"),
])
def test_float_matmul_is_the_sum_of_the_units_scalar_products(fmt, method, accumulate, scale):
    rng = np.random.default_rng(zlib.crc32(f"{fmt.value} {method.value} {scale}".encode()))
    a = rng.normal(size=(2, 3, 4, 6)) * np.exp(rng.normal(size=(2, 3, 4, 1)) * 3)
    b = rng.normal(size=(3, 6, 5)) * 0.01
    a[0, 0, 0, :2] = 0.0
    params = FloatMulParams(fmt=fmt, method=method)
    got = FloatMatmul(params, accumulate=accumulate, scale=scale)(a, b)
    assert got.shape == (2, 3, 4, 5) and got.dtype == np.float64
    for i in range(2):
        for h in range(3):
            want = _scalar_matmul(a[i, h], b[h], params, accumulate, scale)
            np.testing.assert_array_equal(got[i, h], want)


def test_float_matmul_exact_fp32_is_the_float32_product_of_small_integers():
    """Integers below 2**8 with k = 40: every product and partial sum is exact in float32."""
    rng = np.random.default_rng(3)
    a = rng.integers(-255, 256, (3, 7, 40)).astype(np.float64)
    b = rng.integers(-255, 256, (40, 9)).astype(np.float64)
    hook = FloatMatmul(FloatMulParams(fmt=FloatType.FP32, method=FloatMethod.EXACT))
    np.testing.assert_array_equal(hook(a, b), a @ b)
    big = FloatMatmul(FloatMulParams(fmt=FloatType.FP32, method=FloatMethod.EXACT), scale="none")
    np.testing.assert_array_equal(big(a * 2.0 ** 60, b), (a @ b) * 2.0 ** 60)


def test_float_matmul_special_values_follow_the_unit():
    p = FloatMulParams(fmt=FloatType.E4M3, method=FloatMethod.LMUL)
    a = np.array([[np.inf, 1.0], [1000.0, 1.0], [np.nan, 0.0]])
    b = np.array([[0.0], [1.0]])
    out = FloatMatmul(p, scale="none")(a, b)
    # e4m3 has no inf: inf and 1000 are 448, 448 x 0 = 0; L-Mul 1 x 1 = 1.125; NaN stays NaN
    assert out[0, 0] == out[1, 0] == 1.125 and np.isnan(out[2, 0])
    bf = FloatMulParams(fmt=FloatType.BF16, method=FloatMethod.EXACT)
    assert np.isnan(FloatMatmul(bf, scale="none")(a[:1], b)[0, 0])  # inf x 0
    assert FloatMatmul(p).target_exponent == 4 and FloatMatmul(bf).target_exponent == 7


def test_float_matmul_rejects_bad_arguments():
    p = FloatMulParams()
    with pytest.raises(TypeError, match=r"^FloatMatmul\.params must be a FloatMulParams, "
                                        r"not 'bf16'$"):
        FloatMatmul("bf16")
    with pytest.raises(ValueError, match=r"^FloatMatmul\.accumulate must be one of float32, "
                                         r"float64, not 'float16'$"):
        FloatMatmul(p, accumulate="float16")
    with pytest.raises(ValueError, match=r"^FloatMatmul\.scale must be one of tensor, vector, "
                                         r"none, not 'row'$"):
        FloatMatmul(p, scale="row")
    with pytest.raises(ValueError, match=r"^FloatMatmul: cannot multiply shapes \(2, 3\) and "
                                         r"\(2, 3\)$"):
        FloatMatmul(p)(np.zeros((2, 3)), np.zeros((2, 3)))
