"""Pipeline register placement shared by the arithmetic units.

A datapath is written as a sequence of combinational steps separated by *cut points*.
:class:`Pipeline` decides where the unit's ``stages`` registers go: the first
``stages - 1`` internal cut points get one register each (in datapath order) and the
output gets the rest, so ``stages = 1`` registers the output, ``stages = 2`` adds a
register after the first step, and so on. A unit with many cut points may instead give
an ``order``: the cut points that receive the internal registers, most useful first (so
``stages = 2`` registers ``order[0]``, ``stages = 3`` ``order[0]`` and ``order[1]``, ...).
``in_valid`` travels through exactly as many registers as the data, so ``out_valid`` marks
the cycle the result belongs to.

Data registers carry no reset (they are don't-care until ``out_valid``); the valid
chain resets to 0.
"""

from __future__ import annotations

from collections.abc import Sequence

from amaranth.hdl import Module, Signal, Value


class Pipeline:
    """Register placement for a datapath with ``n_cuts`` internal cut points.

    Parameters
    ----------
    m:
        The module being elaborated.
    stages:
        Total register stages (latency in cycles); 0 builds a combinational unit.
    n_cuts:
        Number of internal cut points the datapath offers (calls to :meth:`cut`).
    in_valid:
        The unit's ``in_valid`` input (``None`` when ``stages == 0``).
    order:
        The cut points (indices in datapath order) in the order they receive the internal
        registers; a permutation of ``range(n_cuts)``. Default: datapath order.
    """

    def __init__(self, m: Module, stages: int, n_cuts: int, in_valid: Value | None = None,
                 order: Sequence[int] | None = None):
        self._m = m
        internal = min(max(stages - 1, 0), n_cuts)
        order = list(range(n_cuts)) if order is None else list(order)
        if sorted(order) != list(range(n_cuts)):
            raise ValueError(f"Pipeline order must be a permutation of range({n_cuts}), "
                             f"not {order}")
        chosen = set(order[:internal])
        self._plan = [int(i in chosen) for i in range(n_cuts)]
        self._out_regs = stages - internal
        self._valid = in_valid
        self._next_cut = 0

    @property
    def next_registered(self) -> bool:
        """Whether the next :meth:`cut` is a register (a datapath may restructure for it)."""
        return bool(self._plan[self._next_cut])

    def cut(self, name: str, **values: Value) -> dict[str, Value]:
        """Pass ``values`` through the next internal cut point (a register or a wire)."""
        regs = self._plan[self._next_cut]
        self._next_cut += 1
        return self._delay(name, values, regs)

    def output(self, **values: Value) -> tuple[dict[str, Value], Value | None]:
        """Pass the results through the output registers; returns them and ``out_valid``."""
        if self._next_cut != len(self._plan):
            raise RuntimeError(f"datapath used {self._next_cut} of {len(self._plan)} cut points")
        return self._delay("out", values, self._out_regs), self._valid

    def _delay(self, stage: str, values: dict[str, Value], regs: int) -> dict[str, Value]:
        for i in range(regs):
            delayed = {}
            for name, value in values.items():
                reg = Signal(value.shape(), name=f"{stage}{i}_{name}", reset_less=True)
                self._m.d.sync += reg.eq(value)
                delayed[name] = reg
            values = delayed
            if self._valid is not None:
                valid = Signal(name=f"{stage}{i}_valid")
                self._m.d.sync += valid.eq(self._valid)
                self._valid = valid
        return values
