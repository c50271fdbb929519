"""The exact integer multiplier as a unit: the baseline every approximate product is
measured against, and the product unit a model's layers get when they stay exact.

Bit semantics (``ExactMulParams(width=N, signed=False, stages=0)``): inputs ``a, b`` are raw
N-bit integers, unsigned ``[0, 2**N)`` or two's complement ``[-2**(N-1), 2**(N-1))``; the
output ``p = a * b`` exactly, 2N bits (unsigned, or two's complement when signed). The model
returns ``uint64`` for unsigned units (2N <= 64 bits) and ``int64`` for signed ones.

The RTL is :class:`hwsim.hdl.exact.ExactMultiplier` (Amaranth's ``*``), the same component
``hwsim synth`` puts beside every multiplier as its exact baseline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwsim._check import check_bool, check_int, operand_pair
from hwsim.params import MultiplierParams

__all__ = ["ExactMulParams", "exact_mul", "MAX_STAGES"]

MAX_STAGES = 8


@dataclass(frozen=True)
class ExactMulParams(MultiplierParams):
    """Exact multiplier parameters.

    Parameters
    ----------
    width:
        Operand width N, 2..32. The product has 2N bits.
    signed:
        Two's complement operands and product.
    stages:
        Output register stages (latency in cycles), 0..8; 0 is combinational.
    """

    width: int = 8
    signed: bool = False
    stages: int = 0

    stem = "exact_mul"

    def __post_init__(self):
        check_int("ExactMulParams", "width", self.width, 2, 32)
        check_bool("ExactMulParams", "signed", self.signed)
        check_int("ExactMulParams", "stages", self.stages, 0, MAX_STAGES)

    @property
    def top_name(self) -> str:
        name = f"exact_mul_{'s' if self.signed else 'u'}{self.width}"
        return f"{name}_p{self.stages}" if self.stages else name


def exact_mul(a, b, params: ExactMulParams) -> np.ndarray:
    """``a * b`` of raw operands (module docstring). ``a`` and ``b`` broadcast against each
    other. Raises ``TypeError`` for non-integer operands and ``ValueError`` for operands
    outside the width's range."""
    if not isinstance(params, ExactMulParams):
        raise TypeError(f"exact_mul: params must be an ExactMulParams, not {params!r}")
    lo, hi = params.in_range
    what = f"for {'signed ' if params.signed else ''}width {params.width}"
    a, b = operand_pair("exact_mul", a, b, lo, hi, what)
    if params.signed:
        return a * b      # |p| <= 2**62: fits int64
    return a.astype(np.uint64) * b.astype(np.uint64)


def exact_products(params: ExactMulParams, qa: np.ndarray, qb: np.ndarray) -> np.ndarray:
    """``qa @ qb`` (``(G, n, k) @ (G, k, m)``) of signed operands with exact products, the
    sums exact: in float64 when every partial sum is below 2**53 (BLAS), else in int64."""
    k = qa.shape[-1]
    if 2 * (params.width - 1) + max(k - 1, 1).bit_length() <= 53:
        return qa.astype(np.float64) @ qb.astype(np.float64)
    return np.matmul(qa, qb)
