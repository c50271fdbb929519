"""Streaming softmax unit in Amaranth 0.5, bit for bit ``hwsim.softmax.softmax_fixed``.

Interface: ``i_stream`` carries the L logits of a vector (signed ``in_fmt`` payload, one per
transfer), ``o_stream`` returns its L probabilities (unsigned ``out_fmt``) in the same order;
both with ``valid``/``ready`` backpressure. There is no ``last`` flag: vectors are counted.

One exp unit (``hwsim.hdl.exp.exp_datapath``) is shared by all phases through an input mux:

* ``LOAD`` (L cycles at full rate): logits shift into a register file; TWO_PASS tracks the
  running max ``M``; ONLINE updates ``(m, s)`` per logit (exp of ``m - x`` on a new max, for
  the rescale, else of ``x - m``); TAYLOR accumulates ``S += f_n(x)``.
* ``SUM`` (TWO_PASS only, L cycles): ``S += exp(x_i - M)``.
* ``OUT`` (L transfers): ``p_i = normalise(exp(x_i - M), S)`` (``f_n(x_i)`` for TAYLOR) through
  the chosen normaliser, presented on ``o_stream`` until accepted.

Throughput: one vector per ``2L`` (``3L`` for TWO_PASS) cycles without stalls. ``latency``
(cycles from accepting the last logit to the first valid probability) is ``L + 1`` for
TWO_PASS, else 1, plus ``stages``. With ``stages = 0`` the exp unit and the
normaliser form the combinational path of ``OUT``. With K >= 1 stages the output path is a
stall-all pipeline: every stage register advances when the last one is empty or
``o_stream.ready`` (``pipe_advance``), ``OUT`` issues one element per advance, and a valid
bit travels with each element. Stage 0 registers the exp value and the sum; the exact
divider is a restoring divider whose quotient bits (MSB first) are split into K groups, with
a stage register after each group but the last. The pipeline drains while the next vector
loads (it holds its own copy of the sum).

``params.streaming`` (TWO_PASS only) selects the full-throughput design of
:func:`_streaming` instead: logit, exp and output FIFOs between a load stage, a free-running
exp pipeline and a free-running normaliser pipeline, credit-based backpressure, one logit
in and one probability out per cycle (L cycles per vector), ``latency``
``L + stream_exp_stages + stages + 3``.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import stream, wiring
from amaranth.lib.wiring import In, Out

from hwsim.hdl.exp import cut_points, exp_datapath, table
from hwsim.hdl.mitchell import divider_datapath, log_fraction
from hwsim.hdl.pipeline import Pipeline
from hwsim.softmax import Normalizer, SoftmaxForm, SoftmaxParams

__all__ = ["Softmax", "SoftmaxNormalizer"]


class Softmax(wiring.Component):
    """Softmax over vectors of ``params.length`` logits, streamed in and out."""

    def __init__(self, params: SoftmaxParams):
        if not isinstance(params, SoftmaxParams):
            raise TypeError(f"Softmax needs SoftmaxParams, not {type(params).__name__}")
        self.params = params
        self.latency = params.latency
        super().__init__({
            "i_stream": In(stream.Signature(signed(params.in_fmt.width))),
            "o_stream": Out(stream.Signature(unsigned(params.out_fmt.width))),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        if p.streaming:
            _streaming(m, self.i_stream, self.o_stream, p)
            return m
        L = p.length
        ep = p.exp_params
        taylor = p.form is SoftmaxForm.TAYLOR
        online = p.form is SoftmaxForm.ONLINE
        win = p.in_fmt.width

        # The logits live in a shift register: loading shifts each one in at buf[0]; SUM and
        # OUT rotate it, so the element being processed is always at the head buf[L-1] (no
        # read multiplexer) and L rotations restore the order for the next pass.
        buf = [Signal(signed(win), name=f"x{i}") for i in range(L)]
        head = buf[L - 1]

        def shift_in(v):
            return [buf[0].eq(v)] + [buf[i].eq(buf[i - 1]) for i in range(1, L)]
        # at least one bit: a length-1 counter, range(1), would be a zero-width `wire [-1:0]`
        idx = Signal(range(max(L, 2)), name="idx")
        mx = Signal(signed(win), init=p.in_fmt.min_raw, name="run_max")
        s = Signal(p.sum_width, name="exp_sum")
        x_in = self.i_stream.payload
        x_buf = head

        # the one exp unit and its input mux
        ein = Signal(signed(ep.in_fmt.width), name="exp_in")
        e = exp_datapath(m, ein, ep, name="exp")
        one = int(_exp_at_zero(ep))
        new_max = Signal(name="new_max")
        m.d.comb += new_max.eq(x_in > mx)
        online_sum = Signal(p.sum_width + 1, name="online_sum")
        if online:
            m.d.comb += online_sum.eq(Mux(new_max, ((s * e) >> p.exp_frac_bits) + one, s + e))

        # Written as if/else over an explicit phase register rather than m.FSM, whose `casez`
        # without a default trips Verilator's CASEINCOMPLETE. Nothing is compared with 0
        # (Amaranth writes `x == 0` as `!x`, which trips WIDTHTRUNC). Combinational outputs are plain
        # expressions, outside any control block: Amaranth writes comb assignments inside
        # If blocks as `always @*` processes, which Icarus never evaluates while their inputs
        # keep their time-0 values (amaranth-lang/amaranth#1629), leaving `ready` at X.
        LOAD, SUM, OUT = 1, 2, 3
        phase = Signal(range(4), init=LOAD, name="phase")
        last = idx == L - 1
        stages = p.stages
        if stages:
            pipe_valid = [Signal(name=f"pipe_valid{i}") for i in range(stages)]
            advance = Signal(name="pipe_advance")
            m.d.comb += advance.eq(~pipe_valid[-1] | self.o_stream.ready)
        else:
            advance = self.o_stream.ready
        with m.If(phase == LOAD):
            with m.If(self.i_stream.valid):
                m.d.sync += shift_in(x_in)
                m.d.sync += idx.eq(Mux(last, 0, idx + 1))
                if taylor:
                    m.d.sync += s.eq(s + e)
                elif online:
                    top = (1 << p.sum_width) - 1
                    m.d.sync += s.eq(Mux(online_sum > top, top, online_sum))
                if not taylor:
                    m.d.sync += mx.eq(Mux(new_max, x_in, mx))
                with m.If(last):
                    m.d.sync += phase.eq(SUM if p.form is SoftmaxForm.TWO_PASS else OUT)
        if p.form is SoftmaxForm.TWO_PASS:
            with m.Elif(phase == SUM):
                m.d.sync += [s.eq(s + e), idx.eq(Mux(last, 0, idx + 1)), *shift_in(head)]
                with m.If(last):
                    m.d.sync += phase.eq(OUT)
        with m.Elif(phase == OUT):
            with m.If(advance):
                m.d.sync += [idx.eq(Mux(last, 0, idx + 1)), *shift_in(head)]
                with m.If(last):
                    m.d.sync += [s.eq(0), mx.eq(p.in_fmt.min_raw), phase.eq(LOAD)]
        loading, out = phase == LOAD, phase == OUT
        x_sel = x_buf if taylor else x_buf - mx  # SUM and OUT read the register file
        if taylor:
            load_in = x_in
        elif online:
            load_in = Mux(new_max, mx - x_in, x_in - mx)
        else:
            load_in = x_sel  # unused while loading
        if stages:
            e_r = Signal(e.shape(), name="pipe_e")
            s_r = Signal(p.sum_width, name="pipe_s")
            with m.If(advance):
                m.d.sync += [pipe_valid[0].eq(out), e_r.eq(e), s_r.eq(s)]
                m.d.sync += [pipe_valid[i].eq(pipe_valid[i - 1]) for i in range(1, stages)]
            if p.normalizer is Normalizer.EXACT_DIV:
                payload = _pipelined_exact_div(m, e_r, s_r, p, advance)
            else:
                payload = _normalize(m, e_r, s_r, p)
            valid = pipe_valid[-1]
        else:
            payload, valid = _normalize(m, e, s, p), out
        m.d.comb += [
            ein.eq(Mux(loading, load_in, x_sel)),
            self.i_stream.ready.eq(loading),
            self.o_stream.valid.eq(valid),
            self.o_stream.payload.eq(payload),
        ]
        return m


class SoftmaxNormalizer(wiring.Component):
    """The softmax's normaliser alone, for ``hwsim prove softmax`` (``hwsim.sim.formal``).

    Ports: ``e`` (an exp value, unsigned, the exp unit's output width), ``s`` (the sum,
    unsigned ``sum_width`` bits) and ``p`` (the probability, unsigned ``out_fmt``). It
    elaborates exactly what :class:`Softmax` places between the exp unit (or, with
    ``stages >= 1``, its stage-0 registers of the exp value and the sum) and ``o_stream``:
    ``_normalize`` for ``stages = 0`` and for the Mitchell and reciprocal normalisers,
    ``_pipelined_exact_div`` for the exact divider with ``stages >= 1``. The latter's
    ``stages - 1`` group registers then advance every cycle (``advance`` is 1: the stall,
    ``advance`` low, is the stream level, verified in simulation), so ``latency`` is
    ``stages - 1`` there and 0 everywhere else.
    """

    def __init__(self, params: SoftmaxParams):
        if not isinstance(params, SoftmaxParams):
            raise TypeError(f"SoftmaxNormalizer needs SoftmaxParams, not {type(params).__name__}")
        self.params = params
        self.pipelined = bool(params.stages) and params.normalizer is Normalizer.EXACT_DIV
        self.latency = params.stages - 1 if self.pipelined else 0
        super().__init__({
            "e": In(unsigned(params.exp_params.out_fmt.width)),
            "s": In(unsigned(params.sum_width)),
            "p": Out(unsigned(params.out_fmt.width)),
        })

    def elaborate(self, platform):
        m = Module()
        if self.pipelined:
            prob = _pipelined_exact_div(m, self.e, self.s, self.params, Const(1, 1))
        else:
            prob = _normalize(m, self.e, self.s, self.params)
        m.d.comb += self.p.eq(prob)
        return m


def _pipelined_exact_div(m: Module, e, s, p: SoftmaxParams, advance):
    """``min((e << F_out) // s, top)`` by restoring division, quotient bits MSB first in
    ``p.stages`` groups with a register (enabled by ``advance``) after each group but the
    last; ``e`` and ``s`` are stage 0's registers."""
    fo, top, sw, nb = p.out_fmt.frac_bits, p.out_fmt.max_raw, p.sum_width, p.quotient_bits
    num = Cat(Const(0, fo), e)                           # e << F_out, nb bits
    order = list(range(nb - 1, -1, -1))                  # dividend bits, MSB first
    k = p.stages
    groups = [order[i * nb // k:(i + 1) * nb // k] for i in range(k)]
    rem, qbits = None, []                                # quotient bits, MSB first
    for g, bits in enumerate(groups):
        for b in bits:
            # The remainder after j steps is below 2**j, so each step is only as wide as it
            # needs (until the divisor's width): the comparator then sees the divisor's
            # upper bits as "must be zero" and the early steps shrink. One Signal per step:
            # an expression would repeat the previous remainder three times, and 30-odd
            # steps of that is an exponentially large tree.
            shifted = num[b] if rem is None else Cat(num[b], rem)  # (rem << 1) | next bit
            r2 = Signal(len(shifted), name=f"div_shifted{b}")
            ge = Signal(name=f"div_q{b}")
            nxt = Signal(min(len(shifted), sw), name=f"div_r{b}")
            m.d.comb += [r2.eq(shifted), ge.eq(r2 >= s),
                         nxt.eq(Mux(ge, r2 - s, r2))]    # < min(s, 2**len(r2))
            rem = nxt
            qbits.append(ge)
        if g < k - 1:                                    # stage register g + 1
            regs = (Signal(len(rem), name=f"div_rem{g + 1}"), Signal(sw, name=f"div_den{g + 1}"),
                    Signal(nb, name=f"div_num{g + 1}"), Signal(len(qbits), name=f"div_qreg{g + 1}"))
            with m.If(advance):
                m.d.sync += [regs[0].eq(rem), regs[1].eq(s), regs[2].eq(num),
                             regs[3].eq(Cat(*reversed(qbits)))]
            rem, s, num = regs[:3]
            qbits = [regs[3][i] for i in reversed(range(len(qbits)))]
    q = Cat(*reversed(qbits))
    out = Signal(p.out_fmt.width, name="prob")
    m.d.comb += out.eq(Mux(q > top, top, q))
    return out


def _fifo(m: Module, shape, depth: int, w_en, w_data, r_en, name: str):
    """A first-in first-out queue of ``depth`` registers with the head in register 0:
    ``(head, head_valid, full)``. A read (``r_en``, only while ``head_valid``) shifts every
    entry down one place; a write (``w_en``, only while not ``full`` or reading) lands in
    the first free entry. One valid bit per entry (a thermometer code) instead of a fill
    counter: no index arithmetic, no indexed writes, every output a register."""
    data = [Signal(shape, name=f"{name}{i}", reset_less=True) for i in range(depth)]
    valid = [Signal(name=f"{name}{i}_valid") for i in range(depth)]
    for i in range(depth):
        above = valid[i + 1] if i + 1 < depth else Const(0, 1)
        below = valid[i - 1] if i else Const(1, 1)
        # on a read, entry i + 1 moves down and the entry that was last valid takes the
        # write (a plain expression outside the If: see the design notes in the docs)
        moved = w_data
        if i + 1 < depth:
            take = Signal(name=f"{name}{i}_take_write")
            m.d.comb += take.eq(w_en & valid[i] & ~above)
            moved = Mux(take, w_data, data[i + 1])
        with m.If(r_en):
            m.d.sync += [data[i].eq(moved), valid[i].eq(above | (w_en & valid[i]))]
        with m.Elif(w_en & ~valid[i] & below):
            m.d.sync += [data[i].eq(w_data), valid[i].eq(1)]
    return data[0], valid[0], valid[depth - 1]


def _streaming(m: Module, i_stream, o_stream, p: SoftmaxParams):
    """The full-throughput TWO_PASS softmax (``p.streaming``): three vectors in flight.

    * LOAD: each accepted logit enters the logit FIFO (L + 1 entries, ``i_stream.ready`` is
      its not-full) while the running max is updated; the vector's max M enters the max FIFO
      (2 entries) with its last logit.
    * SUM: while the max FIFO holds the M of the logit FIFO's head vector and the exp
      credit allows, one logit a cycle leaves, ``x - M`` is registered and goes through
      the exp unit (``exp_datapath`` over ``p.stream_exp_stages`` registers, free
      running); every exp value enters the exp FIFO and the running sum, and the vector's
      sum S enters the sum FIFO with its last exp value.
    * OUT: while the sum FIFO is not empty (its head vector has all L exp values in the exp
      FIFO) and the output credit allows, one exp value a cycle leaves with S into the
      normaliser (``p.stages`` registers, free running, as in the stall-all design) and
      its probability enters the output FIFO, whose head drives ``o_stream``.

    No pipeline register has an enable: a stage issues only when a credit guarantees room
    for its result (exp FIFO ``L + D + 2`` entries, output FIFO ``stages + 2``; exactly
    what one element a cycle needs in flight), so a stall at ``o_stream`` fills the
    output FIFO, then the exp FIFO, then the logit FIFO, and ``i_stream.ready`` drops.
    """
    L, ep, K, D = p.length, p.exp_params, p.stages, p.stream_exp_stages
    win, we, sw = p.in_fmt.width, ep.out_fmt.width, p.sum_width
    ce, co = L + D + 2, K + 2                 # credits: exp FIFO and output FIFO entries
    cs = 1 + (ce - 1) // L                    # sums whose vectors fit in the exp FIFO

    def counter(name):
        idx = Signal(range(max(L, 2)), name=name)
        last = idx == L - 1 if L > 1 else Const(1, 1)
        return idx, last, idx.eq(Mux(last, 0, idx + 1))

    def credit(name, limit, take, give):
        used = Signal(range(limit + 1), name=name)
        m.d.sync += used.eq(Mux(take & ~give, used + 1, Mux(give & ~take, used - 1, used)))
        return used < limit

    sum_go = Signal(name="sum_issue")         # a logit leaves for the exp unit
    out_go = Signal(name="out_issue")         # an exp value leaves for the normaliser
    pop = Signal(name="out_pop")              # o_stream transfer

    # LOAD
    x_in = i_stream.payload
    accept = Signal(name="load_accept")
    in_idx, in_last, in_next = counter("load_idx")
    mx = Signal(signed(win), init=p.in_fmt.min_raw, name="run_max")
    new_max = Signal(signed(win), name="new_max")
    m.d.comb += new_max.eq(Mux(x_in > mx, x_in, mx))
    with m.If(accept):
        m.d.sync += [in_next, mx.eq(Mux(in_last, p.in_fmt.min_raw, new_max))]
    sum_idx, sum_last, sum_next = counter("sum_idx")
    x_head, x_valid, x_full = _fifo(m, signed(win), L + 1, accept, x_in, sum_go, "logit_q")
    m_head, m_valid, _ = _fifo(m, signed(win), 2, accept & in_last, new_max,
                               sum_go & sum_last, "max_q")

    # SUM
    e_room = credit("exp_credits", ce, sum_go, out_go)
    with m.If(sum_go):
        m.d.sync += sum_next
    diff = Signal(signed(ep.in_fmt.width), name="exp_in", reset_less=True)
    diff_valid = Signal(name="exp_in_valid")
    m.d.sync += [diff.eq(x_head - m_head), diff_valid.eq(sum_go)]
    names, order = cut_points(ep)
    pipe = Pipeline(m, D, len(names), diff_valid, order)
    res, e_valid = pipe.output(e=exp_datapath(m, diff, ep, pipe, name="exp"))
    e = res["e"]
    col_idx, col_last, col_next = counter("sum_col_idx")
    s_acc = Signal(sw, name="exp_sum")
    s_total = Signal(sw, name="exp_sum_total")
    m.d.comb += s_total.eq(s_acc + e)
    with m.If(e_valid):
        m.d.sync += [col_next, s_acc.eq(Mux(col_last, 0, s_total))]
    out_idx, out_last, out_next = counter("out_idx")
    e_head, _, _ = _fifo(m, unsigned(we), ce, e_valid, e, out_go, "exp_q")
    s_head, s_valid, _ = _fifo(m, unsigned(sw), cs, e_valid & col_last, s_total,
                               out_go & out_last, "sum_q")

    # OUT
    o_room = credit("out_credits", co, out_go, pop)
    with m.If(out_go):
        m.d.sync += out_next
    if K:
        e_r = Signal(we, name="pipe_e", reset_less=True)
        s_r = Signal(sw, name="pipe_s", reset_less=True)
        pipe_valid = [Signal(name=f"pipe_valid{i}") for i in range(K)]
        m.d.sync += [e_r.eq(e_head), s_r.eq(s_head), pipe_valid[0].eq(out_go)]
        m.d.sync += [pipe_valid[i].eq(pipe_valid[i - 1]) for i in range(1, K)]
        if p.normalizer is Normalizer.EXACT_DIV:
            prob = _pipelined_exact_div(m, e_r, s_r, p, Const(1, 1))
        else:
            prob = _normalize(m, e_r, s_r, p)
        prob_valid = pipe_valid[-1]
    else:
        prob, prob_valid = _normalize(m, e_head, s_head, p), out_go
    o_head, o_valid, _ = _fifo(m, unsigned(p.out_fmt.width), co, prob_valid, prob, pop,
                               "out_q")
    m.d.comb += [
        accept.eq(i_stream.valid & ~x_full),
        i_stream.ready.eq(~x_full),
        sum_go.eq(x_valid & m_valid & e_room),
        out_go.eq(s_valid & o_room),
        pop.eq(o_valid & o_stream.ready),
        o_stream.valid.eq(o_valid),
        o_stream.payload.eq(o_head),
    ]


def _exp_at_zero(ep) -> int:
    import numpy as np
    from hwsim.exp import exp_fixed
    return int(exp_fixed(np.zeros(1, np.int64), ep)[0])


def _normalize(m: Module, e, s, p: SoftmaxParams):
    """``e / S`` per the normaliser, floor, saturated to ``out_fmt``."""
    fo, top = p.out_fmt.frac_bits, p.out_fmt.max_raw
    if p.normalizer is Normalizer.EXACT_DIV:
        q = (e << fo) // s
    elif p.normalizer is Normalizer.MITCHELL_DIV:
        num = Signal(p.div_params.width, name="div_num")  # the divider's N-bit operand
        m.d.comb += num.eq(e)
        q, _ = divider_datapath(m, num, s, p.div_params, prefix="div_")
    else:
        sw, rb, g = p.sum_width, p.recip_bits, p.recip_frac_bits
        k, f = log_fraction(m, s, None, "recip")
        r = table(p.recip_table())[f[sw - 1 - rb:]]
        shift = Signal(range(sw + g - fo + 1), name="recip_shift")
        m.d.comb += shift.eq(k + (g - fo))
        q = (e * r) >> shift
    out = Signal(p.out_fmt.width, name="prob")
    m.d.comb += out.eq(Mux(q > top, top, q))
    return out
