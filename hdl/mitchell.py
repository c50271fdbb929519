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

The signed multiplier with full fractions (:func:`signed_datapath`) does not negate its
operands or its product: it takes one's-complement logs, lets the log adder's carry-in and
complemented operands supply the +1s, and folds the product's sign into the antilog
mantissa. With Mitch-w (``keep_bits``) it wraps the unsigned core in
:func:`conditional_negate`.

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
           "shift_const", "leading_zeros", "normalize", "conditional_negate", "signed_log",
           "signed_datapath"]

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


def leading_zeros(x: Value) -> tuple[Value, Value]:
    """``(x == 0, leading-zero count of x)`` by a balanced tree of priority encoders.

    The count has ``ceil(log2(len(x)))`` bits (a power-of-two width is reached by zeros
    below the LSB, which do not change the count of a non-zero ``x``). Each level of the
    tree halves the operand: the count of a block is ``{z_hi, count_hi}`` when its upper
    half holds a one, else ``{z_hi, count_lo}``. Bit j of the count is known after
    ``log2(len(x)) - j`` multiplexer levels, so the top bit (a zero test) is the earliest.
    ``x == 0`` gives an all-ones count, as :func:`normalize` does.
    """
    size = 1 << max(1, (len(x) - 1).bit_length())
    padded = Cat(Const(0, size - len(x)), x) if size > len(x) else x

    def tree(v: Value) -> tuple[Value, list[Value]]:
        if len(v) == 1:
            return ~v[0], []
        h = len(v) // 2
        z_hi, c_hi = tree(v[h:])
        z_lo, c_lo = tree(v[:h])
        return z_hi & z_lo, [Mux(z_hi, lo, hi) for lo, hi in zip(c_lo, c_hi)] + [z_hi]

    zero, count = tree(padded)
    return zero, Cat(*count)


def normalize(x: Value, fill: Value | None = None, count: Value | None = None
              ) -> tuple[Value, Value]:
    """Left-align a non-zero unsigned N-bit ``x``: ``(leading-zero count, x << count)``.

    Without ``count``: a normalising shifter that is its own leading-one detector. Stage j
    shifts by 2**j (largest first) when the top 2**j bits of the value so far are all zero,
    and that decision is bit j of the count: log2(N) stages of a zero test and a
    multiplexer, no separate priority encoder. With ``count`` (``x``'s leading-zero count,
    e.g. from :func:`leading_zeros`): only the barrel shifter, largest shift first.

    ``x == 0`` gives an all-zero value and an all-ones count (callers mask it). ``fill``
    (one bit) is shifted in instead of zeros: ``(x << count) | (2**count - 1)`` when it is 1.
    """
    n = len(x)
    v: Value = x
    bits = []
    for j in reversed(range(max(1, (n - 1).bit_length()))):
        s = 1 << j
        z = ~v[max(n - s, 0):].any() if count is None else count[j]
        v = Mux(z, Cat(Const(0, s) if fill is None else fill.replicate(s), v)[:n], v)
        bits.append(z)
    return Cat(*reversed(bits)), v


def log_fraction(m: Module, x: Value, keep_bits: int | None, name: str, parallel: bool = False
                 ) -> tuple[Signal, Signal]:
    """Mitchell's log2 of an unsigned N-bit ``x``: characteristic ``k`` and fraction ``f``.

    :func:`normalize` left-aligns ``x`` and counts the shift ``N-1-k``; the leading one is
    then the top bit and ``f`` is the N-1 bits below it. Mitch-w then clears all but the top
    ``keep_bits`` bits of ``f``. ``x == 0`` gives ``k = f = 0``.

    ``parallel``: the count comes from :func:`leading_zeros` (top bit first) and drives a
    plain barrel shifter, so no shifter stage waits for the previous stage's zero test. The
    same size and about 4 % faster for the unsigned 16-bit multiplier on iCE40, averaged over
    nextpnr seeds; larger in the divider, the signed and the Mitch-w datapaths, which keep
    the self-detecting shifter (docs/cost.md).
    """
    n1 = len(x) - 1
    lead_zeros = Signal(range(max(n1 + 1, 2)), name=f"{name}_lead_zeros")  # N-1-k
    if parallel:
        m.d.comb += lead_zeros.eq(leading_zeros(x)[1])
        _, aligned = normalize(x, count=lead_zeros)
    else:
        count, aligned = normalize(x)
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


def conditional_negate(m: Module, x: Value, neg: Value, name: str) -> Signal:
    """``-x if neg else x`` modulo ``2**len(x)``, as ``(x + {neg,...,neg}) ^ {neg,...,neg}``.

    For ``neg = 1`` that is ``~(x - 1) = -x``. Both operands of the addition are primary
    signals, so on a LUT4 + carry-chain FPGA every bit is one LUT (which also absorbs the
    XOR) and one carry cell: half the LUTs of a negation followed by a multiplexer.
    """
    n = len(x)
    ones = neg.replicate(n)
    t = Signal(n, name=f"{name}_t")
    m.d.comb += t.eq(x + ones)
    out = Signal(n, name=name)
    m.d.comb += out.eq(t ^ ones)
    return out


def signed_log(m: Module, x: Value, name: str) -> tuple[Signal, Signal]:
    """One's-complement log stage of an N-bit two's complement ``x`` (signed multiplier).

    ``y = x[0:N-1] ^ sign`` (``|x| - 1`` for ``x < 0``, always below ``2**(N-1)``) is
    left-aligned in N-1 bits with the sign shifted in: ``v = (y << l) | (2**l - 1 if x < 0)``,
    ``kk = N-1 - l``. Then ``V = {v, sign}`` (N bits) gives Mitchell's log of ``|x|``
    exactly: ``k * 2**(N-1) + f = (kk - 2) * 2**(N-1) + V + sign`` (for ``x < 0``,
    ``V + 1 = |x| << (l + 1)``: the +1 ripples through the shifted-in ones). ``x = -1`` and
    ``x = -2**(N-1)`` give ``V = 2**N - 1``, the +1 then carries into the characteristic.
    Returns ``(kk, v)``; ``V``'s bit 0 is the sign itself.
    """
    n1 = len(x) - 1
    sign = x[n1]
    y = Signal(n1, name=f"{name}_y")
    m.d.comb += y.eq(x[:n1] ^ sign.replicate(n1))
    count, v = normalize(y, sign)
    kk = Signal(range(n1 + 1), name=f"{name}_kk")
    aligned = Signal(n1, name=f"{name}_v")
    if (1 << len(count)) - 1 == n1:  # y == 0 shifts by exactly N-1: v is all sign bits
        m.d.comb += [kk.eq(n1 - count), aligned.eq(v)]
    else:                            # the count stops short of N-1: fix y == 0 up
        m.d.comb += [kk.eq(Mux(y.any(), n1 - count, 0)),
                     aligned.eq(Mux(y.any(), v, sign.replicate(n1)))]
    return kk, aligned


def signed_datapath(m: Module, a: Value, b: Value, n: int, pipe: Pipeline) -> Value:
    """Signed Mitchell product (full fraction) without magnitude or product negations.

    The semantics are the sign-magnitude ones (``hwsim.mitchell``): ``p = +-floor(M)``, with
    ``M`` the unsigned Mitchell product of ``|a|``, ``|b|``. With :func:`signed_log` and
    ``H = 2**(N-1)``, ``K = kk_a + kk_b``, the log of ``M`` is
    ``L = (K - 4) H + V_a + V_b + s_a + s_b``:

    * no negative operand: ``Z = V_a + V_b``, ``L = (K - 4) H + Z``, ``Z`` in [2H, 4H);
    * otherwise both operands are complemented: ``Z = ~V_a + ~V_b + (s_a ^ s_b)`` equals
      ``4H - (V_a + V_b + s_a + s_b)`` (the carry-in supplies one +1, the complement of the
      sum the other), so ``L = K H - Z`` with ``Z`` in [0, 2H): the negated log, from one
      adder. With ``Z = q H + rho``: ``e = K - q - 1``, ``m = 2H - rho``.

    In both cases ``e = K - 2 + (Z[N-1] ^ any negative)``; the mantissa is ``H + rho`` (no
    negative operand), ``rho - 2H`` = the product's sign folded into the mantissa (one
    negative operand: the antilog shifter then produces the negative product directly) or
    ``2H - rho = {~rho, 1} + 1`` (both negative; one increment, which ripples right behind
    the adder's carry chain). The arithmetic antilog shift is exact: ``M`` is an integer
    (the right shift ``N-1-e`` never exceeds the ``N-1-max(k_a, k_b)`` trailing zero bits
    of ``f_a + f_b``), so shifting ``-m`` gives ``-M`` exactly. ``Z``'s bit 0 is always 0
    (``V``'s bit 0 is the sign), so the adder adds the N-1-bit ``v``s with carry-in
    ``s_a ^ s_b``. ``e + 2`` lies in 0..2N-1 and is the shift amount.
    """
    n1 = n - 1
    kk_a, v_a = signed_log(m, a, "a")
    kk_b, v_b = signed_log(m, b, "b")
    s1 = pipe.cut("log", kk_a=kk_a, v_a=v_a, kk_b=kk_b, v_b=v_b, sa=a[n1], sb=b[n1],
                  zero=~(a.any() & b.any()))
    sa, sb = s1["sa"], s1["sb"]
    anyneg, neg, both = sa | sb, sa ^ sb, sa & sb
    z_hi = Signal(n, name="log_sum")  # Z >> 1
    m.d.comb += z_hi.eq((s1["v_a"] ^ anyneg.replicate(n1)) + (s1["v_b"] ^ anyneg.replicate(n1))
                        + neg)
    z = Cat(Const(0, 1), z_hi)
    char = Signal(range(2 * n), name="char")  # e + 2
    m.d.comb += char.eq(s1["kk_a"] + s1["kk_b"] + (z[n1] ^ anyneg))
    inc = Signal(n, name="mant_inc")  # both negative: ~rho + 1 (bit N-1: the carry)
    m.d.comb += inc.eq((z[:n1] ^ both.replicate(n1)) + both)
    carry = inc[n1]
    mant = Signal(signed(n + 2), name="mant")  # H + rho, rho - 2H or 2H - rho
    m.d.comb += mant.eq(Cat(inc[:n1], ~neg ^ carry, neg | carry, neg))
    s2 = pipe.cut("add", mant=mant, char=char, zero=s1["zero"])

    # antilog: mant * 2**(e - (N-1)) = (mant << (e + 2)) >> (N + 1), exact (see above)
    shifted = s2["mant"].as_signed() << s2["char"]
    product = Signal(signed(2 * n), name="product")
    m.d.comb += product.eq(Mux(s2["zero"], 0, shifted[n + 1:3 * n + 1]))
    return product


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
        n = p.width
        m = Module()
        pipe = Pipeline(m, p.stages, _CUTS, self.in_valid if p.stages else None)

        if p.signed and p.keep_bits is None:
            product = signed_datapath(m, self.a, self.b, n, pipe)
        else:
            product = self._sign_magnitude(m, p, pipe)
        out, out_valid = pipe.output(p=product)
        m.d.comb += self.p.eq(out["p"])
        if p.stages:
            m.d.comb += self.out_valid.eq(out_valid)
        return m

    def _sign_magnitude(self, m: Module, p: MitchellMulParams, pipe: Pipeline) -> Value:
        """Unsigned core, with (signed, Mitch-w) magnitudes in front and a negation behind."""
        n, n1 = p.width, p.width - 1
        if p.signed:  # magnitudes as N-bit unsigned: |-2**(N-1)| = 2**(N-1) still fits
            mag_a = conditional_negate(m, self.a.as_unsigned(), self.a[n1], "mag_a")
            mag_b = conditional_negate(m, self.b.as_unsigned(), self.b[n1], "mag_b")
            negate = self.a[n1] ^ self.b[n1]
        else:
            mag_a, mag_b, negate = self.a, self.b, Const(0, 1)
        # the parallel leading-zero count pays off only where the normaliser shares one clock
        # period with the rest: the unsigned full-fraction unit without stages (docs/cost.md)
        parallel = not p.signed and p.keep_bits is None and p.stages == 0
        k_a, f_a = log_fraction(m, mag_a, p.keep_bits, "a", parallel)
        k_b, f_b = log_fraction(m, mag_b, p.keep_bits, "b", parallel)
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
            return conditional_negate(m, magnitude, s2["negate"], "product").as_signed()
        return magnitude


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
