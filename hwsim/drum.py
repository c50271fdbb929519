"""DRUM multiplier (Dynamic Range Unbiased Multiplier): a bit-accurate numpy model.

Hashemi, Bahar and Reda, "DRUM: A Dynamic Range Unbiased Multiplier for Approximate
Applications", ICCAD 2015. Each operand keeps only its ``k`` most significant bits starting
at its leading one, with the lowest kept bit forced to 1 (which centres the truncation error
around zero: the "unbiasing"); a small ``k x k`` exact multiplier multiplies the two
segments and a shifter puts the product back in place.

The integer semantics below are the specification the HDL (``hwsim.hdl.drum``) meets bit for
bit; ``docs/units/drum.md`` has a worked example and the error bound.

Unsigned only. Width N (``DrumMulParams.width``), segment bits ``k``; inputs ``a, b`` in
``[0, 2**N)``, output ``p`` in ``[0, 2**(2N))``. For each operand ``x``:

1. ``x < 2**k`` (this includes ``x = 0``): ``seg = x``, ``s = 0`` (exact, nothing dropped).
2. ``x >= 2**k``: ``t`` = leading-one position (``k..N-1``), ``s = t - k + 1`` (``1..N-k``);
   ``seg = (x >> s) | 1``: the k bits ``x[t : t-k+1]`` (the leading one and the k-1 bits
   below it), the ``s`` bits below them dropped (truncation), then the lowest kept bit
   forced to 1. ``seg`` is a k-bit value in ``[2**(k-1) + 1, 2**k)``.

Then ``p = (seg_a * seg_b) << (s_a + s_b)``. A zero operand gives ``p = 0``; the product is
exact when both operands are below ``2**k`` (and for every input when ``k = N``).

Widths: ``seg_a * seg_b < 2**(2k)`` and ``s_a + s_b <= 2(N - k)``, so ``p < 2**(2N)``; the
largest intermediate is ``p`` itself, 2N <= 48 bits for N <= 24, exact in int64.

Error bound: for ``x >= 2**k`` write ``x = q * 2**s + r`` with ``q = x >> s`` (k bits, top bit
set) and ``0 <= r < 2**s``. ``q`` odd: ``seg * 2**s - x = -r``; ``q`` even: ``= 2**s - r``.
So ``-(2**s - 1) <= seg * 2**s - x <= 2**s <= x / 2**(k-1)`` (``x >= 2**(s+k-1)``). With
``u = 2**-(k-1)`` each operand's relative error lies in ``(-1/(2**(k-1) + 1), u]``, the upper
end reached at powers of two, and the product's relative error
``(1 + e_a)(1 + e_b) - 1`` lies in ``((2**(k-1) / (2**(k-1) + 1))**2 - 1, 2u + u**2]``:
``|p - a*b| <= (2**-(k-2) + 2**-(2k-2)) * a*b``, reached when both operands are powers of
two ``>= 2**k``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwsim._check import check_int, int_operand, operand_pair
from hwsim.params import UnsignedMulParams

__all__ = ["DrumMulParams", "drum_mul", "drum_segment", "MIN_WIDTH", "MAX_WIDTH"]

MIN_WIDTH = 4
#: the product has 2N bits: 48 at N = 24 keeps it and every intermediate exact in int64
MAX_WIDTH = 24
MAX_STAGES = 8


@dataclass(frozen=True)
class DrumMulParams(UnsignedMulParams):
    """DRUM multiplier parameters (unsigned operands only).

    Parameters
    ----------
    width:
        Operand width N, 4..24. The product has 2N bits.
    k:
        Segment bits kept from each operand, 2..N: the leading one and the k-1 bits below
        it, the lowest of them forced to 1. Operands below 2**k are used exactly; k = N
        gives an exact multiplier.
    stages:
        Pipeline register stages (latency in cycles), 0..8; 0 is combinational.
    """

    width: int = 8
    k: int = 6
    stages: int = 0

    stem = "drum_mul"

    def __post_init__(self):
        check_int("DrumMulParams", "width", self.width, MIN_WIDTH, MAX_WIDTH)
        check_int("DrumMulParams", "k", self.k, 2, self.width)
        check_int("DrumMulParams", "stages", self.stages, 0, MAX_STAGES)

    def _name_parts(self) -> tuple[str, ...]:
        return (f"k{self.k}",)


def drum_segment(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Steps 1-2 for non-negative int64 operands below 2**53: ``(seg, s)``, both int64."""
    k = check_int("drum_segment", "k", k, 1, 53)
    x = int_operand("drum_segment", "x", x, 0, 1 << 53, "(below 2**53)")
    _, e = np.frexp(x.astype(np.float64))  # exact for x < 2**53; e = t + 1 (0 for x = 0)
    s = np.maximum(e.astype(np.int64) - k, 0)  # t - k + 1 for x >= 2**k, else 0
    seg = (x >> s) | (s > 0).astype(np.int64)
    return seg, s


def drum_mul(a, b, params: DrumMulParams) -> np.ndarray:
    """DRUM product of unsigned raw operands (see the module docstring for the contract).

    ``a`` and ``b`` broadcast against each other. Returns ``int64`` (2N <= 48 bits). Raises
    ``TypeError`` for non-integer operands and ``ValueError`` for operands outside
    ``[0, 2**N)``, ragged sequences or shapes that do not broadcast.
    """
    if not isinstance(params, DrumMulParams):
        raise TypeError(f"drum_mul: params must be a DrumMulParams, not {params!r}")
    what = f"for width {params.width}"
    a, b = operand_pair("drum_mul", a, b, 0, 1 << params.width, what)
    seg_a, s_a = drum_segment(a, params.k)
    seg_b, s_b = drum_segment(b, params.k)
    return (seg_a * seg_b) << (s_a + s_b)
