"""Compiled (numba) kernels for exhaustive characterisation of the Mitchell units.

Exhaustive 16x16 characterisation is 2**32 pairs; the numpy model needs ~100 ns a pair
there (``benchmarks/``), so these fused loops compute the same integer semantics and the
metric sums pair by pair without temporaries. The per-operand log tables (``k``, ``f``)
come from the numpy model's own :func:`hwsim.mitchell.log_fraction`, and
``tests/test_metrics.py`` checks every kernel against the numpy model + metrics exactly.
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
    k, f = log_fraction(np.arange(0, (1 << width) + 1), width, keep_bits)
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


EXHAUSTIVE = {"mitchell-mul": mul_exhaustive, "mitchell-div": div_exhaustive}


# -- element-wise Mitchell product (the fast path of hwsim.mitchell.mitchell_mul) -----------

@numba.njit(inline="always")
def _leading_one(x):
    """Position of the leading one of 0 < x < 2**63 (binary search, 6 steps)."""
    k = 0
    for step in (32, 16, 8, 4, 2, 1):
        if x >> step:
            x >>= step
            k += step
    return k


@numba.njit(inline="always")
def _mul_mag(x, y, n1, keep_mask):
    """Steps 1-5 of the multiplier on magnitudes 0 <= x, y < 2**N, as uint64."""
    if x == 0 or y == 0:
        return np.uint64(0)
    kx = _leading_one(x)
    ky = _leading_one(y)
    fx = ((x - (np.int64(1) << kx)) << (n1 - kx)) & keep_mask
    fy = ((y - (np.int64(1) << ky)) << (n1 - ky)) & keep_mask
    s = fx + fy
    if s < (np.int64(1) << n1):
        m = (np.int64(1) << n1) + s
        e = kx + ky
    else:
        m = s
        e = kx + ky + 1
    sh = e - n1
    if sh >= 0:
        return np.uint64(m) << np.uint64(sh)
    return np.uint64(m >> (-sh))


@numba.njit(parallel=True, cache=True)
def _mul_unsigned(a, b, n1, keep_mask, hi, out):
    bad = 0
    for i in numba.prange(a.size):
        x, y = a[i], b[i]
        if x < 0 or x >= hi or y < 0 or y >= hi:
            bad += 1
            continue
        out[i] = _mul_mag(x, y, n1, keep_mask)
    return bad


@numba.njit(parallel=True, cache=True)
def _mul_signed(a, b, n1, keep_mask, lo, hi, out):
    bad = 0
    for i in numba.prange(a.size):
        x, y = a[i], b[i]
        if x < lo or x >= hi or y < lo or y >= hi:
            bad += 1
            continue
        p = np.int64(_mul_mag(abs(x), abs(y), n1, keep_mask))
        out[i] = -p if (x < 0) != (y < 0) else p
    return bad


# Below this many elements one thread is faster: waking the thread pool costs more than the
# work (and much more on a loaded machine).
PARALLEL_MIN_SIZE = 1 << 18
_mul_unsigned_serial = numba.njit(cache=True)(_mul_unsigned.py_func)
_mul_signed_serial = numba.njit(cache=True)(_mul_signed.py_func)


def mul_elementwise(a: np.ndarray, b: np.ndarray, params) -> np.ndarray | None:
    """The Mitchell product of equal-shape int64 arrays in one fused loop (parallel for large
    arrays), or ``None`` if any operand is out of range (the caller then raises the model's
    message)."""
    n1 = params.width - 1
    full = (1 << n1) - 1
    keep_mask = full if params.keep_bits is None else full & ~((1 << (n1 - params.keep_bits)) - 1)
    lo, hi = params.in_range
    fa, fb = a.reshape(-1), b.reshape(-1)
    parallel = fa.size >= PARALLEL_MIN_SIZE
    if params.signed:
        out = np.empty(fa.size, dtype=np.int64)
        bad = (_mul_signed if parallel else _mul_signed_serial)(fa, fb, n1, keep_mask, lo, hi, out)
    else:
        out = np.empty(fa.size, dtype=np.uint64)
        bad = (_mul_unsigned if parallel else _mul_unsigned_serial)(fa, fb, n1, keep_mask, hi, out)
    return None if bad else out.reshape(a.shape)


# -- Mitchell matrix product (hwsim.studies.transformer_units) --------------------------------

@numba.njit(parallel=True, cache=True)
def _mitchell_matmul(a, bt, n1, keep_mask, out):
    """``out[g, i, j] = sum_t mitchell(a[g, i, t], bt[g, j, t])`` for signed operands; every
    product is the signed multiplier's (``_mul_mag`` on magnitudes, negated on sign)."""
    G, n, k = a.shape
    m = bt.shape[1]
    for gi in numba.prange(G * n):
        g, i = gi // n, gi % n
        for j in range(m):
            acc = np.int64(0)
            for t in range(k):
                x, y = a[g, i, t], bt[g, j, t]
                p = np.int64(_mul_mag(abs(x), abs(y), n1, keep_mask))
                acc += -p if (x < 0) != (y < 0) else p
            out[g, i, j] = acc


def mitchell_matmul(a: np.ndarray, b: np.ndarray, params) -> np.ndarray:
    """Sums of signed Mitchell products: ``(G, n, k) x (G, k, m) -> (G, n, m)`` int64, equal
    to ``mitchell_mul(a[..., :, :, None], b[..., None, :, :], params).sum(-2)``. Operands
    must already be in range (the caller quantises them); the int64 sum cannot overflow for
    ``k * 2**(2N-2) < 2**63``."""
    n1 = params.width - 1
    full = (1 << n1) - 1
    keep_mask = full if params.keep_bits is None else full & ~((1 << (n1 - params.keep_bits)) - 1)
    out = np.empty((a.shape[0], a.shape[1], b.shape[2]), dtype=np.int64)
    _mitchell_matmul(np.ascontiguousarray(a, dtype=np.int64),
                     np.ascontiguousarray(b.transpose(0, 2, 1), dtype=np.int64), n1, keep_mask, out)
    return out
