"""Fixed-point exponential unit in Amaranth 0.5, bit for bit ``hwsim.exp.exp_fixed``.

Range-reduced methods: constant multiply into the log2 domain (base e), split into the
integer part ``n`` and the fraction ``f``, the mantissa ``m ~ 2**f`` (a constant table, a
chord table with one multiplier, ``1.f``, or I-BERT's quadratic), then a barrel shifter
by ``n`` and saturation. TAYLOR: clamp, then a Horner chain of ``order`` multipliers
(each inverse ``1/k`` is a constant multiply) and saturation.

Cut points for ``params.stages`` (see :class:`hwsim.hdl.pipeline.Pipeline`): after the
input conversion (``y`` / clamped ``t``) and after the mantissa / Horner chain.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwsim.exp import ExpBase, ExpMethod, ExpParams, log2_domain
from hwsim.hdl.pipeline import Pipeline

__all__ = ["ExpUnit", "exp_datapath"]

_CUTS = 2


def as_signed_ext(v: Value) -> Value:
    """An unsigned value as a (one bit wider) signed value of the same magnitude."""
    return Cat(v, Const(0, 1)).as_signed()


def table(values: list[int]) -> Array:
    """A constant ROM (a mux tree of constants) indexed by an unsigned value."""
    width = max(1, max(values).bit_length())
    return Array(Const(v, unsigned(width)) for v in values)


def _n_range(p: ExpParams) -> tuple[int, int]:
    """Range of the integer part ``n`` over all inputs (log2_domain is monotone)."""
    import numpy as np
    y = log2_domain(np.array(p.in_range, dtype=np.int64) - [0, 1], p)
    return int(y[0] >> p.internal_bits), int(y[1] >> p.internal_bits)


def exp_datapath(m: Module, x: Value, p: ExpParams, pipe: Pipeline | None = None,
                 name: str = "exp") -> Value:
    """The unit's combinational datapath from signed ``x`` to the unsigned output.

    ``pipe`` (optional) receives the unit's two cut points; other units (softmax) call this
    without one to embed an exp unit in their own datapath.
    """
    cut = pipe.cut if pipe is not None else (lambda _name, **v: v)
    r, c = p.internal_bits, p.const_bits
    fin, fout = p.in_fmt.frac_bits, p.out_fmt.frac_bits
    out_w = p.out_fmt.width
    top = p.out_fmt.max_raw
    result = Signal(out_w, name=f"{name}_y")

    if p.method is ExpMethod.TAYLOR:
        t_shape = signed(p.in_fmt.int_bits + r + 1)
        t = Signal(t_shape, name=f"{name}_t")
        if p.base is ExpBase.E:
            m.d.comb += t.eq(x << (r - fin))
        else:
            m.d.comb += t.eq((x * p.ln2) >> (fin + c - r))
        clamped = Signal(t_shape, name=f"{name}_t_clamped")
        m.d.comb += clamped.eq(Mux(t < p.taylor_clamp, p.taylor_clamp, t))
        t = cut(f"{name}_t", t=clamped)["t"]
        inv = p.taylor_inverses()
        acc: Value = Const(1 << r, signed(r + 2))
        for k in range(p.order, 0, -1):
            prod = (t * acc) >> r
            if k > 1:
                prod = (prod * inv[k]) >> c
            nxt = Signal(signed(p.taylor_r_bits), name=f"{name}_horner{k}")
            m.d.comb += nxt.eq(prod + (1 << r))
            acc = nxt
        acc = cut(f"{name}_f", acc=acc)["acc"]
        scaled = acc >> (r - fout)
        m.d.comb += result.eq(Mux(scaled < 0, 0, Mux(scaled > top, top, scaled)))
        return result

    y = Signal(signed(p.in_fmt.width + 1 + c), name=f"{name}_y2")  # wide enough for either base
    if p.base is ExpBase.TWO:
        m.d.comb += y.eq(x << (r - fin))
    else:
        m.d.comb += y.eq((x * p.log2e) >> (fin + c - r))
    y = cut(f"{name}_log2", y=y)["y"]
    n_lo, n_hi = _n_range(p)
    n = Signal(signed(max(abs(n_lo), abs(n_hi)).bit_length() + 1), name=f"{name}_n")
    f = Signal(r, name=f"{name}_f")
    m.d.comb += [n.eq(y >> r), f.eq(y[:r])]

    mant = Signal(r + 2, name=f"{name}_mant")  # 2**f * 2**R lies in [2**R, 2**(R+1)]
    if p.method is ExpMethod.LUT:
        m.d.comb += mant.eq(table(p.lut_table())[f[r - p.lut_bits:]])
    elif p.method is ExpMethod.PWL:
        sb = p.segments.bit_length() - 1
        a, b = p.pwl_tables()
        j, u = f[r - sb:], f[:r - sb]
        if sb == 0:
            m.d.comb += mant.eq(a[0] + ((b[0] * u) >> r))
        else:
            m.d.comb += mant.eq(table(a)[j] + ((table(b)[j] * u) >> r))
    elif p.method is ExpMethod.MITCHELL:
        m.d.comb += mant.eq(Cat(f, Const(1, 1)))
    elif p.method is ExpMethod.IBERT:
        ca, cb, cc = p.ibert_constants()
        q = Signal(signed(r + 2), name=f"{name}_ibert_q")  # in (b - ln2, b] * 2**R
        m.d.comb += q.eq((((as_signed_ext(f) - (1 << r)) * p.ln2) >> c) + cb)
        sq = Signal(unsigned(r + 2), name=f"{name}_ibert_sq")  # q**2 < 2 * 2**R
        m.d.comb += sq.eq((q * q) >> r)
        m.d.comb += mant.eq(((sq * ca) >> c) + cc)
    else:  # pragma: no cover
        raise AssertionError(p.method)
    v = cut(f"{name}_mant", mant=mant, n=n)
    mant, n = v["mant"], v["n"]

    # out = floor(mant * 2**(n + F_out - R)), saturated
    s = Signal(signed(len(n) + (abs(fout - r)).bit_length() + 1), name=f"{name}_shift")
    m.d.comb += s.eq(n + (fout - r))
    left = Signal(range(out_w + 2), name=f"{name}_left")
    right = Signal(range(max(2, -min(n_lo + fout - r, 0) + 1)), name=f"{name}_right")
    m.d.comb += [left.eq(Mux(s > out_w + 1, out_w + 1, Mux(s < 0, 0, s))),
                 right.eq(Mux(s < 0, -s, 0))]
    shifted = (mant << left) >> right
    m.d.comb += result.eq(Mux(shifted > top, top, shifted))
    return result


class ExpUnit(wiring.Component):
    """e**x or 2**x of a signed fixed-point ``x``; ports ``x`` -> ``y`` (raw patterns)."""

    def __init__(self, params: ExpParams):
        if not isinstance(params, ExpParams):
            raise TypeError(f"ExpUnit needs ExpParams, not {type(params).__name__}")
        self.params = params
        self.latency = params.latency
        members = {"x": In(signed(params.in_fmt.width)), "y": Out(unsigned(params.out_fmt.width))}
        if params.stages:
            members |= {"in_valid": In(1), "out_valid": Out(1)}
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        p = self.params
        pipe = Pipeline(m, p.stages, _CUTS, self.in_valid if p.stages else None)
        y = exp_datapath(m, self.x, p, pipe)
        out, valid = pipe.output(y=y)
        m.d.comb += self.y.eq(out["y"])
        if p.stages:
            m.d.comb += self.out_valid.eq(valid)
        return m
