"""Fixed-point exponential units: bit-accurate numpy models of five hardware methods.

``exp_fixed(x, params)`` maps raw input patterns ``x`` (signed ``params.in_fmt``) to raw
output patterns (unsigned ``params.out_fmt``) of ``e**x`` (``base=ExpBase.E``) or ``2**x``
(``ExpBase.TWO``). Every step is integer arithmetic; ``R = params.internal_bits`` fraction
bits are carried inside and ``C = R + 2`` fraction bits quantise every constant
(round to nearest). The HDL (``hwsim.hdl.exp``) implements exactly these steps.

Range-reduced methods (LUT, PWL, MITCHELL, IBERT):

1. log2 domain, R fraction bits, rounded toward minus infinity (``Rounding.TRUNCATE``):
   base 2: ``y = x << (R - F_in)``; base e: ``y = (x * LOG2E) >> (F_in + C - R)`` with
   ``LOG2E = round(log2(e) * 2**C)``.
2. ``n = y >> R`` (floor, signed), ``f = y mod 2**R`` (so ``y = n + f`` with ``f`` in [0, 1)).
3. mantissa ``m ~ 2**f * 2**R`` (in [2**R, 2**(R+1)]), by method:

   * ``LUT``: ``m = T[f >> (R - t)]`` with ``t = lut_bits`` and the table of segment
     *midpoints* ``T[i] = round(2**((i + 1/2) / 2**t) * 2**R)``;
   * ``PWL``: ``s = segments`` chords through the knots ``2**(j/s)``: ``j`` = top
     ``log2(s)`` bits of ``f``, ``u`` = the rest, ``m = A[j] + ((B[j] * u) >> R)`` with
     ``A[j] = round(2**(j/s) * 2**R)``, ``B[j] = round(s * (2**((j+1)/s) - 2**(j/s)) * 2**R)``;
   * ``MITCHELL``: ``m = 2**R + f`` (the antilog of the Mitchell units, ``2**f ~ 1 + f``);
   * ``IBERT``: I-BERT's second-order polynomial ``e**p ~ a (p + b)**2 + c`` (a = 0.3585,
     b = 1.353, c = 0.344, fitted on p in [-ln 2, 0]) at ``p = (f - 1) ln 2``, doubled:
     ``p = ((f - 2**R) * LN2) >> C``; ``q = p + B``; ``sq = (q * q) >> R``;
     ``m = ((A * sq) >> C) + Cc`` with ``A = round(2a * 2**C)``, ``B = round(b * 2**R)``,
     ``Cc = round(2c * 2**R)``.
4. ``out = floor(m * 2**(n + F_out - R))``, saturated to ``out_fmt.max_raw``
   (``Overflow.SATURATE``).

``TAYLOR`` (order n even, 2..8) evaluates ``f_n(t) = sum_{k<=n} t**k / k!`` directly on
``t = x`` (base e; ``t = x ln 2`` for base 2) with R fraction bits, clamped below at its
minimiser ``t*`` so the result is positive and non-decreasing (``f_n`` falls left of ``t*``):
``t = max(t, ceil(t* * 2**R))``, then Horner from the inside out, ``r = 2**R`` and for
``k = n..1``: ``r = 2**R + ((((t * r) >> R) * INV[k]) >> C)`` with ``INV[k] = round(2**C / k)``
(``k = 1`` multiplies by nothing); ``out = r >> (R - F_out)``, clamped to the output range.

Widths: every configuration ``ExpParams`` accepts is computed exactly.
:meth:`ExpParams.intermediate_bits` derives the largest magnitude of every intermediate
above from the formats and constants (e.g. ``x * LOG2E`` W_in + C bits, the PWL product
``B[j] * u`` about 2R + 1 - log2(s), I-BERT's ``A * sq`` about 2R + 3); when all fit 63 bits
the model runs in int64, else (:attr:`ExpParams.wide`: IBERT from R = 31, PWL from R = 32
at s <= 2) the same steps run on Python integers. Step 4 never forms ``m << s`` beyond the output
range: ``m * 2**s > max_raw`` exactly when ``m > max_raw >> s``, which saturates. TAYLOR is
refused when its Horner products need more than 62 bits.

See ``docs/units/exp.md`` for the error of each method and its intermediate widths, and
``taylor_minimizer`` for the even-order Taylor facts.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from hwsim._check import check_instance, check_int, finite_operand
from hwsim.fixed import FixedFormat
from hwsim.params import UnitParams

__all__ = ["ExpMethod", "ExpBase", "ExpParams", "exp_fixed", "exp_real", "taylor_poly",
           "taylor_minimizer", "antilog_ratio_range", "GUARD_BITS"]

#: internal fraction bits beyond the finer of the input and output formats
GUARD_BITS = 4
#: extra fraction bits of the quantised constants over the internal ones
CONST_EXTRA_BITS = 2
MAX_IN_WIDTH = 24
MAX_OUT_WIDTH = 32
MAX_STAGES = 16
IBERT_A, IBERT_B, IBERT_C = 0.3585, 1.353, 0.344


class ExpMethod(enum.Enum):
    """How ``2**f`` (or ``e**x`` itself, for TAYLOR) is approximated."""

    LUT = "lut"
    PWL = "pwl"
    MITCHELL = "mitchell"
    IBERT = "ibert"
    TAYLOR = "taylor"


class ExpBase(enum.Enum):
    E = "e"
    TWO = "2"


def _owner_check_enum(owner: str, name: str, value, kind):
    if not isinstance(value, kind):
        choices = ", ".join(v.value for v in kind)
        raise TypeError(f"{owner}.{name} must be a {kind.__name__} ({choices}), not {value!r}")


def _check_format(owner: str, name: str, fmt, signed: bool, max_width: int):
    if not isinstance(fmt, FixedFormat):
        raise TypeError(f"{owner}.{name} must be a FixedFormat, not {fmt!r}")
    kind = "signed" if signed else "unsigned"
    if fmt.signed != signed:
        raise ValueError(f"{owner}.{name} must be a {kind} FixedFormat, not {fmt}")
    if fmt.width > max_width:
        raise ValueError(f"{owner}.{name} must be at most {max_width} bits wide, not {fmt} "
                         f"({fmt.width} bits)")
    if fmt.frac_bits < 0:
        raise ValueError(f"{owner}.{name} must have frac_bits >= 0, not {fmt}")


@lru_cache(maxsize=None)
def taylor_minimizer(order: int) -> tuple[float, float]:
    """``(t*, f_n(t*))``: where the even-order Taylor polynomial of exp has its minimum.

    ``f_n' = f_{n-1}`` has exactly one real root for even n (odd degree, increasing), found
    by bisection on [-n, 0] in float64; ``f_n(t*) = t*^n / n!`` there, which is positive.
    """
    check_int("taylor_minimizer", "order", order, 2, 8)
    if order % 2:
        raise ValueError(f"taylor_minimizer: order must be even, not {order}")
    lo, hi = -float(order), 0.0  # f_{n-1}(-n) < 0 < f_{n-1}(0) = 1
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if float(taylor_poly(mid, order - 1)) < 0:
            lo = mid
        else:
            hi = mid
    t = 0.5 * (lo + hi)
    return t, float(taylor_poly(t, order))


def taylor_poly(x, order: int) -> np.ndarray:
    """``f_n(x) = sum_{k=0..n} x**k / k!`` in float64 (order 0..64; finite real ``x``)."""
    check_int("taylor_poly", "order", order, 0, 64)
    x = finite_operand("taylor_poly", "x", x)
    r = np.ones_like(x)
    for k in range(order, 0, -1):
        r = 1.0 + x * r / k
    return r


def _round(v: float) -> int:
    return int(math.floor(v + 0.5))


@dataclass(frozen=True)
class ExpParams(UnitParams):
    """Fixed-point exponential unit.

    Parameters
    ----------
    in_fmt:
        Signed input format (width <= 24, frac_bits >= 0). Default Q4.8: x in [-8, 8).
    out_fmt:
        Unsigned output format (width <= 32); results above its range saturate.
        Default UQ12.12 (e**8 = 2981 fits).
    method:
        :class:`ExpMethod` (default LUT).
    base:
        :class:`ExpBase`: ``E`` computes e**x, ``TWO`` computes 2**x.
    lut_bits:
        LUT: index bits t, table of 2**t entries (1..12, at most ``internal_bits``).
    segments:
        PWL: number of segments, a power of two in 1..256 (at most ``2**internal_bits``).
    order:
        TAYLOR: even order n in 2..8.

        ``lut_bits``, ``segments`` and ``order`` must be integers whatever the method, but
        their ranges are checked only for the method that uses them.
    stages:
        Pipeline register stages (latency in cycles), 0..16; one result per cycle. The cut
        points and the order they are filled in: ``hwsim.hdl.exp.cut_points``.

    Derived: ``internal_bits`` R = max(F_in, F_out) + 4, ``const_bits`` C = R + 2.

    Every accepted configuration is computed exactly: :meth:`intermediate_bits` derives the
    largest magnitude of each intermediate from the formats and the constants, and the model
    runs in int64 when all of them fit 63 bits and in Python integers (numpy object arrays)
    otherwise (:attr:`wide`; IBERT from R = 31, PWL from R = 32 at s <= 2, any method once
    ``y`` or ``x * LOG2E`` passes 63 bits). TAYLOR is refused when its Horner products need more than 62
    bits (:attr:`taylor_product_bits`).
    """

    in_fmt: FixedFormat = FixedFormat(4, 8)
    out_fmt: FixedFormat = FixedFormat(12, 12, signed=False)
    method: ExpMethod = ExpMethod.LUT
    base: ExpBase = ExpBase.E
    lut_bits: int = 6
    segments: int = 8
    order: int = 4
    stages: int = 0

    stem = "exp"

    def __post_init__(self):
        o = "ExpParams"
        _check_format(o, "in_fmt", self.in_fmt, True, MAX_IN_WIDTH)
        _check_format(o, "out_fmt", self.out_fmt, False, MAX_OUT_WIDTH)
        _owner_check_enum(o, "method", self.method, ExpMethod)
        _owner_check_enum(o, "base", self.base, ExpBase)
        # method-specific fields: an integer always (they are in to_dict and the cache key),
        # their range only for the method that uses them
        for name in ("lut_bits", "segments", "order"):
            check_int(o, name, getattr(self, name))
        if self.method is ExpMethod.LUT:
            check_int(o, "lut_bits", self.lut_bits, 1, min(12, self.internal_bits))
        if self.method is ExpMethod.PWL:
            max_seg = min(256, 2 ** self.internal_bits)  # a segment spans >= 1 internal LSB
            check_int(o, "segments", self.segments, 1, max_seg)
            if self.segments & (self.segments - 1):
                raise ValueError(f"{o}.segments must be a power of two in 1..{max_seg}, "
                                 f"not {self.segments}")
        if self.method is ExpMethod.TAYLOR:
            check_int(o, "order", self.order, 2, 8)
            if self.order % 2:
                raise ValueError(f"{o}.order must be even (2, 4, 6 or 8): odd-order Taylor "
                                 f"polynomials of exp go negative, not {self.order}")
        check_int(o, "stages", self.stages, 0, MAX_STAGES)
        if self.method is ExpMethod.TAYLOR:
            bits = self.taylor_product_bits
            if bits > 62:
                raise ValueError(f"{o}.in_fmt must keep the order-{self.order} TAYLOR Horner "
                                 f"products within 62 bits (here {bits}; use fewer integer bits, "
                                 f"or fewer fraction bits in in_fmt or out_fmt), not {self.in_fmt}")

    # -- derived -------------------------------------------------------------------------
    @property
    def internal_bits(self) -> int:
        """R: fraction bits of every internal value."""
        return max(self.in_fmt.frac_bits, self.out_fmt.frac_bits) + GUARD_BITS

    @property
    def const_bits(self) -> int:
        """C: fraction bits of the quantised constants."""
        return self.internal_bits + CONST_EXTRA_BITS

    @property
    def input_bits(self) -> int:
        return self.in_fmt.width

    @property
    def out_width(self) -> int:
        return self.out_fmt.width

    @property
    def in_range(self) -> tuple[int, int]:
        return self.in_fmt.min_raw, self.in_fmt.max_raw + 1

    @property
    def top_name(self) -> str:
        f = self.in_fmt
        o = self.out_fmt
        name = (f"exp{'2' if self.base is ExpBase.TWO else ''}_{self.method.value}"
                f"{self._method_tag}_q{f.int_bits}_{f.frac_bits}_uq{o.int_bits}_{o.frac_bits}")
        if self.stages:
            name += f"_p{self.stages}"
        return name.replace("-", "m")

    @property
    def _method_tag(self) -> str:
        return {ExpMethod.LUT: f"{self.lut_bits}", ExpMethod.PWL: f"{self.segments}",
                ExpMethod.TAYLOR: f"{self.order}"}.get(self.method, "")

    # -- constants shared by the model and the HDL ---------------------------------------
    @property
    def log2e(self) -> int:
        return _round(math.log2(math.e) * 2 ** self.const_bits)

    @property
    def ln2(self) -> int:
        return _round(math.log(2) * 2 ** self.const_bits)

    def lut_table(self) -> list[int]:
        t, r = self.lut_bits, self.internal_bits
        return [_round(2 ** ((i + 0.5) / 2 ** t) * 2 ** r) for i in range(2 ** t)]

    def pwl_tables(self) -> tuple[list[int], list[int]]:
        s, r = self.segments, self.internal_bits
        a = [_round(2 ** (j / s) * 2 ** r) for j in range(s)]
        b = [_round(s * (2 ** ((j + 1) / s) - 2 ** (j / s)) * 2 ** r) for j in range(s)]
        return a, b

    def ibert_constants(self) -> tuple[int, int, int]:
        """``(A, B, Cc)``: 2a with C fraction bits, b and 2c with R fraction bits."""
        return (_round(2 * IBERT_A * 2 ** self.const_bits),
                _round(IBERT_B * 2 ** self.internal_bits),
                _round(2 * IBERT_C * 2 ** self.internal_bits))

    @property
    def taylor_clamp(self) -> int:
        """``ceil(t* * 2**R)``: the smallest Horner input (R fraction bits)."""
        return math.ceil(taylor_minimizer(self.order)[0] * 2 ** self.internal_bits)

    def taylor_inverses(self) -> list[int]:
        """``INV[k] = round(2**C / k)`` for k = 0..order (index 0 unused)."""
        return [0] + [_round(2 ** self.const_bits / k) for k in range(1, self.order + 1)]

    @property
    def taylor_t_max(self) -> float:
        """Largest Horner input ``t`` (real value)."""
        x = self.in_fmt.max_raw * self.in_fmt.lsb
        return x * math.log(2) if self.base is ExpBase.TWO else x

    @property
    def taylor_r_bits(self) -> int:
        """Signed width of every Horner accumulator (R fraction bits).

        For ``t >= 0`` each inner accumulator is at most ``f_n(t)`` (its coefficients are
        ``1 / (k (k+1) ...) <= 1 / j!``); for ``t* <= t < 0`` its magnitude is at most
        ``e**|t*|``. One more bit for rounding headroom and one for the sign.
        """
        bound = max(float(taylor_poly(max(self.taylor_t_max, 0.0), self.order)),
                    math.exp(-taylor_minimizer(self.order)[0]))
        return math.ceil(math.log2(bound + 1)) + self.internal_bits + 2

    @property
    def taylor_product_bits(self) -> int:
        """Bits of the widest Horner product ``t * r`` (signed)."""
        t_bits = self.in_fmt.int_bits + self.internal_bits + 1
        return t_bits + self.taylor_r_bits

    def intermediate_bits(self) -> dict[str, int]:
        """Largest magnitude of every model intermediate, as bits: ``{name: b}`` with
        ``|value| < 2**b`` over every input pattern (derived from the formats and the
        constants themselves, in Python integers). See ``docs/units/exp.md``."""
        return dict(_intermediate_bits(self))

    @property
    def wide(self) -> bool:
        """True when some intermediate needs more than 63 bits: the model then computes in
        Python integers (exact, slower) instead of int64."""
        return max(self.intermediate_bits().values()) > INT64_BITS


#: an int64 holds every integer of magnitude below 2**63
INT64_BITS = 63


def _bits(v: int) -> int:
    return abs(int(v)).bit_length()


@lru_cache(maxsize=1024)
def _intermediate_bits(p: ExpParams) -> tuple[tuple[str, int], ...]:
    """:meth:`ExpParams.intermediate_bits`, cached. Each bound is the step's formula applied
    to the extreme operands (every step is monotone in each operand over its range)."""
    r, c, fin = p.internal_bits, p.const_bits, p.in_fmt.frac_bits
    lo, hi = p.in_fmt.min_raw, p.in_fmt.max_raw
    b: dict[str, int] = {}
    if p.method is ExpMethod.TAYLOR:
        if p.base is ExpBase.E:
            t_lo, t_hi = lo << (r - fin), hi << (r - fin)
        else:
            b["x * LN2"] = _bits(lo * p.ln2)
            t_lo, t_hi = (lo * p.ln2) >> (fin + c - r), (hi * p.ln2) >> (fin + c - r)
        b["t"] = max(_bits(t_lo), _bits(t_hi))
        t_abs = max(abs(max(t, p.taylor_clamp)) for t in (t_lo, t_hi))  # after the clamp
        acc_abs = 1 << (p.taylor_r_bits - 1)             # the HDL's acc register: signed r_bits
        b["acc"] = p.taylor_r_bits - 1
        b["t * acc"] = _bits(t_abs * acc_abs)
        prod_abs = -((-t_abs * acc_abs) >> r)            # |floor(v / 2**R)| <= ceil(|v| / 2**R)
        b["prod * INV[k]"] = _bits(prod_abs * max(p.taylor_inverses()[2:], default=0))
        b["out"] = p.out_fmt.width
        return tuple(b.items())
    if p.base is ExpBase.E:
        b["x * LOG2E"] = _bits(lo * p.log2e)              # |lo| = 2**(W_in - 1) >= hi
    y_lo, y_hi = log2_domain(lo, p), log2_domain(hi, p)  # Python ints: exact
    b["y"] = max(_bits(y_lo), _bits(y_hi))
    b["f, 2**R"] = r + 1
    if p.method is ExpMethod.LUT:
        b["m"] = _bits(max(p.lut_table()))
    elif p.method is ExpMethod.PWL:
        sb = p.segments.bit_length() - 1
        a, bb = p.pwl_tables()
        u_max = (1 << (r - sb)) - 1
        b["B[j] * u"] = _bits(max(bb) * u_max)
        b["m"] = _bits(max(x + ((y * u_max) >> r) for x, y in zip(a, bb)))
    elif p.method is ExpMethod.MITCHELL:
        b["m"] = r + 1                                   # 2**R + f < 2**(R + 1)
    else:  # IBERT; q rises with f: q in [B - ceil(2**R LN2 / 2**C), B - 1], all positive
        ca, cb, cc = p.ibert_constants()
        b["(f - 2**R) * LN2"] = _bits((1 << r) * p.ln2)
        q_lo, q_hi = ((-(1 << r) * p.ln2) >> c) + cb, ((-p.ln2) >> c) + cb
        assert 0 < q_lo <= q_hi
        b["q * q"] = _bits(q_hi * q_hi)
        sq = (q_hi * q_hi) >> r
        b["A * sq"] = _bits(ca * sq)
        b["m"] = _bits(((ca * sq) >> c) + cc)
    # out = floor(m * 2**s) saturated: m << s is formed only where it stays <= out_fmt.max_raw
    b["out"] = p.out_fmt.width
    return tuple(b.items())


# -- model ------------------------------------------------------------------------------

def _operand(x, p: ExpParams):
    """``x`` as the model computes on it: unchanged (int64 or a Python int), or as Python
    integers (an object array) when the configuration is :attr:`ExpParams.wide`."""
    if isinstance(x, np.ndarray) and x.dtype != object and p.wide:
        return x.astype(object)
    return x


def log2_domain(x: np.ndarray, p: ExpParams) -> np.ndarray:
    """Step 1: ``y`` = x in base-2 exponent units, R fraction bits, floor (int64, or Python
    integers for a wide configuration)."""
    r, fin = p.internal_bits, p.in_fmt.frac_bits
    x = _operand(x, p)
    if p.base is ExpBase.TWO:
        return x << (r - fin)
    return (x * p.log2e) >> (fin + p.const_bits - r)


def mantissa(f: np.ndarray, p: ExpParams) -> np.ndarray:
    """Step 3: ``m ~ 2**f`` with R fraction bits, for the range-reduced methods."""
    r = p.internal_bits
    f = _operand(f, p)
    dtype = object if p.wide else np.int64
    if p.method is ExpMethod.LUT:
        idx = np.asarray(f >> (r - p.lut_bits), dtype=np.int64)
        return np.asarray(p.lut_table(), dtype=dtype)[idx]
    if p.method is ExpMethod.PWL:
        sb = p.segments.bit_length() - 1
        a, b = (np.asarray(t, dtype=dtype) for t in p.pwl_tables())
        j = np.asarray(f >> (r - sb), dtype=np.int64)
        u = f & ((1 << (r - sb)) - 1)
        return a[j] + ((b[j] * u) >> r)
    if p.method is ExpMethod.MITCHELL:
        return (1 << r) + f
    if p.method is ExpMethod.IBERT:
        a, b, c = p.ibert_constants()
        q = (((f - (1 << r)) * p.ln2) >> p.const_bits) + b
        return ((a * ((q * q) >> r)) >> p.const_bits) + c
    raise AssertionError(p.method)


def taylor_horner(x: np.ndarray, p: ExpParams) -> np.ndarray:
    """TAYLOR: clamped Horner evaluation of ``f_n``, R fraction bits."""
    r, fin, c = p.internal_bits, p.in_fmt.frac_bits, p.const_bits
    x = _operand(x, p)
    t = x << (r - fin) if p.base is ExpBase.E else (x * p.ln2) >> (fin + c - r)
    t = np.maximum(t, p.taylor_clamp)
    inv = p.taylor_inverses()
    acc = np.full_like(t, 1 << r)
    for k in range(p.order, 0, -1):
        prod = (t * acc) >> r
        acc = (1 << r) + (prod if k == 1 else (prod * inv[k]) >> c)
    return acc


def exp_fixed(x, params: ExpParams) -> np.ndarray:
    """Raw ``out_fmt`` patterns (int64) of the unit's e**x or 2**x for raw ``in_fmt`` ``x``."""
    if not isinstance(params, ExpParams):
        raise TypeError(f"exp_fixed: params must be ExpParams, not {type(params).__name__}")
    x = _operand(params.in_fmt.check_raw("exp_fixed", "x", x), params)
    r, fout, top = params.internal_bits, params.out_fmt.frac_bits, params.out_fmt.max_raw
    if params.method is ExpMethod.TAYLOR:
        out = np.clip(taylor_horner(x, params) >> (r - fout), 0, top)
        return np.asarray(out, dtype=np.int64)[()]  # [()]: a scalar input gives a scalar
    y = log2_domain(x, params)
    n = y >> r
    m = mantissa(y & ((1 << r) - 1), params)
    s = np.asarray(n + (fout - r), dtype=np.int64)  # |s| <= |n| + R + F_out: small
    # floor(m * 2**s), saturated. Left (s > 0): m * 2**s > top exactly when m > top >> s, so
    # the shift is only formed where it stays <= top. Right: m < 2**b (b = the "m" entry of
    # intermediate_bits, <= 63 in int64), so a shift of b or more (capped there) gives 0.
    left = np.clip(s, 0, INT64_BITS)
    right = np.clip(-s, 0, params.intermediate_bits()["m"])
    sat = (s > 0) & (m > np.right_shift(top, left))
    out = np.where(sat, top, np.minimum((m << np.where(sat, 0, left)) >> right, top))
    return np.asarray(out, dtype=np.int64)[()]


def exp_real(x, params: ExpParams) -> np.ndarray:
    """The exact value the unit approximates, e**x or 2**x of the real inputs (float64)."""
    check_instance("exp_real", "params", params, ExpParams)
    v = params.in_fmt.to_float(params.in_fmt.check_raw("exp_real", "x", x))
    return np.exp2(v) if params.base is ExpBase.TWO else np.exp(v)


def antilog_ratio_range(params: ExpParams) -> tuple[float, float]:
    """Proven range of ``m / 2**f`` (the mantissa over the exact ``2**f``) of a
    range-reduced method, before any rounding; the whole unit adds its roundings to it.

    LUT (midpoints): ``2**(+-1/2**(t+1))``. PWL (chords of the convex ``2**f``, segment
    width h, slope ``c = (2**h - 1)/h``): ``[1, c 2**(1/c) / (e ln 2)]``; MITCHELL is PWL with
    one segment, ``[1, 2/(e ln 2)] = [1, 1.0615]``. IBERT: the range of
    ``(a (p + b)**2 + c) / e**p`` over ``p in [-ln 2, 0]`` (evaluated on a fine grid; the
    ratio is smooth with one interior extremum). TAYLOR has no such ratio (ValueError).
    """
    check_instance("antilog_ratio_range", "params", params, ExpParams)
    m = params.method
    if m is ExpMethod.LUT:
        r = 2.0 ** (1 / 2 ** (params.lut_bits + 1))
        return 1 / r, r
    if m in (ExpMethod.PWL, ExpMethod.MITCHELL):
        h = 1 / (params.segments if m is ExpMethod.PWL else 1)
        c = (2 ** h - 1) / h
        return 1.0, c * 2 ** (1 / c) / (math.e * math.log(2))
    if m is ExpMethod.IBERT:
        p = np.linspace(-math.log(2), 0, 200_001)
        ratio = (IBERT_A * (p + IBERT_B) ** 2 + IBERT_C) / np.exp(p)
        return float(ratio.min()), float(ratio.max())
    raise ValueError("antilog_ratio_range: TAYLOR evaluates exp directly; it has no antilog ratio")
