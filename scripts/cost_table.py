#!/usr/bin/env python3
"""The table docs/cost.md carries: exact 16x16 against Mitchell-16, Mitch-w, DRUM, REALM and
float / L-Mul bf16 on a standard-cell library: area, delay, energy per operation on uniform
and on MiniLM operands, MRED on uniform and on MiniLM operands.

Usage::

    python scripts/cost_table.py [--target osu018] [--ops N] [-o docs/cost_table.json]

computes every row (minutes: the 16-bit MiniLM captures and the energy runs; results cached
in the synthesis cache, the captures in the user cache) and writes the JSON that
``scripts/gen_docs.py`` renders into docs/cost.md (``<!-- generated: cost-table
cost_table.json -->``). Each row:

* the unit's operands: the integer units unsigned 16-bit (the log units' RTL is unsigned),
  bf16 bit patterns for the float units;
* **area** (``stat -liberty``), **delay** (OpenSTA, registered ports), **energy per
  operation** (zero-delay toggles on the stream, OpenSTA ``report_power`` at a 10 ns clock:
  :func:`hwsim.eval.stdcell.cell_cost`) on the ``uniform`` stream (uniform codes, seed 1) and
  on the ``minilm`` stream (the codes MiniLM feeds the unit when every product of its
  dense layers and attention runs on it: :mod:`hwsim.studies.model_streams`; an unsigned
  unit gets the magnitudes; the float units' operands are MiniLM's values rounded to bf16 by
  :class:`hwsim.eval.hooks.FloatMatmul`), ``--ops`` operations each;
* **MRED** on uniform operands (a seeded sample of :data:`MRED_SAMPLES` pairs, seed 0; for
  bf16 over the pairs whose exact product is a finite non-zero value) and on the same MiniLM
  operands the energy is measured on (the data-weighted MRED).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: (label, unit, Params fields, how MiniLM's products reach it: "fixed" or "float")
ROWS = [
    ("exact 16x16", "exact-mul", {"width": 16}, "fixed"),
    ("Mitchell-16", "mitchell-mul", {"width": 16}, "fixed"),
    ("Mitch-w 16 (keep_bits 4)", "mitchell-mul", {"width": 16, "keep_bits": 4}, "fixed"),
    ("DRUM-16 (k 6)", "drum-mul", {"width": 16, "k": 6}, "fixed"),
    ("REALM-16 (t 4, m 2, q 2)", "realm-mul", {"width": 16, "keep_bits": 4, "m": 2, "q": 2},
     "fixed"),
    ("bf16 exact (RNE)", "float-mul", {"fmt": "bf16", "method": "exact"}, "float"),
    ("L-Mul bf16", "float-mul", {"fmt": "bf16", "method": "lmul"}, "float"),
]
#: the rows each row's energy is compared with (the exact unit of its kind)
EXACT_OF = {"fixed": "exact 16x16", "float": "bf16 exact (RNE)"}
MRED_SAMPLES = 1_000_000
OPS = 20_000
STREAM_SEED = 1


def minilm_stream(spec, params, how: str, ops: int) -> dict:
    from hwsim.studies.model_streams import cached_capture, unit_stream
    if how == "fixed":
        return unit_stream(spec, params, "minilm", ops, STREAM_SEED)
    from hwsim.eval.hooks import FloatMatmul
    got = cached_capture("minilm", FloatMatmul(params),
                         {"unit": spec.name, "params": params.to_dict(), "hook": "FloatMatmul"},
                         ops, STREAM_SEED)
    return {"name": "minilm", "seed": STREAM_SEED, "operations": got["operations"],
            "operands": {"a": got["a"], "b": got["b"]}}


def compute(rows=ROWS, *, target: str = "osu018", ops: int = OPS,
            mred_samples: int = MRED_SAMPLES, db=None, log=print) -> dict:
    """Every row's numbers and the tools' versions (the JSON the docs render)."""
    from hwsim.eval.characterize import characterize, characterize_operands
    from hwsim.eval.stdcell import POWER_CLOCK_NS, ZERO_DELAY, cell_cost
    from hwsim.eval.streams import operand_stream
    from hwsim.units import get_unit
    out = []
    for label, unit, fields, how in rows:
        spec = get_unit(unit)
        params = spec.params_cls.from_dict(fields)
        log(f"{label}: streams ...")
        streams = {"uniform": operand_stream(spec, params, "uniform", ops, STREAM_SEED),
                   "minilm": minilm_stream(spec, params, how, ops)}
        row = {"label": label, "unit": unit, "params": params.to_dict(), "kind": how}
        for name, s in streams.items():
            log(f"{label}: cells on the {name} stream ...")
            r = cell_cost(spec, params, target=target, stream=s, db=db)
            row |= {"top": r.top, "area_um2": r.area_um2, "delay_ns": r.delay_ns,
                    "leakage_nw": r.leakage_nw, f"energy_fj_per_op_{name}": r.energy_fj_per_op,
                    "yosys": r.yosys, "sta": r.sta, "library": r.library,
                    "library_sha256": r.library_sha256}
        row["minilm_products"] = streams["minilm"]["operations"]
        log(f"{label}: MRED ...")
        row["mred_uniform"] = characterize(spec, params, samples=mred_samples,
                                           seed=0).metrics.mred
        row["mred_minilm"] = characterize_operands(spec, params, streams["minilm"]["operands"],
                                                   name="minilm").metrics.mred
        out.append(row)
    import numpy as np
    return {"target": target, "operations": ops, "stream_seed": STREAM_SEED,
            "mred_samples": mred_samples, "clock_ns": POWER_CLOCK_NS, "toggles": ZERO_DELAY,
            "numpy": np.__version__, "rows": out}


def _pct(v) -> str:
    import math
    return "-" if v is None or not math.isfinite(v) else f"{100 * v:.2f} %"


def _num(v, digits: int) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def render(doc: dict) -> list[str]:
    """The Markdown docs/cost.md carries: the table, the sentence on where a log-domain unit
    saves energy (from the numbers), the tools' versions."""
    rows = doc["rows"]
    by = {r["label"]: r for r in rows}
    lines = ["| unit | area [um2] | delay [ns] | energy uniform [pJ/op] | energy MiniLM "
             "[pJ/op] | MRED uniform | MRED MiniLM |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        ex = by.get(EXACT_OF[r["kind"]])

        def rel(key, r=r, ex=ex):
            if ex is None or ex is r or not ex.get(key) or r.get(key) is None:
                return ""
            return f" ({r[key] / ex[key]:.2f}x)"
        lines.append(
            f"| {r['label']} | {_num(r['area_um2'], 0)}{rel('area_um2')} | "
            f"{_num(r['delay_ns'], 2)}{rel('delay_ns')} | "
            f"{_num(r['energy_fj_per_op_uniform'] / 1000, 2)}{rel('energy_fj_per_op_uniform')} | "
            f"{_num(r['energy_fj_per_op_minilm'] / 1000, 2)}{rel('energy_fj_per_op_minilm')} | "
            f"{_pct(r['mred_uniform'])} | {_pct(r['mred_minilm'])} |")
    lines.append("")
    lines += _verdict(rows, by)
    first = rows[0]
    lines += ["", f"Target {doc['target']}: {first['library']} (sha256 "
              f"{first['library_sha256'][:12]}); {first['yosys']}; {first['sta']}; numpy "
              f"{doc['numpy']}. Energy: {doc['toggles']}, {doc['operations']:,} operations per "
              f"stream (seed {doc['stream_seed']}), one per {doc['clock_ns']:g} ns clock; "
              f"(x): against the exact unit of the same kind. MRED uniform: "
              f"{doc['mred_samples']:,} seeded pairs; MRED MiniLM: over the same operands as "
              f"the energy."]
    return lines


def _verdict(rows, by) -> list[str]:
    """Where each log-domain unit uses less energy than its exact unit and where it does not,
    read from the numbers: the units grouped by the streams on which they save."""
    groups = {(True, True): "on both streams", (True, False): "on uniform operands only",
              (False, True): "on MiniLM's operands only", (False, False): "on neither stream"}
    found = {g: [] for g in groups}
    for r in rows:
        ex = by.get(EXACT_OF[r["kind"]])
        if ex is None or ex is r:
            continue
        u, m = (r[f"energy_fj_per_op_{s}"] / ex[f"energy_fj_per_op_{s}"]
                for s in ("uniform", "minilm"))
        found[(u < 1, m < 1)].append(f"{r['label']} ({u:.2f}x uniform, {m:.2f}x MiniLM)")
    out = [f"Less energy per operation than the exact unit {what}: {'; '.join(found[g])}."
           for g, what in groups.items() if found[g]]
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
    with ResultDB() as db:
        doc = compute(target=args.target, ops=args.ops, db=db,
                      log=lambda m: print(m, file=sys.stderr, flush=True))
    out.write_text(json.dumps(doc, indent=1, sort_keys=True) + "\n")
    print("\n".join(render(doc)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
