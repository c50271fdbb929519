"""Argument checks shared by every unit, producing DESIGN.md-style messages.

Messages read ``<Owner>.<param> must be <rule>, not <value>``: the owner, the parameter,
the rule and the offending value, no trailing full stop. ``TypeError`` for a wrong kind of
value, ``ValueError`` for a bad value.
"""

from __future__ import annotations

import numbers

import numpy as np


def is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_int(owner: str, name: str, value, lo: int | None = None, hi: int | None = None) -> int:
    """Check that ``owner.name`` is an integer in ``lo..hi`` (inclusive, either may be open)."""
    if lo is not None and hi is not None:
        rule = f"an integer in {lo}..{hi}"
    elif lo is not None:
        rule = f"an integer >= {lo}"
    elif hi is not None:
        rule = f"an integer <= {hi}"
    else:
        rule = "an integer"
    if not is_int(value):
        raise TypeError(f"{owner}.{name} must be {rule}, not {value!r}")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        raise ValueError(f"{owner}.{name} must be {rule}, not {value!r}")
    return int(value)


def check_bool(owner: str, name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}.{name} must be a bool, not {value!r}")
    return bool(value)


def int_operand(func: str, name: str, value, lo: int, hi: int, what: str) -> np.ndarray:
    """Return ``value`` as an int64 array after checking it holds integers in ``[lo, hi)``.

    ``what`` describes the range for the message, e.g. ``"for width 8"``.
    """
    arr = np.asarray(value)
    if arr.dtype == np.bool_ or not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{func}: {name} must be integers, not dtype {arr.dtype}")
    if arr.dtype == np.uint64:
        big = arr > np.uint64(hi - 1)
        if big.any():
            raise ValueError(f"{func}: {name} has values outside [{lo}, {hi}) {what} "
                             f"(first: {arr[big].flat[0]})")
        arr = arr.astype(np.int64)
    else:
        arr = arr.astype(np.int64)
    bad = (arr < lo) | (arr >= hi)
    if bad.any():
        raise ValueError(f"{func}: {name} has values outside [{lo}, {hi}) {what} "
                         f"(first: {arr[bad].flat[0]})")
    return arr
