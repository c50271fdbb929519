"""Formal specifications of the float multiplier and divider (``hwsim.float_mul``).

**float** (:func:`float_mul_spec`, :func:`float_div_spec`): the operand classes, magnitude
formulas (the exact method's round half to even on the dropped bits), flush / overflow
rules and special cases of ``hwsim/float_mul.py``'s docstring, in signed bit vectors wide
enough that nothing wraps.
"""

from __future__ import annotations

__all__ = ["float_div_spec", "float_mul_spec"]


def _float_fields(z3, x, fmt, v: int):
    """``(sign, |X| as a v-bit vector, nan, inf, zero)`` of a W-bit pattern, by the classes
    of the docstring: zero = exponent field 0, inf = the infinity pattern, NaN = all-ones
    exponent and a non-zero mantissa (e4m3: only ``S.1111.111``, no infinities)."""
    w = fmt.bits
    sign = z3.Extract(w - 1, w - 1, x)
    mag = z3.ZeroExt(v - (w - 1), z3.Extract(w - 2, 0, x))
    exp_all_ones = z3.LShR(mag, fmt.man_bits) == (1 << fmt.exp_bits) - 1
    man = z3.Extract(fmt.man_bits - 1, 0, x)
    if fmt.has_inf:
        nan, inf = z3.And(exp_all_ones, man != 0), z3.And(exp_all_ones, man == 0)
    else:
        nan, inf = z3.And(exp_all_ones, man == (1 << fmt.man_bits) - 1), z3.BoolVal(False)
    zero = z3.LShR(mag, fmt.man_bits) == 0
    return sign, mag, nan, inf, zero


def _float_exact_magnitude(z3, ma, mb, fmt, v: int):
    """``u`` of the correctly rounded product (the docstring's ``exact`` formula): ``P =
    s_a s_b``, ``n = P >= 2**(2M+1)``, ``q = P >> (M + n)`` rounded to nearest, ties to even,
    ``u = ((E_a + E_b - bias + n) << M) + q - 2**M``; signed v-bit arithmetic."""
    mm = fmt.man_bits
    one_m = z3.BitVecVal(1 << mm, v)
    frac = z3.BitVecVal((1 << mm) - 1, v)
    sa, sb = (ma & frac) | one_m, (mb & frac) | one_m
    prod = sa * sb  # < 2**(2M+2) <= 2**48 < 2**(v-1)
    n = z3.If(z3.UGE(prod, z3.BitVecVal(1 << (2 * mm + 1), v)),
              z3.BitVecVal(1, v), z3.BitVecVal(0, v))
    drop = z3.BitVecVal(mm, v) + n
    q = z3.LShR(prod, drop)
    rest = prod - (q << drop)
    half = z3.BitVecVal(1, v) << (drop - 1)
    up = z3.Or(z3.UGT(rest, half), z3.And(rest == half, z3.Extract(0, 0, q) == 1))
    q = q + z3.If(up, z3.BitVecVal(1, v), z3.BitVecVal(0, v))
    ea, eb = z3.LShR(ma, mm), z3.LShR(mb, mm)
    return ((ea + eb - fmt.bias + n) << mm) + q - one_m


def _float_lmul_paper_magnitude(z3, ma, mb, fmt):
    """``u`` of ``(1 + x + y + 2**-l(m)) * 2**(ea+eb)`` rounded to nearest even
    (``hwsim.float_mul``'s lmul-paper): ``S = 2**M + F_a + F_b + offset``, ``n = S >= 2**(M+1)``,
    ``q = S >> n`` plus one when the dropped bit is set and ``q`` is odd."""
    from hwsim.float_mul import lmul_offset
    mm = fmt.man_bits
    frac = (1 << mm) - 1
    s = (1 << mm) + (ma & frac) + (mb & frac) + lmul_offset(fmt)
    v = ma.size()
    one, zero = z3.BitVecVal(1, v), z3.BitVecVal(0, v)
    carry = s >= (1 << (mm + 1))
    n = z3.If(carry, one, zero)
    q = z3.If(carry, z3.LShR(s, 1), s)
    q = q + z3.If(z3.And(carry, (s & 1) == 1, (q & 1) == 1), one, zero)
    ea, eb = z3.LShR(ma, mm), z3.LShR(mb, mm)
    return ((ea + eb - fmt.bias + n) << mm) + q - (1 << mm)


def _float_result(z3, fmt, sign, u, v: int):
    """A normal result ``u`` (signed v bits): below ``2**M`` flushes to ``+-0``, above the
    largest finite pattern becomes ``+-inf`` (e4m3: ``+-448``), else ``sign | u``."""
    w = fmt.bits
    mag = z3.If(u < (1 << fmt.man_bits), z3.BitVecVal(0, v),
                z3.If(u > fmt.max_finite, z3.BitVecVal(fmt.huge, v), u))
    return z3.Concat(sign, z3.Extract(w - 2, 0, mag))


def _float_special(z3, fmt, sign, nan, huge, zero, normal):
    """NaN (canonical, sign clear) over ``+-huge`` over ``+-0`` over the normal result."""
    w = fmt.bits
    return z3.If(nan, z3.BitVecVal(fmt.nan, w),
                 z3.If(huge, z3.Concat(sign, z3.BitVecVal(fmt.huge, w - 1)),
                       z3.If(zero, z3.Concat(sign, z3.BitVecVal(0, w - 1)), normal)))


def float_mul_spec(z3, params, inputs: dict) -> dict:
    """``{"p": ...}`` for ``FloatMulParams``: the docstring's magnitude per method, then the
    result rules, then the special cases (NaN in, 0 x inf: NaN; inf x non-zero: +-inf;
    0 x finite: +-0)."""
    from hwsim.float_mul import FloatMethod, lmul_offset
    fmt = params.fmt
    v = max(2 * fmt.man_bits + 3, fmt.bits + 3) + 1  # P < 2**(2M+2), |u| < 2**(W+1), signed
    sa, ma, nan_a, inf_a, zero_a = _float_fields(z3, inputs["a"], fmt, v)
    sb, mb, nan_b, inf_b, zero_b = _float_fields(z3, inputs["b"], fmt, v)
    sign = sa ^ sb
    if params.method is FloatMethod.EXACT:
        u = _float_exact_magnitude(z3, ma, mb, fmt, v)
    elif params.method is FloatMethod.LMUL_PAPER:
        u = _float_lmul_paper_magnitude(z3, ma, mb, fmt)
    else:
        u = ma + mb - fmt.one
        if params.method is FloatMethod.LMUL:
            u = u + lmul_offset(fmt)
    nan = z3.Or(nan_a, nan_b, z3.And(zero_a, inf_b), z3.And(inf_a, zero_b))
    p = _float_special(z3, fmt, sign, nan, z3.Or(inf_a, inf_b), z3.Or(zero_a, zero_b),
                       _float_result(z3, fmt, sign, u, v))
    return {"p": p}


def float_div_spec(z3, params, inputs: dict) -> dict:
    """``{"q": ...}`` for ``FloatDivParams``: ``u = |A| - |B| + ONE``, the result rules, then
    0/0 and inf/inf: NaN; x/0 and inf/finite: +-inf; 0/x and finite/inf: +-0."""
    fmt = params.fmt
    fmt_width = fmt.bits + 4  # u in (-2**W, 2**(W+1)): W + 2 signed bits suffice
    sa, ma, nan_a, inf_a, zero_a = _float_fields(z3, inputs["a"], fmt, fmt_width)
    sb, mb, nan_b, inf_b, zero_b = _float_fields(z3, inputs["b"], fmt, fmt_width)
    sign = sa ^ sb
    u = ma - mb + fmt.one
    nan = z3.Or(nan_a, nan_b, z3.And(zero_a, zero_b), z3.And(inf_a, inf_b))
    q = _float_special(z3, fmt, sign, nan, z3.Or(inf_a, zero_b), z3.Or(zero_a, inf_b),
                       _float_result(z3, fmt, sign, u, fmt_width))
    return {"q": q}
