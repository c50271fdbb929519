"""The ``circuit-mul`` unit's component: a wrapper with hwsim's multiplier ports (``a``, ``b``
-> ``p``) around an instance of the user's own module. The module itself is the user's Verilog
text, which every export writes before the wrapper (the registry's ``sources`` trait); this
component adds no logic, only the port names hwsim's benches, synthesis and proofs expect."""

from __future__ import annotations

from amaranth.hdl import Instance, Module, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwsim.circuit_mul import CircuitMulParams

__all__ = ["CircuitMultiplier"]


class CircuitMultiplier(wiring.Component):
    def __init__(self, params: CircuitMulParams):
        self.params = params
        self.latency = 0
        shape = signed if params.signed else unsigned
        super().__init__({"a": In(shape(params.width)), "b": In(shape(params.width)),
                          "p": Out(shape(params.out_width))})

    def elaborate(self, platform):
        m = Module()
        pa, pb, pp = self.params.port_names
        m.submodules.circuit = Instance(self.params.module,
                                        **{f"i_{pa}": self.a, f"i_{pb}": self.b,
                                           f"o_{pp}": self.p})
        return m
