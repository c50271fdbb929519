"""Fixed-point formats, rounding and overflow: the one vocabulary every unit uses.

A :class:`FixedFormat` describes a two's complement (or unsigned) word of
``width = int_bits + frac_bits`` bits whose raw integer pattern ``r`` means the
real value ``r * 2**-frac_bits``. For signed formats ``int_bits`` counts the
sign bit (APyTypes' convention), so signed Q4.3 spans [-8, 8 - 2**-3].

Raw values are carried as ``np.int64`` holding the *signed value* of the
pattern (for unsigned formats the value itself), so widths up to 64 (signed)
and 63 (unsigned) are supported.

Only :meth:`FixedFormat.quantize` (real -> raw) and :meth:`FixedFormat.cast`
(raw -> raw in another format) change precision; both take an explicit
:class:`Rounding` and :class:`Overflow`. They match APyTypes'
``cast(quantization=TO_NEG | TO_ZERO | TIES_POS | TIES_EVEN,
overflow=WRAP | SAT)`` exactly.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

import numpy as np

from hwsim._check import as_array, check_bool, check_int, int_operand, short_repr

__all__ = ["FixedFormat", "Rounding", "Overflow"]


class Rounding(enum.Enum):
    """How bits below the least significant kept bit are dropped."""

    TRUNCATE = "truncate"
    """Toward minus infinity (drop the bits of a two's complement word); APyTypes ``TO_NEG``."""
    TOWARD_ZERO = "toward_zero"
    """Toward zero (truncate the magnitude); APyTypes ``TO_ZERO``."""
    NEAREST_UP = "nearest_up"
    """To nearest, ties toward plus infinity (add half an LSB, truncate); APyTypes ``TIES_POS``."""
    NEAREST_EVEN = "nearest_even"
    """To nearest, ties to the even neighbour (convergent rounding); APyTypes ``TIES_EVEN``."""


class Overflow(enum.Enum):
    """What happens to a value outside the format's range."""

    WRAP = "wrap"
    """Keep the low ``width`` bits (two's complement wrap-around); APyTypes ``WRAP``."""
    SATURATE = "saturate"
    """Clamp to ``min_raw`` / ``max_raw``; APyTypes ``SAT``."""


def _enum_arg(owner: str, name: str, value, kind: type[enum.Enum]):
    if not isinstance(value, kind):
        raise TypeError(f"{owner}: {name} must be a {kind.__name__}, not {value!r}")
    return value


@dataclass(frozen=True)
class FixedFormat:
    """A fixed-point format ``Q<int_bits>.<frac_bits>``.

    Parameters
    ----------
    int_bits:
        Integer bits, including the sign bit for signed formats. May be negative
        (a format whose values are all below one) as long as the width is positive.
    frac_bits:
        Fraction bits. May be negative (the LSB weighs more than one).
    signed:
        Two's complement (default) or unsigned.

    Attributes
    ----------
    width:
        ``int_bits + frac_bits``: 1..64 for signed formats, 1..63 for unsigned.
    min_raw, max_raw:
        Smallest and largest raw pattern values.

    Fields are stored as plain ``int`` / ``bool`` whatever integer or bool type was given
    (``np.int8(4)``, ``np.bool_(True)``).
    """

    int_bits: int
    frac_bits: int
    signed: bool = True

    def __post_init__(self):
        object.__setattr__(self, "int_bits", check_int("FixedFormat", "int_bits", self.int_bits))
        object.__setattr__(self, "frac_bits",
                           check_int("FixedFormat", "frac_bits", self.frac_bits))
        object.__setattr__(self, "signed", check_bool("FixedFormat", "signed", self.signed))
        limit = 64 if self.signed else 63
        if not 1 <= self.width <= limit:
            kind = "a signed" if self.signed else "an unsigned"
            raise ValueError(
                f"FixedFormat.int_bits + frac_bits must be in 1..{limit} for {kind} format, "
                f"not {self.width}"
            )

    # -- derived -------------------------------------------------------------------------
    @property
    def width(self) -> int:
        return self.int_bits + self.frac_bits

    @property
    def min_raw(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def max_raw(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1

    @property
    def lsb(self) -> float:
        """Weight of one raw step, ``2**-frac_bits``."""
        return 2.0 ** -self.frac_bits

    def __str__(self) -> str:
        return f"{'Q' if self.signed else 'UQ'}{self.int_bits}.{self.frac_bits}"

    def to_dict(self) -> dict:
        return {"int_bits": self.int_bits, "frac_bits": self.frac_bits, "signed": self.signed}

    @classmethod
    def from_dict(cls, d: dict) -> "FixedFormat":
        """Inverse of :meth:`to_dict`: keys ``int_bits``, ``frac_bits`` and optionally
        ``signed`` (default true); any other key, or a missing one, is refused."""
        return _format_from_dict("FixedFormat.from_dict: d", d)

    @classmethod
    def parse(cls, text: str) -> "FixedFormat":
        """``"Q4.8"`` (signed, 4 integer bits including the sign) or ``"UQ1.15"`` (unsigned)."""
        import re
        m = re.fullmatch(r"(U?)Q(-?\d+)\.(-?\d+)", text.strip()) if isinstance(text, str) else None
        if m is None:
            raise ValueError(f"FixedFormat.parse: expected Q<int>.<frac> or UQ<int>.<frac> "
                             f"(e.g. Q4.8, UQ1.15), not {text!r}")
        return cls(int(m.group(2)), int(m.group(3)), signed=not m.group(1))

    # -- conversions ---------------------------------------------------------------------
    def to_float(self, raw) -> np.ndarray:
        """Real values of raw patterns, as float64 (exact for widths up to 53)."""
        raw = self.check_raw("FixedFormat.to_float", "raw", raw)
        return np.ldexp(raw.astype(np.float64), -self.frac_bits)

    def check_raw(self, owner: str, name: str, raw) -> np.ndarray:
        """Return ``raw`` as an int64 array, or raise if any value is outside this format."""
        return int_operand(owner, name, raw, self.min_raw, self.max_raw + 1, f"for format {self}")

    def quantize(self, x, *, rounding: Rounding = Rounding.TRUNCATE,
                 overflow: Overflow = Overflow.SATURATE) -> np.ndarray:
        """Real values -> raw patterns (int64).

        ``x`` is converted to float64 (integers must be exactly representable). The
        scaling by ``2**frac_bits`` and every rounding step are exact; no value passes
        through a lossy float operation. NaN is rejected; +-inf is accepted only with
        ``Overflow.SATURATE``.
        """
        owner = f"FixedFormat.quantize ({self})"
        _enum_arg(owner, "rounding", rounding, Rounding)
        _enum_arg(owner, "overflow", overflow, Overflow)
        arr = as_array(owner, "x", x)
        if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.floating)
                                         or np.issubdtype(arr.dtype, np.integer)):
            raise TypeError(f"{owner}: x must be real numbers, not dtype {arr.dtype}")
        y = arr.astype(np.float64)
        if np.issubdtype(arr.dtype, np.integer) and not np.array_equal(y.astype(arr.dtype), arr):
            raise ValueError(f"{owner}: x has integers too large to convert exactly to float64")
        if np.isnan(y).any():
            raise ValueError(f"{owner}: x contains NaN")
        if overflow is Overflow.WRAP and np.isinf(y).any():
            raise ValueError(f"{owner}: x contains inf, which cannot wrap; use Overflow.SATURATE")
        with np.errstate(over="ignore"):
            y = np.ldexp(y, self.frac_bits)  # exact unless it overflows to inf (then saturates)
        r = _round_float(y, rounding)
        return _overflow_float(r, self, overflow)

    def cast(self, raw, src: "FixedFormat", *, rounding: Rounding = Rounding.TRUNCATE,
             overflow: Overflow = Overflow.SATURATE) -> np.ndarray:
        """Raw patterns of format ``src`` -> raw patterns of this format, in integer arithmetic."""
        owner = f"FixedFormat.cast ({src} -> {self})"
        if not isinstance(src, FixedFormat):
            raise TypeError(f"{owner}: src must be a FixedFormat, not {src!r}")
        _enum_arg(owner, "rounding", rounding, Rounding)
        _enum_arg(owner, "overflow", overflow, Overflow)
        r = src.check_raw(owner, "raw", raw)
        shift = self.frac_bits - src.frac_bits
        # Work in int64 when every intermediate fits, else in Python integers (object
        # arrays): exact either way, one code path.
        if src.width + max(shift, 0) > 62 or -shift > 61:
            r = r.astype(object)
        if shift >= 0:
            res = r << shift
        else:
            res = _shift_round(r, -shift, rounding)
        if overflow is Overflow.SATURATE:
            res = np.minimum(np.maximum(res, self.min_raw), self.max_raw)
        else:
            res = _wrap(res, self)
        return np.asarray(res).astype(np.int64)


_FORMAT_KEYS = ("int_bits", "frac_bits", "signed")
_FORMAT_RULE = "a dict with keys int_bits, frac_bits and optionally signed"


def _format_from_dict(owner: str, d) -> FixedFormat:
    """:meth:`FixedFormat.from_dict` with messages that start with ``owner`` (the public
    method's, or ``"<Params>.<field>"`` when a Params class decodes its own dict)."""
    if not isinstance(d, dict):
        raise TypeError(f"{owner} must be {_FORMAT_RULE}, not {short_repr(d)}")
    missing = [k for k in _FORMAT_KEYS[:2] if k not in d]
    if missing:
        raise ValueError(f"{owner} must be {_FORMAT_RULE}, not {short_repr(d)} "
                         f"(missing {missing[0]!r})")
    unknown = [k for k in d if k not in _FORMAT_KEYS]
    if unknown:
        raise ValueError(f"{owner} must be {_FORMAT_RULE}, not {short_repr(d)} "
                         f"(unknown key {unknown[0]!r})")
    if owner.startswith("FixedFormat."):
        return FixedFormat(**d)
    try:
        return FixedFormat(**d)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{owner}: {e}") from None


def _shift_round(r: np.ndarray, drop: int, rounding: Rounding) -> np.ndarray:
    """``r / 2**drop`` rounded to an integer, ``drop >= 1``, in r's integer arithmetic."""
    q = r >> drop  # floor
    rem = r - (q << drop)  # in [0, 2**drop)
    half = 1 << (drop - 1)
    if rounding is Rounding.TRUNCATE:
        return q
    if rounding is Rounding.TOWARD_ZERO:
        return q + ((r < 0) & (rem != 0)).astype(np.int64)
    if rounding is Rounding.NEAREST_UP:
        return q + (rem >= half).astype(np.int64)
    return q + ((rem > half) | ((rem == half) & ((q & 1) == 1))).astype(np.int64)


def _round_float(y: np.ndarray, rounding: Rounding) -> np.ndarray:
    """Round float64 values to integers (still float64); every operation here is exact."""
    with np.errstate(invalid="ignore"):
        fl = np.floor(y)
        frac = np.where(np.isinf(y), 0.0, y - fl)  # exact: y and floor(y) share an exponent range
    if rounding is Rounding.TRUNCATE:
        return fl
    if rounding is Rounding.TOWARD_ZERO:
        return np.trunc(y)
    if rounding is Rounding.NEAREST_UP:
        return fl + (frac >= 0.5)
    odd = np.fmod(np.where(np.isinf(fl), 0.0, fl), 2.0) != 0
    return fl + ((frac > 0.5) | ((frac == 0.5) & odd))


def _overflow_float(r: np.ndarray, fmt: FixedFormat, overflow: Overflow) -> np.ndarray:
    """Integral float64 values -> int64 raw values of ``fmt`` (exact for every width)."""
    lo = -(2.0 ** (fmt.width - 1)) if fmt.signed else 0.0
    hi = 2.0 ** (fmt.width - 1) if fmt.signed else 2.0 ** fmt.width  # exclusive, a power of two
    if overflow is Overflow.SATURATE:
        inside = (r >= lo) & (r < hi)
        safe = np.where(inside, r, 0.0).astype(np.int64)
        return np.where(inside, safe, np.where(r < lo, fmt.min_raw, fmt.max_raw)).astype(np.int64)
    # WRAP: reduce modulo 2**64 exactly (fmod is exact), then split into two 32-bit halves so
    # the conversion to integers is exact even where float64 cannot hold 2**64 - 1.
    v = np.fmod(r, 2.0 ** 64)
    hi32 = np.floor(np.ldexp(v, -32))
    lo32 = v - np.ldexp(hi32, 32)
    bits = (hi32.astype(np.int64).astype(np.uint64) << np.uint64(32)) + lo32.astype(np.uint64)
    return _wrap(bits.astype(np.int64), fmt)




def _wrap(v: np.ndarray, fmt: FixedFormat) -> np.ndarray:
    """Keep the low ``fmt.width`` bits of integers (int64 or Python ints) and read them in ``fmt``."""
    if fmt.width == 64 and v.dtype == np.int64:
        return v  # int64 arithmetic already wrapped modulo 2**64
    low = v & ((1 << fmt.width) - 1)
    if fmt.signed:
        sign = 1 << (fmt.width - 1)
        low = (low ^ sign) - sign
    return low
