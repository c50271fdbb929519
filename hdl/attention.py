"""Streaming attention head in Amaranth 0.5, bit for bit ``hwsim.attention.attention_fixed``.

Interface: ``i_stream`` (signed ``in_fmt``) carries one problem as K (L x d, row-major), then
V (L x d), then Q (L x d); ``o_stream`` (signed ``out_fmt``) returns the L x d outputs row by
row. K and V are held in memories (``amaranth.lib.memory``); one query row at a time is in a
rotating register file. The units are the library's own components: the Mitchell multiplier
(``MitchellMultiplier``, or Amaranth ``*`` for the exact head) for Q.K^T and for P.V, and the
streaming :class:`hwsim.hdl.softmax.Softmax`, fed one scaled score per key and drained one
probability at a time.

Per query row: SCORE (d multiply-accumulate cycles per key, then the saturated score is
handed to the softmax), PV (for each probability, d multiply-accumulate cycles into d
rotating accumulators), OUT (d outputs). ``latency`` (``AttentionParams.latency``): 2 L d + 2 L + 1 + softmax_stages cycles
from the last element of the first query row to its first output; a row costs about
2 L d + softmax cycles.

The two multiply-accumulate paths are written once, as functions (:func:`mac_product`,
:func:`accumulate`, :func:`score_scale`, :func:`value_operands`, :func:`output_scale`) that
both :class:`Attention` and :class:`AttentionMac` elaborate: ``AttentionMac`` is one path
alone, combinational (one MAC step into the accumulator register's width, and the rescaling
of the register's value), for ``hwsim prove attention`` (``hwsim.sim.formal``). The head's
Verilog is the same as before the paths were factored out.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, signed, unsigned
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from hwsim.attention import AttentionParams, Multiplier
from hwsim.hdl.mitchell import MitchellMultiplier
from hwsim.hdl.softmax import Softmax

__all__ = ["Attention", "AttentionMac", "AttentionScoreMac", "AttentionValueMac"]


def _saturate(value, fmt):
    return Mux(value > fmt.max_raw, fmt.max_raw, Mux(value < fmt.min_raw, fmt.min_raw, value))


class Attention(wiring.Component):
    def __init__(self, params: AttentionParams):
        if not isinstance(params, AttentionParams):
            raise TypeError(f"Attention needs AttentionParams, not {type(params).__name__}")
        self.params = params
        self.latency = params.latency
        super().__init__({
            "i_stream": In(stream.Signature(signed(params.in_fmt.width))),
            "o_stream": Out(stream.Signature(signed(params.out_fmt.width))),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        L, d = p.length, p.dim
        w, n = p.in_fmt.width, L * p.dim
        x_in = self.i_stream.payload

        # Counters and memory addresses get at least one bit (depth and ranges >= 2): a size-1
        # dimension would otherwise give zero-width signals, written `wire [-1:0]`. The extra
        # memory word is never written or read, a 1-bit counter of a size-1 dimension stays 0.
        m.submodules.k_mem = k_mem = memory.Memory(shape=signed(w), depth=max(n, 2), init=[])
        m.submodules.v_mem = v_mem = memory.Memory(shape=signed(w), depth=max(n, 2), init=[])
        k_wr, v_wr = k_mem.write_port(), v_mem.write_port()
        k_rd, v_rd = k_mem.read_port(domain="comb"), v_mem.read_port(domain="comb")
        m.submodules.softmax = sm = Softmax(p.softmax_params)

        addr = Signal(range(max(n, 2)), name="addr")  # load address / K or V read address
        j = Signal(range(max(L, 2)), name="key")      # key (score) or probability index
        k = Signal(range(max(d, 2)), name="k")        # position within a row
        row = Signal(range(max(L, 2)), name="row")    # query row
        last_addr, last_j, last_k, last_row = addr == n - 1, j == L - 1, k == d - 1, row == L - 1

        q = [Signal(signed(w), name=f"q{i}") for i in range(d)]   # rotating: head q[d-1]
        accs = [Signal(signed(p.value_acc_width), name=f"o{i}") for i in range(d)]  # head accs[d-1]
        score_acc = Signal(signed(p.score_acc_width), name="score_acc")

        def rotate(regs, new_head):
            return [regs[0].eq(new_head)] + [regs[i].eq(regs[i - 1]) for i in range(1, d)]

        # Q.K^T multiplier and the scaled, saturated score
        prod_qk = mac_product(m, "score_mult", q[d - 1], k_rd.data, p, p.score_mult)
        score = score_scale(m, score_acc, p)

        # P.V multiplier: the probability as a non-negative signed operand
        prob, vval = value_operands(m, sm.o_stream.payload, v_rd.data, p)
        prod_pv = mac_product(m, "value_mult", prob, vval, p, p.value_mult)

        LOAD_K, LOAD_V, LOAD_Q, SCORE, PUSH, PV, OUT = range(1, 8)  # nothing is 0: see softmax
        phase = Signal(range(8), init=LOAD_K, name="phase")
        pv_busy = Signal(name="pv_busy")  # inside the d MAC cycles of one probability
        m.d.comb += [k_rd.addr.eq(addr), v_rd.addr.eq(addr), k_wr.addr.eq(addr),
                     v_wr.addr.eq(addr), k_wr.data.eq(x_in), v_wr.data.eq(x_in)]

        with m.If(phase == LOAD_K):
            with m.If(self.i_stream.valid):
                m.d.comb += k_wr.en.eq(1)
                m.d.sync += addr.eq(Mux(last_addr, 0, addr + 1))
                with m.If(last_addr):
                    m.d.sync += phase.eq(LOAD_V)
        with m.Elif(phase == LOAD_V):
            with m.If(self.i_stream.valid):
                m.d.comb += v_wr.en.eq(1)
                m.d.sync += addr.eq(Mux(last_addr, 0, addr + 1))
                with m.If(last_addr):
                    m.d.sync += phase.eq(LOAD_Q)
        with m.Elif(phase == LOAD_Q):
            with m.If(self.i_stream.valid):
                m.d.sync += [*rotate(q, x_in), k.eq(Mux(last_k, 0, k + 1))]
                with m.If(last_k):
                    m.d.sync += [phase.eq(SCORE), addr.eq(0), score_acc.eq(0)]
        with m.Elif(phase == SCORE):  # q[d-1] * K[j, k]; the q registers rotate
            m.d.sync += [score_acc.eq(accumulate(score_acc, prod_qk)), *rotate(q, q[d - 1]),
                         k.eq(Mux(last_k, 0, k + 1)), addr.eq(Mux(last_addr, 0, addr + 1))]
            with m.If(last_k):
                m.d.sync += phase.eq(PUSH)
        with m.Elif(phase == PUSH):  # hand the score of key j to the softmax
            with m.If(sm.i_stream.ready):
                m.d.sync += [score_acc.eq(0), j.eq(Mux(last_j, 0, j + 1))]
                with m.If(last_j):
                    m.d.sync += [phase.eq(PV), addr.eq(0), *[a.eq(0) for a in accs]]
                with m.Else():
                    m.d.sync += phase.eq(SCORE)
        with m.Elif(phase == PV):  # p_j * V[j, k] into the rotating accumulators
            with m.If(sm.o_stream.valid):
                m.d.sync += [*rotate(accs, accumulate(accs[d - 1], prod_pv)), k.eq(Mux(last_k, 0, k + 1)),
                             addr.eq(Mux(last_addr, 0, addr + 1))]
                with m.If(last_k):
                    m.d.sync += j.eq(Mux(last_j, 0, j + 1))
                    with m.If(last_j):
                        m.d.sync += phase.eq(OUT)
        with m.Elif(phase == OUT):
            with m.If(self.o_stream.ready):
                m.d.sync += [*rotate(accs, accs[d - 1]), k.eq(Mux(last_k, 0, k + 1))]
                with m.If(last_k):
                    m.d.sync += row.eq(Mux(last_row, 0, row + 1))
                    m.d.sync += phase.eq(Mux(last_row, LOAD_K, LOAD_Q))

        m.d.comb += [
            pv_busy.eq((phase == PV) & last_k),
            self.i_stream.ready.eq((phase == LOAD_K) | (phase == LOAD_V) | (phase == LOAD_Q)),
            sm.i_stream.valid.eq(phase == PUSH),
            sm.i_stream.payload.eq(score),
            sm.o_stream.ready.eq(pv_busy & sm.o_stream.valid),
            self.o_stream.valid.eq(phase == OUT),
            self.o_stream.payload.eq(output_scale(accs[d - 1], p)),
        ]
        return m


# -- the multiply-accumulate paths, shared by Attention and AttentionMac ---------------------

def mac_product(m: Module, name: str, a, b, p: AttentionParams, mp):
    """``a * b`` with the head's multiplier: Amaranth ``*`` (exact), or a
    ``MitchellMultiplier(mp)`` added as submodule ``name``."""
    if p.multiplier is Multiplier.EXACT:
        return a * b
    unit = MitchellMultiplier(mp)
    m.submodules[name] = unit
    m.d.comb += [unit.a.eq(a), unit.b.eq(b)]
    return unit.p


def accumulate(acc, prod):
    """One MAC step, ``acc + prod``; the accumulator register it is assigned to keeps its own
    width (``score_acc_width`` / ``value_acc_width``, sized so the sum never wraps)."""
    return acc + prod


def score_scale(m: Module, acc, p: AttentionParams):
    """The score of a Q.K^T sum: ``(acc * S) >> (C + 2F - F_s)`` (a left shift when the count
    is negative), saturated into ``softmax_in_fmt``; the ``score`` signal."""
    shift = p.scale_bits + 2 * p.in_fmt.frac_bits - p.softmax_in_fmt.frac_bits
    scaled = acc * p.scale_const
    scaled = scaled >> shift if shift >= 0 else scaled << -shift
    score = Signal(signed(p.softmax_in_fmt.width), name="score")
    m.d.comb += score.eq(_saturate(scaled, p.softmax_in_fmt))
    return score


def value_operands(m: Module, prob_in, v_in, p: AttentionParams):
    """The P.V multiplier's signed ``value_width``-bit operands: the (unsigned) probability
    zero-extended (non-negative), the V element sign-extended; the ``prob`` and ``v_ext``
    signals."""
    nv = p.value_width
    prob = Signal(signed(nv), name="prob")
    m.d.comb += prob.eq(Cat(prob_in, 0).as_signed())
    vval = Signal(signed(nv), name="v_ext")
    m.d.comb += vval.eq(v_in)
    return prob, vval


def output_scale(acc, p: AttentionParams):
    """An output of a P.V sum: ``acc >> (F_p + F - F_out)`` (a left shift when negative),
    saturated into ``out_fmt``."""
    oshift = p.softmax_out_fmt.frac_bits + p.in_fmt.frac_bits - p.out_fmt.frac_bits
    out_val = acc >> oshift if oshift >= 0 else acc << -oshift
    return _saturate(out_val, p.out_fmt)


class AttentionMac(wiring.Component):
    """One multiply-accumulate path of the head alone, for ``hwsim prove attention``.

    Combinational: it elaborates the very functions :class:`Attention` uses for the path,
    with the accumulator register's value as the input ``acc``:

    * ``path="score"`` (Q.K^T): inputs ``acc`` (signed ``score_acc_width``), ``q`` and ``k``
      (signed ``in_fmt``); outputs ``acc_next = acc + mult(q, k)`` in the accumulator's
      width (what the SCORE phase writes to ``score_acc``) and ``s``, the scaled, saturated
      score of ``acc`` (``softmax_in_fmt``, what PUSH hands to the softmax);
    * ``path="value"`` (P.V): inputs ``acc`` (signed ``value_acc_width``), ``p`` (the
      probability, unsigned ``softmax_out_fmt``) and ``v`` (signed ``in_fmt``); outputs
      ``acc_next = acc + mult(p, v)`` (what PV writes to the head of the rotating
      accumulators) and ``o``, the rescaled, saturated output of ``acc`` (``out_fmt``, what
      OUT presents on ``o_stream``).

    The sequencing (which operands meet in which cycle, the clears, the d or L steps, the
    register rotation, valid/ready) is the stream level, verified in simulation.
    """

    PATHS = ("score", "value")

    def __init__(self, params: AttentionParams, path: str):
        if not isinstance(params, AttentionParams):
            raise TypeError(f"AttentionMac needs AttentionParams, not {type(params).__name__}")
        if path not in self.PATHS:
            raise ValueError(f"AttentionMac path must be one of {', '.join(self.PATHS)}, "
                             f"not {path!r}")
        self.params, self.path = params, path
        self.latency = 0
        w = params.in_fmt.width
        if path == "score":
            acc_w = params.score_acc_width
            members = {"acc": In(signed(acc_w)), "q": In(signed(w)), "k": In(signed(w)),
                       "acc_next": Out(signed(acc_w)),
                       "s": Out(signed(params.softmax_in_fmt.width))}
        else:
            acc_w = params.value_acc_width
            members = {"acc": In(signed(acc_w)),
                       "p": In(unsigned(params.softmax_out_fmt.width)), "v": In(signed(w)),
                       "acc_next": Out(signed(acc_w)), "o": Out(signed(params.out_fmt.width))}
        super().__init__(members)

    def elaborate(self, platform):
        m = Module()
        p = self.params
        if self.path == "score":
            prod = mac_product(m, "score_mult", self.q, self.k, p, p.score_mult)
            m.d.comb += [self.acc_next.eq(accumulate(self.acc, prod)),
                         self.s.eq(score_scale(m, self.acc, p))]
        else:
            prob, vval = value_operands(m, self.p, self.v, p)
            prod = mac_product(m, "value_mult", prob, vval, p, p.value_mult)
            m.d.comb += [self.acc_next.eq(accumulate(self.acc, prod)),
                         self.o.eq(output_scale(self.acc, p))]
        return m


class AttentionScoreMac(AttentionMac):
    """``AttentionMac(params, "score")``: the Q.K^T path (``hwsim.sim.spec_attention.attention_subblocks``)."""

    def __init__(self, params: AttentionParams):
        super().__init__(params, "score")


class AttentionValueMac(AttentionMac):
    """``AttentionMac(params, "value")``: the P.V path (``hwsim.sim.spec_attention.attention_subblocks``)."""

    def __init__(self, params: AttentionParams):
        super().__init__(params, "value")
