"""Cost tables and accuracy-vs-cost (Pareto) data for the report and ``docs/cost.md``.

Every number comes from :func:`hwsim.eval.synth.synthesize` (cached in the results database, so a
second run is instant) and, for accuracy, from :func:`hwsim.eval.characterize.characterize`.
``python -m hwsim.reports.cost`` prints the tables of ``docs/cost.md``.
"""

from __future__ import annotations

import math

from hwsim.exp import ExpMethod, ExpParams
from hwsim.mitchell import MitchellDivParams, MitchellMulParams
from hwsim.softmax import Normalizer, SoftmaxForm, SoftmaxParams
from hwsim.units import front_knob, front_units, get_unit

#: the configurations of docs/cost.md (every one next to its exact baseline)
COST_TABLE = [
    ("mitchell-mul", MitchellMulParams(width=8)),
    ("mitchell-mul", MitchellMulParams(width=8, keep_bits=3)),
    ("mitchell-mul", MitchellMulParams(width=12)),
    ("mitchell-mul", MitchellMulParams(width=12, keep_bits=4)),
    ("mitchell-mul", MitchellMulParams(width=16)),
    ("mitchell-mul", MitchellMulParams(width=16, keep_bits=6)),
    ("mitchell-mul", MitchellMulParams(width=16, keep_bits=3)),
    ("mitchell-mul", MitchellMulParams(width=16, stages=2)),
    ("mitchell-mul", MitchellMulParams(width=16, keep_bits=6, stages=2)),
    ("mitchell-mul", MitchellMulParams(width=16, signed=True)),
    ("mitchell-div", MitchellDivParams(width=8, frac_bits=8)),
    ("mitchell-div", MitchellDivParams(width=16, frac_bits=8)),
]


def cost_rows(configs=COST_TABLE, *, fmax: bool = True, db=None):
    """``[(unit, params, SynthResult, exact SynthResult)]``."""
    from hwsim.eval.synth import synthesize
    rows = []
    for unit, params in configs:
        spec = get_unit(unit)
        rows.append((unit, params, synthesize(spec, params, fmax=fmax, db=db),
                     synthesize(spec, params, fmax=fmax, baseline=True, db=db)))
    return rows


def cost_table(rows) -> list[str]:
    lines = ["| unit | LUT4 | CARRY | Fmax [MHz] | exact LUT4 | exact Fmax [MHz] | LUT4 vs exact | "
             "Fmax vs exact |", "|---|---|---|---|---|---|---|---|"]
    for _, _params, r, e in rows:
        fmax = f"{r.fmax_mhz:.1f}" if r.fmax_mhz else "-"
        efmax = f"{e.fmax_mhz:.1f}" if e.fmax_mhz else "-"
        ratio = f"{r.fmax_mhz / e.fmax_mhz:.2f}x" if r.fmax_mhz and e.fmax_mhz else "-"
        lines.append(f"| `{r.top}` | {r.lut4} | {r.carry} | {fmax} | {e.lut4} | {efmax} | "
                     f"{100 * r.lut4 / e.lut4:.0f} % | {ratio} |")
    r = rows[0][2]
    lines += ["", f"Tools: {r.yosys}; {r.nextpnr}; iCE40 HX8K (ct256), nextpnr seed 1, Fmax of "
              "a wrapper that registers every input and output (nextpnr's estimate)."]
    return lines


#: units without an exact baseline: cost alone
UNIT_COSTS = [
    ("exp", ExpParams(method=ExpMethod.LUT)),
    ("exp", ExpParams(method=ExpMethod.PWL)),
    ("exp", ExpParams(method=ExpMethod.MITCHELL)),
    ("exp", ExpParams(method=ExpMethod.IBERT)),
    ("exp", ExpParams(method=ExpMethod.TAYLOR)),
    ("softmax", SoftmaxParams(normalizer=Normalizer.EXACT_DIV)),
    ("softmax", SoftmaxParams(normalizer=Normalizer.MITCHELL_DIV)),
    ("softmax", SoftmaxParams(normalizer=Normalizer.RECIPROCAL_LUT)),
    ("softmax", SoftmaxParams(form=SoftmaxForm.ONLINE, normalizer=Normalizer.RECIPROCAL_LUT)),
    ("softmax", SoftmaxParams(form=SoftmaxForm.TAYLOR, method=ExpMethod.TAYLOR,
                              normalizer=Normalizer.RECIPROCAL_LUT)),
    # streaming (one logit in, one probability out per cycle) at each normaliser's deepest
    # pipeline: the exact divider's restoring steps, the others' single output register
    ("softmax", SoftmaxParams(normalizer=Normalizer.EXACT_DIV, streaming=True, stages=17)),
    ("softmax", SoftmaxParams(normalizer=Normalizer.MITCHELL_DIV, streaming=True, stages=1)),
    ("softmax", SoftmaxParams(normalizer=Normalizer.RECIPROCAL_LUT, streaming=True, stages=1)),
]


def unit_cost_table(configs=UNIT_COSTS, *, db=None) -> list[str]:
    """The units' cost table; a unit whose synthesis fails or times out (nextpnr can take
    more than half an hour on a nearly full HX8K) gets a row saying so instead of ending the
    table."""
    from hwsim.eval.synth import SynthError, synthesize
    lines = ["| unit | LUT4 | CARRY | DFF | Fmax [MHz] |", "|---|---|---|---|---|"]
    for unit, params in configs:
        try:
            r = synthesize(get_unit(unit), params, db=db)
        except SynthError as e:
            lines.append(f"| `{params.top_name}` | {str(e).splitlines()[0]} | | | |")
            continue
        lines.append(f"| `{r.top}` | {r.lut4} | {r.carry} | {r.dff} | {r.fmax_mhz:.1f} |")
    return lines


#: ``hwsim front``: the widths of the area-error front
FRONT_WIDTHS = (8, 12, 16)
#: exhaustive MRED up to this many operand bits, a seeded sample beyond
FRONT_EXHAUSTIVE_BITS = 12
FRONT_SAMPLES = 10_000_000


def multiplier_front(*, db=None, jobs: int = 2, widths=None,
                     fmax: bool = False, progress: bool = False, target=None,
                     stream_for=None) -> list[dict]:
    """Every multiplier family of the registry (units with a ``front`` trait) at ``widths``
    (default FRONT_WIDTHS), each unit's ``front.variants(width)``, as
    ``{"unit", "params", "top", "lut4", "fmax_mhz", "mred", "mred_inputs"}`` (MRED over every
    input pair up to FRONT_EXHAUSTIVE_BITS-bit operands, FRONT_SAMPLES seeded pairs beyond;
    an exact family's is 0, not measured). Costs from :func:`hwsim.eval.synth.synthesize`
    (cached).

    ``target`` (a standard-cell or CMOS :class:`hwsim.eval.targets.CostTarget`): costs from
    :func:`hwsim.eval.stdcell.cell_cost` instead, the target's keys (``area_um2``,
    ``delay_ns``, ``leakage_nw`` or ``transistors``, ``depth``) and ``"lut4": None``.
    ``stream_for(spec, params)``: the operand stream of a point (a
    :func:`hwsim.eval.stdcell.cell_cost` stream dict): the error on it (``mred_data``, the
    data-weighted MRED, beside ``mred_uniform`` = ``mred``) and, on a standard-cell target,
    ``energy_fj_per_op`` on it (zero-delay toggles)."""
    from hwsim.eval.characterize import characterize
    from hwsim.eval.synth import synthesize
    from hwsim.progress import track
    widths = FRONT_WIDTHS if widths is None else widths
    todo = [(spec, p) for spec in front_units() for w in widths
            for p in spec.front.variants(w)]
    for spec, p in todo if stream_for is not None else ():  # a stream one point refuses is
        stream_for(spec, p)                                 # refused before any synthesis
    out = []
    for spec, p in track(todo, desc="front", unit="unit", show=progress):
        if spec.front.exact:
            mred, n = 0.0, None
        else:
            samples = None if p.width <= FRONT_EXHAUSTIVE_BITS else FRONT_SAMPLES
            m = characterize(spec, p, samples=samples, seed=0, jobs=jobs).metrics
            mred, n = m.mred, m.n
        stream = stream_for(spec, p) if stream_for is not None else None
        if target is None or target.fpga:
            r = synthesize(spec, p, fmax=fmax, db=db)
            row = {"unit": spec.name, "params": p.to_dict(), "top": r.top, "lut4": r.lut4,
                   "fmax_mhz": r.fmax_mhz, "mred": mred, "mred_inputs": n}
        else:
            from hwsim.eval.stdcell import cell_cost
            r = cell_cost(spec, p, target=target, db=db,
                          stream=stream if target.cells else None)
            row = {"unit": spec.name, "params": p.to_dict(), "top": r.top, "lut4": None,
                   "target": target.name, "mred": mred, "mred_inputs": n,
                   **{k: getattr(r, k) for k in ("area_um2", "delay_ns", "leakage_nw",
                                                 "transistors", "depth", "cell_count")}}
            if r.energy_fj_per_op is not None:
                row["energy_fj_per_op"] = r.energy_fj_per_op
                row["energy"] = {k: r.energy[k] for k in ("stream", "operations", "seed",
                                                          "clock_ns", "toggles")}
        if stream is not None:
            from hwsim.eval.characterize import characterize_operands
            row["mred_uniform"] = mred
            row["stream"] = stream["name"]
            row["mred_data"] = 0.0 if spec.front.exact else characterize_operands(
                spec, p, stream["operands"], name=stream["name"]).metrics.mred
        out.append(row)
    return out


#: ``hwsim front --cost``: the point key each cost names, per kind of target
FRONT_COSTS = {"lut4": "lut4", "area": "area_um2", "energy": "energy_fj_per_op",
               "transistors": "transistors"}


def _pct(v) -> str:
    """A MRED in percent; '-' for an undefined one (no operation with a non-zero product)."""
    return "-" if v is None or not math.isfinite(v) else f"{100 * v:.2f} %"


def cell_front_table(points: list[dict], cost: str) -> list[str]:
    """The front on a standard-cell or CMOS target as a Markdown table: each point's costs,
    MRED on uniform operands and (with a stream) on the stream's, and whether no other point
    of its width beats it on ``cost`` (a point key) and the MRED plotted (the stream's when
    there is one)."""
    data = any("mred_data" in p for p in points)
    err_key = "mred_data" if data else "mred"
    points = [p | {"_err": p[err_key] if p[err_key] is not None and math.isfinite(p[err_key])
                   else math.inf} for p in points]
    err = "_err"
    dominated = {i for i, a in enumerate(points) for b in points
                 if b["params"]["width"] == a["params"]["width"]
                 and b[cost] <= a[cost] and b[err] <= a[err]
                 and (b[cost], b[err]) != (a[cost], a[err])}
    knobs = " / ".join(s.front.knob_name for s in front_units() if s.front.knob_name)
    cells = points and points[0].get("area_um2") is not None
    head = (["area [um2]", "delay [ns]", "leakage [nW]"] if cells
            else ["transistors", "logic depth"])
    keys = ["area_um2", "delay_ns", "leakage_nw"] if cells else ["transistors", "depth"]
    if any("energy_fj_per_op" in p for p in points):
        head.append("energy [fJ/op]")
        keys.append("energy_fj_per_op")
    mreds = ["MRED uniform"] + ([f"MRED {points[0]['stream']}"] if data else [])
    lines = [f"| unit | width | {knobs} | {' | '.join(head)} | {' | '.join(mreds)} | "
             f"on the front |", "|---" * (4 + len(head) + len(mreds)) + "|"]

    def num(v, digits):
        return "-" if v is None else f"{v:.{digits}f}" if isinstance(v, float) else str(v)
    for i, p in sorted(enumerate(points), key=lambda ip: (ip[1]["params"]["width"],
                                                           ip[1][cost])):
        k = front_knob(p)
        vals = [num(p.get(x), 3 if x == "delay_ns" else 1) for x in keys]
        ms = [_pct(p["mred"])] + ([_pct(p["mred_data"])] if data else [])
        lines.append(f"| {p['unit']} | {p['params']['width']} | {'-' if k is None else k} | "
                     f"{' | '.join(vals)} | {' | '.join(ms)} | "
                     f"{'yes' if i not in dominated else ''} |")
    return lines


def front_table(points: list[dict]) -> list[str]:
    """The front as a Markdown table; the points no other unit of the same width beats on
    both LUT4 and MRED are marked."""
    dominated = {i for i, a in enumerate(points) for b in points
                 if b["params"]["width"] == a["params"]["width"]
                 and b["lut4"] <= a["lut4"] and b["mred"] <= a["mred"]
                 and (b["lut4"], b["mred"]) != (a["lut4"], a["mred"])}
    knobs = " / ".join(s.front.knob_name for s in front_units() if s.front.knob_name)
    lines = [f"| unit | width | {knobs} | LUT4 | Fmax [MHz] | MRED | on the front |",
             "|---|---|---|---|---|---|---|"]
    for i, p in sorted(enumerate(points), key=lambda ip: (ip[1]["params"]["width"],
                                                           ip[1]["lut4"])):
        k = front_knob(p)
        fm = f"{p['fmax_mhz']:.1f}" if p["fmax_mhz"] else "-"
        lines.append(f"| {p['unit']} | {p['params']['width']} | {'-' if k is None else k} | "
                     f"{p['lut4']} | {fm} | {100 * p['mred']:.2f} % | "
                     f"{'yes' if i not in dominated else ''} |")
    return lines


if __name__ == "__main__":
    from hwsim.eval.resultdb import ResultDB
    with ResultDB() as db:
        print("\n".join(cost_table(cost_rows(db=db))))
        print()
        print("\n".join(unit_cost_table(db=db)))
