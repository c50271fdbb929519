"""Test vectors for two-operand units: exhaustive grids, corner cases and seeded samples."""

from __future__ import annotations

import numpy as np

#: the largest operand width for which ``vectors="exhaustive"`` is allowed (2**24 pairs)
MAX_EXHAUSTIVE_WIDTH = 12
#: exhaustive RTL verification is limited to this many input bits per vector, any unit
MAX_EXHAUSTIVE_INPUT_BITS = 2 * MAX_EXHAUSTIVE_WIDTH


def corner_values(width: int, signed: bool) -> np.ndarray:
    """Operand values hardware breaks on: 0, 1, max, powers of two and their neighbours,
    3 * 2**k (Mitchell's worst case), all-ones, and for signed widths -1 and -2**(N-1)."""
    vals = {0, 1, 2, 3, (1 << width) - 1}
    for k in range(width):
        vals |= {1 << k, (1 << k) - 1, (1 << k) + 1, 3 << k}
    if signed:
        lo, hi = -(1 << (width - 1)), 1 << (width - 1)
        vals |= {-v for v in vals} | {lo, lo + 1, hi - 1}
    else:
        lo, hi = 0, 1 << width
    return np.array(sorted(v for v in vals if lo <= v < hi), dtype=np.int64)


def operand_pairs(width: int, signed: bool, count: int | None, seed: int = 0):
    """Operand pairs ``(a, b)`` as int64 arrays.

    ``count=None`` gives every pair (row-major over ``a``); otherwise every pair of corner
    values followed by ``count`` seeded uniform random pairs.
    """
    lo, hi = (-(1 << (width - 1)), 1 << (width - 1)) if signed else (0, 1 << width)
    if count is None:
        if width > MAX_EXHAUSTIVE_WIDTH:
            raise ValueError(f"exhaustive vectors are limited to widths <= {MAX_EXHAUSTIVE_WIDTH} "
                             f"(2**{2 * MAX_EXHAUSTIVE_WIDTH} pairs), not {width}; give a count")
        a, b = np.meshgrid(np.arange(lo, hi), np.arange(lo, hi), indexing="ij")
        return a.ravel(), b.ravel()
    c = corner_values(width, signed)
    ca, cb = (x.ravel() for x in np.meshgrid(c, c, indexing="ij"))
    rng = np.random.default_rng(seed)
    ra = rng.integers(lo, hi, count, dtype=np.int64)
    rb = rng.integers(lo, hi, count, dtype=np.int64)
    return np.concatenate([ca, ra]), np.concatenate([cb, rb])
