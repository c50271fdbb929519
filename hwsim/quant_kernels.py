"""Compiled (numba) block quantisation: the fast path of :func:`hwsim.eval.hooks.block_quantize`.

Depends on nothing else in hwsim. The semantics are the hook's (and ``tests/test_minilm.py``
compares both paths): per row, ``2**e`` the smallest power of two above the row's peak
magnitude (``frexp``; e = 0 for a zero row), ``frac = width - 1 - e``, each value
``rint(ldexp(x, frac))`` (to nearest, ties even) saturated to the signed ``width`` bits.
"""

from __future__ import annotations

import math

import numba
import numpy as np


#: adding and subtracting 1.5 * 2**52 rounds a float64 of magnitude below 2**51 to the
#: nearest integer, ties to even (IEEE round-to-nearest), far faster than a rint call
_MAGIC = 6755399441055744.0


@numba.njit(cache=True)
def _block_quantize_rows(x, width, q, frac):
    n, k = x.shape
    hi = np.float64((1 << (width - 1)) - 1)
    lo = -hi - 1.0
    for i in range(n):
        peak = 0.0
        for t in range(k):
            peak = max(peak, abs(np.float64(x[i, t])))
        f = width - 1 - math.frexp(peak)[1]
        if -1000 <= f <= 1000:
            # x 2**f by a multiplication is exact while the power is a float64; saturating
            # before rounding gives the same integers (the bounds are integers), and keeps
            # the magnitude below 2**51 for the rounding trick
            scale = 2.0 ** f
            for t in range(k):
                v = min(max(np.float64(x[i, t]) * scale, lo), hi)
                q[i, t] = np.int64((v + _MAGIC) - _MAGIC)
        else:  # a row of values below 2**-1000 (or above 2**1000): ldexp, the same numbers
            for t in range(k):
                v = np.rint(math.ldexp(np.float64(x[i, t]), f))
                q[i, t] = np.int64(min(max(v, lo), hi))
        frac[i] = f


def block_quantize_rows(x: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """``(raw, frac)`` of finite ``x`` (..., k) with one format per row (the last axis):
    ``raw`` int64 of x's shape, ``frac`` int64 (..., 1)."""
    x2 = np.ascontiguousarray(x).reshape(-1, x.shape[-1])
    if x2.dtype not in (np.float32, np.float64):
        x2 = x2.astype(np.float64)
    q = np.empty(x2.shape, np.int64)
    frac = np.empty(x2.shape[0], np.int64)
    _block_quantize_rows(x2, int(width), q, frac)
    return q.reshape(x.shape), frac.reshape(x.shape[:-1] + (1,))


@numba.njit(cache=True)
def _quantize_scaled(x, f, width, q):
    """``q = clip(rint(x 2**f))`` into signed ``width`` bits; False (q unfinished) at a NaN."""
    hi = np.float64((1 << (width - 1)) - 1)
    lo = -hi - 1.0
    scale = 2.0 ** f     # exact for |f| <= 1000; x * scale is then ldexp's correctly rounded value
    for i in range(x.size):
        v = np.float64(x[i]) * scale
        if v != v:
            return False
        v = min(max(v, lo), hi)
        q[i] = np.int64((v + _MAGIC) - _MAGIC)
    return True


def quantize_scaled(x: np.ndarray, width: int, frac: int) -> np.ndarray | None:
    """``round(x 2**frac)`` (to nearest, ties even) saturated to signed ``width`` bits, int64
    of x's shape, for float32/float64 ``x`` and one ``frac`` in -1000..1000 (the semantics of
    :func:`hwsim.eval.hooks.quantize_frac`, inf saturating); ``None`` if x holds a NaN."""
    xc = np.ascontiguousarray(x)
    q = np.empty(xc.shape, np.int64)
    if not _quantize_scaled(xc.reshape(-1), int(frac), int(width), q.reshape(-1)):
        return None
    return q


@numba.njit(cache=True)
def _block_quantize_cols(x, width, q, frac):
    """:func:`_block_quantize_rows` over the columns of each ``x[l]`` (``(L, k, m)``: one
    format per ``x[l, :, j]``) without transposing: the same numbers."""
    L, k, m = x.shape
    hi = np.float64((1 << (width - 1)) - 1)
    lo = -hi - 1.0
    peak = np.empty(m, np.float64)
    scale = np.empty(m, np.float64)
    for g in range(L):
        peak[:] = 0.0
        for t in range(k):
            for j in range(m):
                peak[j] = max(peak[j], abs(np.float64(x[g, t, j])))
        for j in range(m):
            f = width - 1 - math.frexp(peak[j])[1]
            frac[g, 0, j] = f
            scale[j] = 2.0 ** f if -1000 <= f <= 1000 else 0.0
        for t in range(k):
            for j in range(m):
                f = frac[g, 0, j]
                if -1000 <= f <= 1000:
                    v = min(max(np.float64(x[g, t, j]) * scale[j], lo), hi)
                    q[g, t, j] = np.int64((v + _MAGIC) - _MAGIC)
                else:
                    v = np.rint(math.ldexp(np.float64(x[g, t, j]), f))
                    q[g, t, j] = np.int64(min(max(v, lo), hi))


def block_quantize_cols(x: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """``(raw, frac)`` of finite ``x`` (..., k, m) with one format per column (axis -2),
    ``raw`` int64 of x's shape (C order), ``frac`` int64 (..., 1, m)."""
    x3 = np.ascontiguousarray(x).reshape((-1,) + x.shape[-2:])
    if x3.dtype not in (np.float32, np.float64):
        x3 = x3.astype(np.float64)
    q = np.empty(x3.shape, np.int64)
    frac = np.empty((x3.shape[0], 1, x3.shape[2]), np.int64)
    _block_quantize_cols(x3, int(width), q, frac)
    return q.reshape(x.shape), frac.reshape(x.shape[:-2] + (1, x.shape[-1]))
