"""What a design costs: synthesised units, priced per group, summed as area and LUT-ops.

The cost model (stated in docs/explore.md):

* each choice's unit is synthesised by :func:`hwsim.eval.synth.synthesize` (``yosys
  synth_ice40``; with ``fmax``, nextpnr-ice40 on the registered wrapper), cached in the
  synthesis database by the Verilog's hash as ``hwsim synth`` caches it. A product unit
  runs with the fields the graph sets (``signed``: ONNX operands are signed, so
  ``mitchell-mul`` and ``exact-mul`` are the signed multipliers); a row unit (softmax)
  with its row length the longest row its nodes see (at most the unit's ``max_length``);
* **area** = sum over groups of LUT4(choice) x the group's ``instances``;
* **LUT-ops** (an energy proxy) = sum over the group's nodes of the operations one row of
  data executes there (multiply-accumulates of a MatMul / Gemm / Conv, exponentials of a
  Softmax) x LUT4(choice);
* **Fmax** of a design = the lowest Fmax among its units (reported, not searched on).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["UnitCost", "node_ops", "price"]


@dataclass(frozen=True)
class UnitCost:
    top: str
    lut4: int
    dff: int
    fmax_mhz: float | None

    def to_dict(self) -> dict:
        return {"top": self.top, "lut4": self.lut4, "dff": self.dff, "fmax_mhz": self.fmax_mhz}


def node_ops(graph, feeds: dict, names) -> dict:
    """``{node: (ops per row, longest row)}`` for ``names`` from one float run of ``feeds``:
    multiply-accumulates of MatMul / Gemm / Conv, exponentials of Softmax (and the length of
    its softmax rows)."""
    env = graph.run(feeds, keep=True)
    rows = max(1, next((v.shape[0] for v in feeds.values() if np.ndim(v)), 1))
    out = {}
    for name in names:
        n = graph.node(name)
        y = np.asarray(env[n.outputs[0]])
        if n.op_type == "MatMul":
            k = np.shape(env[n.inputs[0]])[-1]
        elif n.op_type == "Gemm":
            a = np.shape(env[n.inputs[0]])
            k = a[0] if n.attrs.get("transA", 0) else a[1]
        elif n.op_type == "Conv":
            w = np.shape(env[n.inputs[1]])
            k = int(np.prod(w[1:]))
        else:  # Softmax: one exponential per element
            k = 1
        length = 0
        if n.op_type == "Softmax":
            axis = n.attrs.get("axis", -1 if graph.opset >= 13 else 1) % y.ndim
            length = (int(np.prod(y.shape[axis:])) if graph.opset < 13 else y.shape[axis])
        out[name] = (y.size * int(k) / rows, length)
    return out


def _unit(choice, length: int):
    """``(spec, params, baseline)`` to synthesise for a choice."""
    from hwsim.graph.assign import parse_assignment
    from hwsim.units import get_unit
    spec = get_unit(choice.unit)
    params = parse_assignment({"assign": [choice.rule()]}, "choice").rules[0].params
    field = getattr(spec.graph, "length", None)
    if field is not None:
        import dataclasses
        n = max(2, min(length, spec.graph.max_length or length))
        params = dataclasses.replace(params, **{field: n})
    return spec, params, False


def price(choices_with_length, *, fmax: bool, db, progress: bool = False,
          warn=None) -> dict:
    """``{(choice, length): UnitCost}`` for every distinct (choice, softmax row length).

    With ``fmax``, a unit whose place and route fails (:class:`hwsim.eval.synth.SynthError`)
    keeps its yosys counts (the area objectives need nothing else) with Fmax unknown, and
    ``warn`` gets one line saying so: one unit does not take the search down."""
    from hwsim.eval.synth import SynthError, synthesize
    from hwsim.progress import track
    todo = list(dict.fromkeys(choices_with_length))
    out = {}
    for choice, length in track(todo, desc="explore: synthesis", unit="unit", show=progress):
        spec, params, baseline = _unit(choice, length)
        try:
            r = synthesize(spec, params, fmax=fmax, baseline=baseline, db=db)
        except SynthError as e:
            if not fmax:
                raise
            r = synthesize(spec, params, fmax=False, baseline=baseline, db=db)
            if warn is not None:
                warn(f"{choice.label}: place and route failed, Fmax unknown "
                     f"({str(e).splitlines()[0]})")
        out[(choice, length)] = UnitCost(r.top, r.lut4, r.dff, r.fmax_mhz)
    return out


def design_cost(groups, design, unit_costs: list, ops: list) -> dict:
    """``{"area", "lut_ops", "fmax_mhz"}`` of ``design`` (a choice index per group);
    ``unit_costs[g][i]``: the UnitCost of group g's choice i; ``ops[g]``: the operations per
    row of group g's nodes."""
    area = sum(unit_costs[g][i].lut4 * grp.instances for g, (grp, i) in
               enumerate(zip(groups, design)))
    lut_ops = sum(unit_costs[g][i].lut4 * ops[g] for g, i in enumerate(design))
    fm = [unit_costs[g][i].fmax_mhz for g, i in enumerate(design)]
    fmax = None if any(f is None for f in fm) else min(fm)
    return {"area": int(area), "lut_ops": float(lut_ops) if not math.isnan(lut_ops) else None,
            "fmax_mhz": fmax}
