#!/usr/bin/env python3
"""The cost table docs/cost.md carries: every unit family of the registry and its exact
baseline at 8 and 16 bits on a standard-cell library: area, delay, energy per operation on
uniform, small and MiniLM operands, MRED on uniform and on MiniLM operands.

Usage::

    nice -n 10 python scripts/cost_table.py [--target osu018] [--ops N] [-o docs/cost_table.json]

computes every row (tens of minutes: the synthesis runs, the MiniLM captures and the energy
runs; cell results cached in the synthesis cache, the captures in the user cache) and writes
the JSON that ``scripts/gen_docs.py`` renders into docs/cost.md (``<!-- generated:
cost-table cost_table.json -->``). The rows come from the registry, not from this script:

* each unit's ``cost_table`` trait (:class:`hwsim.units.UnitSpec`) gives its points at
  each width; a unit on the multiplier front (its ``front`` trait) belongs to that front
  family, and the family marked ``exact`` is the reference of the others at the same width;
  a unit off the front with an exact ``baseline`` component gets that baseline priced on the
  same operands as its first point, the reference of its rows;
* **area** (``stat -liberty``), **delay** (OpenSTA, registered ports), **energy per
  operation** (zero-delay toggles on the stream, OpenSTA ``report_power`` at a 10 ns clock:
  :func:`hwsim.eval.stdcell.cell_costs`) on ``uniform`` codes, ``small`` ones (log-uniform
  magnitudes: integer operands of a ``width`` only), and the ``minilm`` stream: the codes
  MiniLM feeds the unit when every product of its dense layers and attention runs on it
  (:mod:`hwsim.studies.model_streams` for a product unit, an unsigned unit getting the
  magnitudes; a float multiplier gets MiniLM's values rounded to its format by
  :class:`hwsim.eval.hooks.FloatMatmul`); a unit MiniLM feeds no operands (it computes none
  of the model's products) has none; ``--ops`` operations each, seed 1;
* **MRED** on uniform operands (a seeded sample, seed 0; the unit's own vectors for a
  unit with its own characteriser) and on the MiniLM operands the energy is measured on;
* a row that cannot be priced (a tool fails or times out, a unit without scalar operand
  ports has no operand stream) says why in one line.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

WIDTHS = (8, 16)
STREAMS = ("uniform", "small", "minilm")
MRED_SAMPLES = 1_000_000
OPS = 20_000
STREAM_SEED = 1
#: the sequential engine's lanes for a streamed unit (its rows: a multiple of them)
STREAM_LANES = 64
#: seconds per tool call before a row is given up (the row then says so)
TIMEOUT = 1200
#: footnote marks of the rendered table: why a cell has no number
NO_MINILM = "a"
NO_SMALL = "b"
NO_STREAM = "c"
NOTES = {
    NO_MINILM: "MiniLM feeds this unit no operands: it computes none of the model's products "
               "(MiniLM's products run on multipliers)",
    NO_SMALL: "the small stream draws integer magnitudes of a width; this unit's operands are "
              "float bit patterns or a fixed-point input of another form",
    NO_STREAM: "a unit whose inputs are neither scalar operands nor rows of one stream has no "
               "operand stream; its energy is not measured",
}


def points(widths=WIDTHS) -> list[dict]:
    """The table's rows, from the registry: ``{"unit", "params", "width", "family",
    "baseline", "exact", "ref"}`` (``ref``: the label of the exact row the row is compared
    with, or None), the multiplier front's families first (the exact family first)."""
    from hwsim.units import REGISTRY
    specs = sorted((s for s in REGISTRY.values() if s.cost_table is not None),
                   key=lambda s: (s.front is None, not (s.front and s.front.exact)))
    out = []
    for w in widths:
        exact_label = None
        for spec in specs:
            pts = spec.cost_table(w)
            family = spec.front.family if spec.front else spec.name
            exact = bool(spec.front and spec.front.exact)
            base = spec.front is None and spec.baseline is not None and pts
            rows = []
            if base:
                rows.append({"unit": spec.name, "params": pts[0], "baseline": True,
                             "exact": True})
            rows += [{"unit": spec.name, "params": p, "baseline": False, "exact": exact}
                     for p in pts]
            ref = None
            for r in rows:
                knob = spec.front.knob(r["params"].to_dict()) if spec.front else None
                r |= {"width": w, "family": family,
                      "label": ("exact_" if r["baseline"] else "") + r["params"].top_name,
                      "knob": None if knob is None else f"{spec.front.knob_name} {knob}"}
                if r["exact"]:
                    ref = r["label"]
                    if spec.front:
                        exact_label = ref
            for r in rows:
                r["ref"] = None if r["exact"] else (exact_label if spec.front else ref)
            out += rows
    return out


def _streams(spec, params, ops: int) -> tuple[dict, dict]:
    """``({name: stream}, {name: reason})``: the streams the unit has and why it lacks the
    others (a footnote mark)."""
    from hwsim.eval.streams import operand_stream
    got, why = {}, {}
    if not spec.operands:  # a streamed unit: uniform rows of its own vectors' shape
        import numpy as np
        shape = {k: v.shape[1:] for k, v in spec.vectors(params, 1, 0).items()}
        if len(shape) != 1 or len(next(iter(shape.values()))) != 1:
            return {}, {s: NO_STREAM for s in STREAMS}
        (port, (width,)), = shape.items()
        lo, hi = params.in_range
        n = max(2 * STREAM_LANES, ops // width)
        rows = np.random.default_rng(STREAM_SEED).integers(lo, hi, (n, width), dtype=np.int64)
        return ({"uniform": {"name": "uniform", "seed": STREAM_SEED, "operands": {port: rows}}},
                {"small": NO_SMALL, "minilm": NO_MINILM})
    for name in ("uniform", "small"):
        try:
            got[name] = operand_stream(spec, params, name, ops, STREAM_SEED)
        except ValueError:
            why[name] = NO_SMALL
    try:
        got["minilm"] = minilm_stream(spec, params, ops)
    except (TypeError, ValueError):
        why["minilm"] = NO_MINILM
    return got, why


def minilm_stream(spec, params, ops: int) -> dict:
    """MiniLM's operands for the unit: a product unit's codes, or a float multiplier's
    patterns (``FloatMatmul``, which refuses other Params: then no stream)."""
    from hwsim.studies.model_streams import cached_capture, unit_stream
    from hwsim.units import Product
    if isinstance(spec.graph, Product):
        return unit_stream(spec, params, "minilm", ops, STREAM_SEED)
    from hwsim.eval.hooks import FloatMatmul
    hook = FloatMatmul(params)
    got = cached_capture("minilm", hook,
                         {"unit": spec.name, "params": params.to_dict(), "hook": "FloatMatmul"},
                         ops, STREAM_SEED)
    return {"name": "minilm", "seed": STREAM_SEED, "operations": got["operations"],
            "operands": {"a": got["a"], "b": got["b"]}}


def _one_line(e: BaseException) -> str:
    """The first line of ``e``'s message, without the tool command a timeout names."""
    import re
    text = str(e).strip().splitlines()
    line = re.sub(r"(timed out after \S+ s)\b.*", r"\1", text[0] if text else type(e).__name__)
    return line[:200]


def compute(rows=None, *, target: str = "osu018", ops: int = OPS,
            mred_samples: int = MRED_SAMPLES, db=None, log=print, timeout: float = TIMEOUT,
            save=None) -> dict:
    """Every row's numbers and the tools' versions (the JSON the docs render). ``save``:
    called with the document after each row (a long run keeps what it measured)."""
    from hwsim.eval.characterize import characterize, characterize_operands
    from hwsim.eval.stdcell import POWER_CLOCK_NS, ZERO_DELAY, cell_costs
    from hwsim.units import get_unit
    import numpy as np
    rows = points() if rows is None else rows
    doc = {"target": target, "operations": ops, "stream_seed": STREAM_SEED,
           "mred_samples": mred_samples, "clock_ns": POWER_CLOCK_NS, "toggles": ZERO_DELAY,
           "numpy": np.__version__, "library_package": _package_version(target),
           "notes": NOTES, "rows": []}
    streams_of: dict = {}
    for pt in rows:
        spec, params = get_unit(pt["unit"]), pt["params"]
        row = {k: v for k, v in pt.items() if k != "params"} | {"params": params.to_dict()}
        log(f"{row['label']}: streams ...")
        key = (spec.name, json.dumps(params.to_dict(), sort_keys=True))
        if pt["baseline"] or key not in streams_of:
            streams_of[key] = _streams(spec, params, ops)
        streams, why = streams_of[key]
        row["missing"] = why
        if "minilm" in streams:
            row["minilm_products"] = streams["minilm"]["operations"]
        names = [s for s in STREAMS if s in streams]
        log(f"{row['label']}: cells on {', '.join(names) or 'no stream'} ...")
        try:
            res = cell_costs(spec, params, target=target, baseline=pt["baseline"],
                             streams=[streams[s] for s in names] or [None], db=db,
                             timeout=timeout)
        except Exception as e:  # noqa: BLE001 - a tool failure is the row's reason
            row["unpriced"] = f"{type(e).__name__}: {_one_line(e)}"
            doc["rows"].append(row)
            log(f"{row['label']}: not priced: {row['unpriced']}")
            if save:
                save(doc)
            continue
        r = res[0]
        row |= {"top": r.top, "area_um2": r.area_um2, "delay_ns": r.delay_ns,
                "leakage_nw": r.leakage_nw, "cells": r.cell_count, "yosys": r.yosys,
                "sta": r.sta, "library": r.library, "library_sha256": r.library_sha256}
        for s, rs in zip(names, res):
            row[f"energy_fj_per_op_{s}"] = rs.energy_fj_per_op
            if rs.energy and rs.energy.get("cycles_per_op"):
                row["cycles_per_op"] = rs.energy["cycles_per_op"]
        if not pt["baseline"]:
            log(f"{row['label']}: MRED ...")
            if spec.characterizer:  # the unit's own vectors (softmax rows, attention heads)
                from hwsim.metrics import error_metrics
                n = spec.default_count
                approx, exact = spec.real(params, spec.vectors(params, n, 0))
                row["mred_uniform"] = error_metrics(approx, exact).mred
            else:
                n = mred_samples
                row["mred_uniform"] = characterize(spec, params, samples=n, seed=0).metrics.mred
            row["mred_samples"] = n
            if "minilm" in streams:
                row["mred_minilm"] = characterize_operands(
                    spec, params, streams["minilm"]["operands"], name="minilm").metrics.mred
        doc["rows"].append(row)
        if save:
            save(doc)
    return doc


def _package_version(target: str) -> str | None:
    """The Debian package of the target's library and its version (``dpkg-query``)."""
    pkg = f"qflow-tech-{target}"
    if not shutil.which("dpkg-query"):
        return None
    r = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg], capture_output=True,
                       text=True)
    return f"{pkg} {r.stdout.strip()}" if r.returncode == 0 and r.stdout.strip() else None


# -- rendering -------------------------------------------------------------------------------

def _pct(v) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{100 * v:.2f} %"


def _num(v, digits: int) -> str:
    return "-" if v is None or not math.isfinite(v) else f"{v:.{digits}f}"


def _rel(r, ref, key) -> str:
    if ref is None or ref is r or not ref.get(key) or r.get(key) is None:
        return ""
    return f" ({r[key] / ref[key]:.2f}x)"


def render(doc: dict) -> list[str]:
    """The Markdown docs/cost.md carries: one table per width, the sentences on where a
    log-domain unit saves energy (from the numbers), the footnotes, the tools' versions."""
    rows = doc["rows"]
    by = {r["label"]: r for r in rows}
    head = ["| unit | family | area [um2] | delay [ns] | energy uniform [pJ/op] | energy small "
            "[pJ/op] | energy MiniLM [pJ/op] | MRED uniform | MRED MiniLM |",
            "|---|---|---|---|---|---|---|---|---|"]
    lines = []
    used = set()
    for w in sorted({r["width"] for r in rows}):
        lines += ["", f"**{w} bits**", ""] if lines else [f"**{w} bits**", ""]
        lines += head
        for r in (r for r in rows if r["width"] == w):
            ref = by.get(r.get("ref"))
            name = (f"{r['label']}" + (" (exact baseline)" if r.get("baseline") else "")
                    + (f" ({r['knob']})" if r.get("knob") else "")
                    + (f" ({r['cycles_per_op']:g} cycles per row)" if r.get("cycles_per_op")
                       else ""))
            if r.get("unpriced"):
                lines.append(f"| {name} | {r['family']} | not priced: {r['unpriced']} "
                             f"| - | - | - | - | - | - |")
                continue
            cells = []
            for s in ("uniform", "small", "minilm"):
                key = f"energy_fj_per_op_{s}"
                mark = r.get("missing", {}).get(s)
                if mark:
                    used.add(mark)
                    cells.append(f"-<sup>{mark}</sup>")
                else:
                    cells.append(f"{_num(r.get(key, math.nan) / 1000, 2)}{_rel(r, ref, key)}")
            mred_m = r.get("mred_minilm")
            lines.append(
                f"| {name} | {r['family']} | {_num(r['area_um2'], 0)}{_rel(r, ref, 'area_um2')} "
                f"| {_num(r['delay_ns'], 2)}{_rel(r, ref, 'delay_ns')} | {' | '.join(cells)} | "
                f"{_pct(r.get('mred_uniform'))} | {_pct(mred_m)} |")
    lines.append("")
    lines += _verdict(rows, by)
    lines.append("")
    lines += [f"<sup>{m}</sup> {doc['notes'][m]}." for m in sorted(used)]
    first = next((r for r in rows if r.get("library")), None)
    if first is not None:
        lines += ["", f"Target {doc['target']}: {first['library']} (sha256 "
                  f"{first['library_sha256'][:12]}"
                  f"{', ' + doc['library_package'] if doc.get('library_package') else ''}); "
                  f"{first['yosys']}; {first['sta']}; numpy {doc['numpy']}. Energy: "
                  f"{doc['toggles']}, {doc['operations']:,} operations per stream (seed "
                  f"{doc['stream_seed']}), one per {doc['clock_ns']:g} ns clock; (x): against "
                  f"the exact row of the same width and family (the exact multiplier for the "
                  f"multiplier front, the exact baseline otherwise). A streamed unit (rows "
                  f"through a ready/valid stream: softmax rows, attention problems) is fed "
                  f"rows uniform over its input range by the sequential engine, 64 lanes, "
                  f"closed loop (each lane waits while the unit applies backpressure), its "
                  f"outputs checked against the model; its energy is per row in steady "
                  f"state (the cycles counted once a lane's first row is in, until its last "
                  f"is taken, x the clock, / the rows taken in them). MRED uniform: "
                  f"{doc['mred_samples']:,} seeded operand sets (a unit with its own "
                  f"characteriser: its own seeded vectors); MRED MiniLM: over the operands of "
                  f"the MiniLM energy."]
    return lines


def _verdict(rows, by) -> list[str]:
    """Where each unit uses less energy per operation than its exact row and where it does
    not, read from the numbers: per width, the units grouped by the streams on which they
    save."""
    out = []
    for w in sorted({r["width"] for r in rows}):
        saves, loses, mixed = [], [], []
        for r in rows:
            ref = by.get(r.get("ref"))
            if r["width"] != w or ref is None or r.get("unpriced") or ref.get("unpriced"):
                continue
            ratios = {s: r[f"energy_fj_per_op_{s}"] / ref[f"energy_fj_per_op_{s}"]
                      for s in STREAMS if r.get(f"energy_fj_per_op_{s}")
                      and ref.get(f"energy_fj_per_op_{s}")}
            if not ratios:
                continue
            text = f"{r['label']} ({', '.join(f'{v:.2f}x {s}' for s, v in ratios.items())})"
            below = {s for s, v in ratios.items() if v < 1}
            (saves if below == set(ratios) else loses if not below else mixed).append(text)
        parts = []
        if saves:
            parts.append(f"less energy per operation than its exact row on every stream: "
                         f"{'; '.join(saves)}")
        if mixed:
            parts.append(f"less on some streams only: {'; '.join(mixed)}")
        if loses:
            parts.append(f"more on every stream: {'; '.join(loses)}")
        if parts:
            out.append(f"At {w} bits, " + ". ".join(p[:1].upper() + p[1:] if k else p
                                                     for k, p in enumerate(parts)) + ".")
    return [" ".join(out)] if out else []


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", default="osu018")
    ap.add_argument("--ops", type=int, default=OPS)
    ap.add_argument("-o", "--output", default=str(ROOT / "docs" / "cost_table.json"))
    ap.add_argument("--render", action="store_true", help="print the Markdown of -o's JSON")
    args = ap.parse_args(argv)
    out = Path(args.output)
    if args.render:
        print("\n".join(render(json.loads(out.read_text()))))
        return 0
    from hwsim.eval.resultdb import ResultDB

    def save(doc):
        tmp = out.with_suffix(".partial.json")
        tmp.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")

    with ResultDB() as db:
        doc = compute(target=args.target, ops=args.ops, db=db, save=save,
                      log=lambda m: print(m, file=sys.stderr, flush=True))
    out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    out.with_suffix(".partial.json").unlink(missing_ok=True)
    print("\n".join(render(doc)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
