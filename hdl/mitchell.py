"""Mitchell logarithmic multiplier and divider in Amaranth 0.5.

Both components implement ``hwsim.mitchell`` bit for bit (DESIGN.md section 3):

* leading-one detector: ``k`` = position of the highest set bit;
* normalising shifter: ``f = (x << (N-1-k))[0:N-1]`` is the (N-1)-bit log fraction,
  truncated to its top ``keep_bits`` bits for Mitch-w;
* adder (subtractor for the divider) in the log domain;
* antilog shifter: the mantissa ``1.f`` shifted by the characteristic.

Two identities keep the datapath small. For the product, both branches of step 4 give
the mantissa ``m = Cat(s[0:N-1], 1)`` (with a carry, ``s`` itself has its top bit set), so
only the characteristic ``e = k_a + k_b + carry`` depends on the carry. For the quotient,
``2**(N-1) + d`` and ``2**N + d`` likewise share ``m = Cat(d[0:N-1], 1)``; the borrow only
lowers ``e``.

``params.stages = s`` places ``s`` register stages (see :class:`hwsim.hdl.pipeline.Pipeline`)
at two internal cut points (after the log stage, after the log-domain add) and at the output.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwsim.hdl.pipeline import Pipeline
from hwsim.mitchell import MitchellDivParams, MitchellMulParams

__all__ = ["MitchellMultiplier", "MitchellDivider", "divider_datapath", "log_fraction", "antilog",
           "shift_const"]

#: internal cut points of both datapaths: after the log stage, after the log-domain add/sub
_CUTS = 2


def shift_const(value: Value, amount: int, width: int) -> Value:
    """``floor(value * 2**amount)`` as exactly ``width`` bits (zeros fill, high bits drop)."""
    if amount >= 0:
        bits = Cat(Const(0, amount), value)
    else:
        bits = value[-amount:]
    if len(bits) >= width:
        return bits[:width]
    return Cat(bits, Const(0, width - len(bits)))


def normalize(x: Value) -> tuple[Value, Value]:
    """Left-align a non-zero unsigned N-bit ``x``: ``(leading-zero count, x << count)``.

    A normalising shifter that is its own leading-one detector: stage j shifts by 2**j
    (largest first) when the top 2**j bits of the value so far are all zero, and that
    decision is bit j of the count. log2(N) stages of a zero test and a multiplexer, with no
    separate priority encoder in front of a barrel shifter. ``x == 0`` gives an all-zero
    value (and a meaningless count, which callers mask).
    """
    n = len(x)
    v: Value = x
    bits = []
    for j in reversed(range(max(1, (n - 1).bit_length()))):
        s = 1 << j
        z = ~v[max(n - s, 0):].any()
        v = Mux(z, Cat(Const(0, s), v)[:n], v)
        bits.append(z)
    return Cat(*reversed(bits)), v


def log_fraction(m: Module, x: Value, keep_bits: int | None, name: str) -> tuple[Signal, Signal]:
    """Mitchell's log2 of an unsigned N-bit ``x``: characteristic ``k`` and fraction ``f``.

    :func:`normalize` left-aligns ``x`` and counts the shift ``N-1-k``; the leading one is
    then the top bit and ``f`` is the N-1 bits below it. Mitch-w then clears all but the top
    ``keep_bits`` bits of ``f``. ``x == 0`` gives ``k = f = 0``.
    """
    n1 = len(x) - 1
    count, aligned = normalize(x)
    lead_zeros = Signal(range(max(n1 + 1, 2)), name=f"{name}_lead_zeros")  # N-1-k
    m.d.comb += lead_zeros.eq(count)
    k = Signal(range(max(n1 + 1, 2)), name=f"{name}_k")
    m.d.comb += k.eq(Mux(x.any(), n1 - lead_zeros, 0))
    f = Signal(n1, name=f"{name}_f")
    m.d.comb += f.eq(aligned[:n1])
    if keep_bits is None:
        return k, f
    kept = Signal(n1, name=f"{name}_f_kept")
    m.d.comb += kept.eq(Cat(Const(0, n1 - keep_bits), f[n1 - keep_bits:]))
    return k, kept


def antilog(m: Module, mant: Value, char: Value, offset: int, width: int, name: str) -> Signal:
    """``floor(mant * 2**(char - offset))`` as ``width`` bits: one barrel (log) shifter.

    ``mant << char`` puts the binary point ``offset`` bits up; the result is the ``width``
    bits from there (zero-filled when the shifted value is shorter).
    """
    out = Signal(width, name=name)
    shifted = mant << char
    m.d.comb += out.eq(shift_const(shifted, -offset, width))
    return out


class MitchellMultiplier(wiring.Component):
    """Mitchell multiplier ``p ~ a * b`` (see ``hwsim.mitchell.mitchell_mul``).

    Members
    -------
    a, b : In(N), or In(signed(N)) when ``params.signed``
    p : Out(2N), or Out(signed(2N))
    in_valid : In(1), out_valid : Out(1)
        Only when ``params.stages > 0``; ``out_valid`` follows ``in_valid`` by ``latency``.

    Attributes
    ----------
    params : MitchellMulParams
    latency : int
        Cycles from ``a``, ``b`` to ``p`` (``params.stages``).
    """

    def __init__(self, params: MitchellMulParams):
        if not isinstance(params, MitchellMulParams):
            raise TypeError(f"MitchellMultiplier needs MitchellMulParams, not {params!r}")
        self.params = params
        self.latency = params.stages
        shape = signed if params.signed else unsigned
        members = {"a": In(shape(params.width)), "b": In(shape(params.width)),
                   "p": Out(shape(params.out_width))}
        if params.stages:
            members |= {"in_valid": In(1), "out_valid": Out(1)}
        super().__init__(members)

    def elaborate(self, platform):
        p = self.params
        n, n1 = p.width, p.width - 1
        m = Module()
        pipe = Pipeline(m, p.stages, _CUTS, self.in_valid if p.stages else None)

        if p.signed:  # magnitudes as N-bit unsigned: |-2**(N-1)| = 2**(N-1) still fits
            mag_a, mag_b = Signal(n, name="mag_a"), Signal(n, name="mag_b")
            m.d.comb += [mag_a.eq(Mux(self.a[n1], -self.a, self.a)),
                         mag_b.eq(Mux(self.b[n1], -self.b, self.b))]
            negate = self.a[n1] ^ self.b[n1]
        else:
            mag_a, mag_b, negate = self.a, self.b, Const(0, 1)
        k_a, f_a = log_fraction(m, mag_a, p.keep_bits, "a")
        k_b, f_b = log_fraction(m, mag_b, p.keep_bits, "b")
        s1 = pipe.cut("log", k_a=k_a, f_a=f_a, k_b=k_b, f_b=f_b,
                      zero=~(mag_a.any() & mag_b.any()), negate=negate)

        frac_sum = Signal(n, name="frac_sum")  # s = f_a + f_b, bit N-1 is the carry
        m.d.comb += frac_sum.eq(s1["f_a"] + s1["f_b"])
        char = Signal(range(2 * n), name="char")  # e = k_a + k_b + carry <= 2N-1
        m.d.comb += char.eq(s1["k_a"] + s1["k_b"] + frac_sum[n1])
        s2 = pipe.cut("add", mant=Cat(frac_sum[:n1], Const(1, 1)), char=char,
                      zero=s1["zero"], negate=s1["negate"])

        # antilog: floor(mant * 2**(char - (N-1))), 2N bits
        shifted = antilog(m, s2["mant"], s2["char"], n1, 2 * n, "shifted")
        magnitude = Mux(s2["zero"], 0, shifted)
        if p.signed:
            product = Mux(s2["negate"], -magnitude, magnitude)[:2 * n].as_signed()
        else:
            product = magnitude
        out, out_valid = pipe.output(p=product)
        m.d.comb += self.p.eq(out["p"])
        if p.stages:
            m.d.comb += self.out_valid.eq(out_valid)
        return m


class MitchellDivider(wiring.Component):
    """Mitchell divider ``q / 2**F ~ a / b`` (see ``hwsim.mitchell.mitchell_div``).

    Members
    -------
    a, b : In(N)
    q : Out(N + F)
        Saturated to all ones when ``b == 0``.
    div_by_zero : Out(1)
    in_valid : In(1), out_valid : Out(1)
        Only when ``params.stages > 0``.

    Attributes
    ----------
    params : MitchellDivParams
    latency : int
    """

    def __init__(self, params: MitchellDivParams):
        if not isinstance(params, MitchellDivParams):
            raise TypeError(f"MitchellDivider needs MitchellDivParams, not {params!r}")
        self.params = params
        self.latency = params.stages
        members = {"a": In(params.width), "b": In(params.width),
                   "q": Out(params.out_width), "div_by_zero": Out(1)}
        if params.stages:
            members |= {"in_valid": In(1), "out_valid": Out(1)}
        super().__init__(members)

    def elaborate(self, platform):
        p = self.params
        m = Module()
        pipe = Pipeline(m, p.stages, _CUTS, self.in_valid if p.stages else None)
        quotient, b_zero = divider_datapath(m, self.a, self.b, p, pipe)
        out, out_valid = pipe.output(q=quotient, div_by_zero=b_zero)
        m.d.comb += [self.q.eq(out["q"]), self.div_by_zero.eq(out["div_by_zero"])]
        if p.stages:
            m.d.comb += self.out_valid.eq(out_valid)
        return m


def divider_datapath(m: Module, a: Value, b: Value, p: MitchellDivParams,
                     pipe: Pipeline | None = None, prefix: str = "") -> tuple[Value, Value]:
    """The divider's datapath from unsigned ``a``, ``b`` to ``(q, b == 0)``.

    ``pipe`` receives the two cut points; other units (softmax) call this without one to
    embed a divider in their own module (a flat design, one Verilog module).
    """
    cut = pipe.cut if pipe is not None else (lambda _name, **v: v)
    n, n1, frac = p.width, p.width - 1, p.frac_bits
    k_a, f_a = log_fraction(m, a, p.keep_bits, f"{prefix}a")
    k_b, f_b = log_fraction(m, b, p.keep_bits, f"{prefix}b")
    s1 = cut("log", k_a=k_a, f_a=f_a, k_b=k_b, f_b=f_b, a_zero=~a.any(), b_zero=~b.any())

    frac_diff = Signal(signed(n), name=f"{prefix}frac_diff")  # d = f_a - f_b
    m.d.comb += frac_diff.eq(s1["f_a"] - s1["f_b"])
    borrow = frac_diff[n1]
    # e + N = k_a - k_b - borrow + N lies in 0..2N-1: a non-negative shift amount
    char = Signal(range(2 * n), name=f"{prefix}char")
    m.d.comb += char.eq(s1["k_a"] + (n - s1["k_b"]) - borrow)
    s2 = cut("sub", mant=Cat(frac_diff[:n1], Const(1, 1)), char=char,
             a_zero=s1["a_zero"], b_zero=s1["b_zero"])

    # antilog: floor(mant * 2**(e + F - (N-1))) with char = e + N
    scaled = antilog(m, s2["mant"], s2["char"], 2 * n - 1 - frac, p.out_width, f"{prefix}scaled")
    q_max = (1 << p.out_width) - 1
    quotient = Signal(p.out_width, name=f"{prefix}quotient")
    # never exceeds N+F bits (see the model)
    m.d.comb += quotient.eq(Mux(s2["b_zero"], q_max, Mux(s2["a_zero"], 0, scaled)))
    return quotient, s2["b_zero"]
