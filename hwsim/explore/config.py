"""The ``hwsim explore`` configuration file: workload, search space, floor, cost, search.

::

    [workload]
    builtin = "digits"            # "digits" or "minilm" (sentences = 60), or:
    # model = "model.onnx"        # a user's ONNX model and its data (.npz), as hwsim run
    # data = "data.npz"

    [calibration]                 # optional: hwsim run's [calibration] table (docs/onnx.md)
    mode = "static"

    [[group]]                     # nodes that get one unit together (a layer, a kind of layer)
    name = "hidden"
    op = "MatMul"                 # op type(s) and/or fnmatch pattern on node names
    node = "*"
    instances = 1                 # parallel units this group is built with (area)
    units = ["exact-mul", "mitchell-mul"]
    width = [4, 6, 8]             # each list is a grid axis; a field applies to the units
    keep_bits = ["none", 3]       # whose Params have it ("none": no truncation)

    [[group.choice]]              # and/or explicit choices (any unit field)
    unit = "mitchell-mul"
    width = 12

    [constraint]
    metric = "accuracy"           # accuracy, or cosine / spearman / argmax_agreement of an output
    max_drop = 0.5                # below the float model (accuracy: points), or min = 0.9
    # output = "sentence_embedding"

    [cost]
    objective = "area"            # "area" (sum LUT4 x instances) or "lut-ops" (sum ops x LUT4)
    fmax = false                  # true: also place and route each unit for Fmax (slower)
    target = "ice40"              # or a standard-cell library (osu018, ...): objective "area"
                                  # (sum um2 x instances) or "energy" (sum ops x fJ/op on
                                  # each node's captured operands)
    operations = 20000            # energy: operand pairs captured per node (seeded)
    seed = 0                      # energy: seed of the capture's subsample

    [search]
    methods = ["sampling", "random", "greedy"]
    budget = 40                   # distinct designs each search evaluates
    seeds = [0, 1, 2]
    batch = 4                     # candidates per sampling step
    temperature = 0.05            # of the sampling weights, on the normalised loss
    cooling = 0.95                # temperature factor per step

Every mistake is a :class:`ExploreError`: one line naming the file, the key, the rule and the
value.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from pathlib import Path

from hwsim._check import is_int, short_repr
from hwsim.schema import Schema

__all__ = ["ExploreError", "ExploreConfig", "Group", "Choice", "Constraint", "load_config",
           "parse_config", "METRICS", "METHODS", "OBJECTIVES", "TARGET_OBJECTIVES", "BUILTIN"]

METRICS = ("accuracy", "cosine", "spearman", "argmax_agreement")
METHODS = ("sampling", "random", "greedy")
OBJECTIVES = ("area", "lut-ops", "energy")
#: the objectives of each kind of cost target (its registry traits: ``fpga``, ``cells``)
TARGET_OBJECTIVES = {"fpga": ("area", "lut-ops"), "cells": ("area", "energy")}
#: built-in workloads and their own keys (see hwsim.explore.workloads)
BUILTIN = {"digits": {}, "minilm": {"sentences": 60}}
MAX_BUDGET = 100_000


class ExploreError(ValueError):
    """A bad explore configuration (one line; the CLI exits 2)."""


@dataclass(frozen=True)
class Choice:
    """One unit a group can get: ``unit`` and its fields as an assignment rule takes them."""

    unit: str
    spec: str  # the fields as canonical JSON (formats are tables: a string hashes)

    @classmethod
    def of(cls, unit: str, fields: dict) -> "Choice":
        return cls(unit, json.dumps(fields, sort_keys=True))

    @property
    def fields(self) -> dict:
        return json.loads(self.spec)

    def rule(self) -> dict:
        return {"unit": self.unit, **self.fields}

    @property
    def label(self) -> str:
        f = {k: v for k, v in self.fields.items()
             if k == "width" or v != _defaults(self.unit).get(k)}
        from hwsim.units import get_unit
        short = get_unit(self.unit).short
        parts = [f"{short}{f.pop('width')}" if "width" in f else short]
        parts += [f"{k}={_fmt_value(v)}" for k, v in sorted(f.items())]
        return " ".join(parts)


def _defaults(unit: str) -> dict:
    """The unit's Params defaults as rule values, with the fields the graph sets."""
    from hwsim.units import get_unit
    spec = get_unit(unit)
    return spec.params_cls().to_dict() | spec.fixed


def _fmt_value(v) -> str:
    if isinstance(v, dict):
        if set(v) >= {"int_bits", "frac_bits"}:
            return f"{'Q' if v.get('signed', True) else 'UQ'}{v['int_bits']}.{v['frac_bits']}"
        return ",".join(f"{k}:{x}" for k, x in sorted(v.items()))
    return str(v)


@dataclass(frozen=True)
class Group:
    name: str
    op: tuple | None
    node: str | None
    instances: int
    choices: tuple  # of Choice

    def selector(self) -> dict:
        d = {}
        if self.op is not None:
            d["op"] = self.op[0] if len(self.op) == 1 else list(self.op)
        if self.node is not None:
            d["node"] = self.node
        return d


@dataclass(frozen=True)
class Constraint:
    metric: str
    output: str | None
    min: float | None
    max_drop: float | None

    def describe(self) -> str:
        what = self.metric + (f" of {self.output}" if self.output else "")
        if self.min is not None:
            return f"{what} >= {self.min!r}"     # as given: 0.99999999, not 1
        unit = " points" if self.metric == "accuracy" else ""
        return f"{what} >= float - {self.max_drop!r}{unit}"


@dataclass(frozen=True)
class ExploreConfig:
    source: str
    workload: dict  # {"builtin": name, ...} or {"model": path, "data": path}
    calibration: dict
    groups: tuple
    constraint: Constraint
    objective: str
    fmax: bool
    methods: tuple
    budget: int
    seeds: tuple
    batch: int
    temperature: float
    cooling: float
    #: grid combinations left out because their unit refuses them, one line per group
    warnings: tuple = ()
    #: the cost target (:mod:`hwsim.eval.targets`): ``ice40`` prices LUT4, a standard-cell
    #: library area in um2 and energy per operation
    target: str = "ice40"
    #: energy: operand pairs captured per node, and the capture's seed
    operations: int = 20_000
    seed: int = 0


def _bad(source, msg):
    return Schema(source, ExploreError).bad(msg)


def _unpriced(unit: str) -> str | None:
    """Why explore cannot price ``unit`` (its registry ``graph`` role says), or ``None``."""
    from hwsim.units import REGISTRY
    spec = REGISTRY.get(unit)
    return None if spec is None else getattr(spec.graph, "unpriced", None)


def _choices(g: dict, where: str, source: str, dropped: list) -> tuple:
    from hwsim.graph.assign import parse_assignment, units_by_op
    from hwsim.units import REGISTRY, get_unit
    # a unit whose RTL is not what the graph runs (an unsigned unit on signed operands in
    # sign-magnitude form) would be priced without its sign handling: explore leaves it out
    all_units = sorted({u for us in units_by_op().values() for u in us if not _unpriced(u)})
    raw: list[dict] = []
    units = g.get("units")
    axes = {k: v for k, v in g.items() if k not in ("name", "op", "node", "instances",
                                                      "units", "choice")}
    if units is not None:
        if isinstance(units, str):
            units = [units]
        if not isinstance(units, list) or not units or not all(isinstance(u, str) for u in units):
            raise _bad(source, f"{where}.units must be a non-empty list of unit names, not "
                               f"{short_repr(units)}")
        for u in units:
            if _unpriced(u):
                raise _bad(source, f"{where}.units: explore cannot price {u} ({_unpriced(u)}); "
                                   f"units: {', '.join(all_units)}")
            if u not in all_units:
                raise _bad(source, f"{where}.units: unknown unit {u!r} (units: "
                                   f"{', '.join(all_units)})")
        axes = {k: (v if isinstance(v, list) else [v]) for k, v in axes.items()}
        for k, vs in axes.items():
            if not vs:
                raise _bad(source, f"{where}.{k} is an empty list; give at least one value")
            if not any(_has_field(u, k) for u in units):
                raise _bad(source, f"{where}.{k}: none of the units {', '.join(units)} has "
                                   f"a field {k!r}")
        for u in units:
            mine = {k: vs for k, vs in axes.items() if _has_field(u, k)}
            for combo in itertools.product(*mine.values()):
                raw.append({"unit": u, **dict(zip(mine, combo))})
    elif axes:
        raise _bad(source, f"{where}.{next(iter(axes))}: a grid field needs units = [...]")
    extra = g.get("choice", [])
    if not isinstance(extra, list) or not all(isinstance(c, dict) for c in extra):
        raise _bad(source, f"{where}.choice must be an array of tables ([[group.choice]]), not "
                           f"{short_repr(extra)}")
    grid_count = len(raw)
    raw += extra
    if not raw:
        raise _bad(source, f"{where} has an empty search space: give units = [...] (with "
                           f"fields such as width = [...]) or [[group.choice]] tables")
    out, seen = [], set()
    for i, c in enumerate(raw):
        c = {k: (None if isinstance(v, str) and v.lower() == "none" and k != "unit" else v)
             for k, v in c.items()}
        c = {k: v for k, v in c.items() if v is not None}
        if isinstance(c.get("unit"), str) and c["unit"] in REGISTRY and source != "<config>":
            # a file a unit reads (a circuit's verilog) is relative to the configuration
            c = get_unit(c["unit"]).params_cls.relative_to(c, Path(source).parent)
        if isinstance(c.get("unit"), str) and _unpriced(c["unit"]):
            raise _bad(source, f"{where}: explore cannot price {c['unit']} "
                               f"({_unpriced(c['unit'])}); units: {', '.join(all_units)}")
        for key in ("op", "node"):
            if i >= grid_count and key in c:
                raise _bad(source, f"{where}.choice[{i - grid_count}] must hold a unit and its "
                                   f"fields, not {key} = {short_repr(c[key])} (the group's op / "
                                   f"node select its nodes)")
        try:
            a = parse_assignment({"assign": [c]}, f"{where}.choice[{i - grid_count}]")
        except (TypeError, ValueError) as e:
            reason = str(e).split(": ", 2)[-1]
            if i < grid_count and isinstance(e, TypeError):  # not a combination: a value of no use
                raise _bad(source, f"{where}: {reason}") from None
            if i < grid_count:  # a grid combination the unit refuses (keep_bits >= width)
                dropped.append(reason)
                continue
            raise _bad(source, str(e)) from None
        rule = a.rules[0].to_dict()
        choice = Choice.of(rule.pop("unit"), rule)
        if choice not in seen:
            seen.add(choice)
            out.append(choice)
    if not out:
        raise _bad(source, f"{where}: every combination of the grid is refused by its unit, "
                           f"e.g. {dropped[0]}")
    return tuple(out)


def _has_field(unit: str, name: str) -> bool:
    import dataclasses

    from hwsim.units import get_unit
    spec = get_unit(unit)
    fields = {f.name for f in dataclasses.fields(spec.params_cls)}
    return name in fields and name not in spec.fixed and name != getattr(spec.graph, "length", None)


def _is_file(path: str) -> bool:
    try:
        return Path(path).is_file()
    except (OSError, ValueError):  # a name too long for the file system
        return False


def parse_config(doc: dict, source: str = "<config>") -> ExploreConfig:
    sc = Schema(source, ExploreError)
    sc.keys(doc, ("workload", "calibration", "group", "constraint", "cost", "search"))
    w = sc.table(doc, "workload", required=True)
    if "builtin" in w:
        name = sc.choice(w, "builtin", "workload", tuple(BUILTIN))
        sc.keys(w, ("builtin", *BUILTIN[name]), "workload")
        workload = {"builtin": name, **BUILTIN[name], **{k: v for k, v in w.items() if k != "builtin"}}
        if "sentences" in workload:
            sc.number(workload, "sentences", "workload", 60, 3, 600, integer=True)
    else:
        sc.keys(w, ("model", "data"), "workload")
        for k in ("model", "data"):
            if not isinstance(w.get(k), str) or not w[k]:
                raise _bad(source, f"workload needs builtin = \"digits\" / \"minilm\", or model "
                                   f"and data paths; {k} is {short_repr(w.get(k))}")
        base = Path(source).parent if source != "<config>" else Path(".")
        workload = {k: str((base / w[k]) if not Path(w[k]).is_absolute() else Path(w[k]))
                    for k in ("model", "data")}
        for k, p in workload.items():
            if not _is_file(p):
                raise _bad(source, f"workload.{k} {short_repr(w[k])} is not an existing file")
    cal = sc.table(doc, "calibration")
    from hwsim.graph.assign import parse_assignment, units_by_op
    UNITS_BY_OP = units_by_op()
    try:
        parse_assignment({"calibration": cal}, f"{source}: calibration")
    except (TypeError, ValueError) as e:
        raise ExploreError(str(e)) from None

    groups_raw = doc.get("group")
    if not isinstance(groups_raw, list) or not groups_raw or not all(
            isinstance(g, dict) for g in groups_raw):
        raise _bad(source, "needs at least one [[group]] table (the nodes a search assigns "
                           "units to), not " + short_repr(groups_raw))
    groups, names, warnings = [], set(), []
    for i, g in enumerate(groups_raw):
        where = f"group[{i}]"
        name = g.get("name", f"group{i}")
        if not isinstance(name, str) or not name or name in names:
            raise _bad(source, f"{where}.name must be a new non-empty string, not "
                               f"{short_repr(name)}")
        names.add(name)
        op = g.get("op")
        if op is not None:
            op = [op] if isinstance(op, str) else op
            if not isinstance(op, list) or not op or not all(isinstance(o, str) and o
                                                             for o in op):
                raise _bad(source, f"{where}.op must be an op type or a list of them, not "
                                   f"{short_repr(g['op'])}")
            for o in op:
                if o not in UNITS_BY_OP:
                    raise _bad(source, f"{where}.op must be an op type hwsim units implement "
                                       f"({', '.join(UNITS_BY_OP)}), not {o!r}")
            op = tuple(op)
        node = g.get("node")
        if node is not None and (not isinstance(node, str) or not node):
            raise _bad(source, f"{where}.node must be a non-empty fnmatch pattern, not "
                               f"{short_repr(node)}")
        inst = sc.number(g, "instances", where, 1, 1, 1 << 20, integer=True)
        dropped: list = []
        choices = _choices(g, where, source, dropped)
        units = sorted({c.unit for c in choices})
        if not any(set(units) <= set(us) for us in UNITS_BY_OP.values()):
            raise _bad(source, f"{where}: the units of a group must run one op type, not "
                               f"{', '.join(units)}")
        for o in op or ():
            units = sorted({c.unit for c in choices} - set(UNITS_BY_OP[o]))
            if units:
                raise _bad(source, f"{where}.op {o!r}: unit {units[0]} cannot run it (units for "
                                   f"{o}: {', '.join(UNITS_BY_OP[o])})")
        groups.append(Group(name, op, node, int(inst), choices))
        if dropped:
            warnings.append(f"group {name!r}: {len(dropped)} grid combination(s) the unit "
                            f"refuses were left out, e.g. {dropped[0]}")

    c = sc.table(doc, "constraint", required=True)
    sc.keys(c, ("metric", "output", "min", "max_drop"), "constraint")
    metric = sc.choice(c, "metric", "constraint", METRICS, "accuracy")
    if ("min" in c) == ("max_drop" in c):
        raise _bad(source, "constraint needs exactly one of min (an absolute floor) and "
                           "max_drop (how far below the float model)")
    lo, hi = (0, 100) if metric == "accuracy" else (0, 2)
    mn = (sc.number(c, "min", "constraint", 0, 0 if metric == "accuracy" else -1, 1)
          if "min" in c else None)
    drop = sc.number(c, "max_drop", "constraint", 0, lo, hi) if "max_drop" in c else None
    output = c.get("output")
    if output is not None and (metric == "accuracy" or not isinstance(output, str)
                               or not output):
        raise _bad(source, "constraint.output names a model output for cosine / spearman / "
                           f"argmax_agreement, not {short_repr(output)} for {metric}")
    constraint = Constraint(metric, output, mn, drop)

    cost = sc.table(doc, "cost")
    sc.keys(cost, ("objective", "fmax", "target", "operations", "seed"), "cost")
    objective = sc.choice(cost, "objective", "cost", OBJECTIVES, "area")
    fmax = cost.get("fmax", False)   # no objective needs Fmax: only reported when asked
    if not isinstance(fmax, bool):
        raise _bad(source, f"cost.fmax must be true or false, not {short_repr(fmax)}")
    target, operations, seed = _cost_target(sc, cost, objective, fmax, groups)

    s = sc.table(doc, "search")
    sc.keys(s, ("methods", "budget", "seeds", "batch", "temperature", "cooling"), "search")
    methods = s.get("methods", list(METHODS))
    methods = [methods] if isinstance(methods, str) else methods
    if not isinstance(methods, list) or not methods or any(m not in METHODS for m in methods):
        raise _bad(source, f"search.methods must be a non-empty list of {', '.join(METHODS)}, "
                           f"not {short_repr(s.get('methods'))}")
    seeds = s.get("seeds", [0])
    seeds = [seeds] if is_int(seeds) else seeds
    if (not isinstance(seeds, list) or not seeds
            or not all(is_int(x) and 0 <= x < 2 ** 32 for x in seeds)):
        raise _bad(source, f"search.seeds must be a non-empty list of integers in "
                           f"0..{2 ** 32 - 1}, not {short_repr(s.get('seeds'))}")
    return ExploreConfig(
        source=source, workload=workload, calibration=cal, groups=tuple(groups),
        constraint=constraint, objective=objective, fmax=fmax,
        methods=tuple(dict.fromkeys(methods)),
        budget=int(sc.number(s, "budget", "search", 40, 1, MAX_BUDGET, integer=True)),
        seeds=tuple(dict.fromkeys(int(x) for x in seeds)),
        batch=int(sc.number(s, "batch", "search", 4, 1, 256, integer=True)),
        temperature=float(sc.number(s, "temperature", "search", 0.05, 1e-6, 1e6)),
        cooling=float(sc.number(s, "cooling", "search", 0.95, 0.01, 1.0)),
        warnings=tuple(warnings), target=target, operations=operations, seed=seed)


def _cost_target(sc: Schema, cost: dict, objective: str, fmax: bool, groups) -> tuple:
    """``(target name, operations, seed)`` of the ``[cost]`` table: the target a registered
    FPGA or standard-cell library (its traits say which objectives it prices), the capture's
    ``operations`` and ``seed`` only with the energy objective."""
    from hwsim.eval.stdcell import STREAM_OPS
    from hwsim.eval.streams import MAX_OPERATIONS
    from hwsim.eval.targets import DEFAULT_TARGET, TARGETS
    from hwsim.units import Product, get_unit
    kinds = {name: ("fpga" if t.fpga else "cells" if t.cells else None)
             for name, t in TARGETS.items()}
    usable = tuple(n for n, k in kinds.items() if k is not None)
    name = sc.choice(cost, "target", "cost", usable, DEFAULT_TARGET)
    allowed = TARGET_OBJECTIVES[kinds[name]]
    if objective not in allowed:
        why = ("iCE40 LUT4 counts carry no energy (lut-ops is their proxy); energy needs a "
               "standard-cell target" if objective == "energy" else
               "lut-ops counts iCE40 LUT4; a standard-cell target prices energy itself")
        raise sc.bad(f"cost.objective {objective} cannot be priced on target {name} ({why}; "
                     f"{name} prices {' or '.join(allowed)})")
    if fmax and kinds[name] != "fpga":
        raise sc.bad(f"cost.fmax is iCE40 place and route; target {name} reports each unit's "
                     f"delay instead: remove fmax")
    if objective != "energy":
        for k in ("operations", "seed"):
            if k in cost:
                raise sc.bad(f"cost.{k} shapes the operand capture of objective energy, not "
                             f"of {objective}: remove it")
        return name, STREAM_OPS, 0
    for g in groups:
        for c in g.choices:
            if not isinstance(get_unit(c.unit).graph, Product):
                raise sc.bad(f"cost.objective energy prices units on the operand pairs a "
                             f"model's products feed them; group {g.name!r} has "
                             f"{c.label}, which computes no products")
    operations = sc.number(cost, "operations", "cost", STREAM_OPS, 2, MAX_OPERATIONS,
                           integer=True)
    seed = sc.number(cost, "seed", "cost", 0, 0, 2 ** 32 - 1, integer=True)
    return name, int(operations), int(seed)


def load_config(path) -> ExploreConfig:
    from hwsim.paths import read_text_file
    try:
        text = read_text_file(path, "CONFIG")
    except ValueError as e:
        raise ExploreError(str(e)) from None
    from hwsim.paths import parse_toml
    try:
        doc = parse_toml(text, str(path))
    except ValueError as e:
        raise ExploreError(str(e)) from None
    return parse_config(doc, str(path))
