"""Study ``unit-error``: error metrics of one unit configuration over a seeded sample.

Parameters map onto the unit's Params fields (those it does not have must stay at their
default ``None``); ``samples`` seeded uniform inputs; ``synth = true`` adds the iCE40 LUT4
count (``hwsim.synth``, cached), which gives sweeps a cost column and a Pareto plot.
"""

from __future__ import annotations

import dataclasses

from hwsim.units import get_unit

UNIT_KEYS = ("width", "signed", "keep_bits", "frac_bits")


def unit_params(params: dict):
    spec = get_unit(params["unit"])
    fields = {f.name for f in dataclasses.fields(spec.params_cls)}
    kwargs = {}
    for k in UNIT_KEYS:
        if params.get(k) is None:
            continue
        if k not in fields:
            if k == "signed" and params[k] is False:
                continue  # the default meaning of an unsigned-only unit
            raise ValueError(f"unit-error: {spec.name} has no parameter {k!r}")
        kwargs[k] = params[k]
    return spec, spec.params_cls(**kwargs)


def check(params: dict) -> None:
    unit_params(params)
    if not isinstance(params["samples"], int) or params["samples"] < 1:
        raise ValueError(f"unit-error: samples must be an integer >= 1, not {params['samples']!r}")


def run(params: dict, seed: int) -> dict:
    from hwsim.characterize import characterize
    spec, p = unit_params(params)
    c = characterize(spec, p, samples=params["samples"], seed=seed)
    out = {k: v for k, v in c.metrics.to_dict().items() if k in ("mred", "max_red", "mae", "wce", "bias")}
    if params.get("synth"):
        from hwsim.resultdb import ResultDB
        from hwsim.synth import synthesize
        with ResultDB() as db:
            out["lut4"] = synthesize(spec, p, fmax=False, db=db).lut4
    return out
