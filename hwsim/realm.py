"""REALM-style error-corrected logarithmic multiplier: a bit-accurate numpy model.

After Saadat, Javaid, Ignjatovic and Parameswaran, "REALM: Reduced-Error Approximate
Log-based Integer Multiplier", DATE 2020. Mitchell's multiplier (``hwsim.mitchell``) adds the
two log fractions; REALM splits the square of the two fractions into a grid of segments and
adds a per-segment error-reduction term read from a small constant table, and truncates the
fractions (setting the last kept bit to 1 to unbias them). Here the truncation is plain
(Mitch-w) and its unbiasing is folded into the table: each entry is the one constant,
added to the fraction sum, that minimises the segment's mean relative error, so it covers the
truncation bias (half an LSB per operand) and Mitchell's error together, and the sum stays
``keep_bits`` wide. ``docs/units/realm.md`` compares this with the paper.

The integer semantics below are the specification the HDL (``hwsim.hdl.realm``) meets bit
for bit. Unsigned only. Width N (``RealmMulParams.width``), ``F = N - 1``, fraction bits kept
``t`` (``keep_bits``), grid bits ``M`` (``m``), correction bits ``q``; inputs ``a, b`` in
``[0, 2**N)``, output ``p`` in ``[0, 2**(2N))``:

1. ``a == 0`` or ``b == 0``: ``p = 0``.
2. For each operand ``x``: ``k`` = leading-one position (0..F), and ``f`` = the top ``t``
   bits of its F-bit fraction: ``f = ((x - 2**k) << (F - k)) >> (F - t)`` (Mitch-w with
   ``keep_bits = t``; ``t = F`` keeps the exact fraction).
3. Correction: ``i = f_a >> (t - M)``, ``j = f_b >> (t - M)`` (the top M bits of each
   fraction; both 0 when ``M = 0``) and ``c = table[i * 2**M + j]``, a q-bit entry of
   :func:`realm_table` in units of the fraction LSB ``2**-t``.
4. ``S = f_a + f_b + c`` (t fraction bits; the table guarantees ``S < 2**(t+1)``). No carry
   (``S < 2**t``): ``m = 2**t + S``, ``e = k_a + k_b``; carry: ``m = S``, ``e = k_a + k_b + 1``
   (both: ``m = 2**t + (S mod 2**t)``).
5. ``p = floor(m * 2**(e - t))`` (a left shift or a truncating right shift).

With ``q = 0`` (or ``M = 0`` and a zero entry) this is exactly Mitch-w (``hwsim.mitchell``,
``keep_bits = t``); with the single entry 1 it is Mitch-w with DRUM-style unbiased fractions
(each truncated fraction plus half an LSB).

The table (step 3). Write ``A(u) = 2**floor(u) * (1 + frac(u))`` for Mitchell's antilog: the
real value of steps 4-5 before the floor is ``2**(k_a + k_b) * A(xt_a + xt_b + C)`` with the
truncated fractions ``xt = f / 2**t`` and ``C = c / 2**t``. Entry ``(i, j)`` is the ``c`` in
``0..2**q - 1`` that minimises the mean of ``|A(xt_a + xt_b + C) / ((1 + x_a)(1 + x_b)) - 1|``
over the sample fractions ``x_a, x_b`` (before truncation) of the cell, subject to
``fmax_i + fmax_j + c < 2**(t+1)`` with ``fmax_i = (i + 1) * 2**(t-M) - 1`` the largest
``f`` of row ``i`` (so ``S`` never reaches ``2**(t+1)`` and the product fits 2N bits). The
sample fractions are all ``2**R`` F-bit fractions when ``R = min(F, 8)`` equals F, else the
``2**R`` midpoints ``(2u + 1) * 2**(F-R-1)`` of equal intervals (``u = 0..2**R - 1``); each
cell's mean is taken in float64 and rounded to 12 decimals, ties go to the smaller ``c``.
Deterministic, computed once per ``(F, t, M, q)`` (milliseconds).

Widths: ``S < 2**(t+1)``, ``e <= 2F + 1``, so ``p < 2**(2F+2) = 2**(2N)``; every intermediate
is below ``2**(2N)``, 2N <= 48 bits for N <= 24, exact in int64.

Error bound. With ``d = max_{0<=x<1} (log2(1 + x) - x) = log2(1/ln 2) + 1 - 1/ln 2 ~ 0.08607``:
``log2 A(u) - u`` lies in ``[0, d]``, ``log2(1 + x) - x`` in ``[0, d]``, and the truncation
error ``xt - x`` in ``(-eps, 0]`` with ``eps = 2**-t`` (``eps = 0`` when ``t = F``). So the real
product ``P`` before the floor satisfies ``Cmin - 2d - 2 eps <= log2(P / (a b)) <= Cmax + d``
(``Cmin``, ``Cmax``: the smallest and largest table entries over ``2**t``), and
``P - 1 < p <= P``: ``a b * 2**(Cmin - 2d - 2 eps) - 1 < p <= a b * 2**(Cmax + d)``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from hwsim._check import check_instance, check_int, int_operand, operand_pair
from hwsim.params import UnsignedMulParams

__all__ = ["RealmMulParams", "realm_mul", "realm_table", "realm_fraction", "error_bound",
           "MIN_WIDTH", "MAX_WIDTH", "MAX_GRID_BITS", "MAX_Q", "TABLE_SAMPLE_BITS",
           "MITCHELL_LOG_GAP"]

MIN_WIDTH = 4
#: the product has 2N bits: 48 at N = 24 keeps it and every intermediate exact in int64
MAX_WIDTH = 24
MAX_STAGES = 8
#: grid bits M: at most 2**(2M) = 256 table entries
MAX_GRID_BITS = 4
#: correction bits q (and q <= keep_bits)
MAX_Q = 8
#: R = min(F, TABLE_SAMPLE_BITS) sample bits per fraction when building the table
TABLE_SAMPLE_BITS = 8
#: max over [0, 1) of log2(1 + x) - x, at x = 1/ln 2 - 1
MITCHELL_LOG_GAP = math.log2(1 / math.log(2)) + 1 - 1 / math.log(2)


@dataclass(frozen=True)
class RealmMulParams(UnsignedMulParams):
    """REALM-style error-corrected log multiplier parameters (unsigned operands only).

    Parameters
    ----------
    width:
        Operand width N, 4..24. The product has 2N bits.
    keep_bits:
        Fraction bits t kept from each operand (Mitch-w truncation), 1..N-1; N-1 keeps the
        exact fraction.
    m:
        Grid bits M, 0..min(t, 4): the correction table has 2**M x 2**M entries indexed by
        the top M bits of each fraction; M = 0 is one constant.
    q:
        Correction bits, 0..min(t, 8): each entry is ``c * 2**-t`` with ``c`` in
        ``0..2**q - 1``; q = 0 disables the correction (Mitch-w).
    stages:
        Pipeline register stages (latency in cycles), 0..8; 0 is combinational.
    """

    width: int = 8
    keep_bits: int = 3
    m: int = 2
    q: int = 2
    stages: int = 0

    stem = "realm_mul"

    def __post_init__(self):
        check_int("RealmMulParams", "width", self.width, MIN_WIDTH, MAX_WIDTH)
        check_int("RealmMulParams", "keep_bits", self.keep_bits, 1, self.width - 1)
        check_int("RealmMulParams", "m", self.m, 0, min(self.keep_bits, MAX_GRID_BITS))
        check_int("RealmMulParams", "q", self.q, 0, min(self.keep_bits, MAX_Q))
        check_int("RealmMulParams", "stages", self.stages, 0, MAX_STAGES)

    @property
    def table(self) -> tuple[int, ...]:
        """The correction table (step 3 of the module docstring), row-major in ``i``."""
        return realm_table(self.width - 1, self.keep_bits, self.m, self.q)

    def _name_parts(self) -> tuple[str, ...]:
        return (f"t{self.keep_bits}", f"m{self.m}", f"q{self.q}")


@functools.lru_cache(maxsize=256)
def realm_table(frac_bits: int, keep_bits: int, m: int, q: int) -> tuple[int, ...]:
    """The ``2**(2m)`` correction entries for ``F = frac_bits`` (see the module docstring),
    row-major: entry ``i * 2**m + j`` for the cells ``i`` of operand a, ``j`` of operand b."""
    F, t = frac_bits, keep_bits
    cells = 1 << (2 * m)
    if q == 0:
        return (0,) * cells
    r = min(F, TABLE_SAMPLE_BITS)
    u = np.arange(1 << r, dtype=np.int64)
    f = u if r == F else (2 * u + 1) << (F - r - 1)
    fa, fb = (g.ravel() for g in np.meshgrid(f, f, indexing="ij"))
    ta, tb = fa >> (F - t), fb >> (F - t)
    cell = ((ta >> (t - m)) << m) + (tb >> (t - m))
    count = np.bincount(cell, minlength=cells)
    exact = (np.ldexp(1.0, F) + fa) * (np.ldexp(1.0, F) + fb)  # (1 + x_a)(1 + x_b) * 4**F
    top = [((i + 1) << (t - m)) - 1 for i in range(1 << m)]  # fmax_i
    limit = np.array([(2 << t) - top[i] - top[j] for i in range(1 << m) for j in range(1 << m)])
    best = np.full(cells, np.inf)
    table = np.zeros(cells, dtype=np.int64)
    for c in range(1 << q):
        s = ta + tb + c
        mant = ((1 << t) + (s & ((1 << t) - 1))).astype(np.float64)
        approx = np.ldexp(mant, 2 * F - t + (s >> t))  # A(xt_a + xt_b + C) * 4**F
        mean = np.round(np.bincount(cell, np.abs(approx - exact) / exact, cells) / count, 12)
        better = (mean < best) & (c < limit)
        best[better] = mean[better]
        table[better] = c
    return tuple(int(c) for c in table)


def realm_fraction(x: np.ndarray, width: int, keep_bits: int) -> tuple[np.ndarray, np.ndarray]:
    """Step 2 for operands in ``[0, 2**width)``: ``(k, f)``, the leading-one position and the
    t-bit truncated fraction (``x = 0`` gives ``(0, 0)``)."""
    width = check_int("realm_fraction", "width", width, 2, 62)
    keep_bits = check_int("realm_fraction", "keep_bits", keep_bits, 0, width - 1)
    x = int_operand("realm_fraction", "x", x, 0, 1 << width, f"for width {width}")
    F = width - 1
    _, e = np.frexp(x.astype(np.float64))  # exact for x < 2**53; e = k + 1 (0 for x = 0)
    k = np.maximum(e.astype(np.int64) - 1, 0)
    f = (x - np.where(x > 0, np.int64(1) << k, 0)) << (F - k)
    return k, f >> (F - keep_bits)


def realm_mul(a, b, params: RealmMulParams) -> np.ndarray:
    """REALM-style product of unsigned raw operands (see the module docstring).

    ``a`` and ``b`` broadcast against each other. Returns ``int64`` (2N <= 48 bits). Raises
    ``TypeError`` for non-integer operands and ``ValueError`` for operands outside
    ``[0, 2**N)``, ragged sequences or shapes that do not broadcast.
    """
    if not isinstance(params, RealmMulParams):
        raise TypeError(f"realm_mul: params must be a RealmMulParams, not {params!r}")
    what = f"for width {params.width}"
    a, b = operand_pair("realm_mul", a, b, 0, 1 << params.width, what)
    t, M = params.keep_bits, params.m
    ka, fa = realm_fraction(a, params.width, t)
    kb, fb = realm_fraction(b, params.width, t)
    table = np.array(params.table, dtype=np.int64)
    s = fa + fb + table[((fa >> (t - M)) << M) + (fb >> (t - M))]
    m = (np.int64(1) << t) + (s & ((1 << t) - 1))
    shift = ka + kb + (s >> t) - t
    p = np.where(shift >= 0, m << np.maximum(shift, 0), m >> np.maximum(-shift, 0))
    return np.where((a == 0) | (b == 0), np.int64(0), p)


def error_bound(params: RealmMulParams) -> tuple[float, float]:
    """``(lo, hi)`` with ``a*b * 2**lo - 1 < p <= a*b * 2**hi`` for every ``a, b`` (module
    docstring, "Error bound")."""
    check_instance("error_bound", "params", params, RealmMulParams)
    scale = 2.0 ** -params.keep_bits
    cmin, cmax = min(params.table) * scale, max(params.table) * scale
    eps = 0.0 if params.keep_bits == params.width - 1 else scale
    d = MITCHELL_LOG_GAP
    return cmin - 2 * d - 2 * eps, cmax + d
