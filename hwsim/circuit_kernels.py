"""Compiled (numba) products of a circuit's product table: the fast paths of
:func:`hwsim.circuit_mul.circuit_mul` (:func:`table_pairs`: range check and look-up in one
pass) and of :func:`hwsim.circuit_mul.circuit_products` (the circuit-mul unit in a model
graph, :func:`table_matmul`).

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


#: operations per task of the parallel look-up; below _PARALLEL_FROM one thread
_CHUNK = 1 << 16
_PARALLEL_FROM = 1 << 18


@numba.njit(inline="always")
def _lookup_span(table, a, b, width, lo, hi, out, i0, i1):
    mask = (1 << width) - 1
    bad = False
    for i in range(i0, i1):
        x = a[i]
        y = b[i]
        bad |= (x < lo) | (x > hi) | (y < lo) | (y > hi)
        out[i] = table[((x & mask) << width) | (y & mask)]   # masked: in the table always
    return bad


@numba.njit(cache=True)
def _lookup(table, a, b, width, lo, hi, out):
    return _lookup_span(table, a, b, width, lo, hi, out, 0, a.size)


@numba.njit(parallel=True, cache=True)
def _lookup_parallel(table, a, b, width, lo, hi, out):
    n = a.size
    chunks = (n + _CHUNK - 1) // _CHUNK
    bad = np.zeros(chunks, dtype=np.bool_)
    for c in numba.prange(chunks):
        bad[c] = _lookup_span(table, a, b, width, lo, hi, out, c * _CHUNK,
                              min(n, (c + 1) * _CHUNK))
    return bad.any()


def table_pairs(table: np.ndarray, a: np.ndarray, b: np.ndarray, width: int, lo: int,
                hi: int) -> np.ndarray | None:
    """``table[a, b]`` (``table`` ``(2**width, 2**width)`` indexed by operand patterns) for
    1-D int64 ``a``, ``b`` of one length whose values lie in ``[lo, hi)``, or None when one
    does not (the caller says which)."""
    flat = table.reshape(-1)
    a, b = np.ascontiguousarray(a), np.ascontiguousarray(b)
    out = np.empty(a.size, dtype=table.dtype)
    run = _lookup_parallel if a.size >= _PARALLEL_FROM else _lookup
    return None if run(flat, a, b, width, lo, hi - 1, out) else out
