"""Study ``unit-error``: error metrics of one unit configuration over a seeded sample.

A point names the unit (``unit``, one of :data:`SUPPORTED`: the units whose inputs are
scalar operands drawn uniformly over ``params.in_range``), ``samples`` (seeded uniform
inputs), ``synth`` and any field of that unit's Params class, with the Params' own names,
rules and defaults (``hwsim units``): e.g. ``width``, ``signed``, ``keep_bits``, ``stages``
for mitchell-mul; formats as tables (``in_fmt = {int_bits = 4, frac_bits = 8}``), enums as
their values (``method = "pwl"``). The task's parameters are ``unit``, ``samples``,
``synth`` and ``Params.to_dict()``, so a Params field added later is sweepable (and part of
the cache key) without touching this study. ``synth = true`` adds the iCE40 LUT4 count
(``hwsim.eval.synth``, cached), which gives sweeps a cost column and a Pareto plot.

Softmax, attention and performer take whole vectors, not operands, and report per-
distribution tables (``hwsim characterize softmax``); this study refuses them.
"""

from __future__ import annotations

import dataclasses
import enum

from hwsim._check import is_int, short_repr
from hwsim.units import REGISTRY, get_unit

#: the study's own parameters (every other one is a field of the unit's Params)
OWN = {"unit": "mitchell-mul", "samples": 100_000, "synth": False}

#: units with scalar operands (a/b or x) and the generic characterisation
SUPPORTED = tuple(name for name, s in REGISTRY.items() if s.operands and s.characterizer is None)

#: the metrics a task reports (plus ``lut4`` with ``synth = true``)
METRICS = ("mred", "max_red", "mae", "wce", "bias")


def param_names() -> tuple[str, ...]:
    """``unit``, ``samples``, ``synth`` and every field of a supported unit's Params."""
    names = dict.fromkeys(OWN)
    for unit in SUPPORTED:
        names.update(dict.fromkeys(f.name for f in dataclasses.fields(REGISTRY[unit].params_cls)))
    return tuple(names)


def _unit(value):
    if not isinstance(value, str):
        raise TypeError(f"unit-error: unit must be a unit name (a string), not {short_repr(value)}")
    if value not in SUPPORTED:
        other = [u for u in REGISTRY if u not in SUPPORTED]
        why = (f" ({', '.join(other)} take whole vectors, not operands: use "
               f"hwsim characterize {value})" if value in other else "")
        raise ValueError(f"unit-error: unit must be one of {', '.join(SUPPORTED)}, "
                         f"not {value!r}{why}")
    return get_unit(value)


def normalize(point: dict) -> dict:
    """The task parameters of a sweep point: ``unit``, ``samples``, ``synth`` and the
    ``to_dict()`` of the unit's Params built from the point's other keys (``"none"``
    standing for ``None`` in fields whose default is not a string or an enum). Raises
    ``TypeError`` / ``ValueError`` naming the parameter (the Params class names its own)."""
    own = {**OWN, **{k: v for k, v in point.items() if k in OWN}}
    spec = _unit(own["unit"])
    from hwsim.eval.characterize import MAX_SAMPLES
    if not is_int(own["samples"]) or not 1 <= own["samples"] <= MAX_SAMPLES:
        raise (ValueError if is_int(own["samples"]) else TypeError)(
            f"unit-error: samples must be an integer in 1..{MAX_SAMPLES}, "
            f"not {short_repr(own['samples'])}")
    if not isinstance(own["synth"], bool):
        raise TypeError(f"unit-error: synth must be true or false, not {short_repr(own['synth'])}")
    defaults = {f.name: f.default for f in dataclasses.fields(spec.params_cls)}
    fields = {}
    for k, v in point.items():
        if k in OWN:
            continue
        none = isinstance(v, str) and v.lower() == "none"
        fields[k] = None if none and not isinstance(defaults.get(k), (str, enum.Enum)) else v
    p = spec.params_cls.from_dict(fields)
    return {**own, **p.to_dict()}


def check(params: dict) -> None:
    normalize(params)


def unit_params(params: dict):
    """The unit spec and Params of a task's (normalized) parameters."""
    spec = _unit(params["unit"])
    return spec, spec.params_cls.from_dict({k: v for k, v in params.items() if k not in OWN})


def run(params: dict, seed: int) -> dict:
    from hwsim.eval.characterize import characterize
    spec, p = unit_params(params)
    c = characterize(spec, p, samples=params["samples"], seed=seed)
    out = {k: v for k, v in c.metrics.to_dict().items() if k in METRICS}
    if params.get("synth"):
        from hwsim.eval.resultdb import ResultDB
        from hwsim.eval.synth import synthesize
        with ResultDB() as db:
            out["lut4"] = synthesize(spec, p, fmax=False, db=db).lut4
    return out
