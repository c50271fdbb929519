"""Compiled (numba) Mitchell products: the fast path of :func:`hwsim.mitchell.mitchell_mul`
and the fused Mitchell matrix product of the transformer hooks.

Both compute DESIGN's Mitchell integer semantics exactly (``tests/test_mitchell_model.py``
checks them against the numpy steps); they depend on nothing else in hwsim, so the model can
import them without a cycle.
"""

from __future__ import annotations

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic


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


# -- Mitchell matrix product (hwsim.eval.hooks) --------------------------------

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


@numba.njit(cache=True)
def _split(x, n1, keep_mask, lg, s, z):
    """Per element, once: the Mitchell logarithm ``lg = (k << (N-1)) | f`` (leading-one
    position k, fraction f Mitch-w masked), sign mask ``s`` (-1 negative, else 0) and
    non-zero mask ``z`` (-1 non-zero, else 0)."""
    for i in range(x.size):   # serial: a few ns an element, less than waking threads
        v = x[i]
        mag = -v if v < 0 else v
        s[i] = -1 if v < 0 else 0
        if mag == 0:
            lg[i] = 0
            z[i] = 0
        else:
            kk = _leading_one(mag)
            lg[i] = (kk << n1) | (((mag - (np.int64(1) << kk)) << (n1 - kk)) & keep_mask)
            z[i] = -1


@numba.njit(parallel=True, cache=True, fastmath=True)
def _mitchell_matmul_split(la, sa, za, lb, sb, zb, n1, mask, one_point, acc0, out):
    """``out[g, i, j] = sum_t`` of the signed Mitchell product of the split operands, without
    a branch. Adding the logarithms adds the fractions and carries into the exponent:
    ``t = lg_a + lg_b``, ``e = t >> (N-1)`` (= k_a + k_b + carry), and the mantissa is
    ``m = 2**(N-1) | (t & mask)`` in both cases of step 4; ``p = (m << e) >> (N-1)`` (=
    floor(m 2**(e-(N-1))), step 5; ``m << e < 2**(3N-1)`` must fit the lane type), masked to
    0 for a zero operand, negated for unlike signs. Lanes and the accumulator take the types
    of ``mask`` and ``acc0``."""
    G, n, k = la.shape
    m = lb.shape[1]
    for gi in numba.prange(G * n):
        g, i = gi // n, gi % n
        lai, sai, zai = la[g, i], sa[g, i], za[g, i]
        for j in range(m):
            lbj, sbj, zbj = lb[g, j], sb[g, j], zb[g, j]
            acc = acc0
            for t in range(k):
                tt = lai[t] + lbj[t]
                p = ((((tt & mask) | one_point) << (tt >> n1)) >> n1) & (zai[t] & zbj[t])
                sg = sai[t] ^ sbj[t]
                acc += (p ^ sg) - sg
            out[g, i, j] = acc


def _split_operand(x: np.ndarray, n1: int, keep_mask: int, dtype):
    x = np.ascontiguousarray(x, dtype=np.int64)
    parts = [np.empty(x.shape, dtype) for _ in range(3)]
    _split(x.reshape(-1), n1, keep_mask, *(p.reshape(-1) for p in parts))
    return parts


# -- float32 bit patterns: the Mitchell product as an integer add (widths up to 15) ----

@intrinsic
def _f32_of_bits(typingctx, x):
    """The float32 whose bit pattern is the int32 ``x`` (a bitcast, no conversion)."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())
    return types.float32(types.int32), codegen


@intrinsic
def _bits_of_f32(typingctx, x):
    """The int32 bit pattern of the float32 ``x``."""
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))
    return types.int32(types.float32), codegen


#: the bit pattern of 1.0f, and the pattern that stands for a zero operand (see
#: :func:`_pattern_matmul32`)
_ONE = 0x3F800000
_ZERO = 0x20000000


@numba.njit(cache=True)
def _patterns(x, mant_mask, offset, out):
    """Per element: the float32 bit pattern of ``|x|`` (exact: ``|x| <= 2**14``) with the
    low mantissa bits Mitch-w drops cleared (``mant_mask``), the sign bit of x, ``_ZERO``
    for x = 0; plus ``offset``, wrapped to int32."""
    for i in range(x.size):
        v = x[i]
        bits = np.int64(_bits_of_f32(np.float32(abs(v)))) & mant_mask
        if v < 0:
            bits |= np.int64(1) << 31
        if v == 0:
            bits = np.int64(_ZERO)
        out[i] = np.int32(bits + offset)


@numba.njit(inline="always")
def _pdot(x, y, k):
    """``sum_t trunc(float32 of bits(x[t] + y[t]))`` in int32."""
    acc = np.int32(0)
    for t in range(k):
        acc = np.int32(acc + np.int32(_f32_of_bits(np.int32(x[t] + y[t]))))
    return acc


#: the pattern kernel's tiles: 4 rows of the left operand against blocks of this many
#: columns of the right (each loaded column serves 4 rows; a task per tile)
_COLS = 64


@numba.njit(parallel=True, cache=True)
def _pattern_matmul32(pa, pb, out):
    """``out[g, i, j] = sum_t trunc(float32 of bits(pa[g, i, t] + pb[g', j, t]))`` in an
    int32 sum (``g' = g`` or 0 for a shared right operand).

    Mitchell's logarithm is the float bit trick (DESIGN section 3): the float32 pattern of
    an integer ``|a| = 2**k (1 + f / 2**(N-1))`` is ``(k + 127) << 23 | f << (24 - N)``, so
    adding the patterns of |a| and |b| and subtracting that of 1.0 (``pb`` carries the
    ``-_ONE``) adds the fractions, carries into the exponent and gives the pattern of
    ``m 2**(e - (N-1))``, steps 2-4 exactly (the mantissa holds f's N-1 bits for N <= 24);
    truncation to an integer is step 5's floor of the magnitude, and the sign bits add to
    their XOR (the magnitude part stays in [0, 2**31): no carry into the sign), so the
    truncation toward zero of the signed value is the signed multiplier's product. A zero
    operand's pattern ``_ZERO`` (2**29) gives a sum of exponent at most 79 with any operand
    (|value| < 1, truncated to 0) and 1 with another zero (2**-126): 0 as step 1 says. The
    products are below 2**(2N-2) <= 2**28, so the conversion is exact; one add, one
    conversion and the sum per product, 8 in each AVX2 instruction."""
    G, n, k = pa.shape
    gb, m = pb.shape[0], pb.shape[1]
    nib, njb = (n + 3) // 4, (m + _COLS - 1) // _COLS
    for task in numba.prange(G * nib * njb):
        g, r = task // (nib * njb), task % (nib * njb)
        i0, j0 = (r // njb) * 4, (r % njb) * _COLS
        bg = pb[g % gb]
        if i0 + 4 <= n:
            a0, a1, a2, a3 = pa[g, i0], pa[g, i0 + 1], pa[g, i0 + 2], pa[g, i0 + 3]
            for j in range(j0, min(m, j0 + _COLS)):
                bj = bg[j]
                c0 = c1 = c2 = c3 = np.int32(0)
                for t in range(k):
                    y = bj[t]
                    c0 = np.int32(c0 + np.int32(_f32_of_bits(np.int32(a0[t] + y))))
                    c1 = np.int32(c1 + np.int32(_f32_of_bits(np.int32(a1[t] + y))))
                    c2 = np.int32(c2 + np.int32(_f32_of_bits(np.int32(a2[t] + y))))
                    c3 = np.int32(c3 + np.int32(_f32_of_bits(np.int32(a3[t] + y))))
                out[g, i0, j], out[g, i0 + 1, j] = c0, c1
                out[g, i0 + 2, j], out[g, i0 + 3, j] = c2, c3
        else:
            for i in range(i0, n):
                for j in range(j0, min(m, j0 + _COLS)):
                    out[g, i, j] = _pdot(pa[g, i], bg[j], k)


@numba.njit(parallel=True, cache=True)
def _pattern_matmul64(pa, pb, out):
    """:func:`_pattern_matmul32` with an int64 sum (when ``k 2**(2N-2)`` could pass 2**31)."""
    G, n, k = pa.shape
    gb, m = pb.shape[0], pb.shape[1]
    for gi in numba.prange(G * n):
        g, i = gi // n, gi % n
        ai = pa[g, i]
        bg = pb[g % gb]
        for j in range(m):
            bj = bg[j]
            acc = np.int64(0)
            for t in range(k):
                acc += np.int32(_f32_of_bits(np.int32(ai[t] + bj[t])))
            out[g, i, j] = acc


#: widths the float32 pattern kernel takes (products below 2**28, fractions within float32's
#: 23 mantissa bits)
PATTERN_MAX_WIDTH = 15


def _pattern_operand(x: np.ndarray, mant_mask: int, offset: int) -> np.ndarray:
    x = np.ascontiguousarray(x, dtype=np.int64)
    out = np.empty(x.shape, np.int32)
    _patterns(x.reshape(-1), mant_mask, offset, out.reshape(-1))
    return out


_PATTERNS: dict = {}
_PATTERNS_MAX = 256


def _constant_patterns(b: np.ndarray, mant_mask: int) -> np.ndarray:
    """The right operand's patterns (transposed, ``-_ONE`` added), remembered when ``b`` and
    every array it views are read-only (weights: :func:`hwsim.eval.hooks._constant_columns`
    keeps its codes so), keyed by the memory it views and checked by a weak reference to
    the array that owns it; a writeable operand is converted every time."""
    root = b
    while isinstance(root, np.ndarray):
        if root.flags.writeable:
            return _pattern_operand(b.transpose(0, 2, 1), mant_mask, -_ONE)
        if not isinstance(root.base, np.ndarray):
            break
        root = root.base
    import weakref
    key = (id(root), b.__array_interface__["data"][0], b.shape, b.strides, b.dtype.str,
           mant_mask)
    hit = _PATTERNS.get(key)
    if hit is not None and hit[0]() is root:
        return hit[1]
    pb = _pattern_operand(b.transpose(0, 2, 1), mant_mask, -_ONE)
    if len(_PATTERNS) >= _PATTERNS_MAX:
        _PATTERNS.pop(next(iter(_PATTERNS)))
    _PATTERNS[key] = (weakref.ref(root), pb)
    return pb


def _pattern_matmul(a: np.ndarray, b: np.ndarray, params) -> np.ndarray:
    """:func:`mitchell_matmul` for widths up to :data:`PATTERN_MAX_WIDTH`: the float32 bit
    pattern kernels. A right operand broadcast along the stack (one weight matrix for every
    sentence) is converted once."""
    n1 = params.width - 1
    keep = params.keep_bits
    mant_mask = -1 if keep is None else ~((1 << (23 - keep)) - 1)
    G, k = a.shape[0], a.shape[2]
    if G > 1 and b.shape[0] == G and b.strides[0] == 0:
        b = b[:1]
    pa = _pattern_operand(a, mant_mask, 0)
    pb = _constant_patterns(b, mant_mask)
    out = np.empty((G, a.shape[1], b.shape[2]), dtype=np.int64)
    if k * (1 << (2 * n1)) < (1 << 31):
        _pattern_matmul32(pa, pb, out)
    else:
        _pattern_matmul64(pa, pb, out)
    return out


def mitchell_matmul(a: np.ndarray, b: np.ndarray, params) -> np.ndarray:
    """Sums of signed Mitchell products: ``(G, n, k) x (G, k, m) -> (G, n, m)`` int64, equal
    to ``mitchell_mul(a[..., :, :, None], b[..., None, :, :], params).sum(-2)``. Operands
    must already be in range (the caller quantises them); the int64 sum cannot overflow for
    ``k * 2**(2N-2) < 2**63``.

    Each operand's Mitchell logarithm (leading one and fraction) and sign are found once per
    element, not once per product; the inner loop is then branch-free integer add/shift/mask, in int32 lanes for
    N <= 10 (``m << e < 2**(3N-1)`` fits 31 bits; the sum stays int32 while
    ``k 2**(2N-2) < 2**31``) and int64 lanes up to N = 21; wider operands take the scalar
    kernel. Widths up to :data:`PATTERN_MAX_WIDTH` take the float32 bit-pattern kernel
    instead (one integer add per product: :func:`_pattern_matmul32`).
    ``benchmarks/results.md`` has the speed."""
    if params.width <= PATTERN_MAX_WIDTH:
        return _pattern_matmul(a, b, params)
    return split_matmul(a, b, params)


def split_matmul(a: np.ndarray, b: np.ndarray, params) -> np.ndarray:
    """:func:`mitchell_matmul` by the split-logarithm kernels (int32 lanes up to N = 10,
    int64 lanes up to 21, the scalar kernel beyond): what widths above
    :data:`PATTERN_MAX_WIDTH` take, and the reference of the pattern kernel's tests."""
    n1 = params.width - 1
    full = (1 << n1) - 1
    keep_mask = full if params.keep_bits is None else full & ~((1 << (n1 - params.keep_bits)) - 1)
    out = np.empty((a.shape[0], a.shape[1], b.shape[2]), dtype=np.int64)
    bt = b.transpose(0, 2, 1)
    if 3 * n1 + 2 > 63:
        _mitchell_matmul(np.ascontiguousarray(a, dtype=np.int64),
                         np.ascontiguousarray(bt, dtype=np.int64), n1, keep_mask, out)
        return out
    lane = np.int32 if 3 * n1 + 2 <= 31 else np.int64
    k = a.shape[2]
    acc = np.int32 if lane is np.int32 and k * (1 << (2 * n1)) < (1 << 31) else np.int64
    _mitchell_matmul_split(*_split_operand(a, n1, keep_mask, lane),
                           *_split_operand(bt, n1, keep_mask, lane),
                           lane(n1), lane(full), lane(1 << n1), acc(0), out)
    return out
