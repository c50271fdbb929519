"""Float multipliers (Mitchell, L-Mul bit-pattern add and literal formula, exact) and the Mitchell float divider in Amaranth 0.5.

The components implement ``hwsim.float_mul`` bit for bit. The datapath of every method is

1. operand classes from the magnitude fields (zero = exponent field 0, so subnormals count
   as zero; inf; NaN) and the product sign ``a[W-1] ^ b[W-1]``;
2. a signed magnitude ``u``, W+3 bits:

   * mitchell / lmul: one adder, ``|A| + |B| + (offset - ONE)`` with a constant;
   * lmul-paper: the significand sum ``S = 2**M + F_a + F_b + offset``, normalised by its
     top bit ``n`` (one dropped bit, a tie: rounded to even), then ``u`` as for exact;
   * divider: ``|A| - |B| + ONE``;
   * exact: the (M+1) x (M+1) significand product ``P``, normalised by its top bit ``n``,
     rounded to nearest even (guard bit and sticky OR of the dropped bits; the rounded
     significand may reach ``2**(M+1)``, whose carry lands in the exponent by the addition
     below), then ``u = ((E_a + E_b + n) << M) + q - (ONE + 2**M)``;

3. the result: NaN cases -> canonical NaN; zero / inf operands -> +-0 / +-huge; ``u`` below
   the smallest normal -> +-0; above the largest finite -> +-huge (inf, or e4m3's 448);
   otherwise ``sign | u[0:W-1]``.

``params.stages = s`` places ``s`` register stages (:class:`hwsim.hdl.pipeline.Pipeline`):
one at the internal cut point after step 2 (s >= 2), the rest at the output.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed

from hwsim.float_mul import (
    FloatDivParams, FloatMethod, FloatMulParams, FloatType, lmul_offset,
)
from hwsim.hdl.component import PipelinedUnit, binary_ports
from hwsim.hdl.pipeline import Pipeline

__all__ = ["FloatMultiplier", "FloatDivider", "ExactFloatMultiplier", "float_datapath"]

#: internal cut points: after the magnitude adder / rounded product
_CUTS = 1


def _classes(mag: Value, fmt: FloatType) -> tuple[Value, Value, Value]:
    """(nan, inf, zero) of a W-1-bit magnitude field."""
    zero = ~mag[fmt.man_bits:].any()
    if fmt.has_inf:
        return mag > fmt.inf, mag == fmt.inf, zero
    return mag.all(), Const(0, 1), zero


def _exact_u(m: Module, ma: Value, mb: Value, fmt: FloatType, width: int) -> Value:
    """``u`` of the correctly rounded product of two normal magnitudes."""
    man = fmt.man_bits
    prod = Signal(2 * man + 2, name="sig_prod")
    m.d.comb += prod.eq(Cat(ma[:man], Const(1, 1)) * Cat(mb[:man], Const(1, 1)))
    n = prod[2 * man + 1]
    q = Mux(n, prod[man + 1:], prod[man:2 * man + 1])
    guard = Mux(n, prod[man], prod[man - 1])
    sticky = Mux(n, prod[:man].any(), prod[:man - 1].any())
    rounded = Signal(man + 2, name="sig_rounded")  # up to 2**(M+1)
    m.d.comb += rounded.eq(q + (guard & (sticky | q[0])))
    exp_sum = ma[man:] + mb[man:] + n
    u = Signal(signed(width), name="u")
    m.d.comb += u.eq(Cat(Const(0, man), exp_sum) + rounded
                     + Const(-(fmt.one + (1 << man)), signed(width)))
    return u


def _lmul_paper_u(m: Module, ma: Value, mb: Value, fmt: FloatType, width: int) -> Value:
    """``u`` of L-Mul's literal formula ``(1 + x + y + 2**-l(m)) * 2**(ea+eb)``, rounded."""
    man = fmt.man_bits
    ssum = Signal(man + 2, name="sig_sum")  # < 3 * 2**M
    m.d.comb += ssum.eq(Cat(ma[:man], Const(1, 1)) + mb[:man] + lmul_offset(fmt))
    n = ssum[man + 1]
    q = Mux(n, ssum[1:], ssum[:man + 1])
    rounded = Signal(man + 2, name="sig_rounded")
    m.d.comb += rounded.eq(q + (n & ssum[0] & q[0]))
    exp_sum = ma[man:] + mb[man:] + n
    u = Signal(signed(width), name="u")
    m.d.comb += u.eq(Cat(Const(0, man), exp_sum) + rounded
                     + Const(-(fmt.one + (1 << man)), signed(width)))
    return u


def float_datapath(m: Module, a: Value, b: Value, fmt: FloatType, method: FloatMethod,
                   divide: bool, pipe: Pipeline) -> Value:
    """The W-bit result pattern of ``a``, ``b`` (module docstring), through ``pipe``'s one cut."""
    w, man = fmt.bits, fmt.man_bits
    uw = w + 3
    ma, mb = a[:w - 1], b[:w - 1]
    a_nan, a_inf, a_zero = _classes(ma, fmt)
    b_nan, b_inf, b_zero = _classes(mb, fmt)
    if divide:
        nan = a_nan | b_nan | (a_zero & b_zero) | (a_inf & b_inf)
        to_huge, to_zero = b_zero | a_inf, a_zero | b_inf
    else:
        nan = a_nan | b_nan | (a_zero & b_inf) | (a_inf & b_zero)
        to_huge, to_zero = a_inf | b_inf, a_zero | b_zero

    if method is FloatMethod.EXACT and not divide:
        u = _exact_u(m, ma, mb, fmt, uw)
    elif method is FloatMethod.LMUL_PAPER and not divide:
        u = _lmul_paper_u(m, ma, mb, fmt, uw)
    else:
        u = Signal(signed(uw), name="u")
        if divide:
            m.d.comb += u.eq(ma - mb + fmt.one)
        else:
            off = lmul_offset(fmt) if method is FloatMethod.LMUL else 0
            m.d.comb += u.eq(ma + mb + Const(off - fmt.one, signed(uw)))
    flags = Signal(4, name="flags")
    m.d.comb += flags.eq(Cat(a[w - 1] ^ b[w - 1], nan, to_huge, to_zero))
    s1 = pipe.cut("core", u=u, flags=flags)

    u1, f1 = s1["u"], s1["flags"]
    sign, nan1, huge1, zero1 = f1[0], f1[1], f1[2], f1[3]
    mag = Signal(w - 1, name="mag")
    m.d.comb += mag.eq(Mux(zero1, 0,
                       Mux(huge1, fmt.huge,
                       Mux(u1 < (1 << man), 0,
                       Mux(u1 > fmt.max_finite, fmt.huge, u1[:w - 1])))))
    result = Signal(w, name="result")
    m.d.comb += result.eq(Mux(nan1, fmt.nan, Cat(mag, sign)))
    return result


class _FloatUnit(PipelinedUnit):
    _out: str  # the result port

    @classmethod
    def ports(cls, params) -> dict:
        return binary_ports(params.fmt.bits, cls._out, params.fmt.bits)

    def _build(self, method: FloatMethod, divide: bool):
        p = self.params
        m = Module()
        pipe = Pipeline(m, p.stages, _CUTS, self.in_valid_or_none)
        result = float_datapath(m, self.a, self.b, p.fmt, method, divide, pipe)
        out, out_valid = pipe.output(r=result)
        self.drive_outputs(m, {self._out: out["r"]}, out_valid)
        return m


class FloatMultiplier(_FloatUnit):
    """Float product ``p`` of bit patterns ``a``, ``b`` (``hwsim.float_mul.float_mul``).

    Members
    -------
    a, b : In(W)
    p : Out(W)
    in_valid : In(1), out_valid : Out(1)
        Only when ``params.stages > 0``; ``out_valid`` follows ``in_valid`` by ``latency``.

    Attributes
    ----------
    params : FloatMulParams
    latency : int
    """

    params_type = FloatMulParams
    _out = "p"

    def elaborate(self, platform):
        return self._build(self.params.method, divide=False)


class ExactFloatMultiplier(FloatMultiplier):
    """The exact (round to nearest even) multiplier for any ``FloatMulParams``: the cost
    baseline of ``hwsim synth float-mul`` (``params.method`` is ignored)."""

    def elaborate(self, platform):
        return self._build(FloatMethod.EXACT, divide=False)


class FloatDivider(_FloatUnit):
    """Mitchell float quotient ``q`` of bit patterns ``a``, ``b`` (``hwsim.float_mul.float_div``).

    Members
    -------
    a, b : In(W)
    q : Out(W)
    in_valid : In(1), out_valid : Out(1)
        Only when ``params.stages > 0``.

    Attributes
    ----------
    params : FloatDivParams
    latency : int
    """

    params_type = FloatDivParams
    _out = "q"

    def elaborate(self, platform):
        return self._build(FloatMethod.MITCHELL, divide=True)
