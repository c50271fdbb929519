"""Base class for the one frozen ``<Unit>Params`` dataclass each unit defines.

Subclasses validate themselves in ``__post_init__`` and derive everything else (output
width, latency, top-module name). ``to_dict()`` / ``from_dict()`` give the JSON-safe form
used by the CLI, the sweep cache key, the Verilog sidecar and the testbench
(``HWSIM_PARAMS``).
"""

from __future__ import annotations

import dataclasses
import enum
import json
from typing import Any, ClassVar


class UnitParams:
    """Mixin for frozen dataclasses of unit parameters."""

    #: short unit name used in module names, e.g. ``"mitchell_mul"``
    stem: ClassVar[str] = "unit"

    def to_dict(self) -> dict[str, Any]:
        """Field name -> JSON-safe value: formats as dicts, enums as their values."""
        return {f.name: _encode(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]):
        if not isinstance(d, dict):
            raise TypeError(f"{cls.__name__}.from_dict needs a dict, not {d!r}")
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(d) - set(known))
        if unknown:
            raise ValueError(f"{cls.__name__} has no parameter {unknown[0]!r} "
                             f"(parameters: {', '.join(known)})")
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        return cls(**{k: _decode(defaults[k], v) for k, v in d.items()})

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def nondefault_tag(self, tags: dict[str, str]) -> str:
        """``_<tag><value>`` for each field in ``tags`` whose value differs from the class
        default, in ``tags`` order: formats as ``<tag>q<I>_<F>`` / ``<tag>uq<I>_<F>``, enums
        as their value, other values as themselves (``-`` becomes ``m``). Keeps top-module
        names of default configurations short and every other configuration distinct."""
        from hwsim.fixed import FixedFormat
        defaults = {f.name: f.default for f in dataclasses.fields(self)}
        out = ""
        for name, tag in tags.items():
            v = getattr(self, name)
            if v == defaults[name]:
                continue
            if isinstance(v, FixedFormat):
                v = f"{'' if v.signed else 'u'}q{v.int_bits}_{v.frac_bits}"
            elif isinstance(v, enum.Enum):
                v = v.value
            out += f"_{tag}{v}".replace("-", "m")
        return out

    @property
    def input_bits(self) -> int:
        """Total bits of one input vector (all ``2**input_bits`` vectors = exhaustive)."""
        raise NotImplementedError

    @property
    def latency(self) -> int:
        """Clock cycles from an input to its output (0: combinational)."""
        return getattr(self, "stages", 0)


def _encode(value):
    from hwsim.fixed import FixedFormat
    if isinstance(value, FixedFormat):
        return value.to_dict()
    if isinstance(value, enum.Enum):
        return value.value
    return value


def _decode(default, value):
    """Inverse of :func:`_encode`, guided by the field's default (its type)."""
    from hwsim.fixed import FixedFormat
    if isinstance(default, FixedFormat) and isinstance(value, dict):
        return FixedFormat.from_dict(value)
    if isinstance(default, enum.Enum) and not isinstance(value, enum.Enum):
        try:
            return type(default)(value)
        except ValueError:
            return value  # the Params class names the bad value in its own message
    return value
