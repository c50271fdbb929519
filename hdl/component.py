"""The port pattern every arithmetic unit shares.

A unit is an ``amaranth.lib.wiring.Component`` built from one Params object: its data ports
are fixed by the params, and with ``params.stages > 0`` it also has ``in_valid`` /
``out_valid``, ``out_valid`` following ``in_valid`` by ``latency = params.stages`` cycles
(:class:`hwsim.hdl.pipeline.Pipeline` places the registers).
"""

from __future__ import annotations

from typing import ClassVar

from amaranth.hdl import Module, Value
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


class PipelinedUnit(wiring.Component):
    """Base of the units: checks the params' type, adds the valid ports when pipelined.

    Subclasses set ``params_type`` and return their data ports from :meth:`ports`.
    """

    params_type: ClassVar[type]

    def __init__(self, params):
        self.check_params(params)
        self.params = params
        self.latency = params.stages
        members = self.ports(params)
        if params.stages:
            members = members | {"in_valid": In(1), "out_valid": Out(1)}
        super().__init__(members)

    @classmethod
    def ports(cls, params) -> dict:
        """The data ports (``name: In(w) | Out(w)``) of a unit built from ``params``."""
        raise NotImplementedError

    @classmethod
    def check_params(cls, params):
        """``TypeError`` unless ``params`` is a ``params_type``."""
        if not isinstance(params, cls.params_type):
            raise TypeError(f"{cls.__name__} needs {cls.params_type.__name__}, not {params!r}")

    @property
    def in_valid_or_none(self) -> Value | None:
        """``in_valid`` for :class:`~hwsim.hdl.pipeline.Pipeline` (``None`` when combinational)."""
        return self.in_valid if self.params.stages else None

    def drive_outputs(self, m: Module, out: dict[str, Value], out_valid: Value | None):
        """Drive each output port named in ``out``, and ``out_valid`` when pipelined."""
        m.d.comb += [getattr(self, name).eq(value) for name, value in out.items()]
        if self.params.stages:
            m.d.comb += self.out_valid.eq(out_valid)


def binary_ports(width: int, out: str, out_width: int, **extra) -> dict:
    """``a``, ``b``: In(width); ``out``: Out(out_width); plus ``extra`` members."""
    return {"a": In(width), "b": In(width), out: Out(out_width), **extra}


class UnsignedMultiplier(PipelinedUnit):
    """An unsigned N x N multiplier ``p ~ a * b`` (``params.width``, ``params.out_width``).

    Members
    -------
    a, b : In(N)
    p : Out(2N)
    in_valid : In(1), out_valid : Out(1)
        Only when ``params.stages > 0``; ``out_valid`` follows ``in_valid`` by ``latency``.

    Attributes
    ----------
    params : the subclass's ``params_type``
    latency : int
        Cycles from ``a``, ``b`` to ``p`` (``params.stages``).
    """

    @classmethod
    def ports(cls, params) -> dict:
        return binary_ports(params.width, "p", params.out_width)
