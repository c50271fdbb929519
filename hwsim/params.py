"""Base class for the one frozen ``<Unit>Params`` dataclass each unit defines.

Subclasses validate themselves in ``__post_init__`` and derive everything else (output
width, latency, top-module name). ``to_dict()`` / ``from_dict()`` give the JSON-safe form
used by the CLI, the sweep cache key, the Verilog sidecar and the testbench
(``HWSIM_PARAMS``).

Every field is stored plain: before a subclass's ``__post_init__`` runs, integers of any
other type (``np.uint8(8)``, ``np.int64``) become ``int`` and ``np.bool_`` becomes ``bool``
(:func:`hwsim._check.plain`), so the checks, the models, ``==``, ``hash`` and ``to_json``
all see what a literal would have given. The subclass checks then accept or refuse the
plain value; nothing else is converted (no strings for enums or formats).
"""

from __future__ import annotations

import dataclasses
import enum
import functools
import json
from typing import Any, ClassVar

from hwsim._check import plain, short_repr


class UnitParams:
    """Mixin for frozen dataclasses of unit parameters."""

    #: short unit name used in module names, e.g. ``"mitchell_mul"``
    stem: ClassVar[str] = "unit"

    def __init_subclass__(cls, **kwargs):
        # Wrap the subclass's own __post_init__ so the fields are plain before it checks
        # them: no Params class can forget to store the converted values.
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("__post_init__")
        if own is None or getattr(own, "_stores_plain", False):
            return

        @functools.wraps(own)
        def __post_init__(self):
            self._store_plain()
            own(self)

        __post_init__._stores_plain = True
        cls.__post_init__ = __post_init__

    def __post_init__(self):
        self._store_plain()

    def _store_plain(self):
        """Replace every field value by :func:`hwsim._check.plain` of it (frozen-safe)."""
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            converted = plain(value)
            if converted is not value:
                object.__setattr__(self, f.name, converted)

    def to_dict(self) -> dict[str, Any]:
        """Field name -> JSON-safe value: formats as dicts, enums as their values."""
        return {f.name: _encode(getattr(self, f.name)) for f in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]):
        if not isinstance(d, dict):
            raise TypeError(f"{cls.__name__}.from_dict needs a dict, not {short_repr(d)}")
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(d) - set(known), key=str)
        if unknown:
            raise ValueError(f"{cls.__name__} has no parameter {unknown[0]!r} "
                             f"(parameters: {', '.join(known)})")
        defaults = {f.name: f.default for f in dataclasses.fields(cls)}
        return cls(**{k: _decode(f"{cls.__name__}.{k}", defaults[k], v) for k, v in d.items()})

    @classmethod
    def relative_to(cls, fields: dict, base) -> dict:
        """``fields`` (a ``from_dict`` input) with each relative path of a file field
        (metavar ``FILE``) taken relative to the directory ``base`` (a configuration file's
        directory, as its other paths are)."""
        import os
        files = {f.name for f in dataclasses.fields(cls) if f.metadata.get("metavar") == "FILE"}
        return {k: (os.path.join(base, v) if k in files and isinstance(v, str) and v
                    and not os.path.isabs(v) else v) for k, v in fields.items()}

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


def _decode(owner: str, default, value):
    """Inverse of :func:`_encode`, guided by the field's default (its type); ``owner`` is
    ``"<Params>.<field>"`` for messages. Values of the wrong kind pass through unchanged:
    the Params class names them in its own message."""
    from hwsim.fixed import FixedFormat, _format_from_dict
    if isinstance(default, FixedFormat) and isinstance(value, dict):
        return _format_from_dict(owner, value)
    if isinstance(default, enum.Enum) and not isinstance(value, enum.Enum):
        try:
            return type(default)(value)
        except (ValueError, TypeError):
            return value
    return value


class MultiplierParams(UnitParams):
    """Ports of a ``width`` x ``width`` -> ``2 * width`` multiplier (a mixin for Params
    dataclasses with ``width`` and ``signed``): operands unsigned ``[0, 2**width)`` or two's
    complement ``[-2**(width-1), 2**(width-1))``, the product 2 ``width`` bits."""

    width: int
    signed: bool

    @property
    def out_width(self) -> int:
        return 2 * self.width

    @property
    def input_bits(self) -> int:
        return 2 * self.width

    @property
    def in_range(self) -> tuple[int, int]:
        """Operand range ``[lo, hi)``."""
        if self.signed:
            return -(1 << (self.width - 1)), 1 << (self.width - 1)
        return 0, 1 << self.width


class UnsignedMulParams(MultiplierParams):
    """An unsigned :class:`MultiplierParams` (a mixin for Params dataclasses with ``width``
    and ``stages`` fields); ``top_name`` is ``<stem>_u<width>``, the parts of
    :meth:`_name_parts`, then ``_p<stages>`` if pipelined."""

    width: int
    stages: int

    def _name_parts(self) -> tuple[str, ...]:
        return ()

    @property
    def signed(self) -> bool:
        """Always ``False`` (the exact baseline and the vector generators read this)."""
        return False

    @property
    def top_name(self) -> str:
        name = "_".join((f"{self.stem}_u{self.width}", *self._name_parts()))
        return f"{name}_p{self.stages}" if self.stages else name
