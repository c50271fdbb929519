"""Float multipliers and divider on bit patterns: Mitchell, L-Mul and exact (bit-accurate numpy).

Every function here takes and returns **raw bit patterns** (int64 arrays) of one of five
binary float formats (:class:`FloatType`): IEEE binary32 ``fp32``, bfloat16 ``bf16``, IEEE
binary16 ``fp16`` and the OCP 8-bit formats ``e4m3`` and ``e5m2``. The HDL
(``hwsim.hdl.float_mul``) meets these semantics bit for bit; ``docs/units/float.md`` has the
worked numbers and the cost.

Notation: a W-bit pattern is ``sign | magnitude``; the magnitude ``|A| = E << M | F`` with E
exponent bits, M mantissa bits, bias ``2**(E-1) - 1``; ``ONE`` is the pattern of 1.0
(``bias << M``).

Operand classes (every format, both units):

* **zero**: exponent field 0; subnormals count as zero (denormals-are-zero);
* **inf**: ``|A|`` = the infinity pattern (all-ones exponent, zero mantissa); e4m3 has none;
* **NaN**: all-ones exponent and non-zero mantissa; in e4m3 only ``S.1111.111``;
* **normal**: everything else.

Magnitude of a normal x normal product (``method``):

* ``mitchell``: ``u = |A| + |B| - ONE`` -- adding the patterns adds the exponents and the
  mantissa fields, a mantissa carry moving into the exponent: Mitchell's log/antilog on the
  float's own ``(k, x)``;
* ``lmul``: ``u = |A| + |B| - ONE + 2**(M - l(M))`` with ``l(m) = m`` for ``m <= 3``, 3 for
  ``m == 4`` and 4 for ``m > 4``: L-Mul (Luo and Sun, "Addition is All You Need for
  Energy-efficient Language Models", arXiv:2410.00907, 2024), whose mantissa is
  ``1 + x + y + 2**-l(m)``; the offset is added in the mantissa field, so it carries into the
  exponent like the fields themselves (the sum as L-Mul hardware forms it);
* ``lmul-paper``: the paper's formula read literally, ``(1 + x + y + 2**-l(m)) * 2**(ea+eb)``
  rounded to the format: the significand ``S = 2**M + F_a + F_b + 2**(M - l(M))`` (in
  ``[2**M, 3 * 2**M)``), ``n = S >= 2**(M+1)``; ``q = S >> n`` rounded to nearest, ties to
  even, on the ``n`` dropped bit; ``u = ((E_a + E_b - bias + n) << M) + q - 2**M``. Without a
  mantissa carry (``F_a + F_b + offset < 2**M``) it equals ``lmul``; with one, ``lmul`` reads
  the carried sum as ``(x + y + 2**-l(m)) * 2**(ea+eb+1)`` (the fraction field wraps) and the
  formula as ``(1 + x + y + 2**-l(m)) * 2**(ea+eb)`` -- the two agree only when
  ``x + y + 2**-l(m) = 1`` exactly;
* ``exact``: the correctly rounded product. With ``s = 2**M + F`` per operand,
  ``P = s_a * s_b`` (in ``[2**2M, 2**(2M+2))``), ``n = P >= 2**(2M+1)``; ``q = P >> (M + n)``
  rounded to nearest, ties to even, on the ``M + n`` dropped bits (``q`` may become
  ``2**(M+1)``); ``u = ((E_a + E_b - bias + n) << M) + q - 2**M``. This is rounding with an
  unbounded exponent range, so underflow and overflow below are decided *after* rounding.

Divider (Mitchell only): ``u = |A| - |B| + ONE``.

Result for normal operands, sign = XOR of the signs:

* ``u < 2**M`` (below the smallest normal): flush to ``+-0``;
* ``u >`` the largest finite pattern: ``+-inf``; in e4m3 (no infinities) ``+-448``, the
  largest finite value (saturation, the OCP spec's saturating mode);
* otherwise ``sign | u``.

Special cases (override the above): NaN in gives NaN out; multiplier: 0 x inf = NaN,
inf x non-zero = +-inf, 0 x finite = +-0; divider: 0/0 = NaN, inf/inf = NaN, x/0 = +-inf,
inf/finite = +-inf, 0/x = +-0, finite/inf = +-0. In e4m3 every +-inf result is +-448
(x/0 = +-448). Every NaN result is the canonical quiet NaN, sign bit clear: ``inf | 2**(M-1)``
(``0x7FC00000``, ``0x7FC0``, ``0x7E00``, ``0x7E`` for e5m2) and ``0x7F`` in e4m3.

Widths: the largest intermediate is the exact method's significand product
``P < 2**(2M+2) <= 2**48`` (fp32); every ``u`` lies in ``(-2**W, 2**(W+1))``, at most 33 bits
plus sign for fp32; all exact in int64 (the HDL holds ``u`` in W+3 signed bits).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from hwsim._check import check_int, int_operand, operand_pair, real_operand
from hwsim.params import UnitParams

__all__ = ["FloatType", "FloatMethod", "FloatMulParams", "FloatDivParams", "float_mul",
           "float_div", "float_bits", "float_values", "float_encode", "lmul_offset",
           "float_corners", "float_pairs"]

MAX_STAGES = 8


class FloatType(enum.Enum):
    """The binary float formats of the bit-pattern units."""

    FP32 = "fp32"
    """IEEE binary32: 8 exponent bits, 23 mantissa bits."""
    BF16 = "bf16"
    """bfloat16: 8 exponent bits, 7 mantissa bits."""
    FP16 = "fp16"
    """IEEE binary16: 5 exponent bits, 10 mantissa bits."""
    E4M3 = "e4m3"
    """OCP FP8 E4M3 ("FN"): no infinities, NaN = S.1111.111 only, largest finite 448."""
    E5M2 = "e5m2"
    """OCP FP8 E5M2: IEEE-like, infinities and NaNs."""

    @property
    def bits(self) -> int:
        return {"fp32": 32, "bf16": 16, "fp16": 16, "e4m3": 8, "e5m2": 8}[self.value]

    @property
    def exp_bits(self) -> int:
        return {"fp32": 8, "bf16": 8, "fp16": 5, "e4m3": 4, "e5m2": 5}[self.value]

    @property
    def man_bits(self) -> int:
        return self.bits - 1 - self.exp_bits

    @property
    def bias(self) -> int:
        return (1 << (self.exp_bits - 1)) - 1

    @property
    def one(self) -> int:
        """Bit pattern of 1.0."""
        return self.bias << self.man_bits

    @property
    def sign_bit(self) -> int:
        return 1 << (self.bits - 1)

    @property
    def min_normal(self) -> int:
        return 1 << self.man_bits

    @property
    def has_inf(self) -> bool:
        return self is not FloatType.E4M3

    @property
    def inf(self) -> int | None:
        """The infinity magnitude pattern (``None`` for e4m3)."""
        return ((1 << self.exp_bits) - 1) << self.man_bits if self.has_inf else None

    @property
    def max_finite(self) -> int:
        """Largest finite magnitude pattern (e4m3: ``0x7E`` = 448)."""
        return self.inf - 1 if self.has_inf else self.sign_bit - 2

    @property
    def huge(self) -> int:
        """The magnitude of an overflowing result: inf, or e4m3's largest finite value."""
        return self.inf if self.has_inf else self.max_finite

    @property
    def nan(self) -> int:
        """The canonical quiet NaN every NaN result is."""
        return self.inf | (1 << (self.man_bits - 1)) if self.has_inf else self.sign_bit - 1


class FloatMethod(enum.Enum):
    """How the float multiplier forms the product's magnitude."""

    MITCHELL = "mitchell"
    """``|A| + |B| - ONE``: Mitchell's approximation (product / exact in [8/9, 1])."""
    LMUL = "lmul"
    """``|A| + |B| - ONE + 2**(M - l(M))``: L-Mul (Luo and Sun, arXiv:2410.00907) as hardware
    adds the bit patterns (a mantissa carry goes into the exponent)."""
    LMUL_PAPER = "lmul-paper"
    """The L-Mul paper's formula read literally: ``(1 + x + y + 2**-l(m)) * 2**(ea+eb)``,
    normalised and rounded to nearest even; differs from ``lmul`` where the mantissa sum
    carries."""
    EXACT = "exact"
    """The product rounded to nearest even: the cost and accuracy baseline."""


def lmul_offset(fmt: FloatType) -> int:
    """L-Mul's ``2**-l(m)`` in mantissa LSBs: ``2**(M - l(M))``, l(m) = m (m <= 3), 3 (m = 4),
    4 (m > 4)."""
    _check_fmt("lmul_offset", fmt)
    m = fmt.man_bits
    ell = m if m <= 3 else (3 if m == 4 else 4)
    return 1 << (m - ell)


def _check_fmt(owner: str, fmt):
    if not isinstance(fmt, FloatType):
        raise TypeError(f"{owner}.fmt must be a FloatType "
                        f"({', '.join(f.value for f in FloatType)}), not {fmt!r}")


class _FloatPatternParams(UnitParams):
    """Ports shared by the float units: both operands and the result are ``fmt`` bit patterns
    (unsigned ports, sign-magnitude inside); ``top_name`` is ``stem``, the name parts, then
    ``_pK`` for K pipeline stages."""

    fmt: FloatType
    stages: int

    def _name_parts(self) -> tuple[str, ...]:
        return (self.fmt.value,)

    @property
    def width(self) -> int:
        return self.fmt.bits

    @property
    def signed(self) -> bool:
        """``False``: operands are unsigned bit patterns (sign-magnitude inside)."""
        return False

    @property
    def out_width(self) -> int:
        return self.fmt.bits

    @property
    def input_bits(self) -> int:
        return 2 * self.fmt.bits

    @property
    def in_range(self) -> tuple[int, int]:
        return 0, 1 << self.fmt.bits

    @property
    def top_name(self) -> str:
        name = "_".join((self.stem, *self._name_parts()))
        return f"{name}_p{self.stages}" if self.stages else name


@dataclass(frozen=True)
class FloatMulParams(_FloatPatternParams):
    """Float multiplier on bit patterns (see the module docstring for the bit semantics).

    Parameters
    ----------
    fmt:
        The float format of both operands and the product.
    method:
        mitchell (add the patterns), lmul (add the patterns and L-Mul's offset, as hardware
        does), lmul-paper (L-Mul's formula 1 + x + y + 2^-l(m) read literally, rounded) or
        exact (rounded to nearest even); same special-case rules for all.
    stages:
        Pipeline register stages (latency in cycles), 0..8; 0 is combinational.
    """

    fmt: FloatType = FloatType.BF16
    method: FloatMethod = FloatMethod.MITCHELL
    stages: int = 0

    stem = "float_mul"

    def __post_init__(self):
        _check_fmt("FloatMulParams", self.fmt)
        if not isinstance(self.method, FloatMethod):
            raise TypeError(f"FloatMulParams.method must be a FloatMethod "
                            f"({', '.join(m.value for m in FloatMethod)}), not {self.method!r}")
        check_int("FloatMulParams", "stages", self.stages, 0, MAX_STAGES)

    def _name_parts(self) -> tuple[str, ...]:
        return (self.fmt.value, self.method.value.replace("-", "_"))


@dataclass(frozen=True)
class FloatDivParams(_FloatPatternParams):
    """Mitchell float divider on bit patterns: ``|A| - |B| + ONE`` (module docstring).

    Parameters
    ----------
    fmt:
        The float format of both operands and the quotient.
    stages:
        Pipeline register stages (latency in cycles), 0..8; 0 is combinational.
    """

    fmt: FloatType = FloatType.BF16
    stages: int = 0

    stem = "float_div"

    def __post_init__(self):
        _check_fmt("FloatDivParams", self.fmt)
        check_int("FloatDivParams", "stages", self.stages, 0, MAX_STAGES)


# -- the bit semantics ------------------------------------------------------------------------

def _classes(mag: np.ndarray, fmt: FloatType):
    """(nan, inf, zero) masks of magnitude patterns."""
    if fmt.has_inf:
        nan, inf = mag > fmt.inf, mag == fmt.inf
    else:
        nan, inf = mag == fmt.nan, np.zeros(mag.shape, dtype=bool)
    return nan, inf, mag < fmt.min_normal


def _exact_magnitude(ma: np.ndarray, mb: np.ndarray, fmt: FloatType) -> np.ndarray:
    """``u`` of the correctly rounded product of normal magnitudes (module docstring)."""
    m = fmt.man_bits
    frac = (1 << m) - 1
    sa, sb = (ma & frac) | (1 << m), (mb & frac) | (1 << m)
    p = sa * sb  # < 2**(2M+2) <= 2**48
    n = p >> (2 * m + 1)
    sh = m + n
    q = p >> sh
    r = p & ((np.int64(1) << sh) - 1)
    half = np.int64(1) << (sh - 1)
    q = q + ((r > half) | ((r == half) & ((q & 1) == 1)))
    return (((ma >> m) + (mb >> m) - fmt.bias + n) << m) + q - (1 << m)


def _lmul_paper_magnitude(ma: np.ndarray, mb: np.ndarray, fmt: FloatType) -> np.ndarray:
    """``u`` of ``(1 + x + y + 2**-l(m)) * 2**(ea+eb)`` rounded (module docstring)."""
    m = fmt.man_bits
    frac = (1 << m) - 1
    s = (1 << m) + (ma & frac) + (mb & frac) + lmul_offset(fmt)  # < 3 * 2**M
    n = s >> (m + 1)
    q = s >> n
    q = q + (n & s & (q & 1))  # the dropped bit is a tie: round to even
    return (((ma >> m) + (mb >> m) - fmt.bias + n) << m) + q - (1 << m)


def float_bits(a: np.ndarray, b: np.ndarray, fmt: FloatType, method: FloatMethod,
               divide: bool = False) -> np.ndarray:
    """The unit's result patterns for operand patterns in ``[0, 2**W)`` (broadcast against
    each other): the shared core of :func:`float_mul`, :func:`float_div` and
    ``hwsim.mitchell.mitchell_mul_float`` / ``mitchell_div_float``. ``divide`` takes the
    Mitchell quotient (``method`` must then be MITCHELL). Refuses what :func:`float_mul`
    refuses."""
    _check_fmt("float_bits", fmt)
    if not isinstance(method, FloatMethod):
        raise TypeError(f"float_bits: method must be a FloatMethod "
                        f"({', '.join(m.value for m in FloatMethod)}), not {method!r}")
    if not isinstance(divide, (bool, np.bool_)):
        raise TypeError(f"float_bits: divide must be a bool, not {divide!r}")
    a, b = _operands("float_bits", a, b, fmt)
    return _float_bits(a, b, fmt, method, bool(divide))


def _float_bits(a: np.ndarray, b: np.ndarray, fmt: FloatType, method: FloatMethod,
                divide: bool = False) -> np.ndarray:
    """:func:`float_bits` on int64 patterns already checked and broadcast."""
    mag_mask = fmt.sign_bit - 1
    sign = (a ^ b) & fmt.sign_bit
    ma, mb = a & mag_mask, b & mag_mask
    a_nan, a_inf, a_zero = _classes(ma, fmt)
    b_nan, b_inf, b_zero = _classes(mb, fmt)
    if divide:
        if method is not FloatMethod.MITCHELL:
            raise ValueError(f"float_bits: the divider is Mitchell only, not {method.value}")
        u = ma - mb + fmt.one
        nan = a_nan | b_nan | (a_zero & b_zero) | (a_inf & b_inf)
        to_huge, to_zero = b_zero | a_inf, a_zero | b_inf
    else:
        if method is FloatMethod.EXACT:
            u = _exact_magnitude(ma, mb, fmt)
        elif method is FloatMethod.LMUL_PAPER:
            u = _lmul_paper_magnitude(ma, mb, fmt)
        else:
            u = ma + mb - fmt.one + (lmul_offset(fmt) if method is FloatMethod.LMUL else 0)
        nan = a_nan | b_nan | (a_zero & b_inf) | (a_inf & b_zero)
        to_huge, to_zero = a_inf | b_inf, a_zero | b_zero
    mag = np.where(u < fmt.min_normal, 0, np.where(u > fmt.max_finite, fmt.huge, u))
    mag = np.where(to_zero, 0, np.where(to_huge, fmt.huge, mag))
    return np.where(nan, fmt.nan, sign | mag).astype(np.int64)


def _operands(func: str, a, b, fmt: FloatType):
    what = f"for {fmt.value} bit patterns"
    return operand_pair(func, a, b, 0, 1 << fmt.bits, what)


def float_mul(a, b, params: FloatMulParams) -> np.ndarray:
    """Product patterns (int64) of operand bit patterns ``a``, ``b`` in ``[0, 2**W)``.

    ``a`` and ``b`` broadcast against each other. Raises ``TypeError`` for non-integer
    operands and ``ValueError`` for patterns outside the format's range or shapes that do not
    broadcast."""
    if not isinstance(params, FloatMulParams):
        raise TypeError(f"float_mul: params must be a FloatMulParams, not {params!r}")
    a, b = _operands("float_mul", a, b, params.fmt)
    return _float_bits(a, b, params.fmt, params.method)


def float_div(a, b, params: FloatDivParams) -> np.ndarray:
    """Mitchell quotient patterns (int64) of operand bit patterns (as :func:`float_mul`)."""
    if not isinstance(params, FloatDivParams):
        raise TypeError(f"float_div: params must be a FloatDivParams, not {params!r}")
    a, b = _operands("float_div", a, b, params.fmt)
    return _float_bits(a, b, params.fmt, FloatMethod.MITCHELL, divide=True)


def float_values(bits, fmt: FloatType) -> np.ndarray:
    """float64 values of bit patterns (exact; subnormals with their true value, NaN, +-inf).

    Raises ``TypeError`` for a non-FloatType ``fmt`` or non-integer ``bits`` (a float is not a
    pattern) and ``ValueError`` for patterns outside ``[0, 2**W)``, as :func:`float_mul`."""
    _check_fmt("float_values", fmt)
    x = int_operand("float_values", "bits", bits, 0, 1 << fmt.bits,
                    f"for {fmt.value} bit patterns")
    m = fmt.man_bits
    mag = x & (fmt.sign_bit - 1)
    e, f = mag >> m, mag & ((1 << m) - 1)
    val = np.where(e == 0, np.ldexp(f.astype(np.float64), 1 - fmt.bias - m),
                   np.ldexp((f + (1 << m)).astype(np.float64), e - fmt.bias - m))
    nan, inf, _ = _classes(mag, fmt)
    val = np.where(inf, np.inf, np.where(nan, np.nan, val))
    return np.where(x & fmt.sign_bit, -val, val)


def float_encode(x, fmt: FloatType) -> np.ndarray:
    """Bit patterns (int64) of real values ``x`` (any shape, converted to float64) in ``fmt``,
    with the unit's own conventions, so that an encoded operand is one the unit treats as the
    value it stands for:

    * **rounding**: to the nearest value with M + 1 significant bits, ties to even, with an
      unbounded exponent range (as the exact method rounds its product);
    * **underflow**: a result below the smallest normal *after* that rounding is flushed to
      ``+-0`` with the sign of ``x`` (no subnormal patterns: the unit reads them as zero);
    * **overflow**: a result above the largest finite value after rounding is ``+-inf``, in
      e4m3 ``+-448`` (saturation, as the unit); ``+-inf`` inputs likewise;
    * NaN gives the canonical NaN (:attr:`FloatType.nan`).

    Every finite float64 is converted exactly as described (``frexp`` / ``rint`` on float64
    are exact for the at most 24 significant bits kept). Raises ``TypeError`` for a
    non-FloatType ``fmt`` and for non-real ``x``."""
    _check_fmt("float_encode", fmt)
    x = np.asarray(real_operand("float_encode", "x", x), dtype=np.float64)
    m = fmt.man_bits
    sign = np.where(np.signbit(x), fmt.sign_bit, 0).astype(np.int64)
    mant, e = np.frexp(np.abs(x))           # |x| = mant 2**e, mant in [0.5, 1) (0 for 0)
    finite = np.isfinite(x) & (mant > 0)
    q = np.rint(np.ldexp(np.where(finite, mant, 0.5), m + 1)).astype(np.int64)  # RNE
    carry = q >> (m + 1)                    # rounded up to 2**(M+1)
    q, e = q >> carry, e.astype(np.int64) + carry
    ebias = np.clip(e - 1 + fmt.bias, 0, (1 << fmt.exp_bits) + 1)  # clipped: no wrap
    u = (ebias << m) + q - (1 << m)
    mag = np.where(u < fmt.min_normal, 0, np.where(u > fmt.max_finite, fmt.huge, u))
    mag = np.where(finite, mag, np.where(np.isinf(x), fmt.huge, 0))
    return np.where(np.isnan(x), fmt.nan, sign | mag).astype(np.int64)


# -- test vectors ------------------------------------------------------------------------------

def float_corners(fmt: FloatType) -> np.ndarray:
    """Patterns hardware breaks on, both signs: zero, subnormals, the smallest normals, 1.0
    and its neighbours, the exponents where sums cross the flush and overflow thresholds
    (each with mantissas 0, 1, half, all ones), the largest finite, inf and NaNs."""
    _check_fmt("float_corners", fmt)
    m, emax = fmt.man_bits, (1 << fmt.exp_bits) - 1
    bias = fmt.bias
    exps = {0, 1, 2, bias // 2, bias // 2 + 1, bias // 2 + 2, bias - 1, bias, bias + 1,
            (bias + emax) // 2 - 1, (bias + emax) // 2, (bias + emax) // 2 + 1, emax - 2,
            emax - 1, emax}
    fracs = {0, 1, 1 << (m - 1), (1 << (m - 1)) - 1, (1 << (m - 1)) + 1, (1 << m) - 1, (1 << m) - 2}
    mags = {(e << m) | f for e in exps if 0 <= e <= emax for f in fracs}
    mags |= {fmt.max_finite, fmt.max_finite - 1, fmt.nan}
    mags = {v for v in mags if v < fmt.sign_bit}
    return np.array(sorted(mags | {v | fmt.sign_bit for v in mags}), dtype=np.int64)


def float_pairs(fmt: FloatType, count: int | None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Operand pattern pairs: every pair (``count=None``; 8-bit formats only), else every pair
    of :func:`float_corners` followed by ``count`` seeded uniform random patterns."""
    _check_fmt("float_pairs", fmt)
    if count is not None:
        check_int("float_pairs", "count", count, 0)
    check_int("float_pairs", "seed", seed, 0)
    hi = 1 << fmt.bits
    if count is None:
        if fmt.bits > 8:
            raise ValueError(f"exhaustive vectors are limited to the 8-bit formats "
                             f"(2**16 pairs), not {fmt.value}; give a count")
        a, b = np.meshgrid(np.arange(hi), np.arange(hi), indexing="ij")
        return a.ravel().astype(np.int64), b.ravel().astype(np.int64)
    c = float_corners(fmt)
    ca, cb = (x.ravel() for x in np.meshgrid(c, c, indexing="ij"))
    rng = np.random.default_rng(seed)
    ra = rng.integers(0, hi, count, dtype=np.int64)
    rb = rng.integers(0, hi, count, dtype=np.int64)
    return np.concatenate([ca, ra]), np.concatenate([cb, rb])
