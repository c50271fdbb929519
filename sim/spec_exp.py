"""Formal specification of the exp unit (``hwsim.exp``).

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
"""

from __future__ import annotations

import math
from fractions import Fraction

__all__ = ["exp_constants", "exp_spec"]


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
