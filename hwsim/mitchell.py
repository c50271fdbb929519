"""Mitchell logarithmic multiplier and divider: bit-accurate numpy models.

Mitchell (1962) approximates ``log2(2**k * (1 + x)) ~ k + x`` for the leading-one
position ``k`` and the fraction ``x in [0, 1)``, so a product becomes a sum of
logarithms and a quotient a difference, followed by the inverse approximation
``2**(k + x) ~ 2**k * (1 + x)``. The product is never above the exact one and
``product / exact`` lies in ``[8/9, 1]`` (minimum at ``x_a = x_b = 1/2``); the
real-valued quotient lies in ``[1, 9/8]`` times the exact one.

The integer semantics below are the specification the HDL (``hwsim.hdl.mitchell``)
meets bit for bit; see ``docs/units/mitchell.md`` for a worked example.

Multiplier, width N (``MitchellMulParams``): inputs ``a, b`` in ``[0, 2**N)``, output
``p`` in ``[0, 2**(2N))``:

1. ``a == 0`` or ``b == 0``: ``p = 0``.
2. ``k`` = leading-one position (0..N-1); fraction ``f = (a - 2**k) << (N-1-k)``, an
   exact (N-1)-bit fraction.
3. Mitch-w: with ``keep_bits = w`` clear the low ``N-1-w`` bits of each ``f``.
4. ``s = f_a + f_b``; no carry (``s < 2**(N-1)``): ``m = 2**(N-1) + s``, ``e = k_a + k_b``;
   carry: ``m = s``, ``e = k_a + k_b + 1``.
5. ``p = floor(m * 2**(e - (N-1)))`` (a left shift or a truncating right shift).

Signed: two's complement inputs; steps 1-5 on the magnitudes, negated when the signs
differ; ``p`` is a 2N-bit two's complement value.

Divider (``MitchellDivParams``): inputs ``a, b`` in ``[0, 2**N)``; output ``q`` in
``[0, 2**(N+F))`` meaning ``q / 2**F`` and ``div_by_zero``:

1. ``b == 0``: ``q = 2**(N+F) - 1``, ``div_by_zero = 1``; else ``a == 0``: ``q = 0``.
2. ``k``, ``f`` and truncation as for the multiplier.
3. ``d = f_a - f_b``; ``d >= 0``: ``m = 2**(N-1) + d``, ``e = k_a - k_b``; else
   ``m = 2**N + d``, ``e = k_a - k_b - 1``.
4. ``q = floor(m * 2**(e + F - (N-1)))``, saturated to N+F bits.

Float bit trick (``mitchell_mul_float`` / ``mitchell_div_float``): adding the bit
patterns of two IEEE floats adds their exponents and, to first order, their
logarithms; see :func:`mitchell_mul_float`.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from hwsim._check import (
    as_array, broadcast, check_bool, check_int, int_operand, is_int, operand_pair,
    real_operand,
)
from hwsim.float_mul import FloatMethod, FloatType
from hwsim.float_mul import _float_bits as float_bits
from hwsim.params import MultiplierParams, UnitParams

__all__ = [
    "MitchellMulParams", "MitchellDivParams", "mitchell_mul", "mitchell_div",
    "FloatFormat", "mitchell_mul_float", "mitchell_div_float",
    "bf16_from_float", "bf16_to_float", "leading_one", "log_fraction",
]

MAX_STAGES = 8
#: int64 operand arrays at least this large go through one fused compiled loop
#: (``hwsim.mitchell_kernels.mul_elementwise``; its speed-up: benchmarks/results.md), which
#: tests/test_mitchell_model.py checks against :func:`mitchell_mul_numpy`
FAST_PATH_MIN_SIZE = 1 << 12


def _check_keep_bits(owner: str, keep_bits, width: int):
    if keep_bits is None:
        return
    if not is_int(keep_bits):
        raise TypeError(f"{owner}.keep_bits must be None or an integer in 0..{width - 2}, "
                        f"not {keep_bits!r}")
    if not 0 <= keep_bits <= width - 2:
        raise ValueError(f"{owner}.keep_bits must be None or an integer in 0..{width - 2}, "
                         f"not {keep_bits!r}")


@dataclass(frozen=True)
class MitchellMulParams(MultiplierParams):
    """Mitchell multiplier parameters.

    Parameters
    ----------
    width:
        Operand width N, 2..32. The product has 2N bits.
    signed:
        Two's complement operands and product (sign-magnitude around an unsigned core).
    keep_bits:
        Mitch-w truncation: keep the top ``w`` of the N-1 fraction bits (0..N-2);
        ``None`` keeps all of them.
    stages:
        Pipeline register stages (latency in cycles), 0..8; 0 is combinational.
    """

    width: int = 8
    signed: bool = False
    keep_bits: int | None = None
    stages: int = 0

    stem = "mitchell_mul"

    def __post_init__(self):
        check_int("MitchellMulParams", "width", self.width, 2, 32)
        check_bool("MitchellMulParams", "signed", self.signed)
        _check_keep_bits("MitchellMulParams", self.keep_bits, self.width)
        check_int("MitchellMulParams", "stages", self.stages, 0, MAX_STAGES)

    @property
    def top_name(self) -> str:
        name = f"mitchell_mul_{'s' if self.signed else 'u'}{self.width}"
        if self.keep_bits is not None:
            name += f"_k{self.keep_bits}"
        if self.stages:
            name += f"_p{self.stages}"
        return name


@dataclass(frozen=True)
class MitchellDivParams(UnitParams):
    """Mitchell divider parameters (unsigned).

    Parameters
    ----------
    width:
        Operand width N, 2..32.
    frac_bits:
        Fraction bits F of the quotient, 0..32 with N + F <= 64; the quotient has N+F bits.
    keep_bits:
        Mitch-w truncation of the fractions, as for the multiplier.
    stages:
        Pipeline register stages (latency in cycles), 0..8.
    """

    width: int = 8
    frac_bits: int = 8
    keep_bits: int | None = None
    stages: int = 0

    stem = "mitchell_div"

    def __post_init__(self):
        check_int("MitchellDivParams", "width", self.width, 2, 32)
        check_int("MitchellDivParams", "frac_bits", self.frac_bits, 0, min(32, 64 - self.width))
        _check_keep_bits("MitchellDivParams", self.keep_bits, self.width)
        check_int("MitchellDivParams", "stages", self.stages, 0, MAX_STAGES)

    @property
    def signed(self) -> bool:
        return False

    @property
    def out_width(self) -> int:
        return self.width + self.frac_bits

    @property
    def input_bits(self) -> int:
        return 2 * self.width

    @property
    def in_range(self) -> tuple[int, int]:
        return 0, 1 << self.width

    @property
    def top_name(self) -> str:
        name = f"mitchell_div_u{self.width}_f{self.frac_bits}"
        if self.keep_bits is not None:
            name += f"_k{self.keep_bits}"
        if self.stages:
            name += f"_p{self.stages}"
        return name


# -- integer models -------------------------------------------------------------------------

def leading_one(x: np.ndarray) -> np.ndarray:
    """Position of the leading one of non-negative integers below 2**53 (0 for x = 0)."""
    x = int_operand("leading_one", "x", x, 0, 1 << 53, "(below 2**53)")
    _, exp = np.frexp(x.astype(np.float64))  # exact for x < 2**53
    return np.maximum(exp.astype(np.int64) - 1, 0)


def log_fraction(x: np.ndarray, width: int, keep_bits: int | None):
    """Mitchell's log2 of N-bit magnitudes: ``(k, f)`` with ``f`` the (N-1)-bit fraction.

    Steps 2 and 3 of the specification: ``f = (x - 2**k) << (N-1-k)``, then the low
    ``N-1-keep_bits`` bits cleared when ``keep_bits`` is given. ``x = 0`` gives (0, 0).
    """
    width = check_int("log_fraction", "width", width, 1, 62)
    if keep_bits is not None:
        check_int("log_fraction", "keep_bits", keep_bits, 0, width - 1)
    x = int_operand("log_fraction", "x", x, 0, 1 << width, f"for width {width}")
    k = leading_one(x)
    f = (x - np.where(x > 0, np.int64(1) << k, 0)) << (width - 1 - k)
    if keep_bits is not None:
        f &= ~np.int64((1 << (width - 1 - keep_bits)) - 1)
    return k, f


def _scale(m: np.ndarray, shift: np.ndarray) -> np.ndarray:
    """``floor(m * 2**shift)`` for non-negative m, in uint64 (result must fit 64 bits)."""
    m = m.astype(np.uint64)
    left = np.left_shift(m, np.maximum(shift, 0).astype(np.uint64))
    right = np.right_shift(m, np.maximum(-shift, 0).astype(np.uint64))
    return np.where(shift >= 0, left, right)


def _mul_magnitude(ma: np.ndarray, mb: np.ndarray, width: int, keep_bits) -> np.ndarray:
    n1 = width - 1
    ka, fa = log_fraction(ma, width, keep_bits)
    kb, fb = log_fraction(mb, width, keep_bits)
    s = fa + fb
    carry = s >= (1 << n1)
    m = np.where(carry, s, (1 << n1) + s)
    e = ka + kb + carry
    p = _scale(m, e - n1)
    return np.where((ma == 0) | (mb == 0), np.uint64(0), p)


def mitchell_mul(a, b, params: MitchellMulParams) -> np.ndarray:
    """Mitchell product of raw integer operands (see the module docstring for the contract).

    ``a`` and ``b`` broadcast against each other. Returns ``uint64`` for unsigned units (2N
    bits fit 64) and ``int64`` for signed ones. Raises ``TypeError`` for non-integer
    operands and ``ValueError`` for operands outside the width's range, ragged sequences
    or shapes that do not broadcast.
    """
    if not isinstance(params, MitchellMulParams):
        raise TypeError(f"mitchell_mul: params must be a MitchellMulParams, not {params!r}")
    fa, fb = as_array("mitchell_mul", "a", a), as_array("mitchell_mul", "b", b)
    if (fa.shape == fb.shape and fa.size >= FAST_PATH_MIN_SIZE
            and fa.dtype == np.int64 and fb.dtype == np.int64):
        from hwsim import mitchell_kernels  # numba: compiled once, cached on disk
        p = mitchell_kernels.mul_elementwise(np.ascontiguousarray(fa), np.ascontiguousarray(fb), params)
        if p is not None:
            return p
    return mitchell_mul_numpy(fa, fb, params)


def mitchell_mul_numpy(a, b, params: MitchellMulParams) -> np.ndarray:
    """The numpy implementation of :func:`mitchell_mul` (the reference for its fast path)."""
    lo, hi = params.in_range
    kind = "signed width" if params.signed else "width"
    what = f"for {kind} {params.width}"
    a, b = operand_pair("mitchell_mul", a, b, lo, hi, what)
    if not params.signed:
        return _mul_magnitude(a, b, params.width, params.keep_bits)
    mag = _mul_magnitude(np.abs(a), np.abs(b), params.width, params.keep_bits).astype(np.int64)
    return np.where((a < 0) != (b < 0), -mag, mag)


def mitchell_div(a, b, params: MitchellDivParams) -> tuple[np.ndarray, np.ndarray]:
    """Mitchell quotient of unsigned raw operands: ``(q, div_by_zero)``.

    ``q`` is ``uint64`` holding an N+F-bit value meaning ``q / 2**F``; ``div_by_zero``
    is a bool array. ``a`` and ``b`` broadcast against each other. Raises ``TypeError`` for
    non-integer operands and ``ValueError`` for operands outside ``[0, 2**N)``, ragged
    sequences or shapes that do not broadcast.
    """
    if not isinstance(params, MitchellDivParams):
        raise TypeError(f"mitchell_div: params must be a MitchellDivParams, not {params!r}")
    n, F = params.width, params.frac_bits
    what = f"for width {n}"
    a, b = operand_pair("mitchell_div", a, b, 0, 1 << n, what)
    n1 = n - 1
    ka, fa = log_fraction(a, n, params.keep_bits)
    kb, fb = log_fraction(b, n, params.keep_bits)
    d = fa - fb
    borrow = d < 0
    m = np.where(borrow, (1 << n) + d, (1 << n1) + d)
    e = ka - kb - borrow
    q_max = np.uint64((1 << (n + F)) - 1)
    q = np.minimum(_scale(m, e + F - n1), q_max)
    div_by_zero = b == 0
    q = np.where(div_by_zero, q_max, np.where(a == 0, np.uint64(0), q))
    return q, div_by_zero


# -- the float bit trick -------------------------------------------------------------------------

class FloatFormat(enum.Enum):
    """IEEE-style binary formats for the bit-pattern trick: (total bits, exponent bits)."""

    FP32 = (32, 8)
    """IEEE binary32; values as ``np.float32``."""
    BF16 = (16, 8)
    """bfloat16; values as ``uint16`` bit patterns (see :func:`bf16_from_float`)."""
    FP16 = (16, 5)
    """IEEE binary16; values as ``np.float16``."""

    @property
    def bits(self) -> int:
        return self.value[0]

    @property
    def exp_bits(self) -> int:
        return self.value[1]

    @property
    def man_bits(self) -> int:
        return self.bits - 1 - self.exp_bits

    @property
    def one(self) -> int:
        """Bit pattern of 1.0 (the exponent bias shifted into place)."""
        return ((1 << (self.exp_bits - 1)) - 1) << self.man_bits

    @property
    def inf(self) -> int:
        return ((1 << self.exp_bits) - 1) << self.man_bits

    @property
    def min_normal(self) -> int:
        return 1 << self.man_bits

    @property
    def sign_bit(self) -> int:
        return 1 << (self.bits - 1)

    @property
    def nan(self) -> int:
        """The canonical quiet NaN returned for every NaN result."""
        return self.inf | (1 << (self.man_bits - 1))

    @property
    def storage(self) -> type:
        return {FloatFormat.FP32: np.float32, FloatFormat.FP16: np.float16,
                FloatFormat.BF16: np.uint16}[self]


def bf16_from_float(x) -> np.ndarray:
    """bfloat16 bit patterns (uint16) of real values, rounded to nearest even via float32.

    ``x`` must be real numbers (integer or floating dtype); NaN gives the canonical quiet
    NaN pattern ``0x7FC0``."""
    f = real_operand("bf16_from_float", "x", x).astype(np.float32)
    u = f.view(np.uint32).astype(np.uint64)
    nan = np.isnan(f)
    rounded = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return np.where(nan, FloatFormat.BF16.nan, rounded).astype(np.uint16)


def bf16_to_float(bits) -> np.ndarray:
    """float32 values of bfloat16 bit patterns (exact).

    ``bits`` must be integers in ``[0, 65536)`` (``TypeError`` for another dtype,
    ``ValueError`` for a pattern outside that range: no silent wrap-around)."""
    b = as_array("bf16_to_float", "bits", bits)
    if b.dtype not in (np.uint16, np.uint8):  # those hold only valid patterns
        b = int_operand("bf16_to_float", "bits", b, 0, 1 << 16, "for BF16 bit patterns")
    return (b.astype(np.uint32) << 16).view(np.float32)


def _float_patterns(func: str, name: str, x, fmt: FloatFormat) -> np.ndarray:
    """Bit patterns (int64) of operand ``x`` in format ``fmt``."""
    arr = as_array(func, name, x)
    if fmt is FloatFormat.BF16:
        if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
            raise TypeError(f"{func}: {name} must be bfloat16 bit patterns (uint16), not dtype "
                            f"{arr.dtype}; convert values with hwsim.bf16_from_float")
        return int_operand(func, name, arr, 0, 1 << 16, "for BF16 bit patterns")
    if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.floating)
                                     or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{func}: {name} must be real numbers, not dtype {arr.dtype}")
    with np.errstate(over="ignore"):
        vals = arr.astype(fmt.storage)  # round to nearest even into the format
    uint = np.uint32 if fmt.bits == 32 else np.uint16
    return vals.view(uint).astype(np.int64)


def _float_result(func: str, a, b, fmt: FloatFormat, divide: bool) -> np.ndarray:
    """The bit trick through the shared core ``hwsim.float_mul.float_bits`` (the same
    semantics as the ``float-mul`` / ``float-div`` units' Mitchell method)."""
    if not isinstance(fmt, FloatFormat):
        raise TypeError(f"{func}: fmt must be a FloatFormat (FP32, BF16 or FP16), not {fmt!r}")
    A = _float_patterns(func, "a", a, fmt)
    B = _float_patterns(func, "b", b, fmt)
    A, B = broadcast(func, a=A, b=B)
    out = float_bits(A, B, FloatType[fmt.name], FloatMethod.MITCHELL, divide=divide)
    uint = np.uint32 if fmt.bits == 32 else np.uint16
    out = out.astype(uint)
    return out if fmt is FloatFormat.BF16 else out.view(fmt.storage)


def mitchell_mul_float(a, b, fmt: FloatFormat) -> np.ndarray:
    """Mitchell product by adding IEEE bit patterns: ``|A| + |B| - pattern(1.0)``.

    For finite normal non-zero operands the magnitude pattern is ``u = |A| + |B| - BIAS``
    and the sign the XOR of the signs; ``u`` below the smallest normal flushes to +-0, at
    or above the infinity pattern it gives +-inf. Subnormal inputs count as zero;
    0 x finite = +-0, inf x non-zero = +-inf, 0 x inf = NaN, NaN in gives NaN out (the
    canonical quiet NaN). Operands are float32 / float16 values for FP32 / FP16 (other
    real dtypes are rounded to nearest even into the format) and uint16 bit patterns for
    BF16; the result has the same representation.
    """
    return _float_result("mitchell_mul_float", a, b, fmt, divide=False)


def mitchell_div_float(a, b, fmt: FloatFormat) -> np.ndarray:
    """Mitchell quotient by subtracting IEEE bit patterns: ``|A| - |B| + pattern(1.0)``.

    Special cases: x/0 = +-inf, 0/0 = NaN, inf/inf = NaN, finite/inf = +-0, 0/x = +-0,
    inf/finite = +-inf, NaN in gives NaN out; flush and overflow as for the product.
    """
    return _float_result("mitchell_div_float", a, b, fmt, divide=True)
