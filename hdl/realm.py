"""REALM-style log multiplier in Amaranth 0.5: implements ``hwsim.realm.realm_mul`` bit for bit.

Datapath, with ``F = N - 1`` and ``t`` = keep_bits:

* per operand, :func:`hwsim.hdl.mitchell.normalize` left-aligns ``x`` (its own leading-one
  detector); the t bits below the leading one are the truncated fraction (the shifter's
  other outputs are unused and pruned by synthesis);
* the correction table is a constant ROM indexed by the top M bits of each fraction
  (``Array`` of constants: each of its q output bits is a function of 2M bits);
* one t-bit adder ``S = f_a + f_b + c`` whose carry ``S[t]`` raises the characteristic
  ``e = k_a + k_b + carry``; as in Mitchell's multiplier both branches share the mantissa
  ``Cat(S[:t], 1)``;
* the antilog shifter ``floor(mant * 2**(e - t))``; a zero operand clears the t+1 mantissa
  bits before the shifter (cheaper than clearing the 2N product bits after it).

``params.stages = s`` places ``s`` register stages (:class:`hwsim.hdl.pipeline.Pipeline`) at
two internal cut points (after the log stage, after the log-domain add) and at the output.
"""

from __future__ import annotations

from amaranth.hdl import Array, Cat, Const, Module, Mux, Signal, Value

from hwsim.hdl.mitchell import normalize
from hwsim.hdl.component import UnsignedMultiplier
from hwsim.hdl.pipeline import Pipeline
from hwsim.realm import RealmMulParams

__all__ = ["RealmMultiplier", "realm_log"]

#: internal cut points: after the log stage, after the log-domain add
_CUTS = 2


def realm_log(m: Module, x: Value, keep_bits: int, name: str) -> tuple[Signal, Signal]:
    """Step 2 of ``hwsim.realm`` for an unsigned N-bit ``x``: ``(k, f)`` with ``f`` the top
    ``keep_bits`` bits of the fraction. ``x = 0`` gives ``f = 0`` and a meaningless ``k`` (the
    caller clears the product)."""
    n1 = len(x) - 1
    count, aligned = normalize(x)
    k = Signal(range(max(n1 + 1, 2)), name=f"{name}_k")
    m.d.comb += k.eq(n1 - count)
    f = Signal(keep_bits, name=f"{name}_f")
    m.d.comb += f.eq(aligned[n1 - keep_bits:n1])
    return k, f


class RealmMultiplier(UnsignedMultiplier):
    """REALM-style multiplier ``p ~ a * b`` (see ``hwsim.realm.realm_mul``), unsigned.

    Ports and latency: :class:`hwsim.hdl.component.UnsignedMultiplier`.
    """

    params_type = RealmMulParams

    def elaborate(self, platform):
        p = self.params
        n, t, mg, q = p.width, p.keep_bits, p.m, p.q
        m = Module()
        pipe = Pipeline(m, p.stages, _CUTS, self.in_valid_or_none)

        k_a, f_a = realm_log(m, self.a, t, "a")
        k_b, f_b = realm_log(m, self.b, t, "b")
        s1 = pipe.cut("log", k_a=k_a, f_a=f_a, k_b=k_b, f_b=f_b,
                      zero=~(self.a.any() & self.b.any()))

        corr = Signal(max(q, 1), name="corr")
        if mg:
            index = Cat(s1["f_b"][t - mg:], s1["f_a"][t - mg:])  # i * 2**M + j
            m.d.comb += corr.eq(Array(Const(c, len(corr)) for c in p.table)[index])
        else:
            m.d.comb += corr.eq(p.table[0])
        frac_sum = Signal(t + 1, name="frac_sum")  # bit t is the carry
        m.d.comb += frac_sum.eq(s1["f_a"] + s1["f_b"] + corr)
        char = Signal(range(2 * n), name="char")  # e = k_a + k_b + carry <= 2N - 1
        m.d.comb += char.eq(s1["k_a"] + s1["k_b"] + frac_sum[t])
        mant = Signal(t + 1, name="mant")
        m.d.comb += mant.eq(Mux(s1["zero"], 0, Cat(frac_sum[:t], Const(1, 1))))
        s2 = pipe.cut("add", mant=mant, char=char)

        # antilog: floor(mant * 2**(char - t)), 2N bits
        product = Signal(2 * n, name="product")
        m.d.comb += product.eq((s2["mant"] << s2["char"])[t:])
        out, out_valid = pipe.output(p=product)
        self.drive_outputs(m, out, out_valid)
        return m
