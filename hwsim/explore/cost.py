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

On a standard-cell target (``target = "osu018"``, ...: :func:`price_cells`, the
:func:`hwsim.eval.stdcell.cell_cost` flow and its cache) the same units are mapped to the
library's cells:

* **area** = sum over groups of area(choice) [um2] x the group's ``instances``;
* **energy** = sum over the group's nodes of the operations one row of data executes there
  x the energy per operation of the choice's unit on the operand codes that node feeds it
  (:mod:`hwsim.explore.energy`; zero-delay toggles, one operation per
  :data:`hwsim.eval.stdcell.POWER_CLOCK_NS` clock), in pJ per row of data;
* **delay** of a design = the longest delay among its units (reported, not searched on).

Units are priced lazily (:class:`LazyPrices`): only when a design's cost, or the cost order
of every choice, is needed; a batch in the order of :func:`estimate` (a proxy of the cost
read from the unit's Params, no synthesis), so the cheapest candidates are priced first.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

import numpy as np

__all__ = ["UnitCost", "LazyPrices", "estimate", "node_ops", "price", "price_cells",
           "COST_KEYS"]


#: the key of :func:`design_cost`'s dict each objective minimises: iCE40, standard cells
COST_KEYS = {"fpga": {"area": "area", "lut-ops": "lut_ops"},
             "cells": {"area": "area_um2", "energy": "energy_pj_per_row"}}


@dataclass(frozen=True)
class UnitCost:
    """One priced unit: iCE40 ``lut4``, ``dff``, ``fmax_mhz``; or, on a standard-cell
    target, ``area_um2``, ``delay_ns``, ``leakage_nw`` and with the energy objective the
    group's ``energy_pj_per_row`` (its nodes' operations x energy per operation), the
    ``energy_fj_per_op`` averaged over those operations, and per node its ``nodes`` entry
    (``ops_per_row``, ``energy_fj_per_op``, ``operations`` simulated)."""

    top: str
    lut4: int | None
    dff: int | None
    fmax_mhz: float | None
    area_um2: float | None = None
    delay_ns: float | None = None
    leakage_nw: float | None = None
    energy_fj_per_op: float | None = None
    energy_pj_per_row: float | None = None
    nodes: tuple = ()

    @property
    def cells(self) -> bool:
        return self.area_um2 is not None

    def value(self, objective: str) -> float:
        """What orders a group's choices: LUT4 on iCE40 (both objectives, as the cost of each
        design is LUT4 x a weight of the group), else the objective's own measure."""
        if not self.cells:
            return self.lut4
        return self.energy_pj_per_row if objective == "energy" else self.area_um2

    def to_dict(self) -> dict:
        if not self.cells:
            return {"top": self.top, "lut4": self.lut4, "dff": self.dff,
                    "fmax_mhz": self.fmax_mhz}
        d = {"top": self.top, "area_um2": self.area_um2, "delay_ns": self.delay_ns,
             "leakage_nw": self.leakage_nw}
        if self.energy_pj_per_row is not None:
            d |= {"energy_fj_per_op": self.energy_fj_per_op,
                  "energy_pj_per_row": self.energy_pj_per_row,
                  "nodes": {n: dict(e) for n, e in self.nodes}}
        return d


def node_ops(graph, feeds: dict, names) -> dict:
    """``{node: (ops per row, longest row)}`` for ``names`` from one float run of ``feeds``:
    multiply-accumulates of MatMul / Gemm / Conv, their QOperator forms and
    LinearClassifier / LinearRegressor, exponentials of Softmax (and the length of its
    softmax rows)."""
    env = graph.run(feeds, keep=True)
    rows = max(1, next((v.shape[0] for v in feeds.values() if np.ndim(v)), 1))
    out = {}
    for name in names:
        n = graph.node(name)
        if n.op_type in ("LinearClassifier", "LinearRegressor"):   # X W^T, W an attribute
            lead = np.shape(env[n.inputs[0]])[:-1]
            out[name] = (int(np.prod(lead)) * len(n.attrs.get("coefficients", ())) / rows, 0)
            continue
        y = np.asarray(env[n.outputs[0]])
        if n.op_type in ("MatMul", "MatMulInteger", "QLinearMatMul"):
            k = np.shape(env[n.inputs[0]])[-1]
        elif n.op_type == "Gemm":
            a = np.shape(env[n.inputs[0]])
            k = a[0] if n.attrs.get("transA", 0) else a[1]
        elif n.op_type in ("Conv", "ConvInteger", "QLinearConv"):
            w = np.shape(env[n.inputs[3 if n.op_type == "QLinearConv" else 1]])
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


def price_cells(keys, *, target, db, streams=None, node_ops=None, memo=None,
                progress: bool = False, **_) -> dict:
    """``{key: UnitCost}`` on a standard-cell ``target`` (:func:`hwsim.eval.stdcell.
    cell_cost`, cached in ``db`` as ``hwsim synth --target`` caches it). A key is
    ``(choice, length)`` (area, delay, leakage) or ``(choice, length, group)`` for the
    energy: ``streams(choice)`` gives ``{node: (a, b)}``, the captured operand codes, and
    ``node_ops[group]`` the group's ``[(node, ops per row), ...]``; each node's stream is one
    energy run of the flow (:func:`hwsim.eval.stdcell.cell_costs`: the unit mapped once for
    every node of the choice; ``memo``, a dict, keeps those per choice between calls), its
    energy per operation weighed by the node's operations."""
    from hwsim.eval.stdcell import cell_cost, cell_costs
    from hwsim.explore.config import ExploreError
    from hwsim.progress import track
    memo = {} if memo is None else memo
    out = {}
    for key in track(list(dict.fromkeys(keys)), desc="explore: synthesis", unit="unit",
                     show=progress):
        choice, length = key[0], key[1]
        spec, params, baseline = _unit(choice, length)
        try:
            if len(key) == 2:
                r = cell_cost(spec, params, target=target, baseline=baseline, db=db)
                out[key] = UnitCost(r.top, None, None, None, r.area_um2, r.delay_ns,
                                    r.leakage_nw)
                continue
            if (choice, length) not in memo:
                got = streams(choice)
                nodes = list(got)
                rs = cell_costs(spec, params, target=target, baseline=baseline, db=db,
                                streams=[{"name": f"{n} capture", "seed": None,
                                          "operands": dict(zip(spec.operands, got[n]))}
                                         for n in nodes])
                memo[(choice, length)] = dict(zip(nodes, rs))
            per_node = memo[(choice, length)]
        except ValueError as e:   # a unit the energy flow cannot run (register stages)
            raise ExploreError(f"{choice.label}: {str(e).splitlines()[0]}") from None
        per, total_e, total_ops, r = [], 0.0, 0.0, None
        for node, ops in node_ops[key[2]]:
            r = per_node[node]
            per.append((node, (("ops_per_row", ops), ("energy_fj_per_op", r.energy_fj_per_op),
                               ("operations", r.energy["operations"]))))
            total_e += ops * r.energy_fj_per_op
            total_ops += ops
        mean = (total_e / total_ops if total_ops else
                float(np.mean([dict(e)["energy_fj_per_op"] for _, e in per])))
        out[key] = UnitCost(r.top, None, None, None, r.area_um2, r.delay_ns, r.leakage_nw,
                            mean, total_e / 1000.0, tuple(per))
    return out


def design_cost(groups, design, unit_cost, ops: list) -> dict:
    """``{"area", "lut_ops", "fmax_mhz"}`` of ``design`` (a choice index per group);
    ``unit_cost(g, i)``: the UnitCost of group g's choice i; ``ops[g]``: the operations per
    row of group g's nodes. On a standard-cell target: ``{"area_um2", "delay_ns"}`` and,
    with the energy objective, ``"energy_pj_per_row"``."""
    costs = [unit_cost(g, i) for g, i in enumerate(design)]
    if costs and costs[0].cells:
        area = sum(c.area_um2 * grp.instances for c, grp in zip(costs, groups))
        delays = [c.delay_ns for c in costs]
        d = {"area_um2": float(area),
             "delay_ns": None if any(x is None for x in delays) else max(delays)}
        if costs[0].energy_pj_per_row is not None:
            d["energy_pj_per_row"] = float(sum(c.energy_pj_per_row for c in costs))
        return d
    area = sum(c.lut4 * grp.instances for c, grp in zip(costs, groups))
    lut_ops = sum(c.lut4 * ops[g] for g, c in enumerate(costs))
    fm = [c.fmax_mhz for c in costs]
    fmax = None if any(f is None for f in fm) else min(fm)
    return {"area": int(area), "lut_ops": float(lut_ops) if not math.isnan(lut_ops) else None,
            "fmax_mhz": fmax}


def estimate(choice, length: int) -> tuple:
    """A sort key that ranks a choice's cost without synthesising it: the unit's operand
    bits (``input_bits``), then its result bits (``out_width``) from its Params. Only an order
    to price in (the cheapest-looking first); no result depends on it being right (LUT4 is not
    monotone in such knobs: a signed Mitchell-4 with ``keep_bits = 2`` is larger than without
    truncation on yosys 0.23)."""
    _spec, params, _ = _unit(choice, length)
    return (getattr(params, "input_bits", 0), getattr(params, "out_width", 0) or 0)


class LazyPrices:
    """Units priced on demand, each at most once.

    ``keys``: every ``(choice, length)`` a search may need. :meth:`ensure` prices the given
    keys not yet priced, in :func:`estimate` order (ties: the order of ``keys``) unless told
    otherwise, showing
    ``explore: synthesis`` progress and calling ``after()`` after each unit;
    ``self[key]`` prices one key if needed. ``pricer`` is :func:`price` (its signature)."""

    def __init__(self, keys, *, fmax: bool, db, pricer=None, warn=None, progress: bool = False,
                 after=None):
        self.keys = list(dict.fromkeys(keys))
        self.fmax, self.db, self.warn, self.progress = fmax, db, warn, progress
        self.pricer = price if pricer is None else pricer
        self.after = after
        self.costs: dict = {}
        self.seconds = 0.0  # spent pricing
        self._rank = {}
        self._warm = None

    def rank(self, key) -> tuple:
        if key not in self._rank:
            self._rank[key] = (*estimate(*key[:2]), self.keys.index(key))
        return self._rank[key]

    def warm_up(self) -> None:
        """Export the cheapest-looking unit's Verilog in a background thread, while the caller
        evaluates designs: on a fresh machine the first export compiles Amaranth's built-in
        yosys (WebAssembly: 30-36 s measured on 2 busy cores, then cached on disk, about 1 s
        per export after), which would otherwise delay the first price. The compile releases
        the GIL (the main thread was never held up more than 0.1 s). Nothing is written but
        that cache; an error here is left to the real pricing to report."""
        if self._warm is not None or not self.keys:
            return
        key = min(self.keys, key=self.rank)

        def run():
            try:
                from hwsim.hdl.export import to_verilog
                spec, params, _ = _unit(*key[:2])
                to_verilog(spec, params, spec.component(params))
            except Exception:  # noqa: BLE001 (the pricing itself reports it)
                pass
        self._warm = threading.Thread(target=run, name="hwsim-explore-warm-up", daemon=True)
        self._warm.start()

    def ensure(self, keys, desc: str = "explore: synthesis", sort: bool = True) -> None:
        """Price ``keys`` not yet priced: in :meth:`rank` order, or as given (``sort=False``:
        the caller has ordered them, e.g. by the designs that use them)."""
        from hwsim.progress import track
        todo = [k for k in dict.fromkeys(keys) if k not in self.costs]
        if sort:
            todo.sort(key=self.rank)
        if todo and self._warm is not None:  # one compile of the yosys module, not two
            self._warm.join()
        for key in track(todo, desc=desc, unit="unit", show=self.progress and bool(todo)):
            t = time.monotonic()
            self.costs.update(self.pricer([key], fmax=self.fmax, db=self.db, warn=self.warn))
            self.seconds += time.monotonic() - t
            if self.after is not None:
                self.after()

    def __getitem__(self, key) -> UnitCost:
        if key not in self.costs:
            self.ensure([key])
        return self.costs[key]

    def get(self, key) -> UnitCost | None:
        """The key's cost if priced, else None (prices nothing)."""
        return self.costs.get(key)

    @property
    def complete(self) -> bool:
        return len(self.costs) >= len(self.keys)
