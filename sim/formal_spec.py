"""The units' specifications as z3 bit-vector formulas: the Mitchell units, DRUM, REALM, the
float units, exp and the softmax's normaliser.

**Mitchell** (:func:`mitchell_mul`, :func:`mitchell_div`): written from the bit semantics
in ``docs/units/mitchell.md`` (DESIGN section 3), step by step, and independently of both
the numpy model (``hwsim.mitchell``) and the Amaranth datapath (``hwsim.hdl.mitchell``): no
structure is shared with either. The leading one is "the highest set bit" (a priority
chain from bit 0 up, the last set bit wins), the fraction is literally
``(x - 2**k) << (N-1-k)``, the antilog is ``m << t`` or ``m >> -t`` on a bit vector wide
enough that nothing is lost, and every result is then cut (or saturated) to the port width
exactly as the specification says.

**DRUM** (:func:`drum_mul`): written from the integer semantics in ``hwsim/drum.py``'s
docstring and ``docs/units/drum.md`` ("Bit semantics"), without calling the model
(``hwsim.drum``) or the HDL (``hwsim.hdl.drum``, which never computes ``t`` or ``s``: it
normalises with a clamped shifter and shifts the product right by ``c_a + c_b``). Here each
operand follows the two documented cases literally: ``x < 2**k``: ``seg = x``, ``s = 0``;
else ``t`` = the highest set bit (the same priority chain as Mitchell's), ``s = t - k + 1``,
``seg = (x >> s) | 1``; then ``p = (seg_a * seg_b) << (s_a + s_b)``, the product on 2k bits
and the left shift on 2N bits (the documented widths: nothing is lost).

**REALM** (:func:`realm_mul`): the numbered steps of ``hwsim/realm.py``'s docstring, on
wide vectors, the leading one by the same priority chain, the correction table the
documented constant ``params.table`` (the HDL reads it as a ROM ``Array``).

**float** (:func:`float_mul_spec`, :func:`float_div_spec`): the operand classes, magnitude
formulas (the exact method's round half to even on the dropped bits), flush / overflow
rules and special cases of ``hwsim/float_mul.py``'s docstring, in signed bit vectors wide
enough that nothing wraps.

**exp** (:func:`exp_spec`, every method and both bases): written from the "Bit semantics"
of ``docs/units/exp.md``, without calling the model (``hwsim.exp``) or the HDL. The
constants come from the documented formulas (:func:`exp_constants`; the Taylor clamp
``ceil(t* 2**R)`` by bisection in exact rationals), every step is the documented integer
formula, and each intermediate carries its exact Python range, checked against its bit
vector, so nothing wraps (:class:`_Int`). The *widths* follow the hardware convention of
the HDL's language (a sum one bit wider, a product as wide as both operands, registers of
``R + 2`` / ``taylor_r_bits`` bits where the range provably fits): the values do not
depend on them, but with them z3's simplifier builds the very terms of the RTL, whose
products then merge instead of being compared by SAT (a second per proof instead of
minutes). Step 4 (scale by ``2**(n + F_out - R)`` and saturate) is written independently
as a shift of a wide vector and a comparison. The LUT and PWL tables are ROMs in the RTL,
which yosys ``prep`` turns into ``$mem_v2`` cells that ``write_smt2`` leaves as free state:
prove those exports with the ROM mapped to logic (``memory_map``, tests/test_formal_exp.py).

**softmax** is proven by sub-block (:data:`SUBBLOCKS`; the stream level stays in
simulation): its exp datapath with :func:`exp_spec`, its normaliser with
:func:`softmax_normalizer_spec` (written from ``docs/units/softmax.md``, the Mitchell
divider through :func:`mitchell_div`), the exact divider and the reciprocal table under the
documented precondition ``S > 0`` (:func:`softmax_normalizer_precondition`).

**attention** is proven by sub-block too (:data:`SUBBLOCKS`): its two multiply-accumulate
paths (:func:`attention_score_spec`, :func:`attention_value_spec`, written from the
numbered steps of ``docs/units/attention.md`` and of ``hwsim.attention``'s docstring, without
calling the model or the HDL: the Mitchell product
through :func:`mitchell_mul`, the exact one a bit-vector product, the sum exact into the
accumulator register's documented width, the rescaling a shift of a wide vector, floor, and
a saturating comparison). Its softmax is the softmax unit, proven as above.

Each function takes z3 bit vectors of the input ports' widths (raw two's complement
patterns for signed ports) and returns ``{output port: z3 bit vector}`` of the output
ports' widths. ``z3`` is imported by the caller (:mod:`hwsim.sim.formal`) and passed in,
so importing this module needs nothing.

Proven properties beyond equivalence (:func:`mul_bounds`, :func:`div_bounds`) are derived
from Mitchell's real-valued bounds and the truncation of the final shift
(:func:`drum_bounds`: DRUM's documented bound, see its docstring):

* product: the real Mitchell value ``M`` satisfies ``8/9 ab <= M <= ab``; ``p = floor(M)``
  (a left shift is exact, a right shift truncates), so ``floor(8ab/9) <= p <= ab``, i.e.
  ``9p + 9 > 8ab`` and ``p <= ab``; for Mitch-w (truncated fractions) only ``p <= ab``.
  Signed: the same on the magnitudes.
* quotient: ``a/b <= Q <= 9/8 a/b`` and ``q = floor(Q 2**F)``, so
  ``floor(a 2**F / b) <= q <= 9 a 2**F / (8 b)``, i.e. ``(q + 1) b > a 2**F`` and
  ``8 q b <= 9 a 2**F`` (b != 0, full-precision fractions only).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction


def _leading_one(z3, x, n: int, width: int):
    """Position of the highest set bit of the n-bit ``x`` as a ``width``-bit value (0 for 0)."""
    k = z3.BitVecVal(0, width)
    for i in range(n):
        k = z3.If(z3.Extract(i, i, x) == 1, z3.BitVecVal(i, width), k)
    return k


def _log(z3, x, n: int, keep_bits, width: int):
    """Steps 2-3: ``(k, f)`` of the n-bit magnitude ``x``, both ``width`` bits wide."""
    xw = z3.ZeroExt(width - n, x)
    k = _leading_one(z3, x, n, width)
    one = z3.BitVecVal(1, width)
    f = (xw - (one << k)) << (z3.BitVecVal(n - 1, width) - k)
    if keep_bits is not None:
        drop = n - 1 - keep_bits
        f = f & z3.BitVecVal(((1 << (n - 1)) - 1) ^ ((1 << drop) - 1), width)
    return k, f


def _scale(z3, m, t, width: int):
    """``floor(m * 2**t)`` for a signed shift ``t``, all ``width`` bits (nothing overflows)."""
    return z3.If(t >= 0, m << t, z3.LShR(m, -t))


def mul_unsigned(z3, a, b, n: int, keep_bits):
    """Steps 1-5 of the unsigned multiplier: the exact 2N-bit product pattern."""
    w = 3 * n + 2  # m < 2**N, shift <= N: m << N < 2**(2N); room for the signed shift too
    k_a, f_a = _log(z3, a, n, keep_bits, w)
    k_b, f_b = _log(z3, b, n, keep_bits, w)
    s = f_a + f_b
    half = z3.BitVecVal(1 << (n - 1), w)
    carry = z3.UGE(s, half)
    m = z3.If(carry, s, half + s)
    e = k_a + k_b + z3.If(carry, z3.BitVecVal(1, w), z3.BitVecVal(0, w))
    p = _scale(z3, m, e - z3.BitVecVal(n - 1, w), w)
    zero = z3.Or(a == 0, b == 0)
    return z3.If(zero, z3.BitVecVal(0, 2 * n), z3.Extract(2 * n - 1, 0, p))


def _magnitude(z3, x, n: int):
    """|x| of an n-bit two's complement pattern as n unsigned bits (|-2**(N-1)| fits)."""
    wide = z3.SignExt(1, x)
    return z3.Extract(n - 1, 0, z3.If(wide < 0, -wide, wide))


def mitchell_mul(z3, params, inputs: dict) -> dict:
    """``{"p": ...}`` for ``MitchellMulParams`` (unsigned or signed, any ``keep_bits``)."""
    n, a, b = params.width, inputs["a"], inputs["b"]
    if not params.signed:
        return {"p": mul_unsigned(z3, a, b, n, params.keep_bits)}
    neg_a, neg_b = z3.Extract(n - 1, n - 1, a) == 1, z3.Extract(n - 1, n - 1, b) == 1
    mag = mul_unsigned(z3, _magnitude(z3, a, n), _magnitude(z3, b, n), n, params.keep_bits)
    return {"p": z3.If(neg_a != neg_b, -mag, mag)}


def exact_mul(z3, params, inputs: dict) -> dict:
    """``{"p": a * b}`` for ``ExactMulParams``: the operands extended to 2N bits (sign- or
    zero-extended) and multiplied as bit vectors (exact: the product fits 2N bits)."""
    n, a, b = params.width, inputs["a"], inputs["b"]
    ext = z3.SignExt if params.signed else z3.ZeroExt
    return {"p": ext(n, a) * ext(n, b)}


def mitchell_div(z3, params, inputs: dict) -> dict:
    """``{"q": ..., "div_by_zero": ...}`` for ``MitchellDivParams``."""
    n, f_bits, a, b = params.width, params.frac_bits, inputs["a"], inputs["b"]
    out_w = n + f_bits
    w = 2 * n + f_bits + 8  # m < 2**N, left shifts <= F; signed room for the shift amount
    k_a, fa = _log(z3, a, n, params.keep_bits, w)
    k_b, fb = _log(z3, b, n, params.keep_bits, w)
    d = fa - fb  # signed in w bits
    nonneg = d >= 0
    m = z3.If(nonneg, z3.BitVecVal(1 << (n - 1), w) + d, z3.BitVecVal(1 << n, w) + d)
    e = k_a - k_b - z3.If(nonneg, z3.BitVecVal(0, w), z3.BitVecVal(1, w))
    wide = _scale(z3, m, e + z3.BitVecVal(f_bits - (n - 1), w), w)
    q_max = z3.BitVecVal((1 << out_w) - 1, w)
    sat = z3.If(z3.UGT(wide, q_max), q_max, wide)
    q = z3.If(b == 0, q_max, z3.If(a == 0, z3.BitVecVal(0, w), sat))
    return {"q": z3.Extract(out_w - 1, 0, q),
            "div_by_zero": z3.If(b == 0, z3.BitVecVal(1, 1), z3.BitVecVal(0, 1))}


def mul_bounds(z3, params, inputs: dict, outputs: dict):
    """The proven error bound of the product (see the module docstring) as one formula."""
    n, a, b, p = params.width, inputs["a"], inputs["b"], outputs["p"]
    w = 2 * n + 6
    if params.signed:
        a, b = _magnitude(z3, a, n), _magnitude(z3, b, n)
        wide = z3.SignExt(w - 2 * n, p)
        p = z3.If(wide < 0, -wide, wide)
    else:
        p = z3.ZeroExt(w - 2 * n, p)
    ab = z3.ZeroExt(w - n, a) * z3.ZeroExt(w - n, b)
    upper = z3.ULE(p, ab)
    if params.keep_bits is not None:
        return upper
    return z3.And(upper, z3.UGT(9 * p + 9, 8 * ab))


def div_bounds(z3, params, inputs: dict, outputs: dict):
    """The proven error bound of the quotient for ``b != 0`` (full-precision fractions)."""
    n, f_bits, a, b, q = params.width, params.frac_bits, inputs["a"], inputs["b"], outputs["q"]
    w = 2 * n + f_bits + 6
    q, a, b = z3.ZeroExt(w - n - f_bits, q), z3.ZeroExt(w - n, a), z3.ZeroExt(w - n, b)
    a_scaled = a << f_bits
    return z3.Implies(b != 0, z3.And(z3.UGT((q + 1) * b, a_scaled),
                                     z3.ULE(8 * q * b, 9 * a_scaled)))


# -- DRUM (hwsim/drum.py docstring, docs/units/drum.md "Bit semantics") ---------------------

def _drum_operand(z3, x, n: int, k: int, w: int):
    """Steps 1-2 for the n-bit operand ``x``: ``(seg, s)``, seg k bits, s ``w`` bits."""
    xw = z3.ZeroExt(w - n, x)
    large = z3.UGE(xw, z3.BitVecVal(1 << k, w))  # step 2: x >= 2**k (never when k = N)
    t = _leading_one(z3, x, n, w)
    s = z3.If(large, t - z3.BitVecVal(k - 1, w), z3.BitVecVal(0, w))  # t - k + 1, else 0
    seg = z3.If(large, z3.LShR(xw, s) | z3.BitVecVal(1, w), xw)
    return z3.Extract(k - 1, 0, seg), s  # seg < 2**k in both cases (documented)


def drum_mul(z3, params, inputs: dict) -> dict:
    """``{"p": ...}`` for ``DrumMulParams``: ``p = (seg_a * seg_b) << (s_a + s_b)``, 2N bits."""
    n, k = params.width, params.k
    w = 2 * n
    seg_a, s_a = _drum_operand(z3, inputs["a"], n, k, w)
    seg_b, s_b = _drum_operand(z3, inputs["b"], n, k, w)
    prod = z3.ZeroExt(k, seg_a) * z3.ZeroExt(k, seg_b)  # < 2**(2k): exact on 2k bits
    p = z3.ZeroExt(w - 2 * k, prod) << (s_a + s_b)  # s_a + s_b <= 2(N - k): p < 2**(2N)
    return {"p": p}


def drum_bounds(z3, params, inputs: dict, outputs: dict):
    """DRUM's documented error bound as one formula: with ``h = 2**(k-1)``,
    ``p h**2 <= a b (h + 1)**2`` and, for ``a b != 0``, ``p (h + 1)**2 > a b h**2``
    (``p / (a b)`` in ``((h / (h + 1))**2, (1 + 1/h)**2]``, docs/units/drum.md)."""
    n, k, a, b, p = params.width, params.k, inputs["a"], inputs["b"], outputs["p"]
    w = 2 * n + 2 * k + 2
    h2, h1 = 1 << (2 * k - 2), ((1 << (k - 1)) + 1) ** 2
    ab = z3.ZeroExt(w - n, a) * z3.ZeroExt(w - n, b)
    p = z3.ZeroExt(w - 2 * n, p)
    upper = z3.ULE(p * h2, ab * h1)
    lower = z3.Implies(ab != 0, z3.UGT(p * h1, ab * h2))
    return z3.And(upper, lower)


# -- REALM (hwsim/realm.py docstring, docs/units/realm.md "Bit semantics") ------------------

def realm_mul(z3, params, inputs: dict) -> dict:
    """``{"p": ...}`` for ``RealmMulParams``, steps 1-5 literally on ``2N + t + 2``-bit
    vectors (nothing is lost before the final cut to 2N bits). The correction table is the
    documented constant ``params.table`` (checked against an exact-rational recomputation in
    tests/test_realm_model.py), looked up by a chain of comparisons with every index."""
    n, t, m = params.width, params.keep_bits, params.m
    w = 2 * n + t + 2
    a, b = inputs["a"], inputs["b"]

    def log(x):  # step 2: k and the top t bits of the F-bit fraction
        k = _leading_one(z3, x, n, w)
        f = ((z3.ZeroExt(w - n, x) - (z3.BitVecVal(1, w) << k))
             << (z3.BitVecVal(n - 1, w) - k))
        return k, z3.LShR(f, n - 1 - t)

    (ka, fa), (kb, fb) = log(a), log(b)
    index = (z3.LShR(fa, t - m) << m) + z3.LShR(fb, t - m)  # step 3: i * 2**M + j
    c = z3.BitVecVal(0, w)
    for v, entry in enumerate(params.table):
        c = z3.If(index == v, z3.BitVecVal(entry, w), c)
    s = fa + fb + c  # step 4
    carry = z3.UGE(s, z3.BitVecVal(1 << t, w))
    mant = z3.BitVecVal(1 << t, w) + z3.URem(s, z3.BitVecVal(1 << t, w))
    e = ka + kb + z3.If(carry, z3.BitVecVal(1, w), z3.BitVecVal(0, w))
    p = z3.LShR(mant << e, t)  # step 5: floor(m * 2**(e - t))
    zero = z3.Or(a == 0, b == 0)  # step 1
    return {"p": z3.If(zero, z3.BitVecVal(0, 2 * n), z3.Extract(2 * n - 1, 0, p))}


# -- float units (hwsim/float_mul.py docstring, docs/units/float.md) -------------------------

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


# -- exp (docs/units/exp.md, "Bit semantics") ----------------------------------------------

def _round_half_up(v: float) -> int:
    """Round to nearest (ties up), as ``floor(v + 1/2)``."""
    return math.floor(v + 0.5)


def _taylor_t_star(order: int, r_bits: int) -> int:
    """``ceil(t* 2**R)``, t* the real root of ``f_{n-1}`` (the minimiser of ``f_n``).

    ``f_{n-1}`` is increasing for even n (odd degree, derivative ``f_{n-2} > 0``) with
    ``f_{n-1}(-n) < 0 < f_{n-1}(0)``: bisection in exact rationals until the bracket has a
    single ceiling.
    """
    coef = [Fraction(1, math.factorial(k)) for k in range(order)]

    def f(t):
        r = Fraction(0)
        for c in reversed(coef):
            r = r * t + c
        return r

    lo, hi = Fraction(-order), Fraction(0)
    scale = 1 << r_bits
    for _ in range(2000):
        c_lo, c_hi = math.ceil(lo * scale), math.ceil(hi * scale)
        if c_lo == c_hi:  # the root lies in (lo, hi]: its ceiling is theirs
            return c_lo
        mid = (lo + hi) / 2
        if f(mid) < 0:
            lo = mid
        else:
            hi = mid
    raise AssertionError("taylor minimiser: bisection did not separate the ceiling")


def exp_constants(params) -> dict:
    """Every constant of the exp unit, from the formulas of docs/units/exp.md.

    ``R = max(F_in, F_out) + 4``, ``C = R + 2``; real constants are formed in float64 and
    rounded to nearest (the doc: "a float64 value times a power of two, then rounded"),
    ``INV[k] = round(2**C / k)`` and the Taylor clamp in exact rationals.
    """
    f_in, f_out = params.in_fmt.frac_bits, params.out_fmt.frac_bits
    r_bits = max(f_in, f_out) + 4
    c_bits = r_bits + 2
    one_c, one_r = 2.0 ** c_bits, 2.0 ** r_bits
    out = {"R": r_bits, "C": c_bits,
           "LOG2E": _round_half_up(math.log2(math.e) * one_c),
           "LN2": _round_half_up(math.log(2) * one_c)}
    method = params.method.value
    if method == "lut":
        t = params.lut_bits
        out["T"] = [_round_half_up(2.0 ** ((i + 0.5) / 2 ** t) * one_r) for i in range(2 ** t)]
    elif method == "pwl":
        s = params.segments
        out["A"] = [_round_half_up(2.0 ** (j / s) * one_r) for j in range(s)]
        out["B"] = [_round_half_up(s * (2.0 ** ((j + 1) / s) - 2.0 ** (j / s)) * one_r)
                    for j in range(s)]
    elif method == "ibert":
        a, b, c = 0.3585, 1.353, 0.344
        out["IA"] = _round_half_up(2 * a * one_c)
        out["IB"] = _round_half_up(b * one_r)
        out["IC"] = _round_half_up(2 * c * one_r)
    elif method == "taylor":
        n = params.order
        out["INV"] = [0] + [((1 << (c_bits + 1)) + k) // (2 * k) for k in range(1, n + 1)]
        out["CLAMP"] = _taylor_t_star(n, r_bits)
    return out


def _sbits(lo: int, hi: int) -> int:
    """Width of the two's complement bit vectors holding every integer of [lo, hi]."""
    w = 1
    while lo < -(1 << (w - 1)) or hi >= 1 << (w - 1):
        w += 1
    return w


class _Int:
    """A z3 bit vector with the exact Python range ``[lo, hi]`` of its integer value.

    The range is derived alongside every operation (interval arithmetic over all inputs) and
    every vector is checked to hold it, so no operation wraps: each step computes the exact
    integer of the documentation, whatever the widths. The widths themselves follow the
    hardware convention: an *unsigned* value (``uns``: ``n`` bits under a constant 0 on top
    of the two's complement vector) stays unsigned through sums, products and shifts of
    unsigned values; a sum is one bit wider than its widest operand, a product as wide as
    both operands (an unsigned operand counts its ``n`` bits), a shift right by k drops k
    bits, a register cuts the width where the range provably fits (:meth:`reg`,
    :meth:`ureg`). Any width that holds the range gives the same values; these make z3
    build the RTL's own terms (see the module docstring).
    """

    def __init__(self, z3, expr, lo: int, hi: int, uns: bool = False):
        assert lo <= hi
        w = expr.size()
        assert _sbits(lo, hi) <= w, (lo, hi, w)
        assert not uns or (lo >= 0 and hi < 1 << (w - 1)), (lo, hi, w)
        self.z3, self.e, self.lo, self.hi, self.w, self.uns = z3, expr, lo, hi, w, uns

    @property
    def n(self) -> int:
        """Bits of the value: ``w - 1`` for an unsigned value, else ``w``."""
        return self.w - 1 if self.uns else self.w

    @classmethod
    def const(cls, z3, v: int):
        if v >= 0:
            n = max(1, v.bit_length())
            return cls(z3, z3.ZeroExt(1, z3.BitVecVal(v, n)), v, v, uns=True)
        return cls(z3, z3.BitVecVal(v, _sbits(v, v)), v, v)

    @classmethod
    def sconst(cls, z3, v: int):
        """A constant as a signed value (two's complement, no unsigned flag)."""
        return cls(z3, z3.BitVecVal(v, _sbits(v, v)), v, v)

    def widen(self, w: int):
        """The value sign-extended to ``w`` bits (a register kept at its full width)."""
        return _Int(self.z3, self.at(max(w, self.w)), self.lo, self.hi, uns=self.uns)

    @classmethod
    def _unsigned(cls, z3, bits, lo, hi):
        """An unsigned value from its ``n`` bits."""
        return cls(z3, z3.ZeroExt(1, bits), lo, hi, uns=True)

    def _wrap(self, v):
        return v if isinstance(v, _Int) else _Int.const(self.z3, v)

    def at(self, w: int):
        """The value as a ``w``-bit two's complement vector (``w`` must hold the range)."""
        assert _sbits(self.lo, self.hi) <= w
        if w > self.w:
            return self.z3.SignExt(w - self.w, self.e)
        return self.z3.Extract(w - 1, 0, self.e) if w < self.w else self.e

    def reg(self, w: int):
        """The value in a signed register of ``w`` bits: cut to ``w`` bits where the range
        provably fits (a narrower value stays as it is: its sign extension adds nothing). A
        range that does not fit keeps its full width, so the specification stays exact and
        a register that wraps in the RTL shows up as a counterexample."""
        if self.w <= w or _sbits(self.lo, self.hi) > w:
            return self
        return _Int(self.z3, self.at(w), self.lo, self.hi)

    def ureg(self, n: int):
        """The value (>= 0) in an unsigned register of ``n`` bits (cut if wider), as
        :meth:`reg`."""
        if (self.uns and self.n <= n) or not (0 <= self.lo and self.hi < 1 << n):
            return self
        bits = self.z3.Extract(n - 1, 0, self.at(max(self.w, n)))
        return _Int._unsigned(self.z3, bits, self.lo, self.hi)

    def __add__(self, other):
        o = self._wrap(other)
        lo, hi = self.lo + o.lo, self.hi + o.hi
        if self.uns and o.uns:
            n = max(self.n, o.n) + 1
            return _Int._unsigned(self.z3, self.at(n) + o.at(n), lo, hi)
        w = max(self.w, o.w) + 1
        return _Int(self.z3, self.at(w) + o.at(w), lo, hi)

    def __sub__(self, other):
        o = self._wrap(other)
        w = max(self.w, o.w) + 1
        return _Int(self.z3, self.at(w) - o.at(w), self.lo - o.hi, self.hi - o.lo)

    def __mul__(self, other):
        o = self._wrap(other)
        corners = [a * b for a in (self.lo, self.hi) for b in (o.lo, o.hi)]
        lo, hi = min(corners), max(corners)
        if self.uns and o.uns:
            n = self.n + o.n
            return _Int._unsigned(self.z3, self.at(n) * o.at(n), lo, hi)
        w = self.n + o.n
        return _Int(self.z3, self.at(w) * o.at(w), lo, hi)

    def __rshift__(self, k: int):
        """``floor(v / 2**k)``: arithmetic shift right by a constant (drops k bits)."""
        assert k >= 0
        lo, hi = self.lo >> k, self.hi >> k
        if k >= self.n:  # only the sign (or nothing) is left
            if self.uns:
                return _Int.const(self.z3, 0)
            return _Int(self.z3, self.z3.Extract(self.w - 1, self.w - 1, self.e), lo, hi)
        return _Int(self.z3, self.z3.Extract(self.w - 1, k, self.e), lo, hi, uns=self.uns)

    def __lshift__(self, k: int):
        assert k >= 0
        e = self.z3.Concat(self.e, self.z3.BitVecVal(0, k)) if k else self.e
        return _Int(self.z3, e, self.lo << k, self.hi << k, uns=self.uns)

    def low_bits(self, k: int):
        """``v mod 2**k`` (k >= 1) as k unsigned bits: in [0, 2**k - 1]."""
        bits = self.z3.Extract(k - 1, 0, self.at(max(self.w, k)))
        return _Int._unsigned(self.z3, bits, 0, (1 << k) - 1)

    def bits(self, hi: int, lo: int):
        """Bits ``hi..lo`` of a value >= 0, unsigned: ``(v >> lo) mod 2**(hi - lo + 1)``."""
        assert self.lo >= 0 and hi < self.w - 1
        return _Int._unsigned(self.z3, self.z3.Extract(hi, lo, self.e),
                              0, (1 << (hi - lo + 1)) - 1)

    def clamp_below(self, v: int, w: int):
        """``max(self, v)`` for a constant v, in a register of ``w`` bits; the comparison is
        formed (at the narrowest width holding both) even where it never holds."""
        assert not self.uns
        w = max(w, self.w)
        if _sbits(v, v) > w and v >= self.lo:
            w = _sbits(v, v)
        # a v too negative for the register is never selected (v < lo): its pattern is cut
        cw = max(self.w, _sbits(v, v))
        below = self.at(cw) < self.z3.BitVecVal(v, cw)
        return _Int(self.z3, self.z3.If(below, self.z3.BitVecVal(v % (1 << w), w), self.at(w)),
                    max(self.lo, v), max(self.hi, v))


def _table(z3, idx: _Int, bits: int, values: list[int]) -> _Int:
    """``values[idx]`` (unsigned, >= 0) for an index of ``bits`` bits: a mux tree."""
    lo, hi = min(values), max(values)
    w = max(1, hi.bit_length())
    level = [z3.BitVecVal(v, w) for v in values]
    for b in range(bits):
        sel = z3.Extract(b, b, idx.e) == 1
        level = [z3.If(sel, level[2 * i + 1], level[2 * i]) for i in range(len(level) // 2)]
    assert len(level) == 1
    return _Int._unsigned(z3, level[0], lo, hi)


def _scale_out(z3, m: _Int, shift: _Int, out_w: int):
    """Step 4: ``floor(m 2**shift)`` saturated at ``2**out_w - 1`` (m >= 1)."""
    assert m.lo >= 1
    m_bits = m.hi.bit_length()
    w = max(m_bits + out_w + 1, shift.w + 1)  # m << s for 0 <= s <= out_w fits; -s fits
    mu = z3.ZeroExt(w - m_bits, z3.Extract(m_bits - 1, 0, m.e))
    s = shift.at(w)
    top = z3.BitVecVal((1 << out_w) - 1, w)
    big = s > out_w  # m << s >= 2**(out_w + 1): saturates
    val = z3.If(s < 0, z3.LShR(mu, -s), mu << s)  # bvlshr by >= w bits gives 0, as floor does
    sat = z3.Or(big, z3.UGT(val, top))
    return z3.Extract(out_w - 1, 0, z3.If(sat, top, val))


def exp_spec(z3, params, inputs: dict) -> dict:
    """``{"y": ...}`` of ``ExpParams``: every method and both bases (docs/units/exp.md).

    Each step is the documented integer formula on :class:`_Int` values (exact). Register
    widths, which only steer the solver: the Taylor ``t`` I_in + R + 1 bits and its
    accumulators ``taylor_r_bits`` (``ExpParams.taylor_product_bits``), the mantissa ``m``
    and I-BERT's ``q`` and ``sq`` R + 2 bits (the doc: "every m is at most R + 2 bits").
    """
    k = exp_constants(params)
    r_bits, c_bits = k["R"], k["C"]
    f_in, f_out = params.in_fmt.frac_bits, params.out_fmt.frac_bits
    in_w, out_w = params.in_fmt.width, params.out_fmt.width
    x = _Int(z3, inputs["x"], -(1 << (in_w - 1)), (1 << (in_w - 1)) - 1)
    base_two = params.base.value == "2"
    method = params.method.value
    one = 1 << r_bits

    if method == "taylor":
        # t = x (base e) or floor(x ln 2) (base 2), R fraction bits, clamped below at t*
        t_w = params.in_fmt.int_bits + r_bits + 1
        t = x << (r_bits - f_in) if not base_two else (x * k["LN2"]) >> (f_in + c_bits - r_bits)
        t = t.reg(t_w).clamp_below(k["CLAMP"], t_w)
        r = _Int.sconst(z3, one).widen(r_bits + 2)
        for kk in range(params.order, 0, -1):
            prod = (t * r) >> r_bits
            if kk > 1:
                prod = (prod * _Int.sconst(z3, k["INV"][kk])) >> c_bits
            r = (prod + one).reg(params.taylor_r_bits)
        out = r >> (r_bits - f_out)
        top = (1 << out_w) - 1
        w = max(out.w, _sbits(top, top))
        o = out.at(w)
        y = z3.If(o < 0, z3.BitVecVal(0, w), z3.If(o > top, z3.BitVecVal(top, w), o))
        return {"y": z3.Extract(out_w - 1, 0, y)}

    # 1. log2 domain, R fraction bits, floor
    if base_two:
        y = x << (r_bits - f_in)
    else:
        y = (x * k["LOG2E"]) >> (f_in + c_bits - r_bits)
    # 2. split: y = n + f
    n = y >> r_bits
    f = y.low_bits(r_bits)
    # 3. mantissa m ~ 2**f 2**R
    if method == "lut":
        t = params.lut_bits
        m = _table(z3, f.bits(r_bits - 1, r_bits - t), t, k["T"])
    elif method == "pwl":
        lg = params.segments.bit_length() - 1
        j = f.bits(r_bits - 1, r_bits - lg) if lg else None
        a_j = _table(z3, j, lg, k["A"])
        b_j = _table(z3, j, lg, k["B"])
        if r_bits - lg == 0:
            m = a_j
        else:
            u = f.low_bits(r_bits - lg)
            m = a_j + ((b_j * u) >> r_bits)
    elif method == "mitchell":
        m = f + one
    elif method == "ibert":
        p = ((f - one) * k["LN2"]) >> c_bits
        q = (p + k["IB"]).reg(r_bits + 2)
        sq = ((q * q) >> r_bits).ureg(r_bits + 2)
        m = ((sq * k["IA"]) >> c_bits) + k["IC"]
    else:
        raise ValueError(f"exp_spec: unknown method {method!r}")
    m = m.ureg(r_bits + 2)
    # 4. scale by 2**(n + F_out - R), saturate
    return {"y": _scale_out(z3, m, n + (f_out - r_bits), out_w)}


# -- softmax normaliser (docs/units/softmax.md, "Bit semantics", Normalisers) ---------------

def recip_table(recip_bits: int, g_bits: int) -> list[int]:
    """``T[i] = round(2**G / (1 + (i + 1/2) / 2**recip_bits))`` in exact integers:
    ``2**(G + rb + 1) / (2**(rb + 1) + 2i + 1)`` rounded half up (the denominator is odd and
    above 1, so no entry is a tie)."""
    out = []
    for i in range(1 << recip_bits):
        num, den = 1 << (g_bits + recip_bits + 1), (1 << (recip_bits + 1)) + 2 * i + 1
        out.append((2 * num + den) // (2 * den))
    return out


def _mux(z3, idx, bits: int, values: list[int], width: int):
    """``values[idx]`` for a ``bits``-bit index vector: a mux tree, LSB first."""
    level = [z3.BitVecVal(v, width) for v in values]
    for b in range(bits):
        sel = z3.Extract(b, b, idx) == 1
        level = [z3.If(sel, level[2 * i + 1], level[2 * i]) for i in range(len(level) // 2)]
    return level[0]


def softmax_normalizer_spec(z3, params, inputs: dict) -> dict:
    """``{"p": ...}``: the softmax's normaliser of ``SoftmaxParams`` on ``e`` and ``s``.

    From docs/units/softmax.md (Normalisers; all floor, then saturate to ``out_fmt``):

    * EXACT_DIV: ``p = min((e << F_out) // S, top)``;
    * MITCHELL_DIV: ``p = min(mitchell_div(e, S), top)`` with
      ``MitchellDivParams(width=sum_width, frac_bits=F_out)`` (:func:`mitchell_div`);
    * RECIPROCAL_LUT: ``S = 2**k (1 + x)`` (``k`` the leading one, ``x`` the ``sum_width - 1``
      bits below it: :func:`_log`), ``R = T[top recip_bits bits of x]``
      (:func:`recip_table`), ``p = min((e R) >> (k + G - F_out), top)``, ``G = F_out + 2``.

    The doc defines EXACT_DIV and RECIPROCAL_LUT only for ``S > 0`` ("division by zero is
    unreachable"): their proofs carry that precondition
    (:func:`softmax_normalizer_precondition`). The Mitchell divider defines ``S = 0`` and is
    proved for every input. The widths are the RTL's (the dividend ``W_e + F_out`` bits, the
    product ``W_e + G``), so that z3 builds the RTL's own division and product terms.
    """
    e, s = inputs["e"], inputs["s"]
    fo, top, out_w = params.out_fmt.frac_bits, params.out_fmt.max_raw, params.out_fmt.width
    we, sw = e.size(), params.sum_width
    norm = params.normalizer.value
    if norm == "exact_div":
        w = max(we + fo, sw)
        num = z3.ZeroExt(w - we - fo, z3.Concat(e, z3.BitVecVal(0, fo))) if fo else z3.ZeroExt(w - we, e)
        q = z3.UDiv(num, z3.ZeroExt(w - sw, s))
    elif norm == "mitchell_div":
        dp = params.div_params
        q = mitchell_div(z3, dp, {"a": z3.ZeroExt(sw - we, e), "b": s})["q"]
        w = q.size()
    elif norm == "reciprocal_lut":
        rb, g = params.recip_bits, params.out_fmt.frac_bits + 2
        table = recip_table(rb, g)
        r_bits = max(table).bit_length()
        kw = max(sw, 2).bit_length() + 1  # k <= sw - 1 and the shift k + G - F_out
        k, x = _log(z3, s, sw, None, sw + kw)
        idx = z3.Extract(sw - 2, sw - 1 - rb, x)
        r = _mux(z3, idx, rb, table, r_bits)
        w = we + r_bits
        prod = z3.ZeroExt(w - we, e) * z3.ZeroExt(w - r_bits, r)
        shift = z3.Extract(kw - 1, 0, k) + (g - fo)
        q = z3.LShR(prod, z3.ZeroExt(w - kw, shift)) if w >= kw else z3.LShR(
            z3.ZeroExt(kw - w, prod), shift)
        w = q.size()
    else:
        raise ValueError(f"softmax_normalizer_spec: unknown normalizer {norm!r}")
    wt = max(w, out_w)
    qw = z3.ZeroExt(wt - w, q)
    p = z3.If(z3.UGT(qw, z3.BitVecVal(top, wt)), z3.BitVecVal(top, wt), qw)
    return {"p": z3.Extract(out_w - 1, 0, p)}


def softmax_normalizer_precondition(z3, params, inputs: dict):
    """The documented invariant the proof of the normaliser assumes, or None: ``S > 0``
    (docs/units/softmax.md: the largest logit contributes exp(0) >= 1, or f_n(t*) 2**E >= 1
    LSB, so division by zero is unreachable) for EXACT_DIV and RECIPROCAL_LUT, whose
    documented formulas have no value at ``S = 0``."""
    if params.normalizer.value == "mitchell_div":
        return None
    return inputs["s"] != 0


def softmax_subblocks(params) -> list:
    """The softmax's sub-blocks proven by ``hwsim prove softmax``; see :data:`SUBBLOCKS`."""
    ep = params.exp_params
    return [
        # the Softmax calls exp_datapath, the very function ExpUnit wraps (stages=0)
        SubBlock("exp", "hwsim.hdl.exp:ExpUnit", ep, ep.top_name, exp_spec),
        SubBlock("normalizer", "hwsim.hdl.softmax:SoftmaxNormalizer", params,
                 f"{params.top_name}_norm", softmax_normalizer_spec,
                 softmax_normalizer_precondition, "s > 0 (documented: S > 0 always)"),
    ]


# -- attention head: the multiply-accumulate paths (docs/units/attention.md) ---------------

def attention_scale_const(scale_bits: int, dim: int) -> int:
    """``S = round(2**C / sqrt(d))`` in exact integers. No tie occurs (``2**C / sqrt(d) + 1/2``
    is an integer only for ``d = 4**(C+1)``), so ``S = floor(2**C / sqrt(d) + 1/2) =
    floor((floor(2**(C+1) / sqrt(d)) + 1) / 2)``, and ``floor(2**(C+1) / sqrt(d)) =
    isqrt(4**(C+1) // d)``."""
    return (math.isqrt((1 << (2 * scale_bits + 2)) // dim) + 1) // 2


def _bits(v: int) -> int:
    """Bits of a value ``>= 0`` (``int.bit_length``)."""
    return v.bit_length()


@dataclass(frozen=True)
class _SignedMul:
    """The documented multiplier of a MAC path, as :func:`mitchell_mul` reads it."""

    width: int
    keep_bits: int | None
    signed: bool = True


def _product(z3, params, a, b, n: int):
    """``mult(a, b)`` of two n-bit signed operands as a 2n-bit signed vector: the exact
    product (a bit-vector product of the operands sign-extended to 2n bits, which holds every
    product, ``(-2**(n-1))**2`` included) or the signed Mitchell multiplier of width n."""
    if params.multiplier.value == "exact":
        return z3.SignExt(n, a) * z3.SignExt(n, b)
    return mitchell_mul(z3, _SignedMul(n, params.keep_bits), {"a": a, "b": b})["p"]


def _accumulate(z3, acc, prod):
    """``acc + prod``, summed exactly (a vector one bit wider than both) and written to the
    accumulator register, which keeps its own width: its low bits, for every ``acc``. A
    reachable ``acc`` is a sum of fewer than n products (n = d for Q.K^T, L for P.V), each
    at most ``P = 2**(2w-2)`` (Q.K^T) or ``max_p 2**(w-1)`` (P.V) in magnitude (a Mitchell
    product is never above the exact one: :func:`mul_bounds`); the documented widths
    ``bits(n P) + 1`` hold ``|acc + prod| <= n P``, so there the low bits are the exact
    sum."""
    wa, wp = acc.size(), prod.size()
    w = max(wa, wp) + 1
    return z3.Extract(wa - 1, 0, z3.SignExt(w - wa, acc) + z3.SignExt(w - wp, prod))


def _rescale(z3, x, shift: int, fmt):
    """``floor(x 2**-shift)`` (``Rounding.TRUNCATE``; a negative count shifts left, exactly)
    saturated into the signed ``fmt`` (``Overflow.SATURATE``), as ``fmt.width`` bits."""
    n = x.size()
    w = max(n + max(0, -shift), fmt.width) + 1  # the left shift and the bounds fit
    xw = z3.SignExt(w - n, x)
    y = xw >> shift if shift >= 0 else xw << -shift  # >> on a BitVec: arithmetic (floor)
    hi, lo = z3.BitVecVal(fmt.max_raw, w), z3.BitVecVal(fmt.min_raw, w)
    return z3.Extract(fmt.width - 1, 0, z3.If(y > hi, hi, z3.If(y < lo, lo, y)))


def attention_score_acc_width(params) -> int:
    """The Q.K^T accumulator's documented width: ``bits(d 2**(2w-2)) + 1``."""
    return _bits(params.dim << (2 * params.in_fmt.width - 2)) + 1


def attention_value_acc_width(params) -> int:
    """A P.V accumulator's documented width: ``bits(L max_p 2**(w-1)) + 1``, ``max_p`` the
    largest probability pattern (``2**W_p - 1``, every pattern of the unsigned format)."""
    max_p = (1 << params.softmax_out_fmt.width) - 1
    return _bits(params.length * max_p << (params.in_fmt.width - 1)) + 1


def _check_width(what: str, vec, want: int):
    if vec.size() != want:
        raise ValueError(f"attention: the RTL's {what} has {vec.size()} bits, the documented "
                         f"width is {want}")


def attention_score_spec(z3, params, inputs: dict) -> dict:
    """``{"acc_next": ..., "s": ...}`` of the Q.K^T path of ``AttentionParams``.

    From docs/units/attention.md (steps 1 and 2): ``acc' = acc + mult(q, k)`` (exact sum,
    into the ``bits(d 2**(2w-2)) + 1``-bit accumulator) and the score of ``acc``,
    ``s = sat(floor(acc S 2**-(C + 2F - F_s)))`` into ``softmax_in_fmt``, ``S =
    round(2**C / sqrt(d))`` (:func:`attention_scale_const`). ``acc S`` is formed exactly on
    ``bits(acc) + bits(S) + 1`` bits (the RTL's product width, so z3 builds the same term).
    """
    acc, q, k = inputs["acc"], inputs["q"], inputs["k"]
    w = params.in_fmt.width
    _check_width("Q.K^T accumulator", acc, attention_score_acc_width(params))
    acc_next = _accumulate(z3, acc, _product(z3, params, q, k, w))
    s_const = attention_scale_const(params.scale_bits, params.dim)
    wa = acc.size()
    ws = wa + _bits(s_const) + 1  # |acc S| < 2**(wa - 1) 2**bits(S): fits with its sign
    scaled = z3.SignExt(ws - wa, acc) * z3.BitVecVal(s_const, ws)
    shift = params.scale_bits + 2 * params.in_fmt.frac_bits - params.softmax_in_fmt.frac_bits
    return {"acc_next": acc_next, "s": _rescale(z3, scaled, shift, params.softmax_in_fmt)}


def attention_value_spec(z3, params, inputs: dict) -> dict:
    """``{"acc_next": ..., "o": ...}`` of the P.V path of ``AttentionParams``.

    From docs/units/attention.md (step 4): the probability ``p`` (unsigned ``W_p`` bits) as a
    non-negative signed operand and ``v`` sign-extended, both ``n = max(W_p + 1, w)`` bits;
    ``acc' = acc + mult(p, v)`` (signed multiplier of width n; exact sum into the
    ``bits(L max_p 2**(w-1)) + 1``-bit accumulator) and the output of ``acc``,
    ``o = sat(floor(acc 2**-(F_p + F - F_out)))`` into ``out_fmt``.
    """
    acc, p, v = inputs["acc"], inputs["p"], inputs["v"]
    wp, w = params.softmax_out_fmt.width, params.in_fmt.width
    _check_width("P.V accumulator", acc, attention_value_acc_width(params))
    n = max(wp + 1, w)
    pn, vn = z3.ZeroExt(n - wp, p), z3.SignExt(n - w, v)
    acc_next = _accumulate(z3, acc, _product(z3, params, pn, vn, n))
    shift = params.softmax_out_fmt.frac_bits + params.in_fmt.frac_bits - params.out_fmt.frac_bits
    return {"acc_next": acc_next, "o": _rescale(z3, acc, shift, params.out_fmt)}


def attention_subblocks(params) -> list:
    """The attention head's sub-blocks proven by ``hwsim prove attention``: the Q.K^T MAC path
    with its scale (``AttentionScoreMac``) and the P.V MAC path with its output scale
    (``AttentionValueMac``). The head's softmax is the ``Softmax`` component with
    ``params.softmax_params``, proven by its own sub-blocks (``hwsim prove softmax``)."""
    top = params.top_name
    return [
        SubBlock("score", "hwsim.hdl.attention:AttentionScoreMac", params, f"{top}_score_mac",
                 attention_score_spec),
        SubBlock("value", "hwsim.hdl.attention:AttentionValueMac", params, f"{top}_value_mac",
                 attention_value_spec),
    ]


@dataclass(frozen=True)
class SubBlock:
    """One proven sub-block of a unit: ``component`` (``"module:Class"``, imported only when
    a proof runs) built from ``params`` exports as module ``top`` and equals ``spec`` for all
    inputs satisfying ``precondition`` (``(z3, params, inputs) -> formula or None``; None:
    every input), which ``assuming`` names in the proof's message."""

    label: str
    component: str
    params: object
    top: str
    spec: Callable
    precondition: Callable | None = None
    assuming: str | None = None
