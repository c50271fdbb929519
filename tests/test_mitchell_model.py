"""The Mitchell models against the DESIGN.md specification and the published error bounds."""


import numpy as np
import pytest

import reference as ref
from hwsim import (FloatFormat, MitchellDivParams, MitchellMulParams, bf16_from_float,
                   bf16_to_float, mitchell_div, mitchell_div_float, mitchell_mul,
                   mitchell_mul_float)


def all_pairs(lo, hi):
    a, b = np.meshgrid(np.arange(lo, hi), np.arange(lo, hi), indexing="ij")
    return a.ravel(), b.ravel()


MUL_EXHAUSTIVE = [MitchellMulParams(width=w, signed=s, keep_bits=k)
                  for w in (2, 3, 5, 8) for s in (False, True)
                  for k in [None, *sorted({0, max(0, w // 2 - 1), w - 2})]]


@pytest.mark.parametrize("p", MUL_EXHAUSTIVE, ids=lambda p: p.top_name)
def test_mul_exhaustive_matches_spec(p):
    a, b = all_pairs(*p.in_range)
    got = mitchell_mul(a, b, p)
    want = [ref.mul(int(x), int(y), p.width, p.signed, p.keep_bits) for x, y in zip(a, b)]
    assert got.dtype == (np.int64 if p.signed else np.uint64)
    assert got.tolist() == want


@pytest.mark.parametrize("width", [12, 16, 24, 32])
@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("keep_bits", [None, 3])
def test_mul_random_wide_matches_spec(width, signed, keep_bits):
    p = MitchellMulParams(width=width, signed=signed, keep_bits=keep_bits)
    rng = np.random.default_rng(width * 7 + signed)
    lo, hi = p.in_range
    a = rng.integers(lo, hi, 20_000)
    b = rng.integers(lo, hi, 20_000)
    a[:4] = [lo, hi - 1, 0, 1]
    b[:4] = [hi - 1, lo, hi - 1, lo]
    got = mitchell_mul(a, b, p)
    want = [ref.mul(int(x), int(y), width, signed, keep_bits) for x, y in zip(a, b)]
    assert got.tolist() == want


DIV_EXHAUSTIVE = [MitchellDivParams(width=w, frac_bits=f, keep_bits=k)
                  for w in (2, 5, 8) for f in (0, 8) for k in [None, *sorted({0, w - 2})]]


@pytest.mark.parametrize("p", DIV_EXHAUSTIVE, ids=lambda p: p.top_name)
def test_div_exhaustive_matches_spec(p):
    a, b = all_pairs(*p.in_range)
    q, dz = mitchell_div(a, b, p)
    want = [ref.div(int(x), int(y), p.width, p.frac_bits, p.keep_bits) for x, y in zip(a, b)]
    assert q.tolist() == [w[0] for w in want]
    assert dz.astype(int).tolist() == [w[1] for w in want]


@pytest.mark.parametrize("width,frac_bits", [(16, 16), (24, 8), (32, 0), (32, 32), (12, 20)])
def test_div_random_wide_matches_spec(width, frac_bits):
    p = MitchellDivParams(width=width, frac_bits=frac_bits)
    rng = np.random.default_rng(width + frac_bits)
    a = rng.integers(0, 1 << width, 20_000)
    b = rng.integers(0, 1 << width, 20_000)
    a[:4], b[:4] = [0, (1 << width) - 1, 1, (1 << width) - 1], [0, 1, (1 << width) - 1, 0]
    q, dz = mitchell_div(a, b, p)
    want = [ref.div(int(x), int(y), width, frac_bits) for x, y in zip(a, b)]
    assert q.tolist() == [w[0] for w in want]
    assert dz.astype(int).tolist() == [w[1] for w in want]


# -- published facts -----------------------------------------------------------------------

def test_product_ratio_bounds_8_over_9_exhaustive():
    """Real-valued Mitchell product / exact lies in [8/9, 1], minimum at x_a = x_b = 1/2.

    The 8-bit operands are shifted into the top of a 16-bit unit so the antilog shift is
    a left shift (no truncation): the 16-bit result is the real-valued 8-bit product * 2**16.
    """
    a, b = all_pairs(1, 256)
    real = mitchell_mul(a << 8, b << 8, MitchellMulParams(width=16)).astype(np.float64) / 2 ** 16
    ratio = real / (a * b)
    assert ratio.max() == 1.0
    assert ratio.min() == pytest.approx(8 / 9, abs=0)  # exactly 8/9 in float64
    worst = ratio == ratio.min()
    # the minimum is reached exactly where both fractions are 1/2: operands 3 * 2**j
    fa = a / 2.0 ** np.floor(np.log2(a)) - 1
    fb = b / 2.0 ** np.floor(np.log2(b)) - 1
    assert np.all(fa[worst] == 0.5) and np.all(fb[worst] == 0.5)
    # the integer output (truncating antilog) never exceeds exact and keeps the lower bound
    p = mitchell_mul(a, b, MitchellMulParams(width=8)).astype(np.int64)
    assert np.all(p <= a * b) and np.all(p >= (8 * a * b) // 9)


def test_quotient_ratio_bounds_9_over_8_exhaustive():
    """Real-valued Mitchell quotient / exact lies in [1, 9/8] (F = 2N-1 makes it exact)."""
    a, b = all_pairs(1, 256)
    q, _ = mitchell_div(a, b, MitchellDivParams(width=8, frac_bits=15))
    ratio = (q.astype(np.float64) / 2 ** 15) / (a / b)
    assert ratio.min() == 1.0
    assert ratio.max() == pytest.approx(9 / 8, rel=1e-15)
    assert np.all(ratio <= 9 / 8 * (1 + 1e-15))


def test_worked_example_12_3_times_4_56():
    # 12.3 and 4.56 truncated to 7 fraction bits: 1574 and 583; product has 14 fraction bits
    a, b = int(12.3 * 2 ** 7), int(4.56 * 2 ** 7)
    assert (a, b) == (1574, 583)
    p = mitchell_mul(a, b, MitchellMulParams(width=16))
    assert float(p) / 2 ** 14 == 53.625
    assert round(12.3 * 4.56, 3) == 56.088


def mitchell_mean_relative_error() -> float:
    """E[1 - M/(ab)] with fractions x, y uniform on [0, 1): midpoint rule, 2000 x 2000."""
    x = (np.arange(2000) + 0.5) / 2000
    X, Y = np.meshgrid(x, x)
    s = X + Y
    m = np.where(s < 1, 1 + s, 2 * s)
    return float(np.mean(1 - m / ((1 + X) * (1 + Y))))


def test_mean_relative_error_close_to_3_8_percent():
    analytic = mitchell_mean_relative_error()
    assert round(analytic, 4) == 0.0385  # Mitchell's ~3.8 %
    # Operands in the top octave of a 16-bit unit have uniform fractions on a 2**-15 grid
    # and an exact (left-shift) antilog, so the sample mean estimates the integral.
    rng = np.random.default_rng(1)
    a = rng.integers(1 << 15, 1 << 16, 400_000)
    b = rng.integers(1 << 15, 1 << 16, 400_000)
    red = 1 - mitchell_mul(a, b, MitchellMulParams(width=16)).astype(np.float64) / (a * b)
    se = red.std() / np.sqrt(red.size)
    assert abs(red.mean() - analytic) < 5 * se + 2 ** -14


# -- float bit trick -----------------------------------------------------------------------

def real_mitchell(a: np.ndarray, b: np.ndarray, divide: bool) -> np.ndarray:
    """Mitchell's formula on the exact float64 decomposition of normal operands."""
    ma, ea = np.frexp(np.abs(a).astype(np.float64))
    mb, eb = np.frexp(np.abs(b).astype(np.float64))
    xa, xb = 2 * ma - 1, 2 * mb - 1
    ka, kb = ea - 1, eb - 1
    if divide:
        d = xa - xb
        mag = np.where(d >= 0, np.ldexp(1 + d, ka - kb), np.ldexp(2 + d, ka - kb - 1))
    else:
        s = xa + xb
        mag = np.where(s < 1, np.ldexp(1 + s, ka + kb), np.ldexp(s, ka + kb + 1))
    return np.copysign(mag, np.sign(a) * np.sign(b))


@pytest.mark.parametrize("fmt", [FloatFormat.FP32, FloatFormat.FP16])
@pytest.mark.parametrize("divide", [False, True])
def test_float_trick_equals_mitchell_formula(fmt, divide):
    rng = np.random.default_rng(3)
    dtype = fmt.storage
    a = (rng.uniform(0.5, 2, 50_000) * 2.0 ** rng.integers(-6, 6, 50_000)
         * rng.choice([-1, 1], 50_000)).astype(dtype)
    b = (rng.uniform(0.5, 2, 50_000) * 2.0 ** rng.integers(-6, 6, 50_000)).astype(dtype)
    f = mitchell_div_float if divide else mitchell_mul_float
    got = f(a, b, fmt)
    assert got.dtype == dtype
    np.testing.assert_array_equal(got.astype(np.float64), real_mitchell(a, b, divide))


def test_bf16_patterns_and_formula():
    rng = np.random.default_rng(4)
    a = bf16_from_float(rng.uniform(-100, 100, 10_000))
    b = bf16_from_float(rng.uniform(0.01, 100, 10_000))
    got = mitchell_mul_float(a, b, FloatFormat.BF16)
    assert got.dtype == np.uint16
    want = real_mitchell(bf16_to_float(a), bf16_to_float(b), False)
    np.testing.assert_array_equal(bf16_to_float(got).astype(np.float64), want)
    assert bf16_from_float([1.0, -2.0, 1.00390625]).tolist() == [0x3F80, 0xC000, 0x3F80]  # tie -> even


INF, NAN = np.inf, np.nan


@pytest.mark.parametrize("fmt", list(FloatFormat), ids=lambda f: f.name)
def test_float_special_cases(fmt):
    def enc(vals):
        v = np.array(vals, dtype=np.float64)
        return bf16_from_float(v) if fmt is FloatFormat.BF16 else v.astype(fmt.storage)

    def dec(x):
        return bf16_to_float(x).astype(np.float64) if fmt is FloatFormat.BF16 else x.astype(np.float64)

    tiny = {FloatFormat.FP32: 1e-40, FloatFormat.BF16: 1e-40, FloatFormat.FP16: 1e-6}[fmt]
    big = {FloatFormat.FP32: 3e38, FloatFormat.BF16: 3e38, FloatFormat.FP16: 60000.0}[fmt]
    small = {FloatFormat.FP32: 1e-30, FloatFormat.BF16: 1e-30, FloatFormat.FP16: 1e-4}[fmt]
    a = enc([0.0, -0.0, 3.0, INF, -INF, 0.0, NAN, 2.0, tiny, big, small, -big])
    b = enc([5.0, 5.0, -0.0, 2.0, 2.0, INF, 1.0, NAN, 4.0, 10.0, small, 10.0])
    p = dec(mitchell_mul_float(a, b, fmt))
    exp = [0.0, -0.0, -0.0, INF, -INF, NAN, NAN, NAN, 0.0, INF, 0.0, -INF]
    np.testing.assert_array_equal(p, exp)
    assert np.array_equal(np.signbit(p[:3]), [False, True, True])
    a = enc([1.0, -1.0, 0.0, INF, 3.0, 0.0, INF, NAN, tiny, 0.0, -INF])
    b = enc([0.0, 0.0, 0.0, INF, INF, 7.0, 2.0, 1.0, 1.0, -INF, 0.0])
    q = dec(mitchell_div_float(a, b, fmt))
    np.testing.assert_array_equal(q, [INF, -INF, NAN, NAN, 0.0, 0.0, INF, NAN, 0.0, -0.0, -INF])
    assert np.signbit(q[9])


# -- parameters and bad input --------------------------------------------------------------

def test_params_round_trip_and_names():
    p = MitchellMulParams(width=12, signed=True, keep_bits=4, stages=2)
    assert MitchellMulParams.from_dict(p.to_dict()) == p
    assert (p.out_width, p.latency, p.top_name) == (24, 2, "mitchell_mul_s12_k4_p2")
    d = MitchellDivParams(width=16, frac_bits=8)
    assert MitchellDivParams.from_dict(d.to_dict()) == d
    assert (d.out_width, d.top_name) == (24, "mitchell_div_u16_f8")


@pytest.mark.parametrize("cls,kwargs,exc,msg", [
    (MitchellMulParams, dict(width=0), ValueError,
     r"^MitchellMulParams.width must be an integer in 2..32, not 0$"),
    (MitchellMulParams, dict(width=40), ValueError,
     r"^MitchellMulParams.width must be an integer in 2..32, not 40$"),
    (MitchellMulParams, dict(width="8"), TypeError,
     r"^MitchellMulParams.width must be an integer in 2..32, not '8'$"),
    (MitchellMulParams, dict(width=8, keep_bits=7), ValueError,
     r"^MitchellMulParams.keep_bits must be None or an integer in 0..6, not 7$"),
    (MitchellMulParams, dict(width=8, signed=1), TypeError,
     r"^MitchellMulParams.signed must be a bool, not 1$"),
    (MitchellMulParams, dict(width=8, stages=-1), ValueError,
     r"^MitchellMulParams.stages must be an integer in 0..8, not -1$"),
    (MitchellDivParams, dict(width=32, frac_bits=33), ValueError,
     r"^MitchellDivParams.frac_bits must be an integer in 0..32, not 33$"),
    (MitchellDivParams, dict(width=8, frac_bits=-1), ValueError,
     r"^MitchellDivParams.frac_bits must be an integer in 0..32, not -1$"),
])
def test_bad_params(cls, kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        cls(**kwargs)


def test_from_dict_rejects_unknown_keys():
    with pytest.raises(ValueError, match=r"^MitchellMulParams has no parameter 'depth' "
                                         r"\(parameters: width, signed, keep_bits, stages\)$"):
        MitchellMulParams.from_dict({"width": 8, "depth": 3})


def test_bad_operands():
    p8 = MitchellMulParams(width=8)
    with pytest.raises(ValueError, match=r"^mitchell_mul: a has values outside \[0, 256\) "
                                         r"for width 8 \(first: 300\)$"):
        mitchell_mul([1, 300], [1, 2], p8)
    with pytest.raises(ValueError, match=r"^mitchell_mul: b has values outside \[-128, 128\) "
                                         r"for signed width 8 \(first: 128\)$"):
        mitchell_mul(1, 128, MitchellMulParams(width=8, signed=True))
    with pytest.raises(TypeError, match=r"^mitchell_mul: a must be integers, not dtype float64$"):
        mitchell_mul([1.5], [1], p8)
    with pytest.raises(ValueError, match=r"^mitchell_div: b has values outside \[0, 16\) "
                                         r"for width 4 \(first: -1\)$"):
        mitchell_div(1, -1, MitchellDivParams(width=4, frac_bits=0))
    with pytest.raises(TypeError, match=r"^mitchell_mul: params must be a MitchellMulParams"):
        mitchell_mul(1, 1, MitchellDivParams())
    with pytest.raises(TypeError, match=r"^mitchell_mul_float: a must be bfloat16 bit patterns "
                                        r"\(uint16\), not dtype float64; convert values with "
                                        r"hwsim.bf16_from_float$"):
        mitchell_mul_float([1.0], [2], FloatFormat.BF16)
    with pytest.raises(TypeError, match=r"^mitchell_div_float: fmt must be a FloatFormat"):
        mitchell_div_float(1.0, 2.0, "fp32")


def test_bf16_conversions_refuse_bad_input():
    with pytest.raises(ValueError, match=r"^bf16_to_float: bits has values outside \[0, 65536\) "
                                         r"for BF16 bit patterns \(first: 70000\)$"):
        bf16_to_float([0x3F80, 70000])
    with pytest.raises(ValueError, match=r"^bf16_to_float: bits has values outside \[0, 65536\) "
                                         r"for BF16 bit patterns \(first: -1\)$"):
        bf16_to_float(np.array([-1], dtype=np.int16))
    with pytest.raises(TypeError, match=r"^bf16_to_float: bits must be integers, "
                                        r"not dtype float64$"):
        bf16_to_float([1.5])
    with pytest.raises(TypeError, match=r"^bf16_from_float: x must be real numbers, "
                                        r"not dtype <U1$"):
        bf16_from_float(["x"])
    # every valid pattern still converts, from any integer dtype, to the pattern's float32
    pats = np.arange(1 << 16)
    via_u16 = bf16_to_float(pats.astype(np.uint16))
    via_i64 = bf16_to_float(pats)
    assert via_u16.dtype == np.float32
    np.testing.assert_array_equal(via_u16.view(np.uint32), pats.astype(np.uint32) << 16)
    np.testing.assert_array_equal(via_i64.view(np.uint32), via_u16.view(np.uint32))


# -- properties over every width -----------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@st.composite
def mul_case(draw):
    width = draw(st.integers(2, 32))
    keep = draw(st.one_of(st.none(), st.integers(0, width - 2)))
    signed = draw(st.booleans())
    lo, hi = (-(1 << (width - 1)), 1 << (width - 1)) if signed else (0, 1 << width)
    a = draw(st.lists(st.integers(lo, hi - 1), min_size=1, max_size=20))
    b = draw(st.lists(st.integers(lo, hi - 1), min_size=len(a), max_size=len(a)))
    return MitchellMulParams(width=width, signed=signed, keep_bits=keep), a, b


@settings(max_examples=300, deadline=None)
@given(mul_case())
def test_mul_properties(case):
    p, a, b = case
    got = mitchell_mul(np.array(a), np.array(b), p).tolist()
    assert got == mitchell_mul(np.array(b), np.array(a), p).tolist()  # commutative
    for x, y, z in zip(a, b, got):
        assert z == ref.mul(x, y, p.width, p.signed, p.keep_bits)
        exact = abs(x * y)
        if p.keep_bits is None:  # the [8/9, 1] bound, after the truncating antilog
            assert (8 * exact) // 9 <= abs(z) <= exact
        else:  # truncated fractions only lower the product
            assert abs(z) <= exact
        assert (z < 0) == (z != 0 and (x < 0) != (y < 0))


@settings(max_examples=300, deadline=None)
@given(width=st.integers(2, 32), data=st.data())
def test_div_properties(width, data):
    frac = data.draw(st.integers(0, min(32, 64 - width)))
    p = MitchellDivParams(width=width, frac_bits=frac)
    a = data.draw(st.integers(0, (1 << width) - 1))
    b = data.draw(st.integers(1, (1 << width) - 1))
    q, dz = mitchell_div(a, b, p)
    assert int(q) == ref.div(a, b, width, frac)[0] and not bool(dz)
    # q / 2**F approximates a / b from above before truncation: q <= floor(9/8 * a/b * 2**F)
    assert int(q) <= (9 * a * (1 << frac)) // (8 * b)
    assert int(q) >= (a << frac) // b  # the real-valued quotient is >= exact, floor keeps it


# -- the compiled fast path of mitchell_mul ----------------------------------------------------

@pytest.mark.parametrize("signed", [False, True])
@pytest.mark.parametrize("width", [2, 3, 5, 8])
def test_fast_path_equals_numpy_exhaustive(width, signed):
    from hwsim import mitchell_kernels
    from hwsim.mitchell import mitchell_mul_numpy
    for keep in [None] + list(range(0, width - 1)):
        p = MitchellMulParams(width=width, signed=signed, keep_bits=keep)
        lo, hi = p.in_range
        a, b = (x.ravel() for x in np.meshgrid(np.arange(lo, hi), np.arange(lo, hi)))
        fast = mitchell_kernels.mul_elementwise(a, b, p)
        want = mitchell_mul_numpy(a, b, p)
        assert fast.dtype == want.dtype and np.array_equal(fast, want), (width, signed, keep)


@pytest.mark.parametrize("width", [12, 16, 24, 31, 32])
@pytest.mark.parametrize("signed", [False, True])
def test_fast_path_equals_numpy_random(width, signed):
    from hwsim.mitchell import FAST_PATH_MIN_SIZE, mitchell_mul_numpy
    p = MitchellMulParams(width=width, signed=signed, keep_bits=width // 3)
    lo, hi = p.in_range
    rng = np.random.default_rng(width)
    a = rng.integers(lo, hi, FAST_PATH_MIN_SIZE + 7)
    b = rng.integers(lo, hi, FAST_PATH_MIN_SIZE + 7)
    a[:3], b[:3] = [lo, hi - 1, 0], [hi - 1, lo, lo]
    assert np.array_equal(mitchell_mul(a, b, p), mitchell_mul_numpy(a, b, p))


def test_fast_path_out_of_range_gives_the_model_message():
    from hwsim.mitchell import FAST_PATH_MIN_SIZE
    a = np.zeros(FAST_PATH_MIN_SIZE, np.int64)
    a[100] = 300
    with pytest.raises(ValueError, match=r"^mitchell_mul: a has values outside \[0, 256\) for "
                                         r"width 8 \(first: 300\)$"):
        mitchell_mul(a, a.copy(), MitchellMulParams(width=8))
