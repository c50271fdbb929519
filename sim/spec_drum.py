"""Formal specification of the DRUM multiplier (``hwsim.drum``).

**DRUM** (:func:`drum_mul`): written from the integer semantics in ``hwsim/drum.py``'s
docstring and ``docs/units/drum.md`` ("Bit semantics"), without calling the model
(``hwsim.drum``) or the HDL (``hwsim.hdl.drum``, which never computes ``t`` or ``s``: it
normalises with a clamped shifter and shifts the product right by ``c_a + c_b``). Here each
operand follows the two documented cases literally: ``x < 2**k``: ``seg = x``, ``s = 0``;
else ``t`` = the highest set bit (the same priority chain as Mitchell's), ``s = t - k + 1``,
``seg = (x >> s) | 1``; then ``p = (seg_a * seg_b) << (s_a + s_b)``, the product on 2k bits
and the left shift on 2N bits (the documented widths: nothing is lost).

:func:`drum_bounds` is DRUM's documented error bound (see its docstring).
"""

from __future__ import annotations

from hwsim.sim.spec_common import leading_one

__all__ = ["drum_bounds", "drum_mul"]


def _drum_operand(z3, x, n: int, k: int, w: int):
    """Steps 1-2 for the n-bit operand ``x``: ``(seg, s)``, seg k bits, s ``w`` bits."""
    xw = z3.ZeroExt(w - n, x)
    large = z3.UGE(xw, z3.BitVecVal(1 << k, w))  # step 2: x >= 2**k (never when k = N)
    t = leading_one(z3, x, n, w)
    s = z3.If(large, t - z3.BitVecVal(k - 1, w), z3.BitVecVal(0, w))  # t - k + 1, else 0
    seg = z3.If(large, z3.LShR(xw, s) | z3.BitVecVal(1, w), xw)
    return z3.Extract(k - 1, 0, seg), s  # seg < 2**k in both cases (documented)


def drum_mul(z3, params, inputs: dict) -> dict:
    """``{"p": ...}`` for ``DrumMulParams``: ``p = (seg_a * seg_b) << (s_a + s_b)``, 2N bits."""
    n, k = params.width, params.k
    w = 2 * n
    seg_a, s_a = _drum_operand(z3, inputs["a"], n, k, w)
    seg_b, s_b = _drum_operand(z3, inputs["b"], n, k, w)
    prod = z3.ZeroExt(k, seg_a) * z3.ZeroExt(k, seg_b)  # < 2**(2k): exact on 2k bits
    p = z3.ZeroExt(w - 2 * k, prod) << (s_a + s_b)  # s_a + s_b <= 2(N - k): p < 2**(2N)
    return {"p": p}


def drum_bounds(z3, params, inputs: dict, outputs: dict):
    """DRUM's documented error bound as one formula: with ``h = 2**(k-1)``,
    ``p h**2 <= a b (h + 1)**2`` and, for ``a b != 0``, ``p (h + 1)**2 > a b h**2``
    (``p / (a b)`` in ``((h / (h + 1))**2, (1 + 1/h)**2]``, docs/units/drum.md)."""
    n, k, a, b, p = params.width, params.k, inputs["a"], inputs["b"], outputs["p"]
    w = 2 * n + 2 * k + 2
    h2, h1 = 1 << (2 * k - 2), ((1 << (k - 1)) + 1) ** 2
    ab = z3.ZeroExt(w - n, a) * z3.ZeroExt(w - n, b)
    p = z3.ZeroExt(w - 2 * n, p)
    upper = z3.ULE(p * h2, ab * h1)
    lower = z3.Implies(ab != 0, z3.UGT(p * h1, ab * h2))
    return z3.And(upper, lower)
