"""The ``hwsim`` command: units, verilog, verify, characterize, synth, sweep, demo.

Unit parameters map 1:1 to the fields of the unit's Params dataclass (``--width``,
``--keep-bits``, ``--frac-bits``, ``--signed``, ``--stages``). Exit codes: 0 success,
1 failed verification (mismatches), 2 bad usage (one-line message, no traceback).
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import sys
from pathlib import Path

from hwsim.fixed import FixedFormat
from hwsim.units import REGISTRY, get_unit


#: defaults when no vector / sample count is given: exhaustive up to these many input bits
#: (two 8-bit operands for verification, two 12-bit operands for characterisation)
VERIFY_EXHAUSTIVE_DEFAULT_BITS = 16
CHARACTERIZE_EXHAUSTIVE_DEFAULT_BITS = 24
DEFAULT_SAMPLES = 1_000_000
#: softmax-like units: vectors per logit distribution
DEFAULT_DISTRIBUTION_SAMPLES = 10_000


class UsageError(Exception):
    """Bad usage: reported as one line, exit code 2."""


def _param_fields() -> dict[str, dataclasses.Field]:
    fields = {}
    for spec in REGISTRY.values():
        for f in dataclasses.fields(spec.params_cls):
            fields.setdefault(f.name, f)
    return fields


def _option_help(f: dataclasses.Field) -> tuple[str, str]:
    """(metavar, help) of a unit-parameter option, from the field's default."""
    d = f.default
    if isinstance(d, FixedFormat):
        return "FMT", f"{f.name}: Q<int>.<frac> or UQ<int>.<frac> (default {d})"
    if isinstance(d, enum.Enum):
        return "|".join(v.value for v in type(d)), f"{f.name} (default {d.value})"
    return "N", f"{f.name} (default {d})"


def _add_param_options(p: argparse.ArgumentParser):
    g = p.add_argument_group("unit parameters (see `hwsim units`)")
    for name, f in _param_fields().items():
        opt = "--" + name.replace("_", "-")
        if isinstance(f.default, bool):
            g.add_argument(opt, dest=f"param_{name}", action=argparse.BooleanOptionalAction,
                           default=None, help=f"{name} (default {f.default})")
        else:
            metavar, text = _option_help(f)
            g.add_argument(opt, dest=f"param_{name}", default=None, metavar=metavar, help=text)


def _convert_option(spec, f: dataclasses.Field, text):
    """An option's text as the value its Params field takes (by the field's default)."""
    opt = "--" + f.name.replace("_", "-")
    d = f.default
    if isinstance(text, bool):
        return text
    if isinstance(d, FixedFormat):
        try:
            return FixedFormat.parse(text)
        except ValueError as e:
            raise UsageError(f"{opt}: {e}") from None
    if isinstance(d, enum.Enum):
        try:
            return type(d)(text)
        except ValueError:
            choices = ", ".join(v.value for v in type(d))
            raise UsageError(f"{opt} must be one of {choices}, not {text!r}") from None
    try:
        return int(text)
    except ValueError:
        raise UsageError(f"{opt} must be an integer, not {text!r}") from None


def _unit_and_params(args):
    try:
        spec = get_unit(args.unit)
    except ValueError as e:
        raise UsageError(str(e)) from None
    fields = {f.name: f for f in dataclasses.fields(spec.params_cls)}
    given = {k[len("param_"):]: v for k, v in vars(args).items()
             if k.startswith("param_") and v is not None}
    extra = sorted(set(given) - set(fields))
    if extra:
        opts = ", ".join("--" + k.replace("_", "-") for k in sorted(fields))
        raise UsageError(f"{spec.name} has no parameter --{extra[0].replace('_', '-')} "
                         f"(its parameters: {opts})")
    given = {k: _convert_option(spec, fields[k], v) for k, v in given.items()}
    try:
        params = spec.params_cls(**given)
    except (TypeError, ValueError) as e:
        raise UsageError(str(e)) from None
    return spec, params


def cmd_units(args):
    for spec in REGISTRY.values():
        print(f"{spec.name:14} {spec.summary}")
        for f in dataclasses.fields(spec.params_cls):
            print(f"    --{f.name.replace('_', '-'):12} {_option_help(f)[1]}")
    return 0


def cmd_verilog(args):
    from hwsim.hdl.export import write_verilog
    spec, params = _unit_and_params(args)
    v, j = write_verilog(spec, params, args.output)
    print(f"wrote {v} and {j}")
    return 0


def _parse_vectors(text: str | None, params, spec) -> int | None:
    if text is None:
        return None if params.input_bits <= VERIFY_EXHAUSTIVE_DEFAULT_BITS else spec.default_count
    if text == "exhaustive":
        from hwsim.vectors import MAX_EXHAUSTIVE_INPUT_BITS
        if params.input_bits > MAX_EXHAUSTIVE_INPUT_BITS:
            raise UsageError(f"--vectors exhaustive is limited to {MAX_EXHAUSTIVE_INPUT_BITS} input "
                             f"bits, and {params.top_name} has {params.input_bits}; give a count "
                             f"such as --vectors 1000000")
        return None
    try:
        n = int(text)
    except ValueError:
        raise UsageError(f"--vectors must be 'exhaustive' or a count, not {text!r}") from None
    if n < 0:
        raise UsageError(f"--vectors must be 'exhaustive' or a count >= 0, not {n}")
    return n


def cmd_verify(args):
    from hwsim.sim import runner
    spec, params = _unit_and_params(args)
    vectors = _parse_vectors(args.vectors, params, spec)
    try:
        sim = args.sim or runner.default_simulator()
        runner.simulator_env(sim)
    except runner.SimulatorNotFound as e:
        raise UsageError(str(e)) from None
    what = "all input pairs" if vectors is None else f"corners + {vectors} random vectors"
    mode = "batched testbench" if args.batched else "cocotb per-cycle bench"
    print(f"verifying {params.top_name} on {sim} ({mode}): {what} (seed {args.seed})",
          file=sys.stderr)
    if args.batched:
        if args.waves:
            raise UsageError("--waves works with the cocotb bench; drop --batched to dump waves")
        from hwsim.sim.batched import run_batched
        r = run_batched(spec, params, sim=sim, vectors=vectors, seed=args.seed,
                        build_root=args.build_dir)
    else:
        r = runner.run_bench(spec, params, sim=sim, vectors=vectors, seed=args.seed,
                             build_root=args.build_dir, waves=args.waves)
    print(f"{r.top} on {r.sim}: {r.vectors} vectors, {r.mismatches} mismatches "
          f"({r.rate:,.0f} vectors/s)")
    for ex in r.examples:
        print(f"  mismatch: {ex}")
    return 0 if r.passed else 1


def format_metrics_table(rows: list[tuple[str, dict]]) -> str:
    cols = ["n", "mae", "wce", "mse", "bias", "ep", "mred", "max_red", "mae_pct", "wce_pct"]
    out = ["| config | " + " | ".join(cols) + " |", "|" + "---|" * (len(cols) + 1)]
    for name, m in rows:
        cells = [f"{m['n']}"] + [f"{m[c]:.6g}" for c in cols[1:]]
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(out)


def _characterize_distributions(spec, params, args):
    import importlib

    if args.exhaustive:
        raise UsageError(f"{spec.name} has no exhaustive mode; give --samples COUNT "
                         f"(vectors per logit distribution)")
    module, func = spec.characterizer.split(":")
    try:
        c = getattr(importlib.import_module(module), func)(
            params, samples=args.samples or DEFAULT_DISTRIBUTION_SAMPLES, seed=args.seed)
    except (TypeError, ValueError) as e:
        raise UsageError(str(e)) from None
    print(c.summary(params))
    print(c.table())
    if args.json:
        Path(args.json).write_text(json.dumps(c.to_dict(), indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def cmd_characterize(args):
    from hwsim.metrics import MAX_CHARACTERIZE_INPUT_BITS, characterize
    spec, params = _unit_and_params(args)
    if spec.characterizer:
        return _characterize_distributions(spec, params, args)
    if args.exhaustive and args.samples is not None:
        raise UsageError("give --exhaustive or --samples, not both")
    samples = args.samples
    if (not args.exhaustive and samples is None
            and params.input_bits > CHARACTERIZE_EXHAUSTIVE_DEFAULT_BITS):
        samples = DEFAULT_SAMPLES
    if samples is None and params.input_bits > MAX_CHARACTERIZE_INPUT_BITS:
        raise UsageError(f"--exhaustive is limited to {MAX_CHARACTERIZE_INPUT_BITS} input bits, "
                         f"and {params.top_name} has {params.input_bits}; use --samples COUNT")
    try:
        c = characterize(spec, params, samples=samples, seed=args.seed, jobs=args.jobs,
                         progress=sys.stderr.isatty())
    except (TypeError, ValueError) as e:
        raise UsageError(str(e)) from None
    print(f"{params.top_name}: {c.mode} over {c.metrics.n} inputs in {c.seconds:.1f} s")
    print(format_metrics_table([(params.top_name, c.metrics.to_dict())]))
    if args.json:
        Path(args.json).write_text(json.dumps(c.to_dict(), indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def format_cost_table(results) -> str:
    out = ["| module | LUT4 | CARRY | DFF | generic cells | Fmax [MHz] |", "|---|---|---|---|---|---|"]
    for r in results:
        fmax = f"{r.fmax_mhz:.1f}" if r.fmax_mhz is not None else "-"
        out.append(f"| {r.top} | {r.lut4} | {r.carry} | {r.dff} | {r.generic_cells} | {fmax} |")
    return "\n".join(out)


def cmd_synth(args):
    from hwsim import synth
    from hwsim.resultdb import ResultDB
    spec, params = _unit_and_params(args)
    if args.target not in synth.TARGETS:
        raise UsageError(f"--target must be one of {', '.join(synth.TARGETS)}, not {args.target!r}")
    with_baseline = args.baseline and spec.baseline is not None
    db = ResultDB(args.db) if args.db != "none" else None
    results = []
    try:
        for baseline in ([False, True] if with_baseline else [False]):
            what = "exact baseline of " if baseline else ""
            print(f"synthesizing {what}{params.top_name} for {args.target}"
                  f"{' with place and route' if args.fmax else ''} ...", file=sys.stderr)
            results.append(synth.synthesize(spec, params, target=args.target, fmax=args.fmax,
                                            baseline=baseline, db=db, work_dir=args.keep))
    except synth.SynthToolNotFound as e:
        raise UsageError(str(e)) from None
    except (synth.SynthError, ValueError) as e:
        print(f"hwsim: synthesis failed: {e}", file=sys.stderr)
        return 1
    finally:
        if db is not None:
            db.close()
    print(format_cost_table(results))
    if len(results) == 2:
        a, b = results
        line = f"{a.top}: {100 * a.lut4 / b.lut4:.0f} % of the exact unit's LUT4s"
        if a.fmax_mhz and b.fmax_mhz:
            line += f", {a.fmax_mhz / b.fmax_mhz:.2f}x its Fmax"
        print(line)
    r = results[0]
    print(f"tools: {r.yosys}; {r.nextpnr or 'no place and route (--no-fmax)'}; "
          f"iCE40 {' '.join(synth.DEVICE)}, seed {synth.PNR_SEED}")
    if args.json:
        Path(args.json).write_text(json.dumps([x.to_dict() for x in results], indent=2) + "\n")
        print(f"wrote {args.json}")
    return 0


def cmd_sweep(args):
    from hwsim.sweep import SweepError, export_csv, load_config, plot_sweep, run_sweep, sweep_rows
    try:
        cfg = load_config(args.config)
    except SweepError as e:
        raise UsageError(str(e)) from None
    out = Path(args.output or f"sweep-{cfg.study}")
    out.mkdir(parents=True, exist_ok=True)
    db = out / "results.sqlite"
    n = len(cfg.tasks())
    print(f"{cfg.study}: {len(cfg.points)} configurations x {len(cfg.seeds)} seeds = {n} tasks "
          f"-> {db}", file=sys.stderr)
    try:
        r = run_sweep(cfg, db, jobs=args.jobs, scheduler=args.scheduler,
                      progress=sys.stderr.isatty())
    except SweepError as e:
        raise UsageError(str(e)) from None
    rows = sweep_rows(cfg, db)
    print(f"{r['tasks']} tasks: {r['cached']} already stored, {r['computed']} computed "
          f"in {r['seconds']:.1f} s")
    csv_path = export_csv(rows, args.export or out / "results.csv")
    print(f"wrote {csv_path}")
    if args.plots:
        for p in plot_sweep(cfg, rows, out):
            print(f"wrote {p}")
    return 0


def cmd_study(args):
    from hwsim.studies import get_study
    from hwsim.sweep import SweepError, export_csv, parse_config, run_sweep, sweep_rows
    try:
        study = get_study(args.name)
        mod = study._mod()
    except (ValueError, RuntimeError) as e:
        raise UsageError(str(e)) from None
    out = Path(args.output or f"study-{study.name}")
    out.mkdir(parents=True, exist_ok=True)
    if not hasattr(mod, "default_sweep"):
        raise UsageError(f"study {study.name!r} has no default run; use hwsim sweep CONFIG.toml")
    data = mod.default_sweep(quick=args.quick)
    for opt in ("corpus", "sts"):
        value = getattr(args, opt)
        if value is None:
            continue
        if opt not in study.params:
            raise UsageError(f"--{opt} applies to the MiniLM studies only; study {study.name!r} "
                             f"has no {opt} parameter")
        data["fixed"] = {**data.get("fixed", {}), opt: str(Path(value).resolve())}
    try:
        cfg = parse_config(data, f"{study.name} defaults")
    except SweepError as e:
        raise UsageError(str(e)) from None
    print(f"{study.name}: {len(cfg.tasks())} tasks -> {out}", file=sys.stderr)
    r = run_sweep(cfg, out / "results.sqlite", jobs=args.jobs, progress=sys.stderr.isatty())
    rows = sweep_rows(cfg, out / "results.sqlite")
    export_csv(rows, out / "results.csv")
    lines = mod.report(rows, out)
    report = out / "report.md"
    tmp = report.with_suffix(".md.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(report)
    print(f"{r['tasks']} tasks ({r['cached']} stored, {r['computed']} computed) in "
          f"{r['seconds']:.1f} s; wrote {report}")
    return 0


def cmd_demo(args):
    from hwsim.demo import run_demo
    return run_demo(Path(args.output), sim=args.sim, jobs=args.jobs)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="hwsim",
        description="Bit-accurate models, Verilog, verification and accuracy of approximate "
                    "arithmetic units.",
        epilog="Examples: hwsim verilog mitchell-mul --width 8 -o out/ ; "
               "hwsim verify mitchell-mul --width 8 --vectors exhaustive ; "
               "hwsim characterize mitchell-div --width 12 --frac-bits 8")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)

    s = sub.add_parser("units", help="list units and their parameters")
    s.set_defaults(func=cmd_units)

    s = sub.add_parser("verilog", help="write <top>.v and a <top>.json sidecar")
    s.add_argument("unit", metavar="UNIT", help=f"one of: {', '.join(REGISTRY)}")
    _add_param_options(s)
    s.add_argument("-o", "--output", default=".", metavar="DIR", help="output directory")
    s.set_defaults(func=cmd_verilog)

    s = sub.add_parser("verify", help="run the Verilog in a simulator against the model")
    s.add_argument("unit", metavar="UNIT", help=f"one of: {', '.join(REGISTRY)}")
    _add_param_options(s)
    s.add_argument("--vectors", metavar="exhaustive|COUNT",
                   help="every input pair, or corner cases + COUNT seeded random vectors "
                        "(default: exhaustive up to 16 input bits, e.g. two 8-bit operands; "
                        "else 100000; softmax 20000, performer 500, attention 200: add "
                        "--batched --sim verilator for thousands)")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.add_argument("--sim", choices=["icarus", "verilator"],
                   help="simulator (default: the fastest available)")
    s.add_argument("--batched", action="store_true",
                   help="bulk mode: vectors from memory files through a generated Verilog "
                        "testbench, compared in numpy (about 7x the per-cycle bench on "
                        "Verilator); the default cocotb bench also checks the valid protocol "
                        "with random stalls")
    s.add_argument("--waves", action="store_true", help="dump waveforms in the build directory")
    s.add_argument("--build-dir", metavar="DIR", help="build root (default ~/.cache/hwsim/build)")
    s.set_defaults(func=cmd_verify)

    s = sub.add_parser("characterize", help="error metrics over all inputs or a seeded sample")
    s.add_argument("unit", metavar="UNIT", help=f"one of: {', '.join(REGISTRY)}")
    _add_param_options(s)
    s.add_argument("--exhaustive", action="store_true",
                   help="every input combination (up to 32 input bits; the default up to 24)")
    s.add_argument("--samples", type=int, metavar="COUNT",
                   help="seeded uniform random inputs (default 1000000 above 24 input bits); "
                        "softmax: vectors per logit distribution (default 10000)")
    s.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    s.add_argument("--jobs", type=int, default=2, help="threads (default 2)")
    s.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    s.set_defaults(func=cmd_characterize)

    s = sub.add_parser("synth", help="LUT4/CARRY/DFF counts and Fmax (yosys + nextpnr-ice40), "
                                     "next to the exact baseline")
    s.add_argument("unit", metavar="UNIT", help=f"one of: {', '.join(REGISTRY)}")
    _add_param_options(s)
    s.add_argument("--target", default="ice40", help="synthesis target (ice40)")
    s.add_argument("--fmax", action=argparse.BooleanOptionalAction, default=True,
                   help="place and route a registered wrapper for Fmax (default on)")
    s.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True,
                   help="also synthesize the exact unit at the same widths (default on, "
                        "where one exists)")
    s.add_argument("--db", default=None, metavar="FILE",
                   help="results cache (default ~/.cache/hwsim/results.sqlite; 'none' to skip)")
    s.add_argument("--keep", metavar="DIR", help="keep the tool files in DIR")
    s.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    s.set_defaults(func=cmd_synth)

    s = sub.add_parser("sweep", help="run a study over a grid of parameters and seeds "
                                     "(resumable, parallel, optionally on a Dask cluster)")
    s.add_argument("config", metavar="CONFIG.toml", help="sweep description (see examples/)")
    s.add_argument("-o", "--output", metavar="DIR",
                   help="output directory: results.sqlite, results.csv, plots "
                        "(default sweep-<study>)")
    s.add_argument("--jobs", type=int, default=2, help="local worker processes (default 2)")
    s.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the tasks on this Dask distributed scheduler instead")
    s.add_argument("--export", metavar="FILE", help="CSV file (default DIR/results.csv)")
    s.add_argument("--plots", action=argparse.BooleanOptionalAction, default=True,
                   help="metric-vs-parameter plots (and Pareto with a cost column)")
    s.set_defaults(func=cmd_sweep)

    from hwsim.studies import STUDIES
    s = sub.add_parser("study", help="run an ML study on its defaults: report.md, CSV, plots")
    s.add_argument("name", metavar="NAME", help=f"one of: {', '.join(STUDIES)}")
    s.add_argument("-o", "--output", metavar="DIR", help="output directory (default study-NAME)")
    s.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    s.add_argument("--quick", action="store_true", help="a short version (one seed, fewer points)")
    s.add_argument("--corpus", metavar="FILE",
                   help="MiniLM studies: your sentences, one a line (default: the built-in "
                        "600-sentence corpus)")
    s.add_argument("--sts", metavar="FILE",
                   help="MiniLM studies: an STS-benchmark file (sts-test.csv or GLUE STS-B "
                        "dev.tsv); adds Spearman against its gold scores")
    s.set_defaults(func=cmd_study)

    s = sub.add_parser("demo", help="generate, verify and characterise default units; "
                                    "write DIR/report.md with plots")
    s.add_argument("-o", "--output", default="out", metavar="DIR", help="output directory")
    s.add_argument("--sim", choices=["icarus", "verilator"],
                   help="simulator (default: Icarus when present: fastest to build)")
    s.add_argument("--jobs", type=int, default=2, help="threads (default 2)")
    s.set_defaults(func=cmd_demo)
    return p


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except UsageError as e:
        print(f"hwsim: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("hwsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
