"""What the units' formal specifications share: the leading one, Mitchell's logarithm, shifts
and magnitudes on z3 bit vectors, table muxes, and :class:`SubBlock` (a unit proven by parts).

Each function takes z3 bit vectors of the input ports' widths (raw two's complement
patterns for signed ports) and returns ``{output port: z3 bit vector}`` of the output
ports' widths. ``z3`` is imported by the caller (:mod:`hwsim.sim.formal`) and passed in,
so importing this module needs nothing.

Each unit's specification lives in ``sim/spec_<unit module>.py`` beside its model
(``hwsim/<unit module>.py``); the registry's ``Formal`` trait names it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["SubBlock", "leading_one", "log_fields", "magnitude", "mux", "scale"]


def leading_one(z3, x, n: int, width: int):
    """Position of the highest set bit of the n-bit ``x`` as a ``width``-bit value (0 for 0)."""
    k = z3.BitVecVal(0, width)
    for i in range(n):
        k = z3.If(z3.Extract(i, i, x) == 1, z3.BitVecVal(i, width), k)
    return k


def log_fields(z3, x, n: int, keep_bits, width: int):
    """Steps 2-3: ``(k, f)`` of the n-bit magnitude ``x``, both ``width`` bits wide."""
    xw = z3.ZeroExt(width - n, x)
    k = leading_one(z3, x, n, width)
    one = z3.BitVecVal(1, width)
    f = (xw - (one << k)) << (z3.BitVecVal(n - 1, width) - k)
    if keep_bits is not None:
        drop = n - 1 - keep_bits
        f = f & z3.BitVecVal(((1 << (n - 1)) - 1) ^ ((1 << drop) - 1), width)
    return k, f


def scale(z3, m, t, width: int):
    """``floor(m * 2**t)`` for a signed shift ``t``, all ``width`` bits (nothing overflows)."""
    return z3.If(t >= 0, m << t, z3.LShR(m, -t))


def magnitude(z3, x, n: int):
    """|x| of an n-bit two's complement pattern as n unsigned bits (|-2**(N-1)| fits)."""
    wide = z3.SignExt(1, x)
    return z3.Extract(n - 1, 0, z3.If(wide < 0, -wide, wide))


def mux(z3, idx, bits: int, values: list[int], width: int):
    """``values[idx]`` for a ``bits``-bit index vector: a mux tree, LSB first."""
    level = [z3.BitVecVal(v, width) for v in values]
    for b in range(bits):
        sel = z3.Extract(b, b, idx) == 1
        level = [z3.If(sel, level[2 * i + 1], level[2 * i]) for i in range(len(level) // 2)]
    return level[0]


@dataclass(frozen=True)
class SubBlock:
    """One proven sub-block of a unit: ``component`` (``"module:Class"``, imported only when
    a proof runs) built from ``params`` exports as module ``top`` and equals ``spec`` for all
    inputs satisfying ``precondition`` (``(z3, params, inputs) -> formula or None``; None:
    every input), which ``assuming`` names in the proof's message."""

    label: str
    component: str
    params: object
    top: str
    spec: Callable
    precondition: Callable | None = None
    assuming: str | None = None
