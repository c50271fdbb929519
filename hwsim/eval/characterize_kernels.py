"""Compiled (numba) kernels for exhaustive characterisation of the Mitchell units.

Exhaustive 16x16 characterisation is 2**32 pairs; the numpy model needs ~100 ns a pair
there (``benchmarks/``), so these fused loops compute the same integer semantics and the
metric sums pair by pair without temporaries. The per-operand log tables (``k``, ``f``)
come from the numpy model's own :func:`hwsim.mitchell.log_fraction`, and
``tests/test_metrics.py`` checks every kernel against the numpy model + metrics exactly.
Each unit names its kernel in its registry entry (``UnitSpec.exhaustive_kernel``).
"""

from __future__ import annotations

import numba
import numpy as np

from hwsim import metrics as M
from hwsim.mitchell import log_fraction

_BINS = M.HIST_BINS
_LO, _HI = M.HIST_RANGE


@numba.njit(inline="always")
def _acc(st, hist, approx, exact, weight):
    """Add one (approx, exact) pair that stands for ``weight`` identical pairs."""
    e = approx - exact
    ae = abs(e)
    st[M.N] += weight
    st[M.SUM_E] += weight * e
    st[M.SUM_ABS] += weight * ae
    st[M.SUM_SQ] += weight * (e * e)
    if ae > st[M.MAX_ABS]:
        st[M.MAX_ABS] = ae
    if e != 0.0:
        st[M.N_ERR] += weight
    ax = abs(exact)
    if ax > st[M.MAX_EXACT]:
        st[M.MAX_EXACT] = ax
    if exact != 0.0:
        rel = e / ax
        st[M.N_REL] += weight
        st[M.SUM_RED] += weight * abs(rel)
        if abs(rel) > st[M.MAX_RED]:
            st[M.MAX_RED] = abs(rel)
        r = min(max(rel, _LO), _HI)
        idx = int((r - _LO) * (_BINS / 2.0))
        hist[min(idx, _BINS - 1)] += int(weight)


@numba.njit(parallel=True, cache=True)
def _mul_rows(a_rows, hi, width, signed, K, F, threads):
    n1 = width - 1
    half = np.int64(1) << n1
    st = np.zeros((threads, M.N_STATS))
    hist = np.zeros((threads, _BINS), dtype=np.int64)
    # The product is commutative (the model's steps are symmetric in a and b), so each
    # unordered pair is computed once and counted twice off the diagonal. Rows are dealt
    # round-robin so every thread gets a similar share of the shrinking inner loops.
    for t in numba.prange(threads):
        for i in range(t, a_rows.size, threads):
            a = a_rows[i]
            ma = -a if a < 0 else a
            for b in range(a, hi):
                weight = 1.0 if b == a else 2.0
                mb = -b if b < 0 else b
                p = np.int64(0)
                if ma != 0 and mb != 0:
                    s = F[ma] + F[mb]
                    if s < half:
                        m = half + s
                        e = K[ma] + K[mb]
                    else:
                        m = s
                        e = K[ma] + K[mb] + 1
                    sh = e - n1
                    p = m << sh if sh >= 0 else m >> (-sh)
                    if signed and ((a < 0) != (b < 0)):
                        p = -p
                _acc(st[t], hist[t], float(p), float(a * b), weight)
    return st, hist


@numba.njit(parallel=True, cache=True)
def _div_rows(a_rows, width, frac_bits, K, F, threads):
    n1 = width - 1
    half = np.int64(1) << n1
    q_max = (np.int64(1) << (width + frac_bits)) - 1 if width + frac_bits < 63 else -1
    scale = 2.0 ** -frac_bits
    st = np.zeros((threads, M.N_STATS))
    hist = np.zeros((threads, _BINS), dtype=np.int64)
    for t in numba.prange(threads):
        for i in range(t, a_rows.size, threads):
            a = a_rows[i]
            for b in range(1, 1 << width):  # b = 0 has no exact quotient
                q = np.int64(0)
                if a != 0:
                    d = F[a] - F[b]
                    if d >= 0:
                        m = half + d
                        e = K[a] - K[b]
                    else:
                        m = 2 * half + d
                        e = K[a] - K[b] - 1
                    sh = e + frac_bits - n1
                    q = m << sh if sh >= 0 else m >> (-sh)
                    if q_max >= 0 and q > q_max:
                        q = q_max
                _acc(st[t], hist[t], q * scale, a / b, 1.0)
    return st, hist


def _merge(stats, hist, st, h):
    for row in st:
        for i in (M.N, M.N_REL, M.SUM_E, M.SUM_ABS, M.SUM_SQ, M.N_ERR, M.SUM_RED):
            stats[i] += row[i]
        for i in (M.MAX_ABS, M.MAX_RED, M.MAX_EXACT):
            stats[i] = max(stats[i], row[i])
    hist += h.sum(axis=0)


def _tables(width, keep_bits):
    k, f = log_fraction(np.arange(0, 1 << width), width, keep_bits)  # magnitudes < 2**width
    return k.astype(np.int64), f.astype(np.int64)


def mul_exhaustive(params, a_rows, stats, hist, jobs):
    K, F = _tables(params.width, params.keep_bits)
    _, hi = params.in_range
    numba.set_num_threads(max(1, min(jobs, numba.config.NUMBA_NUM_THREADS)))
    st, h = _mul_rows(np.asarray(a_rows, np.int64), hi, params.width, params.signed, K, F,
                      max(1, jobs))
    _merge(stats, hist, st, h)


def div_exhaustive(params, a_rows, stats, hist, jobs):
    K, F = _tables(params.width, params.keep_bits)
    numba.set_num_threads(max(1, min(jobs, numba.config.NUMBA_NUM_THREADS)))
    st, h = _div_rows(np.asarray(a_rows, np.int64), params.width, params.frac_bits, K, F,
                      max(1, jobs))
    _merge(stats, hist, st, h)
