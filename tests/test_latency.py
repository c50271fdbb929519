"""``latency`` is defined once, by each unit's Params, and the RTL takes exactly that many
cycles: measured in the Amaranth simulator for every unit in the registry, at its defaults
and with every stage and size field moved (generated from the Params fields)."""

import dataclasses

import pytest
from rtl import require_module

from hwsim.units import REGISTRY

require_module("amaranth", "dev")  # a core dependency: CI fails when it is missing
from hwsim.sim.amaranth_sim import measure_latency  # noqa: E402

#: fields that change a unit's cycle count, and values to move them to
MOVES = {"stages": (1, 3), "softmax_stages": (2,), "streaming": (True,),
         "softmax_streaming": (True,),
         "length": (1, 3), "dim": (1, 3), "features": (2,)}


def _configs():
    for spec in REGISTRY.values():
        fields = {f.name for f in dataclasses.fields(spec.params_cls)}
        kws = [{}] + [{name: v} for name in MOVES if name in fields for v in MOVES[name]]
        for kw in kws:
            try:
                p = spec.params_cls(**kw)
            except ValueError:
                continue
            yield pytest.param(spec, p, id=f"{spec.name}-{p.top_name}")


@pytest.mark.parametrize("spec,params", list(_configs()))
def test_measured_latency_equals_params(spec, params):
    component = spec.component(params)
    assert component.latency == params.latency
    vec = spec.vectors(params, 0, 0)
    if hasattr(component, "i_stream"):
        (x,) = vec.values()
        inputs = x[0].tolist()
    else:
        inputs = {k: v[1] for k, v in vec.items()}
    assert measure_latency(component, inputs) == params.latency


def test_every_clocked_unit_is_covered():
    """Every unit with a field that changes its cycle count is measured at two settings at
    least; a unit without one (combinational only, e.g. a user's circuit) at its default."""
    ids = [p.id for p in _configs()]
    for name, spec in REGISTRY.items():
        moves = {f.name for f in dataclasses.fields(spec.params_cls)} & set(MOVES)
        assert sum(i.startswith(name + "-") for i in ids) >= (2 if moves else 1), name
