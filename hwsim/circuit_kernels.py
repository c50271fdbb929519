"""Compiled (numba) products of a circuit's product table: the fast path of
:func:`hwsim.circuit_mul.circuit_products` (the circuit-mul unit in a model graph).

``table[x, y]`` is the circuit's product of operand patterns ``x``, ``y`` (2N <= 16 bits);
``qa`` ``(G, n, k)`` and ``qb`` ``(G, k, m)`` hold raw signed operands. Each output is the
exact int64 sum over k of ``table[a & mask, b & mask]`` (a signed circuit) or of
``sgn(a) sgn(b) table[|a|, |b|]`` (an unsigned circuit in sign-magnitude form).
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(parallel=True, cache=True)
def _table_matmul(table, qa, qbt, mask, sign_magnitude, out):
    G, n, k = qa.shape
    m = qbt.shape[1]
    for gi in numba.prange(G * n):
        g, i = gi // n, gi % n
        for j in range(m):
            acc = 0
            for kk in range(k):
                x, y = qa[g, i, kk], qbt[g, j, kk]
                if sign_magnitude:
                    p = table[abs(x), abs(y)]
                    acc += -p if (x < 0) != (y < 0) else p
                else:
                    acc += table[x & mask, y & mask]
            out[g, i, j] = acc


def table_matmul(table: np.ndarray, qa: np.ndarray, qb: np.ndarray, width: int,
                 sign_magnitude: bool) -> np.ndarray:
    """``(G, n, m)`` int64 sums (module docstring)."""
    qa = np.ascontiguousarray(qa, dtype=np.int64)
    qbt = np.ascontiguousarray(np.swapaxes(qb, 1, 2), dtype=np.int64)
    out = np.empty((qa.shape[0], qa.shape[1], qbt.shape[1]), dtype=np.int64)
    _table_matmul(np.ascontiguousarray(table, dtype=np.int64), qa, qbt, (1 << width) - 1,
                  sign_magnitude, out)
    return out
