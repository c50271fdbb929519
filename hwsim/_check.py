"""Argument checks shared by every unit, producing DESIGN.md-style messages.

Messages read ``<Owner>.<param> must be <rule>, not <value>``: the owner, the parameter,
the rule and the offending value, no trailing full stop. ``TypeError`` for a wrong kind of
value, ``ValueError`` for a bad value.
"""

from __future__ import annotations

import numbers
import reprlib

import numpy as np

_short = reprlib.Repr()
_short.maxlist = _short.maxtuple = 6
_short.maxlevel = 3
_short.maxstring = _short.maxother = 40


def short_repr(value, limit: int = 100) -> str:
    """``repr(value)`` cut to one short line (long sequences end in ``...``; dicts keep
    their key order)."""
    r = repr(value) if isinstance(value, dict) else _short.repr(value)
    return r if len(r) <= limit else r[:limit - 3] + "..."


def is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def plain(value):
    """``value`` as a plain Python ``int`` / ``bool`` when it is another integer or bool type
    (``np.uint8(8)``, ``np.bool_(True)``); anything else unchanged, for the caller's check to
    accept or name. Stored parameters are plain so they hash, compare, shift and serialise
    (``json``) like the literals they stand for."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if is_int(value) and type(value) is not int:
        return int(value)
    return value


def check_int(owner: str, name: str, value, lo: int | None = None, hi: int | None = None) -> int:
    """Check that ``owner.name`` is an integer in ``lo..hi`` (inclusive, either may be open);
    return it as a plain ``int``."""
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
    """Check that ``owner.name`` is a bool (``np.bool_`` too); return it as a plain ``bool``."""
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{owner}.{name} must be a bool, not {value!r}")
    return bool(value)


def as_array(func: str, name: str, value) -> np.ndarray:
    """``np.asarray(value)``, refusing ragged nested sequences with a message naming
    ``func`` and ``name`` (numpy's own says neither). An empty sequence gives an empty
    int64 array (numpy would make it float64, which integer operands refuse)."""
    if isinstance(value, np.ndarray):
        return value
    try:
        arr = np.asarray(value)
    except ValueError:
        raise ValueError(f"{func}: {name} must be a rectangular array (every row the same "
                         f"length), not {short_repr(value)}") from None
    if arr.size == 0 and arr.dtype == np.float64:
        return arr.astype(np.int64)  # [] is float64 only for want of elements: fits any rule
    return arr


def broadcast(func: str, **arrays: np.ndarray) -> list[np.ndarray]:
    """``np.broadcast_arrays`` of the named arrays, or a ``ValueError`` naming every shape."""
    check_broadcast(func, {n: np.shape(a) for n, a in arrays.items()})
    return np.broadcast_arrays(*arrays.values())


def check_broadcast(func: str, shapes: dict[str, tuple[int, ...]], core: int = 0) -> tuple:
    """The broadcast of the named shapes without their last ``core`` axes (the batch shape),
    or a ``ValueError`` naming every full shape."""
    try:
        return np.broadcast_shapes(*(tuple(s)[:len(s) - core] for s in shapes.values()))
    except ValueError:
        pass
    where = f" in all but their last {core} axes" if core else ""
    raise ValueError(f"{func}: {_and(list(shapes))} must have shapes that broadcast together"
                     f"{where}, not {_and([str(tuple(s)) for s in shapes.values()])}")


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def check_instance(func: str, name: str, value, cls) -> None:
    """``TypeError`` unless ``value`` is a ``cls`` (``func: name must be a Cls, not ...``)."""
    if not isinstance(value, cls):
        raise TypeError(f"{func}: {name} must be a {cls.__name__}, not {short_repr(value)}")


def finite_operand(func: str, name: str, value) -> np.ndarray:
    """``value`` as a float64 array of finite real numbers (:func:`real_operand`, then NaN and
    +-inf refused)."""
    arr = np.asarray(real_operand(func, name, value), dtype=np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise ValueError(f"{func}: {name} must be finite real numbers, not "
                         f"{arr[bad].flat[0]} ({int(bad.sum())} non-finite)")
    return arr


def real_operand(func: str, name: str, value) -> np.ndarray:
    """``value`` as an array of real numbers (integer or floating dtype; not bool)."""
    arr = as_array(func, name, value)
    if arr.dtype == np.bool_ or not (np.issubdtype(arr.dtype, np.floating)
                                     or np.issubdtype(arr.dtype, np.integer)):
        raise TypeError(f"{func}: {name} must be real numbers, not dtype {arr.dtype}")
    return arr


def operand_pair(func: str, a, b, lo: int, hi: int, what: str) -> list[np.ndarray]:
    """A binary unit's operands ``a`` and ``b``, each checked by :func:`int_operand`
    (integers in ``[lo, hi)``), broadcast against each other (:func:`broadcast`)."""
    return broadcast(func, a=int_operand(func, "a", a, lo, hi, what),
                     b=int_operand(func, "b", b, lo, hi, what))


def int_operand(func: str, name: str, value, lo: int, hi: int, what: str) -> np.ndarray:
    """Return ``value`` as an int64 array after checking it holds integers in ``[lo, hi)``.

    ``what`` describes the range for the message, e.g. ``"for width 8"``. Python integers
    too large for int64 (an object array) are refused as out of range, not as a dtype.
    """
    arr = as_array(func, name, value)
    if arr.dtype == object and arr.size and all(is_int(v) for v in arr.flat):
        big = (arr < lo) | (arr >= hi)
        if big.any():
            raise ValueError(f"{func}: {name} has values outside [{lo}, {hi}) {what} "
                             f"(first: {arr[big].flat[0]})")
        return arr.astype(np.int64)
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
