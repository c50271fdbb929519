"""``hwsim explore``: run the configured searches and write what they found.

Every design is evaluated as a task of the ``onnx-design`` study through the sweep engine
(:class:`hwsim.sweep.SweepRunner` on ``OUT/results.sqlite``): stored designs are never
evaluated again (a killed run resumes), batches run on a local pool (``jobs``) or a Dask
cluster (``scheduler``) and give the same rows. Units are priced by synthesis lazily
(:class:`hwsim.explore.cost.LazyPrices`), in the order :func:`explore` states. Outputs in ``OUT``: ``designs.csv`` (every design
evaluated), ``best.toml`` (the best design under the floor, an assignment ``hwsim run``
reproduces), ``report.md``, ``front.png``, ``search.png``; ``--json`` and ``--emit`` as in
the CLI.
"""

from __future__ import annotations

import csv
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hwsim.explore.config import ExploreConfig, ExploreError
from hwsim.explore.cost import (
    COST_KEYS,
    LazyPrices,
    _unit,
    design_cost,
    estimate,
    node_ops,
    price,
    price_cells,
)
from hwsim.explore.search import SEARCHES, Outcome

__all__ = ["explore", "assignment_doc", "to_toml", "write_outputs", "emit_units"]

STUDY = "onnx-design"


@dataclass
class Space:
    """A configuration resolved against its model: nodes, op counts and unit prices (priced
    when first needed)."""

    cfg: ExploreConfig
    model: str
    data: str
    nodes: list          # per group, its node names
    ops: list            # per group, operations per row of data
    lengths: list        # per group, the longest softmax row (0 for products)
    prices: LazyPrices   # (choice, length) -> UnitCost, priced on demand
    #: the energy's operand captures (:class:`hwsim.explore.energy.OperandStreams`), or None
    streams: object = None

    @property
    def energy(self) -> bool:
        return self.cfg.objective == "energy"

    def key(self, g: int, i: int) -> tuple:
        """What prices group g's choice i: ``(choice, length)``; with the energy objective
        also the group (its nodes' operands decide the energy)."""
        k = (self.cfg.groups[g].choices[i], self.lengths[g])
        return (*k, g) if self.energy else k

    def keys(self, designs) -> list:
        """The units ``designs`` use, in order."""
        return list(dict.fromkeys(self.key(g, i) for d in designs for g, i in enumerate(d)))

    def unit_cost(self, g: int, i: int):
        return self.prices[self.key(g, i)]

    @property
    def unit_costs(self) -> list:
        """Per group, per choice: its UnitCost, or None where it was never priced."""
        return [[self.prices.get(self.key(g, i)) for i in range(len(grp.choices))]
                for g, grp in enumerate(self.cfg.groups)]

    def assignment(self, design) -> dict:
        return assignment_doc(self.cfg, design)

    def cost(self, design) -> dict:
        return design_cost(self.cfg.groups, design, self.unit_cost, self.ops)

    def priced(self, design) -> bool:
        return all(self.prices.get(k) is not None for k in self.keys([design]))

    def estimate(self, design) -> tuple:
        """A proxy of the design's objective without synthesis: the :func:`estimate` of its
        units, weighted as the objective weighs them (an order to price in, nothing more)."""
        w = [g.instances for g in self.cfg.groups] if self.cfg.objective == "area" else self.ops
        return (sum(x * estimate(*self.key(g, i)[:2])[0] for g, (x, i) in enumerate(zip(w, design))),
                design)

    def widest(self) -> tuple:
        """Per group, the choice :func:`estimate` ranks dearest (the first in the file on a
        tie): the design whose metric checks the constraint before anything is priced."""
        return tuple(max(range(len(g.choices)),
                         key=lambda i, k=k: (estimate(*self.key(k, i)[:2]), -i))
                     for k, g in enumerate(self.cfg.groups))

    def objective(self, design) -> float:
        c = self.cost(design)
        return float(c[COST_KEYS[target_kind(self.cfg.target)][self.cfg.objective]])

    def order(self) -> tuple:
        """Per group, choice indices from the most to the least costly (iCE40: LUT4; a
        standard-cell target: area, or the group's energy per row; ties by position in the
        file): prices every unit."""
        self.prices.ensure([self.key(k, i) for k, g in enumerate(self.cfg.groups)
                            for i in range(len(g.choices))])
        obj = self.cfg.objective
        return tuple(tuple(sorted(range(len(g.choices)),
                                  key=lambda i, k=k: (-self.unit_cost(k, i).value(obj), i)))
                     for k, g in enumerate(self.cfg.groups))


def target_kind(name: str) -> str:
    """``fpga`` or ``cells``: the registry traits of cost target ``name``."""
    from hwsim.eval.targets import get_target
    return "fpga" if get_target(name).fpga else "cells"


def assignment_doc(cfg: ExploreConfig, design) -> dict:
    """The assignment (``--assign`` tables) of ``design``: one rule per group, in order."""
    rules = [{**g.selector(), **g.choices[i].rule()} for g, i in zip(cfg.groups, design)]
    doc = {"assign": rules}
    if cfg.calibration:
        doc["calibration"] = dict(cfg.calibration)
    return doc


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{k} = {_toml_value(x)}" for k, x in v.items()) + " }"
    raise TypeError(f"cannot write {v!r} as TOML")


def to_toml(doc: dict, header: str = "") -> str:
    """An assignment dict as the TOML ``hwsim run --assign`` reads (None values dropped)."""
    lines = [f"# {h}" for h in header.splitlines()]
    for rule in doc.get("assign", []):
        lines += ["", "[[assign]]"] + [f"{k} = {_toml_value(v)}" for k, v in rule.items()
                                       if v is not None]
    for table in ("calibration", "formats"):
        if doc.get(table):
            lines += ["", f"[{table}]"] + [f"{json.dumps(k) if table == 'formats' else k} = "
                                           f"{_toml_value(v)}" for k, v in doc[table].items()]
    return "\n".join(lines) + "\n"


def resolve_space(cfg: ExploreConfig, out: Path, *, db, progress: bool) -> Space:
    from hwsim.explore.workloads import resolve
    from hwsim.graph.assign import units_by_op
    UNITS_BY_OP = units_by_op()
    from hwsim.graph.evaluate import load_data
    from hwsim.graph.model import load
    model, data = resolve(cfg.workload, out)
    graph = load(model, "workload.model")
    feeds, labels = load_data(data, graph, "workload.data")
    _check_constraint_fits(cfg, labels, graph.outputs)  # before minutes of pricing
    nodes, owner = [], {}
    for g in cfg.groups:
        units = {c.unit for c in g.choices}
        mine = []
        for n in graph.nodes:
            ok_op = n.key in UNITS_BY_OP and units <= set(UNITS_BY_OP[n.key])
            sel = ((g.op is None or n.op_type in g.op)
                   and (g.node is None or __import__("fnmatch").fnmatchcase(n.name, g.node)))
            if ok_op and sel:
                if n.name in owner:
                    raise ExploreError(f"{cfg.source}: node {n.name} is in group {owner[n.name]!r} "
                                       f"and in group {g.name!r}; make the groups disjoint")
                owner[n.name] = g.name
                mine.append(n.name)
        if not mine:
            kinds = sorted({n.op_type for n in graph.nodes if n.key in UNITS_BY_OP
                            and units <= set(UNITS_BY_OP[n.key])})
            raise ExploreError(f"{cfg.source}: group {g.name!r} (op={g.op}, node={g.node}, units "
                               f"{', '.join(sorted(units))}) matches no node of {model} (ops "
                               f"its units can run here: {', '.join(kinds) or 'none'})")
        nodes.append(mine)
    counts = node_ops(graph, feeds, [n for ns in nodes for n in ns])
    ops = [sum(counts[n][0] for n in ns) for ns in nodes]
    lengths = [max(counts[n][1] for n in ns) for ns in nodes]
    for g, length in zip(cfg.groups, lengths):
        for c in g.choices:
            try:
                _unit(c, length)
            except (TypeError, ValueError) as e:
                raise ExploreError(f"{cfg.source}: group {g.name!r}: {c.label} must suit the "
                                   f"model's softmax rows (length {length}): {e}") from None
    energy = cfg.objective == "energy"
    streams = None
    if target_kind(cfg.target) == "fpga":
        def pricer(*a, **k):
            return price(*a, **k)  # looked up when called
    else:
        from hwsim.eval import stdcell
        from hwsim.eval.targets import get_target
        from hwsim.eval.targets import TargetUnavailable
        target = get_target(cfg.target)
        try:
            target.library_path()   # a missing library or tool: one line before any work
        except TargetUnavailable as e:
            raise ExploreError(str(e)) from None
        stdcell.find_sta()
        stdcell.find_tool("yosys")
        if energy:
            from hwsim.explore.energy import OperandStreams
            streams = OperandStreams(cfg, model, data, nodes, cache=db is not None)
        per_node = [[(n, counts[n][0]) for n in ns] for ns in nodes]
        memo: dict = {}   # (choice, length) -> {node: CellResult}: one mapping per choice

        def pricer(keys, **k):
            return price_cells(keys, target=target, db=k.get("db"), streams=streams,
                               node_ops=per_node, memo=memo)
    prices = LazyPrices([(c, lengths[k], k) if energy else (c, lengths[k])
                         for k, g in enumerate(cfg.groups) for c in g.choices],
                        fmax=cfg.fmax, db=db, progress=progress, pricer=pricer,
                        warn=lambda w: print(f"hwsim: warning: {w}", file=sys.stderr))
    return Space(cfg, model, data, nodes, ops, lengths, prices, streams)


class Evaluator:
    """Evaluates designs through the sweep runner and turns rows into :class:`Outcome`.

    Feasibility needs only the metric; a cost needs the design's units priced (on demand);
    :attr:`order` and :attr:`cost_max` need every unit priced, so they are computed when first
    read (sampling and greedy read the order before their first design)."""

    def __init__(self, space: Space, runner, metric_key: str | None, floor: float | None,
                 ref: float, bar=None, clock=time.monotonic, notify=None):
        self.space, self.runner, self.bar = space, runner, bar
        self.best = None  # the lowest feasible cost the current search found (for its bar)
        self.metric_key, self.floor, self.ref = metric_key, floor, ref
        self.rows: dict = {}     # design -> metrics row
        self.start = None        # where sampling and greedy begin (None: the dearest design)
        self.computed = 0
        self.sizes = tuple(len(g.choices) for g in space.cfg.groups)
        self._order = None
        self._cost_max = None
        self.clock, self.t0, self.notify = clock, clock(), notify
        #: the first feasible design known with its cost (:meth:`check_first`), or None
        self.first = None

    @property
    def order(self) -> tuple:
        if self._order is None:
            self._order = self.space.order()
        return self._order

    @property
    def top(self) -> tuple:
        """The dearest design (every group on its most costly choice)."""
        return tuple(o[0] for o in self.order)

    @property
    def cost_max(self) -> float:
        if self._cost_max is None:
            self._cost_max = max(self.space.objective(self.top), 1e-300)
        return self._cost_max

    def params(self, design) -> dict:
        return {"model": self.space.model, "data": self.space.data,
                "assignment": json.dumps(self.space.assignment(design), sort_keys=True)}

    def rows_for(self, designs, progress: str | None = None) -> list[dict]:
        """The metrics rows of ``designs``, evaluated where not yet known; ``progress``: a
        stage name to show their evaluation under (:func:`hwsim.progress.bar`)."""
        from hwsim.studies import get_study
        todo = [d for d in designs if d not in self.rows]
        if todo:
            study = get_study(STUDY)
            tasks = [(study.normalize(self.params(d)), 0) for d in todo]
            rows, computed = self.runner.run(STUDY, tasks, progress=progress is not None,
                                             desc=progress)
            self.computed += computed
            for d, r in zip(todo, rows):
                self.rows[d] = r["metrics"]
        return [self.rows[d] for d in designs]

    def metric(self, design) -> float:
        return float(self.rows[design][self.metric_key])

    def feasible(self, design) -> bool:
        """Whether an evaluated design meets the floor (no unit priced)."""
        return self.metric(design) >= self.floor - 1e-12

    def outcome(self, design) -> Outcome:
        """The design's outcome (its units priced if not yet). The loss of a feasible design
        is normalised by :attr:`cost_max`, which needs every unit priced: before the order is
        known (only sampling reads a loss, after reading the order) it is NaN."""
        m, c = self.metric(design), self.space.objective(design)
        feasible = self.feasible(design)
        span = max(abs(self.ref - self.floor), 1e-3)
        worst = -1.0 if math.isnan(m) else m  # undefined (spearman of equal rows): the worst
        if feasible:
            loss = c / self.cost_max if self._order is not None else math.nan
        else:
            loss = 1.0 + (self.floor - worst) / span
        return Outcome(m, c, feasible, float(loss))

    def check_first(self) -> None:
        """Note the first feasible design whose units are all priced (the cheapest of them
        when several become known at once) with the time since the start, and tell
        ``notify``."""
        if self.first is not None or self.floor is None:
            return
        ok = [d for d in self.rows if self.feasible(d) and self.space.priced(d)]
        if not ok:
            return
        d = min(ok, key=lambda d: (self.space.objective(d), -self.metric(d)))
        cfg = self.space.cfg
        self.first = {"seconds": self.clock() - self.t0,
                      "units_priced": len(self.space.prices.costs),
                      "units": len(self.space.prices.keys),
                      "cost": self.space.objective(d), "metric": self.metric(d),
                      "design": {g.name: g.choices[i].label for g, i in zip(cfg.groups, d)}}
        if self.notify is not None:
            self.notify(self.first)

    def evaluate(self, designs) -> list[Outcome]:
        self.rows_for(designs)
        self.space.prices.ensure(self.space.keys(designs))
        outs = [self.outcome(d) for d in designs]
        self.check_first()
        if self.bar is not None:
            best = [o.cost for o in outs if o.feasible]
            if best:
                self.best = min(best + ([self.best] if self.best is not None else []))
                self.bar.set_postfix_str(f"best feasible {self.space.cfg.objective} "
                                         f"{self.best:g}")
            self.bar.update(len(designs))
        return outs


def _check_constraint_fits(cfg: ExploreConfig, labels, outputs) -> None:
    """The constraint names what the workload has: labels for accuracy, an output of the
    model for ``constraint.output``."""
    c = cfg.constraint
    if c.metric == "accuracy" and labels is None:
        raise ExploreError(f"{cfg.source}: constraint.metric accuracy needs labels in the "
                           f"data file (a 'labels' array); or use cosine / spearman")
    if c.metric != "accuracy" and c.output and c.output not in outputs:
        raise ExploreError(f"{cfg.source}: constraint.output {c.output!r} is not an output of "
                           f"the model (outputs: {', '.join(outputs)})")


def _metric_key(cfg: ExploreConfig, row: dict, outputs) -> str:
    c = cfg.constraint
    if c.metric == "accuracy":
        return "accuracy"  # labels are there (_check_constraint_fits)
    names = [c.output] if c.output else list(outputs)
    for name in names:
        if f"{name}.{c.metric}" in row:
            return f"{name}.{c.metric}"
    need = (f"a 2-D float output of 3..{_max_rows()} rows and 2 or more columns, not all "
            f"rows alike (else its Spearman rho is undefined)"
            if c.metric == "spearman" else "a float output of 2 or more classes (last axis)")
    which = f"output {c.output!r} is not one" if c.output else "no output is"
    raise ExploreError(f"{cfg.source}: constraint.metric {c.metric} needs {need}; {which} "
                       f"(outputs: {', '.join(outputs)})")


def _check_scheduler(address: str) -> None:
    """Connect to the Dask scheduler once, so a bad address is one line before any work."""
    from hwsim.sweep import SweepError, check_scheduler
    try:
        check_scheduler(address)
    except SweepError as e:
        raise ExploreError(str(e)) from None


def _max_rows() -> int:
    from hwsim.graph.evaluate import MAX_SPEARMAN_ROWS
    return MAX_SPEARMAN_ROWS


def uniform_designs(cfg: ExploreConfig) -> dict:
    """``{label: design}`` of every choice every group has (the uniform assignments)."""
    out = {}
    for c in cfg.groups[0].choices:
        if all(c in g.choices for g in cfg.groups):
            out[c.label] = tuple(g.choices.index(c) for g in cfg.groups)
    return out


def front(points) -> list[int]:
    """Indices of the non-dominated points ``(cost, metric)`` (lower cost, higher metric),
    by cost."""
    idx = sorted(range(len(points)), key=lambda i: (points[i][0], -points[i][1]))
    out, best = [], -math.inf
    for i in idx:
        if points[i][1] > best:
            out.append(i)
            best = points[i][1]
    return out


def explore(cfg: ExploreConfig, out: Path, *, jobs: int = 1, scheduler: str | None = None,
            db=None, progress: bool = False) -> tuple[dict, Space]:
    """Run ``cfg``'s searches; returns the result dict (the ``--json`` content) and the
    resolved space.

    Order of work (units are priced only when a result needs them, the cheapest first):

    1. the widest design (each group on the choice :func:`~hwsim.explore.cost.estimate`
       ranks dearest) and every uniform design are evaluated: metrics only, nothing priced;
       feasibility (metric >= floor) is known for each; meanwhile a background thread warms
       up the Verilog export (:meth:`~hwsim.explore.cost.LazyPrices.warm_up`);
    2. the units of the feasible uniform designs are priced, the designs taken cheapest
       :meth:`Space.estimate` first: as soon as one feasible design's units are all priced it
       is reported (``first feasible design``, with the time since the start); then the
       rest of them, so the start of sampling and greedy, the cheapest feasible uniform
       design, is the true minimum over them (every candidate is priced: no estimate decides);
    3. if a search needs the cost order of every choice (sampling, greedy), every unit is
       priced and the dearest design evaluated; a random search prices the units of the
       designs it draws as it draws them;
    4. the searches run.

    Why the result is the one an eager pricing (every unit before any search, as before)
    gives: a search reads costs only through :meth:`Evaluator.outcome` (the design's cost,
    from its own units, priced before the outcome is made), :attr:`Evaluator.order` and
    :attr:`Evaluator.cost_max` (computed from every unit, priced first), and ``start``
    (step 2: the minimum over the fully priced feasible uniform designs). Each of these is a
    function of measured prices only, and a unit's price does not depend on when it is
    measured (one synthesis, cached); the estimates decide only the order of pricing. So
    every search sees the same numbers, evaluates the same designs in the same order, and the
    best design, the front and every trace are those of eager pricing. On a standard-cell
    target with the energy objective a price is keyed by (choice, row length, group) and
    made from the operands captured for that choice (:mod:`hwsim.explore.energy`: one seeded
    run per choice whose assignment depends on the configuration alone), so it too is a
    function of its key, whenever it is measured. (The only difference:
    the widest design is evaluated first; where it is not the dearest, it is one more design
    in ``designs``.) What is never priced (a random-only search that never draws a choice)
    is reported as not priced."""
    from hwsim.graph.evaluate import load_data, predictions, reference_outputs
    from hwsim.graph.model import load
    from hwsim.progress import bar as progress_bar
    from hwsim.progress import _isatty, elapsed
    from hwsim.sweep import SweepRunner
    t0 = time.monotonic()
    if scheduler is not None:
        _check_scheduler(scheduler)
    created = not out.exists()
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ExploreError(f"{out}: cannot create the output directory ({e.strerror or e})") from None
    try:
        space = resolve_space(cfg, out, db=db, progress=progress)
    except BaseException:  # a refused workload leaves no empty output directory behind
        if created and not any(out.iterdir()):
            out.rmdir()
        raise
    graph = load(space.model)
    feeds, labels = load_data(space.data, graph)

    def notify(first: dict) -> None:
        unit = cost_unit(cfg.objective, cfg.target)
        line = (f"hwsim: explore: first feasible design, {elapsed(first['seconds'])} elapsed "
                f"({first['units_priced']} of {first['units']} units priced): "
                f"{cfg.objective} {first['cost']:g} {unit}, "
                f"{metric_text(ev.metric_key, first['metric'])}: "
                + ", ".join(f"{k}: {v}" for k, v in first["design"].items()))
        if _isatty(sys.stderr):  # above the synthesis bar, not through it
            from tqdm.auto import tqdm
            tqdm.write(line, file=sys.stderr)
        else:
            print(line, file=sys.stderr, flush=True)

    with SweepRunner(out / "results.sqlite", jobs=jobs, scheduler=scheduler) as runner:
        ev = Evaluator(space, runner, None, None, 1.0, notify=notify if progress else None)
        ev.t0 = t0
        space.prices.after = ev.check_first
        space.prices.warm_up()  # while the first designs are evaluated
        uniform = uniform_designs(cfg)
        widest = space.widest()
        first = ev.rows_for([widest], progress="explore: the widest design" if progress else None)[0]
        ev.metric_key = _metric_key(cfg, first, graph.outputs)
        if math.isnan(ev.metric(widest)):
            raise ExploreError(f"{cfg.source}: constraint.metric {ev.metric_key} must be defined "
                               f"on workload.data, not NaN for the widest design (are all its "
                               f"rows alike?); use another metric or data")
        c = cfg.constraint
        if c.metric == "accuracy":
            ref = float((predictions(reference_outputs(graph, feeds), len(labels)) == labels).mean())
        else:
            ref = 1.0  # the float model against itself
        ev.ref = ref
        ev.floor = c.min if c.min is not None else ref - (
            c.max_drop / 100 if c.metric == "accuracy" else c.max_drop)
        ev.rows_for(list(uniform.values()),
                    progress="explore: uniform designs" if progress else None)
        # sampling and greedy start from the cheapest uniform design meeting the floor:
        # price the feasible ones, the cheapest-looking first
        ok = [d for d in uniform.values() if ev.feasible(d)]
        space.prices.ensure(space.keys(sorted(ok, key=space.estimate)), sort=False)
        ev.check_first()
        # (the first of equals in the order of the uniform designs, as with eager pricing)
        ev.start = min(ok, key=lambda d: (ev.outcome(d).cost, -ev.outcome(d).metric)) if ok else None
        if any(m in ("sampling", "greedy") for m in cfg.methods):
            ev.order  # noqa: B018 (prices every unit, before the searches' bars)
            ev.rows_for([ev.top], progress="explore: the dearest design" if progress else None)
            ev.check_first()
        traces = []
        for method in cfg.methods:
            # greedy draws nothing at random: one run stands for every seed
            for seed in (cfg.seeds[:1] if method == "greedy" else cfg.seeds):
                bar = progress_bar(cfg.budget, desc=f"explore: {method} seed {seed}",
                                   unit="design", show=progress)
                ev.best = None
                ev.bar = bar
                traces.append(SEARCHES[method](ev, cfg.budget, seed, batch=cfg.batch,
                                               temperature=cfg.temperature,
                                               cooling=cfg.cooling))
                bar.close()
                ev.bar = None
        # every evaluated design gets its cost in the results
        space.prices.ensure(space.keys(list(ev.rows)))
    result = summarize(cfg, space, ev, uniform, traces)
    result["first_feasible"] = ev.first
    result["seconds"] = time.monotonic() - t0
    result["units_priced"] = len(space.prices.costs)
    return result, space


def _design_entry(space: Space, ev: Evaluator, design) -> dict:
    o = ev.outcome(design)
    return {"cost": o.cost, "metric": o.metric, "feasible": o.feasible,
            "design": {g.name: g.choices[i].label for g, i in zip(space.cfg.groups, design)},
            **space.cost(design), "assignment": space.assignment(design)}


#: a choice no search needed the price of (``"priced": false``), per kind of target
UNPRICED = {"top": None, "lut4": None, "dff": None, "fmax_mhz": None}
UNPRICED_CELLS = {"top": None, "area_um2": None, "delay_ns": None, "leakage_nw": None}


def summarize(cfg, space, ev, uniform, traces) -> dict:
    designs = list(ev.rows)
    entries = [_design_entry(space, ev, d) for d in designs]
    feas = [i for i, e in enumerate(entries) if e["feasible"]]
    best = min(feas, key=lambda i: (entries[i]["cost"], -entries[i]["metric"])) if feas else None
    uni = {label: _design_entry(space, ev, d) for label, d in uniform.items()}
    uni_ok = [k for k, e in uni.items() if e["feasible"]]
    uni_best = min(uni_ok, key=lambda k: (uni[k]["cost"], -uni[k]["metric"])) if uni_ok else None
    fr = front([(e["cost"], e["metric"]) for e in entries])
    unpriced = UNPRICED if target_kind(cfg.target) == "fpga" else UNPRICED_CELLS
    methods = {}
    for t in traces:
        b = t.best()
        methods.setdefault(t.method, []).append(
            {"seed": t.seed, "evaluations": len(t.designs),
             "best_cost": None if b is None else t.outcomes[b].cost,
             "best_metric": None if b is None else t.outcomes[b].metric,
             "best_so_far": t.best_so_far()})
    comparison = {}
    for m, runs in methods.items():
        costs = [r["best_cost"] for r in runs if r["best_cost"] is not None]
        comparison[m] = {"runs": len(runs), "feasible_runs": len(costs),
                         "mean_best_cost": float(np.mean(costs)) if costs else None,
                         "min_best_cost": min(costs) if costs else None,
                         "max_best_cost": max(costs) if costs else None,
                         "std_best_cost": float(np.std(costs)) if costs else None,
                         "mean_evaluations": float(np.mean([r["evaluations"] for r in runs]))}
    result = {
        "workload": {"model": space.model, "data": space.data, **cfg.workload},
        "constraint": cfg.constraint.describe(), "metric_key": ev.metric_key,
        "floor": ev.floor, "float_value": ev.ref, "objective": cfg.objective,
        "groups": [{"name": g.name, "nodes": ns, "ops_per_row": ops, "instances": g.instances,
                    "choices": [{"unit": c.label, "priced": uc is not None,
                                 **(uc.to_dict() if uc is not None else unpriced)}
                                for c, uc in zip(g.choices, ucs)]}
                   for g, ns, ops, ucs in zip(cfg.groups, space.nodes, space.ops,
                                              space.unit_costs)],
        "best": None if best is None else entries[best],
        "uniform_best": None if uni_best is None else {"label": uni_best, **uni[uni_best]},
        "uniform": [{"label": k, **v} for k, v in uni.items()],
        "evaluations": len(designs), "computed": ev.computed,
        "front": [entries[i] for i in fr],
        "designs": entries,
        "searches": methods, "comparison": comparison,
        "budget": cfg.budget, "seeds": list(cfg.seeds),
        "target": cfg.target, "cost_unit": cost_unit(cfg.objective, cfg.target),
    }
    if target_kind(cfg.target) != "fpga":
        result["cost_label"] = (f"{cfg.target} area, um2 x instances" if cfg.objective == "area"
                                else f"{cfg.target} energy, pJ per row of data")
    if cfg.objective == "energy":
        result["energy"] = energy_info(cfg, space)
    if best is not None and uni_best is not None:
        result["saving"] = 1 - entries[best]["cost"] / uni[uni_best]["cost"]
    if best is None:
        worst = max(entries, key=lambda e: -math.inf if math.isnan(e["metric"]) else e["metric"])
        result["best_reached"] = {"metric": worst["metric"], "design": worst["design"]}
    return result


def write_outputs(result: dict, cfg: ExploreConfig, out: Path) -> list[Path]:
    """designs.csv, best.toml, report.md, front.png, search.png in ``out``, each written
    whole or not at all (:func:`hwsim.paths.atomic_writer`)."""
    from hwsim.paths import atomic_writer, replace_text
    from hwsim.render import plots
    written = []
    names = [g.name for g in cfg.groups]
    p = out / "designs.csv"
    with atomic_writer(p) as f:
        w = csv.writer(f)
        keys = COST_COLUMNS[target_kind(cfg.target)]
        if cfg.objective != "energy":
            keys = tuple(k for k in keys if k != "energy_pj_per_row")
        w.writerow(["cost", "metric", "feasible", *keys, *names])
        for e in sorted(result["designs"], key=lambda e: e["cost"]):
            w.writerow([e["cost"], e["metric"], e["feasible"], *[e[k] for k in keys],
                        *[e["design"][n] for n in names]])
    written.append(p)
    if result["best"] is not None:
        b = result["best"]
        p = out / "best.toml"
        replace_text(p, to_toml(b["assignment"], (
            f"hwsim explore {cfg.source}: the cheapest design found with {cfg.constraint.describe()}\n"
            f"{metric_text(result['metric_key'], b['metric'])} (floor "
            f"{floor_value(result['metric_key'], result['floor'])}), "
            f"{cfg.objective} {b['cost']:g}{unit_suffix(result)}\n"
            + (energy_note(result) + "\n" if "energy" in result else "") +
            f"hwsim run {result['workload']['model']} --data {result['workload']['data']} "
            f"--assign {p.name}")))
        written.append(p)
    written.append(plots.explore_front(out / "front.png", result))
    written.append(plots.explore_search(out / "search.png", result))
    p = out / "report.md"
    replace_text(p, format_report(result, cfg))
    written.append(p)
    return written


def _fmt(v, digits=4):
    return "-" if v is None else (f"{v:.{digits}g}" if isinstance(v, float) else str(v))


#: the unit of each objective's cost (hwsim.explore.config.OBJECTIVES), for the headline
OBJECTIVE_UNITS = {"area": "LUT4", "lut-ops": "LUT4 x ops/row"}
#: ... on a standard-cell target
CELL_UNITS = {"area": "um2", "energy": "pJ/row"}
#: designs.csv's cost columns (design_cost's keys) per kind of target
COST_COLUMNS = {"fpga": ("area", "lut_ops", "fmax_mhz"),
                "cells": ("area_um2", "energy_pj_per_row", "delay_ns")}


def cost_unit(objective: str, target: str) -> str:
    """The unit of a design's cost: ``LUT4`` (iCE40 area), ``um2``, ``pJ/row`` (energy per
    row of data: Σ ops/row x fJ/op / 1000)."""
    if target_kind(target) == "fpga":
        return OBJECTIVE_UNITS.get(objective, "")
    return CELL_UNITS[objective]


def unit_suffix(result: dict) -> str:
    """`` pJ/row`` after a cost in best.toml's header (standard-cell targets; iCE40 as before,
    none)."""
    return "" if target_kind(result.get("target", "ice40")) == "fpga" else f" {result['cost_unit']}"


def energy_info(cfg, space) -> dict:
    """What the energy means, for the JSON and the printed note."""
    from hwsim.eval.stdcell import POWER_CLOCK_NS, ZERO_DELAY
    return {"unit": "pJ per row of data (sum over nodes of ops/row x fJ/op)",
            "toggles": ZERO_DELAY, "clock_ns": POWER_CLOCK_NS,
            "operations_per_node": cfg.operations, "seed": cfg.seed,
            "captures": None if space.streams is None else space.streams.runs}


def energy_note(result: dict) -> str:
    """One line: what the energy printed means (as hwsim synth / front say it)."""
    e = result["energy"]
    return (f"energy: {e['toggles']}; each node's operands captured from the workload with "
            f"the choice on its nodes ({e['operations_per_node']:,} pairs a node, seed "
            f"{e['seed']}), one operation per {e['clock_ns']:g} ns clock; a design's energy = "
            f"sum over nodes of ops/row x fJ/op, in pJ per row of data ({result['target']})")


def metric_value(key: str, v) -> str:
    """A value of the constraint's metric with its unit: accuracy in % (it is a fraction in
    the JSON) to 0.001 points (a design one row below the floor must not print as equal to
    it: 397 digits are 0.25 points a row), the others (cosine, Spearman, agreement: no unit) as they are; an undefined
    value (NaN) as ``undefined``, never as a number."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "undefined"
    return f"{100 * v:.3f} %" if key == "accuracy" else f"{v:.6g}"


def floor_value(key: str, v) -> str:
    """The floor at the precision it was given: a floor of at most 10 significant digits (a
    user's number, or 1 minus a round drop) as the shortest decimal that reads back as the
    same float (a cosine floor 0.99999999 is not ``1``); a computed one, and accuracy (in %
    to 0.001 points), as :func:`metric_value` prints metrics."""
    if key == "accuracy" or v is None or (isinstance(v, float) and math.isnan(v)):
        return metric_value(key, v)
    x = float(v)
    return repr(x) if float(f"{x:.10g}") == x and float(f"{x:.6g}") != x else metric_value(key, v)


def metric_text(key: str, v) -> str:
    """``accuracy 91.940 %``, ``sentence_embedding.spearman 0.99905``."""
    return f"{key} {metric_value(key, v)}"


def metric_head(key: str) -> str:
    """A table column of the metric: ``accuracy [%]``, or the metric's name."""
    return "accuracy [%]" if key == "accuracy" else key


def metric_cell(key: str, v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "undefined"
    return f"{100 * v:.3f}" if key == "accuracy" else f"{v:.6g}"


def format_summary(result: dict) -> str:
    """The headline lines printed by ``hwsim explore``: costs with their unit, the metric by
    its name (``metric_key``)."""
    obj, key = result["objective"], result["metric_key"]
    unit = result.get("cost_unit", OBJECTIVE_UNITS.get(obj, ""))
    lines = [f"{result['evaluations']} designs evaluated ({result['computed']} computed now), "
             f"floor: {result['constraint']} = {floor_value(key, result['floor'])}"]
    b, u = result["best"], result["uniform_best"]
    if b is None:
        r = result["best_reached"]
        lines.append(f"no feasible design; best {key} reached was "
                     f"{metric_value(key, r['metric'])} ({', '.join(f'{k}: {v}' for k, v in r['design'].items())})")
        return "\n".join(lines)
    lines.append(f"best: {obj} {b['cost']:g} {unit}, {metric_text(key, b['metric'])}: "
                 + ", ".join(f"{k}: {v}" for k, v in b["design"].items()))
    if u is not None:
        lines.append(f"cheapest uniform meeting the floor: {u['label']}, {obj} {u['cost']:g} {unit}, "
                     f"{metric_text(key, u['metric'])}; best / uniform = "
                     f"{b['cost'] / u['cost']:.3f}")
    else:
        lines.append("no uniform assignment meets the floor")
    for m, c in result["comparison"].items():
        lines.append(f"  {m:9s} best {obj} [{unit}] over {c['runs']} seed(s): mean "
                     f"{_fmt(c['mean_best_cost'])}, range {_fmt(c['min_best_cost'])}.."
                     f"{_fmt(c['max_best_cost'])}, feasible in {c['feasible_runs']}, "
                     f"{c['mean_evaluations']:.0f} evaluations each")
    if "energy" in result:
        lines.append(energy_note(result))
    return "\n".join(lines)


def _unit_table(result: dict) -> list[str]:
    """The groups and their choices' unit costs: iCE40 LUT4 / DFF / Fmax, or the standard
    cells' area / delay / leakage (and energy)."""
    fpga = target_kind(result.get("target", "ice40")) == "fpga"
    if fpga:
        cols = [("LUT4", "lut4"), ("DFF", "dff"), ("Fmax MHz", "fmax_mhz")]
    else:
        cols = [("area um2", "area_um2"), ("delay ns", "delay_ns"), ("leakage nW", "leakage_nw")]
        if "energy" in result:
            cols += [("fJ/op", "energy_fj_per_op"), ("pJ/row", "energy_pj_per_row")]
    title = "iCE40" if fpga else result["target"]
    lines = [f"## Groups and unit costs ({title})", "",
             "| group | nodes | ops/row | instances | choice | "
             + " | ".join(h for h, _ in cols) + " |", "|---|---|---|---|---|" + "---|" * len(cols)]
    for g in result["groups"]:
        for i, c in enumerate(g["choices"]):
            head = (f"{g['name']} | {len(g['nodes'])} | {g['ops_per_row']:.4g} | {g['instances']}"
                    if i == 0 else " | | | ")
            lines.append(f"| {head} | {c['unit']} | "
                         + " | ".join(_fmt(c.get(k)) for _, k in cols) + " |")
    return lines


def format_report(result: dict, cfg: ExploreConfig) -> str:
    obj, key = result["objective"], result["metric_key"]
    unit = result.get("cost_unit", OBJECTIVE_UNITS.get(obj, ""))
    lines = [f"# hwsim explore: {cfg.source}", "",
             f"Workload: `{result['workload']['model']}` on `{result['workload']['data']}`. "
             f"Floor: {result['constraint']} (= {floor_value(key, result['floor'])}; float "
             f"{metric_value(key, result['float_value'])}). Objective: {obj}. Budget: {result['budget']} "
             f"designs per search, seeds {result['seeds']}.", "", "```",
             format_summary(result), "```", "", *_unit_table(result)]
    if any(not c.get("priced", True) for g in result["groups"] for c in g["choices"]):
        lines += ["", "(-: a unit no search needed, never priced.)"]
    lines += ["", "## Searches at equal budget", "",
              f"| method | runs | feasible | mean best {obj} [{unit}] | min | max | std | "
              f"evaluations |",
              "|---|---|---|---|---|---|---|---|"]
    for m, c in result["comparison"].items():
        lines.append(f"| {m} | {c['runs']} | {c['feasible_runs']} | {_fmt(c['mean_best_cost'])} | "
                     f"{_fmt(c['min_best_cost'])} | {_fmt(c['max_best_cost'])} | "
                     f"{_fmt(c['std_best_cost'])} | {c['mean_evaluations']:.0f} |")
    names = [g["name"] for g in result["groups"]]
    lines += ["", "## Uniform assignments", "", f"| unit | {obj} [{unit}] | {metric_head(key)} | "
                                                 f"feasible |",
              "|---|---|---|---|"]
    for u in sorted(result["uniform"], key=lambda u: u["cost"]):
        lines.append(f"| {u['label']} | {u['cost']:g} | {metric_cell(key, u['metric'])} | "
                     f"{u['feasible']} |")
    speed, speed_key = (("Fmax MHz", "fmax_mhz")
                        if target_kind(result.get("target", "ice40")) == "fpga"
                        else ("delay ns", "delay_ns"))
    lines += ["", "## Pareto front (every design evaluated)", "",
              f"| {obj} [{unit}] | {metric_head(key)} | {speed} | " + " | ".join(names) + " |",
              "|---|---|---|" + "---|" * len(names)]
    for e in result["front"]:
        lines.append(f"| {e['cost']:g} | {metric_cell(key, e['metric'])} | {_fmt(e.get(speed_key))} | "
                     + " | ".join(e["design"][n] for n in names) + " |")
    lines += ["", "![front](front.png)", "", "![search](search.png)", ""]
    return "\n".join(lines)


def emit_units(result: dict, cfg: ExploreConfig, space: Space, out: Path) -> list[Path]:
    """The Verilog and JSON sidecar of every unit the best design uses, and ``cost.md``."""
    from hwsim.explore.cost import _unit
    from hwsim.hdl.export import write_verilog
    from hwsim.paths import replace_text
    out.mkdir(parents=True, exist_ok=True)
    best = result["best"]
    fpga = target_kind(cfg.target) == "fpga"
    written, rows = [], (["| group | unit | top | LUT4 | DFF | Fmax MHz |",
                          "|---|---|---|---|---|---|"] if fpga else
                         [f"| group | unit | top | {cfg.target} area um2 | delay ns | leakage nW |"
                          + (" fJ/op | pJ/row |" if cfg.objective == "energy" else ""),
                          "|---|---|---|---|---|---|" + ("---|---|" if cfg.objective == "energy"
                                                         else "")])
    labels = best["design"]
    for k, g in enumerate(cfg.groups):
        i = next(j for j, c in enumerate(g.choices) if c.label == labels[g.name])
        spec, params, baseline = _unit(g.choices[i], space.lengths[k])
        if baseline:
            from hwsim.hdl.export import to_verilog
            name = "exact_" + params.top_name
            v = out / f"{name}.v"
            replace_text(v, to_verilog(spec, params, spec.baseline_component(params), name=name))
            written.append(v)
        else:
            written += list(write_verilog(spec, params, out))
        uc = space.unit_cost(k, i)
        if fpga:
            rows.append(f"| {g.name} | {g.choices[i].label} | {uc.top} | {uc.lut4} | {uc.dff} | "
                        f"{_fmt(uc.fmax_mhz)} |")
        else:
            rows.append(f"| {g.name} | {g.choices[i].label} | {uc.top} | {_fmt(uc.area_um2)} | "
                        f"{_fmt(uc.delay_ns)} | {_fmt(uc.leakage_nw)} |"
                        + (f" {_fmt(uc.energy_fj_per_op)} | {_fmt(uc.energy_pj_per_row)} |"
                           if cfg.objective == "energy" else ""))
    p = out / "cost.md"
    if "energy" in result:
        rows += ["", energy_note(result)]
    replace_text(p, "\n".join(rows) + "\n")
    return written + [p]
