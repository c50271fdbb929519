"""The plug-in ``trunc-mul`` unit's Amaranth component (tests/plugin/trunc_mul.py)."""

from amaranth.hdl import Const, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


class TruncMultiplier(wiring.Component):
    def __init__(self, params):
        self.params = params
        self.latency = 0
        super().__init__({"a": In(params.width), "b": In(params.width),
                          "p": Out(params.out_width)})

    def elaborate(self, platform):
        m = Module()
        p = self.params
        mask = Const((1 << p.width) - (1 << p.t), p.width)
        m.d.comb += self.p.eq((self.a & mask) * (self.b & mask))
        return m
