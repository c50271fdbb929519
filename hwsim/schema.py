"""The checks every hwsim TOML file shares (sweep configurations, explore configurations,
``hwsim run --assign`` assignments), so one kind of mistake reads the same in all three.

A :class:`Schema` carries where the document came from (``source``: its path, or the option
that named it) and the error classes its caller reports: ``error`` for a bad value
(``SweepError``, ``ExploreError``, ``ValueError``), ``kind_error`` for a value of the wrong
kind (``TypeError`` for the library's callers; by default ``error``). Every message is one line, ``<source>: <where> <rule>, not <value>``:

* an unknown key:   ``calibration has no key 'bits' (keys: mode, method, ...)``; at the
  top level ``the file has no key 'tuning' (keys: ...)``;
* a missing table:  ``needs a [constraint] table``;
* a wrong kind:     ``calibration must be a table ([calibration]), not 3``;
  ``points must be an array of tables ([[points]]), not ...``;
* a bad value:      ``cost.objective must be one of area, lut-ops, not 'speed'``;
  ``search.budget must be an integer in 1..100000, not 0``.
"""

from __future__ import annotations

from hwsim._check import is_int, short_repr

__all__ = ["Schema", "TOP"]

#: ``where`` of the document's top level
TOP = "the file"


class Schema:
    def __init__(self, source: str, error: type[Exception] = ValueError,
                 kind_error: type[Exception] | None = None):
        self.source = source
        self.error = error
        self.kind_error = kind_error or error

    def bad(self, msg: str, error: type[Exception] | None = None) -> Exception:
        """The one-line error (``error``: another class, e.g. ``TypeError``)."""
        return (error or self.error)(f"{self.source}: {msg}")

    def keys(self, table: dict, known, where: str = TOP) -> None:
        """Refuse a key of ``table`` not in ``known``."""
        extra = sorted(set(table) - set(known), key=str)
        if extra:
            raise self.bad(f"{where} has no key {extra[0]!r} (keys: {', '.join(known)})")

    def table(self, doc: dict, key: str, required: bool = False) -> dict:
        """``doc[key]`` as a table (``{}`` when absent and not ``required``)."""
        v = doc.get(key)
        if v is None:
            if required:
                raise self.bad(f"needs a [{key}] table")
            return {}
        if not isinstance(v, dict):
            raise self.bad(f"{key} must be a table ([{key}]), not {short_repr(v)}",
                           self.kind_error)
        return v

    def tables(self, doc: dict, key: str) -> list:
        """``doc[key]`` as an array of tables (``[]`` when absent)."""
        v = doc.get(key, [])
        if not isinstance(v, list) or not all(isinstance(t, dict) for t in v):
            raise self.bad(f"{key} must be an array of tables ([[{key}]]), not {short_repr(v)}",
                           self.kind_error)
        return v

    def number(self, t: dict, key: str, where: str, default, lo, hi, integer: bool = False):
        """``t[key]`` (or ``default``): a number (an integer) in ``lo..hi`` (``hi`` None:
        at least ``lo``)."""
        v = t.get(key, default)
        ok = is_int(v) if integer else (isinstance(v, (int, float)) and not isinstance(v, bool))
        if not ok or not lo <= v <= (v if hi is None else hi):
            kind = "an integer" if integer else "a number"
            rng = f">= {lo}" if hi is None else f"in {lo}..{hi}"
            raise self.bad(f"{_dotted(where, key)} must be {kind} {rng}, not {short_repr(v)}")
        return v

    def choice(self, t: dict, key: str, where: str, choices, default=None):
        """``t[key]`` (or ``default``): one of ``choices``."""
        v = t.get(key, default)
        if v not in choices:
            raise self.bad(f"{_dotted(where, key)} must be one of {', '.join(choices)}, not "
                           f"{short_repr(v)}")
        return v


def _dotted(where: str, key: str) -> str:
    return key if where == TOP else f"{where}.{key}"
