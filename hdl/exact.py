"""Exact baselines for cost comparisons, built from Amaranth's own operators.

Each takes the approximate unit's Params and has the same ports, so ``hwsim synth`` can put
both through the same flow at the same widths:

* :class:`ExactMultiplier`: ``p = a * b`` (signed when ``params.signed``);
* :class:`ExactDivider`: ``q = (a << F) // b``, saturated to all ones for ``b == 0`` (the
  Mitchell divider's convention), ``div_by_zero``.

Both honour ``params.stages`` with output registers only (Amaranth's ``*`` and ``//`` are
single combinational operators), so their Fmax with stages > 0 is not a balanced pipeline.
"""

from __future__ import annotations

from amaranth.hdl import Module, Mux, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from hwsim.hdl.pipeline import Pipeline
from hwsim.mitchell import MitchellDivParams, MitchellMulParams

__all__ = ["ExactMultiplier", "ExactDivider"]


class _Exact(wiring.Component):
    def __init__(self, params, members):
        self.params = params
        self.latency = params.stages
        if params.stages:
            members |= {"in_valid": In(1), "out_valid": Out(1)}
        super().__init__(members)

    def _finish(self, m, **values):
        pipe = Pipeline(m, self.params.stages, 0, self.in_valid if self.params.stages else None)
        out, valid = pipe.output(**values)
        for name, value in out.items():
            m.d.comb += getattr(self, name).eq(value)
        if self.params.stages:
            m.d.comb += self.out_valid.eq(valid)
        return m


class ExactMultiplier(_Exact):
    def __init__(self, params: MitchellMulParams):
        shape = signed if params.signed else unsigned
        super().__init__(params, {"a": In(shape(params.width)), "b": In(shape(params.width)),
                                  "p": Out(shape(params.out_width))})

    def elaborate(self, platform):
        m = Module()
        return self._finish(m, p=self.a * self.b)


class ExactDivider(_Exact):
    def __init__(self, params: MitchellDivParams):
        super().__init__(params, {"a": In(params.width), "b": In(params.width),
                                  "q": Out(params.out_width), "div_by_zero": Out(1)})

    def elaborate(self, platform):
        m = Module()
        p = self.params
        zero = ~self.b.any()
        q = Mux(zero, (1 << p.out_width) - 1, (self.a << p.frac_bits) // self.b)
        return self._finish(m, q=q, div_by_zero=zero)
