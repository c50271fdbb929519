"""DRUM multiplier in Amaranth 0.5: implements ``hwsim.drum.drum_mul`` bit for bit.

With ``L = N - k`` (the largest shift of one operand), each operand ``x`` goes through one
clamped normalising shifter (:func:`clamped_normalize`): ``c = min(lz(x), L)`` with ``lz`` the
leading-zero count, and ``y = x << c``. Its top k bits ``y[N-k:N]`` are

* ``x[t : t-k+1]`` when ``x >= 2**k`` (``lz = N-1-t < L``): the segment before its forced 1;
* ``x[k-1:0]`` when ``x < 2**k`` (``lz >= L``, so ``c = L``): the exact operand.

So ``seg = Cat(y[N-k] | big, y[N-k+1:N])`` with ``big = x[k:].any()`` (the forced 1), and in
both cases ``s = L - c`` (``t-k+1``, or 0). The small-operand case needs no multiplexer of its
own, and ``x = 0`` gives ``seg = 0``. Then a ``k x k`` multiplier (Amaranth ``*``, 2k bits)
and one shifter: ``p = (seg_a * seg_b) << (s_a + s_b) = ((seg_a * seg_b) << 2L) >> (c_a + c_b)``,
a right shift of the 2N-bit field by ``c_a + c_b <= 2L`` (no subtraction needed).

``params.stages = s`` places ``s`` register stages (:class:`hwsim.hdl.pipeline.Pipeline`) at
two internal cut points (after the segment selection, after the ``k x k`` product) and at the
output.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value

from hwsim.drum import DrumMulParams
from hwsim.hdl.component import UnsignedMultiplier
from hwsim.hdl.pipeline import Pipeline

__all__ = ["DrumMultiplier", "clamped_normalize", "segment"]

#: internal cut points: after the segment selection, after the k x k product
_CUTS = 2


def clamped_normalize(x: Value, limit: int) -> tuple[Value, Value]:
    """``(c, x << c)`` with ``c = min(leading zeros of x, limit)`` for unsigned ``x``,
    ``1 <= limit < len(x)``.

    Like :func:`hwsim.hdl.mitchell.normalize`, its own leading-one detector: stage j (largest
    first) shifts by 2**j when the top 2**j bits of the value so far are zero and the count
    so far plus 2**j stays within ``limit``; that decision is bit j of ``c``. Taking the
    largest allowed power of two at each stage gives the largest count that is both a
    possible shift (<= leading zeros) and <= ``limit``, i.e. their minimum.
    """
    n = len(x)
    stages = limit.bit_length()
    v: Value = x
    count: Value = Const(0, stages)
    bits = []
    for j in reversed(range(stages)):
        s = 1 << j
        take = ~v[n - s:].any() & ((count | s) <= limit)  # count's bits below j are still 0
        v = Mux(take, Cat(Const(0, s), v)[:n], v)
        count = count | (take << j)
        bits.append(take)
    return Cat(*reversed(bits)), v


def segment(m: Module, x: Value, k: int, name: str) -> tuple[Signal, Signal]:
    """DRUM's segment of an unsigned N-bit ``x``: ``(seg, c)`` with ``seg`` k bits and
    ``c = N-k-s`` in ``0..N-k``, so that ``x ~ seg << (N-k-c)`` (exact when ``x < 2**k``)."""
    n = len(x)
    seg = Signal(k, name=f"{name}_seg")
    c = Signal(range(max(n - k + 1, 2)), name=f"{name}_c")  # >= 1 bit (always 0 when k = N)
    if k == n:  # every operand is below 2**N: the exact multiplier
        m.d.comb += seg.eq(x)
        return seg, c
    count, aligned = clamped_normalize(x, n - k)
    m.d.comb += [c.eq(count),
                 seg.eq(Cat(aligned[n - k] | x[k:].any(), aligned[n - k + 1:]))]
    return seg, c


class DrumMultiplier(UnsignedMultiplier):
    """DRUM multiplier ``p ~ a * b`` (see ``hwsim.drum.drum_mul``), unsigned.

    Ports and latency: :class:`hwsim.hdl.component.UnsignedMultiplier`.
    """

    params_type = DrumMulParams

    def elaborate(self, platform):
        p = self.params
        n, k = p.width, p.k
        lim = n - k
        m = Module()
        pipe = Pipeline(m, p.stages, _CUTS, self.in_valid_or_none)

        seg_a, c_a = segment(m, self.a, k, "a")
        seg_b, c_b = segment(m, self.b, k, "b")
        s1 = pipe.cut("seg", seg_a=seg_a, seg_b=seg_b, c_a=c_a, c_b=c_b)

        prod = Signal(2 * k, name="seg_prod")  # < 2**(2k)
        down = Signal(range(max(2 * lim + 1, 2)), name="down")  # c_a + c_b <= 2L
        m.d.comb += [prod.eq(s1["seg_a"] * s1["seg_b"]), down.eq(s1["c_a"] + s1["c_b"])]
        s2 = pipe.cut("mul", prod=prod, down=down)

        # (prod << 2L) >> (c_a + c_b) = prod << (s_a + s_b) < 2**(2N): nothing drops
        product = Signal(2 * n, name="product")
        m.d.comb += product.eq(Cat(Const(0, 2 * lim), s2["prod"]) >> s2["down"] if lim
                               else s2["prod"])
        out, out_valid = pipe.output(p=product)
        self.drive_outputs(m, out, out_valid)
        return m
