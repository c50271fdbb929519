"""FixedFormat.quantize / cast against Python Fractions and against APyTypes."""

import itertools
import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hwsim import FixedFormat, Overflow, Rounding

FORMATS = [FixedFormat(3, 2), FixedFormat(1, 3), FixedFormat(4, 0), FixedFormat(2, 3, signed=False),
           FixedFormat(-1, 4), FixedFormat(5, -2), FixedFormat(3, 3, signed=False)]


def ref_round(v: Fraction, rounding: Rounding) -> int:
    fl = math.floor(v)
    frac = v - fl
    if rounding is Rounding.TRUNCATE:
        return fl
    if rounding is Rounding.TOWARD_ZERO:
        return fl if v >= 0 or frac == 0 else fl + 1
    if rounding is Rounding.NEAREST_UP:
        return fl + (frac >= Fraction(1, 2))
    return fl + (frac > Fraction(1, 2) or (frac == Fraction(1, 2) and fl % 2 == 1))


def ref_overflow(r: int, fmt: FixedFormat, overflow: Overflow) -> int:
    if overflow is Overflow.SATURATE:
        return min(max(r, fmt.min_raw), fmt.max_raw)
    r &= (1 << fmt.width) - 1
    if fmt.signed and r >= 1 << (fmt.width - 1):
        r -= 1 << fmt.width
    return r


def ref_quantize(x: Fraction, fmt, rounding, overflow) -> int:
    return ref_overflow(ref_round(x * Fraction(2) ** fmt.frac_bits, rounding), fmt, overflow)


@pytest.mark.parametrize("fmt", FORMATS, ids=str)
@pytest.mark.parametrize("rounding", list(Rounding), ids=lambda r: r.name)
@pytest.mark.parametrize("overflow", list(Overflow), ids=lambda o: o.name)
def test_quantize_matches_fractions_on_a_fine_grid(fmt, rounding, overflow):
    # Every multiple of 2**-(frac_bits + 3) over twice the format's range: every tie,
    # every rounding direction and both overflow sides.
    lo, hi = 2 * fmt.min_raw - 4, 2 * fmt.max_raw + 4
    xs = [Fraction(i, 8) * Fraction(2) ** -fmt.frac_bits for i in range(lo * 8, hi * 8 + 1)]
    got = fmt.quantize(np.array([float(x) for x in xs]), rounding=rounding, overflow=overflow)
    want = [ref_quantize(x, fmt, rounding, overflow) for x in xs]
    assert got.dtype == np.int64
    assert got.tolist() == want


@pytest.mark.parametrize("src,dst", list(itertools.permutations(FORMATS, 2))[::3],
                         ids=lambda f: str(f))
@pytest.mark.parametrize("rounding", list(Rounding), ids=lambda r: r.name)
@pytest.mark.parametrize("overflow", list(Overflow), ids=lambda o: o.name)
def test_cast_exhaustive_matches_fractions(src, dst, rounding, overflow):
    raws = np.arange(src.min_raw, src.max_raw + 1)
    got = dst.cast(raws, src, rounding=rounding, overflow=overflow)
    want = [ref_quantize(Fraction(int(r)) * Fraction(2) ** -src.frac_bits, dst, rounding, overflow)
            for r in raws]
    assert got.tolist() == want


def test_wide_formats_are_exact():
    q63 = FixedFormat(64, 0)
    big = np.array([2.0 ** 62, -(2.0 ** 63), 2.0 ** 63, 2.0 ** 70 + 2.0 ** 20, -1.0])
    assert q63.quantize(big, overflow=Overflow.SATURATE).tolist() == [
        2 ** 62, -(2 ** 63), 2 ** 63 - 1, 2 ** 63 - 1, -1]
    assert q63.quantize(big, overflow=Overflow.WRAP).tolist() == [
        2 ** 62, -(2 ** 63), -(2 ** 63), 2 ** 20, -1]
    src = FixedFormat(40, 24)
    raw = np.array([src.max_raw, src.min_raw, 3, -(2 ** 23) - 1])
    want = [ref_quantize(Fraction(int(r), 2 ** 24), FixedFormat(8, 0), Rounding.NEAREST_EVEN,
                         Overflow.WRAP) for r in raw]
    got = FixedFormat(8, 0).cast(raw, src, rounding=Rounding.NEAREST_EVEN, overflow=Overflow.WRAP)
    assert got.tolist() == want


@settings(max_examples=300, deadline=None)
@given(x=st.floats(-1e6, 1e6, allow_nan=False), int_bits=st.integers(1, 40),
       frac_bits=st.integers(0, 20), rounding=st.sampled_from(list(Rounding)),
       overflow=st.sampled_from(list(Overflow)), signed=st.booleans())
def test_quantize_property_matches_fractions(x, int_bits, frac_bits, rounding, overflow, signed):
    fmt = FixedFormat(int_bits, frac_bits, signed)
    got = int(fmt.quantize(np.array([x]), rounding=rounding, overflow=overflow)[0])
    assert got == ref_quantize(Fraction(x), fmt, rounding, overflow)


APY_Q = {Rounding.TRUNCATE: "TO_NEG", Rounding.TOWARD_ZERO: "TO_ZERO",
         Rounding.NEAREST_UP: "TIES_POS", Rounding.NEAREST_EVEN: "TIES_EVEN"}
APY_O = {Overflow.WRAP: "WRAP", Overflow.SATURATE: "SAT"}


@pytest.mark.parametrize("rounding", list(Rounding), ids=lambda r: r.name)
@pytest.mark.parametrize("overflow", list(Overflow), ids=lambda o: o.name)
def test_cast_matches_apytypes(rounding, overflow):
    from rtl import require_module
    apy = require_module("apytypes", "dev")
    for src, dst in [(FixedFormat(5, 4), FixedFormat(3, 2)), (FixedFormat(2, 6), FixedFormat(4, 1)),
                     (FixedFormat(6, 2), FixedFormat(3, 4))]:
        raws = np.arange(src.min_raw, src.max_raw + 1)
        vals = src.to_float(raws)
        a = apy.APyFixedArray.from_float(vals.tolist(), int_bits=src.int_bits,
                                         frac_bits=src.frac_bits)
        c = a.cast(int_bits=dst.int_bits, frac_bits=dst.frac_bits,
                   quantization=getattr(apy.QuantizationMode, APY_Q[rounding]),
                   overflow=getattr(apy.OverflowMode, APY_O[overflow]))
        want = np.asarray(c.to_numpy(), dtype=np.float64)
        got = dst.to_float(dst.cast(raws, src, rounding=rounding, overflow=overflow))
        np.testing.assert_array_equal(got, want)
        # quantize from reals is the same operation as a cast from an exact wide format
        got_q = dst.to_float(dst.quantize(vals, rounding=rounding, overflow=overflow))
        np.testing.assert_array_equal(got_q, want)


def test_properties_and_to_float():
    f = FixedFormat(4, 3)
    assert (f.width, f.min_raw, f.max_raw, str(f)) == (7, -64, 63, "Q4.3")
    u = FixedFormat(4, 3, signed=False)
    assert (u.min_raw, u.max_raw, str(u)) == (0, 127, "UQ4.3")
    assert f.to_float([-64, 63, 1]).tolist() == [-8.0, 7.875, 0.125]
    assert FixedFormat.from_dict(f.to_dict()) == f


@pytest.mark.parametrize("kwargs,exc,msg", [
    (dict(int_bits=0, frac_bits=0), ValueError,
     r"^FixedFormat.int_bits \+ frac_bits must be in 1..64 for a signed format, not 0$"),
    (dict(int_bits=60, frac_bits=4, signed=False), ValueError,
     r"^FixedFormat.int_bits \+ frac_bits must be in 1..63 for an unsigned format, not 64$"),
    (dict(int_bits=2.5, frac_bits=1), TypeError, r"^FixedFormat.int_bits must be an integer, not 2.5$"),
    (dict(int_bits=2, frac_bits=1, signed="yes"), TypeError,
     r"^FixedFormat.signed must be a bool, not 'yes'$"),
])
def test_bad_formats(kwargs, exc, msg):
    with pytest.raises(exc, match=msg):
        FixedFormat(**kwargs)


def test_bad_arguments():
    f = FixedFormat(4, 3)
    with pytest.raises(ValueError, match=r"^FixedFormat.quantize \(Q4.3\): x contains NaN$"):
        f.quantize([1.0, float("nan")])
    with pytest.raises(ValueError, match=r"cannot wrap; use Overflow.SATURATE$"):
        f.quantize([float("inf")], overflow=Overflow.WRAP)
    assert f.quantize([float("inf"), -float("inf")]).tolist() == [63, -64]
    with pytest.raises(TypeError, match=r"^FixedFormat.quantize \(Q4.3\): rounding must be a "
                                        r"Rounding, not 'floor'$"):
        f.quantize([1.0], rounding="floor")
    with pytest.raises(ValueError, match=r"^FixedFormat.to_float: raw has values outside "
                                         r"\[-64, 64\) for format Q4.3 \(first: 64\)$"):
        f.to_float([1, 64])
    with pytest.raises(ValueError, match=r"^FixedFormat.to_float: raw has values outside "
                                         r"\[0, 128\) for format UQ4.3 \(first: -1\)$"):
        FixedFormat(4, 3, signed=False).to_float([-1])
    with pytest.raises(TypeError, match=r"^FixedFormat.to_float: raw must be integers, "
                                        r"not dtype float64$"):
        f.to_float([1.5])


@pytest.mark.parametrize("d,exc,msg", [
    ({"int_bits": 4}, ValueError,
     r"^FixedFormat.from_dict: d must be a dict with keys int_bits, frac_bits and optionally "
     r"signed, not \{'int_bits': 4\} \(missing 'frac_bits'\)$"),
    ({"frac_bits": 4, "signed": False}, ValueError,
     r"^FixedFormat.from_dict: d must be a dict with keys int_bits, frac_bits and optionally "
     r"signed, not \{'frac_bits': 4, 'signed': False\} \(missing 'int_bits'\)$"),
    ({"int_bits": 4, "frac_bits": 4, "width": 8}, ValueError,
     r"^FixedFormat.from_dict: d must be a dict with keys int_bits, frac_bits and optionally "
     r"signed, not \{'int_bits': 4, 'frac_bits': 4, 'width': 8\} \(unknown key 'width'\)$"),
    ([4, 4], TypeError,
     r"^FixedFormat.from_dict: d must be a dict with keys int_bits, frac_bits and optionally "
     r"signed, not \[4, 4\]$"),
    ({"int_bits": 4, "frac_bits": 4.0}, TypeError,
     r"^FixedFormat.frac_bits must be an integer, not 4.0$"),
])
def test_from_dict_refuses_bad_dicts(d, exc, msg):
    with pytest.raises(exc, match=msg):
        FixedFormat.from_dict(d)


def test_fields_stored_plain():
    f = FixedFormat(np.int8(4), np.uint64(3), signed=np.bool_(False))
    assert (type(f.int_bits), type(f.frac_bits), type(f.signed)) == (int, int, bool)
    assert f == FixedFormat(4, 3, signed=False) and f.to_dict() == {"int_bits": 4, "frac_bits": 3,
                                                                    "signed": False}
    assert FixedFormat.from_dict({"int_bits": np.int16(4), "frac_bits": 3, "signed": False}) == f
    assert f.max_raw == 127 and type(f.max_raw) is int
