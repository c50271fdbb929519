"""Fixed-point exponential unit in Amaranth 0.5, bit for bit ``hwsim.exp.exp_fixed``.

Range-reduced methods: constant multiply into the log2 domain (base e), split into the
fraction ``f`` and the (clamped, offset) shift amount, the mantissa ``m ~ 2**f`` (a
constant table, a chord table with one multiplier, ``1.f``, or I-BERT's quadratic), then a
two-part barrel shifter and saturation (an OR of the bits above the output). TAYLOR:
clamp, then a Horner chain of ``order`` multipliers (each inverse ``1/k`` is a constant
multiply) and saturation. docs/units/exp.md (HDL) derives each rewriting.

Pipelines (``params.stages``, latency = stages, one result per cycle): :func:`cut_points`
lists the datapath's cut points and the order in which :class:`hwsim.hdl.pipeline.Pipeline`
fills them; a constant multiply or a multiplier with a register inside is rewritten as an
adder tree (:func:`const_mul`) or two half products (:func:`split_mul`), otherwise it stays
one ``*``.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwsim.exp import ExpBase, ExpMethod, ExpParams, log2_domain
from hwsim.hdl.pipeline import Pipeline

__all__ = ["ExpUnit", "exp_datapath", "cut_points", "const_mul", "split_mul", "csd_digits"]

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


def csd_digits(k: int) -> list[tuple[int, int]]:
    """Canonical signed-digit form of ``k >= 0``: ``[(shift, +1 | -1), ...]`` with
    ``k = sum(sign << shift)`` and no two adjacent non-zero digits (fewest adders)."""
    digits, i = [], 0
    while k:
        if k & 1:
            d = 2 - (k & 3)  # +1 if k = 1 mod 4, -1 if k = 3 mod 4
            digits.append((i, d))
            k -= d
        k >>= 1
        i += 1
    return digits


def const_mul(m: Module, x: Value, k: int, cut, name: str, offset: int = 0,
              **side: Value) -> tuple[Value, dict[str, Value]]:
    """``x * k + offset`` (constants, ``k >= 0``) exactly, as a balanced tree of adders over
    the CSD digits of ``k`` (and the offset), with the cut point ``cut`` after the first half
    of the tree's levels; ``side`` values pass the same cut point. Returns the result and
    the side values after the cut.

    :func:`exp_datapath` uses it only when that cut point gets a register; otherwise it
    writes ``x * k`` (the combinational form the formal proof's specification shares)."""
    digits = csd_digits(k)
    terms: list[Value] = [(x << sh) if d > 0 else -(x << sh) for sh, d in digits] or [Const(0)]
    if offset:
        terms.insert(0, Const(offset))  # paired at the first level, never a register
    levels = (len(terms) - 1).bit_length()
    half = (levels + 1) // 2
    for level in range(levels):
        if level == half:
            v = cut(name, **side, **{f"t{i}": t for i, t in enumerate(terms)})
            terms = [v[f"t{i}"] for i in range(len(terms))]
            side = {key: v[key] for key in side}
        nxt = []
        for i in range(0, len(terms), 2):
            if i + 1 < len(terms):
                sig = Signal.like(terms[i] + terms[i + 1], name=f"{name}_s{level}_{i // 2}")
                m.d.comb += sig.eq(terms[i] + terms[i + 1])
                nxt.append(sig)
            else:
                nxt.append(terms[i])
        terms = nxt
    if levels <= half:  # fewer than two levels: the cut point comes after the sum
        v = cut(name, **side, t0=terms[0])
        terms, side = [v["t0"]], {key: v[key] for key in side}
    return terms[0], side


def split_mul(m: Module, a: Value, b: Value, cut, name: str,
              **side: Value) -> tuple[Value, dict[str, Value]]:
    """``a * b`` exactly as two half products, ``a`` times the low half of ``b`` (unsigned)
    and ``a`` times the high half (``b >> k``, signed if ``b`` is), with the cut point
    ``cut`` between them and their sum; ``side`` values pass the same cut point."""
    k = len(b) // 2
    lo = Signal.like(a * b[:k], name=f"{name}_lo")
    hi = Signal.like(a * (b >> k), name=f"{name}_hi")
    m.d.comb += [lo.eq(a * b[:k]), hi.eq(a * (b >> k))]
    v = cut(name, lo=lo, hi=hi, **side)
    return (v["hi"] << k) + v["lo"], {key: v[key] for key in side}


def cut_points(p: ExpParams) -> tuple[list[str], list[int]]:
    """The datapath's cut points (names, in datapath order) and the order in which
    ``stages - 1`` internal registers fill them (the rest go to the output)."""
    if p.method is ExpMethod.TAYLOR:
        # t, then after each multiplier of the Horner chain (k = n..2: two, k = 1: one)
        names = ["t"] + [f"horner{k}{s}" for k in range(p.order, 0, -1)
                         for s in (("a", "b") if k > 1 else ("b",))]
        return names, [0, len(names) - 1] + _bisect(1, len(names) - 1)
    names = (["log2_mul"] if p.base is ExpBase.E else []) + ["log2"]
    names += {ExpMethod.PWL: ["mant_a", "bu_mul"],
              ExpMethod.IBERT: ["q_mul", "mant_a", "sq_mul", "mant_b", "a_mul"]}.get(p.method, [])
    names += ["mant", "shift"]
    # measured (docs/units/exp.md): the constant multiply and the mantissa stage are the
    # long paths; the split shifter comes last
    prio = ["log2", "log2_mul", "mant", "shift"]
    if p.method is ExpMethod.PWL:  # its multiplier first
        prio = ["log2", "mant_a", "bu_mul", "mant", "log2_mul", "shift"]
    if p.method is ExpMethod.IBERT:
        prio = ["log2", "mant_a", "mant_b", "mant", "sq_mul", "q_mul", "a_mul", "log2_mul",
                "shift"]
    return names, [names.index(c) for c in prio if c in names]


def _bisect(lo: int, hi: int) -> list[int]:
    """Indices lo..hi-1, each middle before the halves on either side of it."""
    out, spans = [], [(lo, hi)]
    while spans:
        nxt = []
        for a, b in spans:
            if a < b:
                mid = (a + b) // 2
                out.append(mid)
                nxt += [(a, mid), (mid + 1, b)]
        spans = nxt
    return out


def exp_datapath(m: Module, x: Value, p: ExpParams, pipe: Pipeline | None = None,
                 name: str = "exp") -> Value:
    """The unit's combinational datapath from signed ``x`` to the unsigned output.

    ``pipe`` (optional) receives the unit's cut points (:func:`cut_points`); other units
    (softmax, Performer) call this without one to embed an exp unit in their own datapath.
    """
    def cut(_name, **v):
        return pipe.cut(_name, **v) if pipe is not None else v

    def registered() -> bool:
        return pipe is not None and pipe.next_registered

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
                ps = Signal.like(prod, name=f"{name}_horner{k}_tp")
                m.d.comb += ps.eq(prod)
                v = cut(f"{name}_horner{k}a", t=t, prod=ps)
                t, prod = v["t"], v["prod"]
                prod = (prod * inv[k]) >> c
            nxt = Signal(signed(p.taylor_r_bits), name=f"{name}_horner{k}")
            m.d.comb += nxt.eq(prod + (1 << r))
            v = cut(f"{name}_horner{k}b", t=t, acc=nxt) if k > 1 else cut(f"{name}_f", acc=nxt)
            t, acc = v.get("t", t), v["acc"]
        scaled = acc >> (r - fout)
        m.d.comb += result.eq(Mux(scaled < 0, 0, Mux(scaled > top, top, scaled)))
        return result

    # Step 4's shift amount s = n + F_out - R only matters within [lo, hi]: below -(R + 2)
    # every mantissa (< 2**(R+2)) shifts out to 0, from out_w up every non-zero mantissa
    # saturates. The datapath carries amt = clamp(s, lo, hi) - lo >= 0, and folds the
    # constant into step 1: y' = y + K 2**R with K = F_out - R - lo has the same fraction
    # f and y' >> R = n + K = s - lo, so amt is y''s integer bits (clamped only where
    # [lo, hi] is narrower than the range of s).
    n_lo, n_hi = _n_range(p)
    mw = r + 2
    s_lo, s_hi = n_lo + fout - r, n_hi + fout - r
    lo = max(s_lo, -mw)
    hi = max(min(s_hi, out_w), lo)
    k_off = fout - r - lo
    sh = fin + c - r
    y = Signal(signed(p.in_fmt.width + 1 + c), name=f"{name}_y2")  # wide enough for either base
    if p.base is ExpBase.TWO:
        m.d.comb += y.eq((x + (k_off << fin)) << (r - fin))
    elif registered():
        m.d.comb += y.eq(const_mul(m, x, p.log2e, cut, f"{name}_log2_mul",
                                   k_off << (r + sh))[0] >> sh)
    else:
        v = cut(f"{name}_log2_mul", x=x)  # a wire: the product as one multiplier
        m.d.comb += y.eq((v["x"] * p.log2e + (k_off << (r + sh))) >> sh)
    y = cut(f"{name}_log2", y=y)["y"]
    f = Signal(r, name=f"{name}_f")
    amt = Signal(range(max(hi - lo + 1, 2)), name=f"{name}_amt")
    m.d.comb += f.eq(y[:r])
    if lo == s_lo and hi == s_hi:  # 0 <= y' >> R <= hi - lo for every input
        m.d.comb += amt.eq(y[r:r + len(amt)])
    else:
        a_raw = y >> r
        m.d.comb += amt.eq(Mux(a_raw < 0, 0, Mux(a_raw > hi - lo, hi - lo, a_raw)))

    mant = Signal(mw, name=f"{name}_mant")  # 2**f * 2**R lies in [2**R, 2**(R+1)]
    if p.method is ExpMethod.LUT:
        m.d.comb += mant.eq(table(p.lut_table())[f[r - p.lut_bits:]])
    elif p.method is ExpMethod.PWL:
        sb = p.segments.bit_length() - 1
        a, b = p.pwl_tables()
        j, u = f[r - sb:], f[:r - sb]
        ab_ = {} if sb == 0 else {"a": table(a)[j], "b": table(b)[j]}
        v = cut(f"{name}_mant_a", u=u, amt=amt, **ab_)
        aj, bj = v.get("a", Const(a[0])), v.get("b", Const(b[0]))
        if registered():
            prod, v = split_mul(m, bj, v["u"], cut, f"{name}_bu_mul", amt=v["amt"], aj=aj)
            aj = v["aj"]
        else:
            prod, v = bj * v["u"], cut(f"{name}_bu_mul", amt=v["amt"])
        m.d.comb += mant.eq(aj + (prod >> r))
        amt = v["amt"]
    elif p.method is ExpMethod.MITCHELL:
        m.d.comb += mant.eq(Cat(f, Const(1, 1)))
    elif p.method is ExpMethod.IBERT:
        ca, cb, cc = p.ibert_constants()
        q = Signal(signed(r + 2), name=f"{name}_ibert_q")  # in (b - ln2, b] * 2**R
        z = as_signed_ext(f) - (1 << r)
        if registered():  # ((z LN2) >> C) + B = (z LN2 + B 2**C) >> C
            prod, v = const_mul(m, z, p.ln2, cut, f"{name}_q_mul", cb << c, amt=amt)
            m.d.comb += q.eq(prod >> c)
        else:
            v = cut(f"{name}_q_mul", z=z, amt=amt)
            m.d.comb += q.eq(((v["z"] * p.ln2) >> c) + cb)
        v = cut(f"{name}_mant_a", q=q, amt=v["amt"])
        sq = Signal(unsigned(r + 2), name=f"{name}_ibert_sq")  # q**2 < 2 * 2**R
        if registered():
            prod, v = split_mul(m, v["q"], v["q"], cut, f"{name}_sq_mul", amt=v["amt"])
        else:
            prod, v = v["q"] * v["q"], cut(f"{name}_sq_mul", amt=v["amt"])
        m.d.comb += sq.eq(prod >> r)
        v = cut(f"{name}_mant_b", sq=sq, amt=v["amt"])
        if registered():  # ((sq A) >> C) + Cc = (sq A + Cc 2**C) >> C
            prod, v = const_mul(m, v["sq"], ca, cut, f"{name}_a_mul", cc << c, amt=v["amt"])
            m.d.comb += mant.eq(prod >> c)
        else:
            v = cut(f"{name}_a_mul", sq=v["sq"], amt=v["amt"])
            m.d.comb += mant.eq(((v["sq"] * ca) >> c) + cc)
        amt = v["amt"]
    else:  # pragma: no cover
        raise AssertionError(p.method)
    v = cut(f"{name}_mant", mant=mant, amt=amt)
    mant, amt = v["mant"], v["amt"]

    # out = floor(mant * 2**s), saturated: wide = mant << amt = mant 2**(s - lo) exactly,
    # so out is wide's bits from -lo up (zeros below if lo > 0), saturated when any bit
    # above those out_w is set. The shifter is split: the low bits of amt first.
    ab = len(amt)
    k1 = (ab + 1) // 2
    part = Signal(mw + (1 << k1) - 1, name=f"{name}_shift1")
    m.d.comb += part.eq(mant << amt[:k1])
    v = cut(f"{name}_shift", part=part, **({"amt_hi": amt[k1:]} if ab > k1 else {}))
    wide_w = mw + (hi - lo)
    wide = Signal(wide_w, name=f"{name}_wide")
    m.d.comb += wide.eq(v["part"] << Cat(Const(0, k1), v["amt_hi"]) if ab > k1 else v["part"])
    o = max(-lo, 0)
    full = Cat(Const(0, max(lo, 0) + 1), wide, Const(0, out_w + o + 1))[1:]
    high = full[o + out_w:max(o + out_w, max(lo, 0) + wide_w) + 1]
    m.d.comb += result.eq(Mux(high.any(), top, full[o:o + out_w]))
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
        names, order = cut_points(p)
        pipe = Pipeline(m, p.stages, len(names), self.in_valid if p.stages else None, order)
        y = exp_datapath(m, self.x, p, pipe)
        out, valid = pipe.output(y=y)
        m.d.comb += self.y.eq(out["y"])
        if p.stages:
            m.d.comb += self.out_valid.eq(valid)
        return m
