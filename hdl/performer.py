"""Performer feature-map unit in Amaranth 0.5, bit for bit ``hwsim.performer.phi_fixed``.

``i_stream`` carries the d elements of a vector x (signed ``in_fmt``); ``o_stream`` returns
its m features (unsigned, the exp unit's output format) in order. omega is a constant ROM
(``amaranth.lib.memory.Memory`` with its init, m x d, row-major). While x streams in, |x|^2
accumulates; then for each feature, d multiply-accumulate cycles form ``omega_i . x`` (x in
a rotating register file), and the exponent ``u - |x|^2/2 - ln(m)/2`` goes through the
embedded exp datapath (``hwsim.hdl.exp.exp_datapath``) to the output.
"""

from __future__ import annotations

import math

from amaranth.hdl import Module, Mux, Signal, signed, unsigned
from amaranth.lib import memory, stream, wiring
from amaranth.lib.wiring import In, Out

from hwsim.hdl.exp import exp_datapath
from hwsim.performer import PerformerParams

__all__ = ["PerformerFeatures"]


class PerformerFeatures(wiring.Component):
    def __init__(self, params: PerformerParams):
        if not isinstance(params, PerformerParams):
            raise TypeError(f"PerformerFeatures needs PerformerParams, not {type(params).__name__}")
        self.params = params
        self.latency = params.latency
        super().__init__({
            "i_stream": In(stream.Signature(signed(params.in_fmt.width))),
            "o_stream": Out(stream.Signature(unsigned(params.exp_params.out_fmt.width))),
        })

    def elaborate(self, platform):
        m = Module()
        p = self.params
        d, nf = p.dim, p.features
        ep = p.exp_params
        fx, fw = p.in_fmt.frac_bits, p.omega_fmt.frac_bits
        rom = p.omega_raw().reshape(-1).tolist()
        # Counters and the ROM address get at least one bit (depth and ranges >= 2): a 1 x 1
        # Omega would otherwise give zero-width signals, written `wire [-1:0]`. The padding
        # word of a 1-word ROM is only addressed in OUT, where the ROM output is unused.
        depth = max(nf * d, 2)
        m.submodules.omega = mem = memory.Memory(shape=signed(p.omega_fmt.width), depth=depth,
                                                 init=rom + [0] * (depth - len(rom)))
        rd = mem.read_port(domain="comb")

        x = [Signal(signed(p.in_fmt.width), name=f"x{i}") for i in range(d)]  # head x[d-1]
        sq = Signal(unsigned(2 * p.in_fmt.width + max(1, (d - 1).bit_length()) + 1), name="sq")
        u = Signal(signed(p.u_width), name="u")
        addr = Signal(range(depth), name="addr")
        j = Signal(range(max(d, 2)), name="j")
        feat = Signal(range(max(nf, 2)), name="feature")
        last_j, last_f = j == d - 1, feat == nf - 1

        def rotate(v):
            return [x[0].eq(v)] + [x[i].eq(x[i - 1]) for i in range(1, d)]

        # exponent: u - (|x|^2 << (fw - fx)) / 2 - floor(ln(m)/2 * 2**(fx+fw)), floored into
        # the exp unit's input format and clamped to its range
        ln_m = math.floor(math.log(nf) / 2 * 2 ** (fx + fw))
        half_sq = (sq << (fw - fx)) >> 1
        e = u - half_sq - ln_m
        shift = fx + fw - ep.in_fmt.frac_bits
        e = e >> shift if shift >= 0 else e << -shift
        e_in = Signal(signed(ep.in_fmt.width), name="exponent")
        m.d.comb += e_in.eq(Mux(e > ep.in_fmt.max_raw, ep.in_fmt.max_raw,
                                Mux(e < ep.in_fmt.min_raw, ep.in_fmt.min_raw, e)))
        feature = exp_datapath(m, e_in, ep, name="exp")

        LOAD, MAC, OUT = 1, 2, 3  # nothing is 0 (see hwsim.hdl.softmax)
        phase = Signal(range(4), init=LOAD, name="phase")
        m.d.comb += rd.addr.eq(addr)
        xin = self.i_stream.payload
        with m.If(phase == LOAD):
            with m.If(self.i_stream.valid):
                m.d.sync += [*rotate(xin), sq.eq(sq + xin * xin), j.eq(Mux(last_j, 0, j + 1))]
                with m.If(last_j):
                    m.d.sync += [phase.eq(MAC), u.eq(0), addr.eq(0)]
        with m.Elif(phase == MAC):  # omega[feat, j] * x_j; x rotates back to its order
            m.d.sync += [u.eq(u + rd.data * x[d - 1]), *rotate(x[d - 1]),
                         j.eq(Mux(last_j, 0, j + 1)), addr.eq(addr + 1)]
            with m.If(last_j):
                m.d.sync += phase.eq(OUT)
        with m.Elif(phase == OUT):
            with m.If(self.o_stream.ready):
                m.d.sync += [u.eq(0), feat.eq(Mux(last_f, 0, feat + 1))]
                with m.If(last_f):
                    m.d.sync += [phase.eq(LOAD), sq.eq(0), addr.eq(0)]
                with m.Else():
                    m.d.sync += phase.eq(MAC)
        m.d.comb += [self.i_stream.ready.eq(phase == LOAD),
                     self.o_stream.valid.eq(phase == OUT),
                     self.o_stream.payload.eq(feature)]
        return m
