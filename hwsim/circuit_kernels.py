"""Compiled (numba) products of a circuit's product table: the fast paths of
:func:`hwsim.circuit_mul.circuit_mul` (:func:`table_pairs`: range check and look-up in one
pass) and of :func:`hwsim.circuit_mul.circuit_products` (the circuit-mul unit in a model
graph, :func:`table_matmul`).

``table[x, y]`` is the circuit's product of operand patterns ``x``, ``y`` (2N <= 16 bits).
In a model graph the operands are raw signed values; :func:`table_matmul` reads a table over
their range, ``st[x - lo, y - lo]`` = the product of graph operands ``x``, ``y`` (a signed
circuit's, or ``sgn(x) sgn(y) table[|x|, |y|]`` for an unsigned one), built once per circuit
by :mod:`hwsim.circuit_mul`.
"""

from __future__ import annotations

import numba
import numpy as np

#: rows of ``qa`` and columns of ``qb`` per task of :func:`table_matmul`: each row of ``qb``
#: read serves _ROWS table rows; _ROWS x _COLS int64 sums stay in L1
_ROWS = 4
_COLS = 512


@numba.njit(parallel=True, cache=True)
def _table_matmul(st, lo, qa, qbi, out):
    G, n, k = qa.shape
    m = qbi.shape[2]
    blocks = (n + _ROWS - 1) // _ROWS
    for task in numba.prange(G * blocks):
        g = task // blocks
        i0 = (task % blocks) * _ROWS
        rows = min(_ROWS, n - i0)
        gb = g if qbi.shape[0] > 1 else 0
        acc = np.zeros((_ROWS, _COLS), np.int64)
        for j0 in range(0, m, _COLS):
            cols = min(_COLS, m - j0)
            acc[:, :] = 0
            for kk in range(k):
                y = qbi[gb, kk, j0:j0 + cols]
                for r in range(rows):
                    row = st[qa[g, i0 + r, kk] - lo]   # one table row, 2**(N+1) entries
                    ar = acc[r]
                    for j in range(cols):
                        ar[j] += row[y[j]]
            for r in range(rows):
                for j in range(cols):
                    out[g, i0 + r, j0 + j] = acc[r, j]


def table_matmul(st: np.ndarray, lo: int, qa: np.ndarray, qb: np.ndarray) -> np.ndarray:
    """``(G, n, m)`` int64 sums over k of ``st[qa - lo, qb - lo]`` (module docstring) for
    ``qa`` ``(G, n, k)`` and ``qb`` ``(G, k, m)`` whose values lie in the table's range (the
    caller checks). A ``qb`` broadcast along G (one weight matrix for every stack) is read
    once, not copied G times."""
    qa = np.ascontiguousarray(qa, dtype=np.int64)
    if qb.shape[0] > 1 and qb.strides[0] == 0:
        qb = qb[:1]
    qbi = np.ascontiguousarray(qb - lo, dtype=np.int32)   # table columns
    out = np.empty((qa.shape[0], qa.shape[1], qbi.shape[2]), dtype=np.int64)
    _table_matmul(np.ascontiguousarray(st, dtype=np.int32), lo, qa, qbi, out)
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
