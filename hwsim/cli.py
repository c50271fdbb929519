"""The ``hwsim`` command: units, verilog, verify, characterize, synth, prove, sweep, study, run, explore,
demo.

Each unit command (verilog, verify, characterize, synth, prove) takes the unit as a sub-command
whose options are generated from that unit's Params (``hwsim.options``): ``hwsim verify
softmax --help`` lists softmax's parameters with softmax's defaults. Exit codes: 0 success,
1 failed verification (mismatches) or failed tool run, 2 bad usage (one line ``hwsim: error:
...``, no traceback). Paths the user names are checked before any work starts.
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import re
import statistics
import sys
from pathlib import Path

from hwsim.characterize import MAX_SAMPLES
from hwsim.options import add_unit_options, option_name, params_from_args, unit_summary_lines
from hwsim.paths import (check_not_input, check_output_dir, check_output_file, parse_toml,
                         read_text_file, replace_text, same_file, write_text_atomic)
from hwsim.tables import first_table, format_cost_table, format_metrics_table, markdown_table
from hwsim.units import REGISTRY, get_unit

#: defaults when no vector / sample count is given: exhaustive up to these many input bits
#: (two 8-bit operands for verification, two 12-bit operands for characterisation)
VERIFY_EXHAUSTIVE_DEFAULT_BITS = 16
CHARACTERIZE_EXHAUSTIVE_DEFAULT_BITS = 24
DEFAULT_SAMPLES = 1_000_000
#: random draws are bounded by memory: at most this many input values (int64) per run
MAX_INPUT_VALUES = 1 << 28
MAX_SEED = 2 ** 32 - 1
MAX_JOBS = 256

#: study parameters that name a file the user gives on the command line
STUDY_FILE_OPTIONS = {
    "corpus": "your sentences, one a line (default: the built-in 600-sentence corpus)",
    "sts": "an STS-benchmark file (sts-test.csv or GLUE STS-B dev.tsv); adds Spearman "
           "against its gold scores",
}


class UsageError(Exception):
    """Bad usage: reported as one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors in hwsim's words (exit 2, no usage block)."""

    def error(self, message):
        raise UsageError(_reword(message))


def _reword(message: str) -> str:
    m = re.match(r"argument (UNIT|NAME): invalid choice: '([^']*)'", message)
    if m:
        if m.group(1) == "UNIT":
            return f"unknown unit {m.group(2)!r} (units: {', '.join(REGISTRY)})"
        from hwsim.studies import STUDIES
        return f"unknown study {m.group(2)!r} (studies: {', '.join(STUDIES)})"
    m = re.match(r"argument ([^:]+): (.*)", message, re.S)
    if m:
        opt = m.group(1).split("/")[0]
        text = m.group(2)
        return f"{opt} {text}" if text.startswith("must") else f"{opt}: {text}"
    return message


def _int_option(name: str, lo: int, hi: int):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be an integer in {lo}..{hi}, "
                                             f"not {text!r}") from None
        if not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"must be an integer in {lo}..{hi}, not {v}")
        return v
    parse.__name__ = name
    return parse


_seed = _int_option("seed", 0, MAX_SEED)
_jobs = _int_option("jobs", 1, MAX_JOBS)
#: nextpnr placements per unit with ``hwsim synth --seeds`` (each takes seconds to minutes)
MAX_PNR_SEEDS = 32
_pnr_seeds = _int_option("seeds", 1, MAX_PNR_SEEDS)
#: the longest ``--timeout`` (``hwsim synth``: per tool call; ``hwsim prove``: the solver): a day
MAX_TIMEOUT = 86_400


def _seconds(text: str) -> float:
    """``--timeout``: a number of seconds in (0, MAX_TIMEOUT]."""
    try:
        v = float(text)
    except ValueError:
        v = None
    if v is None or not 0 < v <= MAX_TIMEOUT:  # also refuses nan and inf
        raise argparse.ArgumentTypeError(f"must be a number of seconds in (0, {MAX_TIMEOUT}], "
                                         f"not {text!r}")
    return v


_seconds.__name__ = "timeout"


def _path_check(check, path, option: str, *args):
    try:
        return check(path, option, *args)
    except ValueError as e:
        raise UsageError(str(e)) from None


def _unit_and_params(args):
    spec = get_unit(args.unit)
    try:
        params = params_from_args(spec.params_cls, args)
    except (TypeError, ValueError) as e:
        raise UsageError(str(e)) from None
    return spec, params


def cmd_units(args):
    for spec in REGISTRY.values():
        print(f"{spec.name:14} {spec.summary}")
        print("\n".join(unit_summary_lines(spec.params_cls)))
    return 0


def cmd_verilog(args):
    from hwsim.hdl.export import write_verilog
    spec, params = _unit_and_params(args)
    out = _path_check(check_output_dir, args.output, "-o/--output")
    _check_files_in(out, [f"{params.top_name}{s}" for s in (".v", ".json", ".vlt")])
    v, j = write_verilog(spec, params, out)
    vlt = v.with_suffix(".vlt")
    print(f"wrote {v}, {j}" + (f" and {vlt} (Verilator waivers: verilator {vlt.name} "
                                f"{v.name} ...)" if vlt.exists() else ""))
    return 0


def _values_per_vector(spec, params) -> int:
    """Input values (int64) one vector of ``spec`` holds, from its corner vectors."""
    v = spec.vectors(params, 0, 0)
    return max(1, sum(int(a[0].size) if a.ndim > 1 else 1 for a in v.values()))


def _parse_vectors(text: str | None, params, spec) -> int | None:
    if text is None:
        if spec.exhaustive and params.input_bits <= VERIFY_EXHAUSTIVE_DEFAULT_BITS:
            return None
        return spec.default_count
    if text == "exhaustive":
        if not spec.exhaustive:
            raise UsageError(f"{spec.name} has no exhaustive mode (each vector is a whole "
                             f"stream); give --vectors COUNT (default {spec.default_count})")
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
    limit = MAX_INPUT_VALUES // _values_per_vector(spec, params)
    if not 0 <= n <= limit:
        raise UsageError(f"--vectors must be 'exhaustive' or a count in 0..{limit} for "
                         f"{params.top_name}, not {n}")
    return n


def cmd_verify(args):
    from hwsim.sim import runner
    spec, params = _unit_and_params(args)
    vectors = _parse_vectors(args.vectors, params, spec)
    if args.batched and args.waves:
        raise UsageError("--waves works with the cocotb bench; drop --batched to dump waves")
    if args.build_dir is not None:
        _path_check(check_output_dir, args.build_dir, "--build-dir")
    try:
        sim = args.sim or runner.default_simulator()
        runner.simulator_env(sim)
    except runner.SimulatorNotFound as e:
        raise UsageError(str(e)) from None
    what = "all inputs" if vectors is None else f"corners + {vectors} random vectors"
    mode = "batched testbench" if args.batched else "cocotb per-cycle bench"
    print(f"verifying {params.top_name} on {sim} ({mode}): {what} (seed {args.seed})",
          file=sys.stderr)
    try:
        if args.batched:
            from hwsim.sim.batched import run_batched
            r = run_batched(spec, params, sim=sim, vectors=vectors, seed=args.seed,
                            build_root=args.build_dir)
        else:
            r = runner.run_bench(spec, params, sim=sim, vectors=vectors, seed=args.seed,
                                 build_root=args.build_dir, waves=args.waves)
    except (RuntimeError, OSError, SystemExit) as e:  # a build or simulator failure
        print(f"hwsim: {sim} failed on {params.top_name}: {str(e).splitlines()[0]}",
              file=sys.stderr)
        return 1
    print(f"{r.top} on {r.sim}: {r.vectors} vectors, {r.mismatches} mismatches "
          f"({r.rate:,.0f} vectors/s)")
    for ex in r.examples:
        print(f"  mismatch: {ex}")
    return 0 if r.passed else 1


def _write_json(path, data, option: str = "--json") -> None:
    """Write ``data`` atomically (:func:`hwsim.paths.write_text_atomic`) as strict JSON: a
    NaN or infinite number (an undefined metric) is written as null."""
    text = json.dumps(_json_finite(data), indent=2, allow_nan=False) + "\n"
    _path_check(lambda p, o: write_text_atomic(p, text, o), path, option)
    print(f"wrote {path}")


def _json_finite(x):
    import math
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _json_finite(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_json_finite(v) for v in x]
    return x


def _characterize_distributions(spec, params, args):
    import importlib
    import inspect

    if args.exhaustive:
        raise UsageError(f"{spec.name} has no exhaustive mode; give --samples COUNT "
                         f"(vectors per input distribution)")
    module, func = spec.characterizer.split(":")
    run = getattr(importlib.import_module(module), func)
    kwargs = {"seed": args.seed}
    if args.samples is not None:
        default = inspect.signature(run).parameters["samples"].default
        limit = MAX_INPUT_VALUES // (16 * _values_per_vector(spec, params))
        if not 1 <= args.samples <= limit:
            raise UsageError(f"--samples must be an integer in 1..{limit} for "
                             f"{params.top_name} (default {default}), not {args.samples}")
        kwargs["samples"] = args.samples
    try:
        c = run(params, **kwargs)
    except (TypeError, ValueError) as e:
        raise UsageError(str(e)) from None
    print(c.summary(params))
    print(c.table())
    if args.json:
        _write_json(args.json, c.to_dict())
    return 0


def cmd_characterize(args):
    from hwsim.characterize import MAX_CHARACTERIZE_INPUT_BITS, characterize
    spec, params = _unit_and_params(args)
    if args.json:
        _path_check(check_output_file, args.json, "--json")
    if args.exhaustive and args.samples is not None:
        raise UsageError("give --exhaustive or --samples, not both")
    if spec.characterizer:
        return _characterize_distributions(spec, params, args)
    samples = args.samples
    if samples is not None and not 1 <= samples <= MAX_SAMPLES:
        raise UsageError(f"--samples must be an integer in 1..{MAX_SAMPLES}, not {samples}")
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
        _write_json(args.json, c.to_dict())
    return 0


def _check_files_in(out: Path, names) -> None:
    """The files a command will write in ``-o DIR`` can be written: none is a directory
    (found after the work, it would leave the outputs half written)."""
    for name in names:
        if (out / name).is_dir():
            raise UsageError(f"-o/--output {str(out)!r}: {name} there is a directory; remove "
                             f"it or give another directory")


def _db_path(option_value):
    """The results file a ``--db`` value names (None for 'none')."""
    from hwsim.resultdb import default_path
    if option_value == "none":
        return None
    return option_value if option_value is not None else default_path()


def _open_db(path):
    """The synthesis cache at ``path`` (None: the default), refusing what is not one."""
    import sqlite3

    from hwsim.resultdb import ResultDB
    if path is not None:
        _path_check(check_output_file, path, "--db")
    try:
        return ResultDB(path)
    except sqlite3.DatabaseError as e:
        raise UsageError(f"--db {str(path)!r} is not a hwsim results database ({e}); give "
                         f"another file or 'none'") from None


def cmd_synth_front(args):
    from hwsim import cost_report, plots, synth
    out = _path_check(check_output_dir, args.front_out or ".", "-o/--output")
    if args.front_json:
        _path_check(check_output_file, args.front_json, "--json")
        _path_check(check_not_input, args.front_json, "--json",
                    {"--db": _db_path(args.front_db)})
    db = _open_db(args.front_db) if args.front_db != "none" else None
    try:
        pts = cost_report.multiplier_front(db=db, fmax=bool(args.front_fmax),
                                           progress=sys.stderr.isatty())
    except synth.SynthToolNotFound as e:
        raise UsageError(str(e)) from None
    except synth.SynthError as e:
        print(f"hwsim: synthesis failed: {e}", file=sys.stderr)
        return 1
    finally:
        if db is not None:
            db.close()
    print("\n".join(cost_report.front_table(pts)))
    out.mkdir(parents=True, exist_ok=True)
    print(f"wrote {plots.multiplier_front(out / 'multiplier_front.png', pts)}")
    if args.front_json:
        _write_json(args.front_json, pts)
    return 0


def cmd_synth(args):
    from hwsim import synth
    if args.pareto:
        if args.unit is not None:
            raise UsageError("hwsim synth --pareto takes no unit: it synthesises every "
                             "multiplier family (give one or the other)")
        return cmd_synth_front(args)
    if args.unit is None:
        raise UsageError("hwsim synth needs a UNIT (one of: " + ", ".join(REGISTRY)
                         + ") or --pareto")
    given = [opt for opt, dest in (("--json", "front_json"), ("-o/--output", "front_out"),
                                   ("--db", "front_db"), ("--fmax/--no-fmax", "front_fmax"))
             if getattr(args, dest) is not None]
    if given:  # argparse gave them to the --pareto options: they would be ignored
        raise UsageError(f"{given[0]} before the unit's name is a --pareto option; a unit's "
                         f"own options go after its name (hwsim synth {args.unit} --help)")
    spec, params = _unit_and_params(args)
    if args.target not in synth.TARGETS:
        raise UsageError(f"--target must be one of {', '.join(synth.TARGETS)}, not {args.target!r}")
    if args.json:
        _path_check(check_output_file, args.json, "--json")
        _path_check(check_not_input, args.json, "--json", {"--db": _db_path(args.db)})
    if args.keep:
        _path_check(check_output_dir, args.keep, "--keep")
    if args.seeds > 1 and not args.fmax:
        raise UsageError("--seeds N needs place and route; drop --no-fmax")
    with_baseline = args.baseline and spec.baseline is not None
    db = _open_db(args.db) if args.db != "none" else None
    # per module: the first result, and every seed's result or the reason it failed
    results, by_seed = [], []
    try:
        for baseline in ([False, True] if with_baseline else [False]):
            what = "exact baseline of " if baseline else ""
            runs = {}
            for seed in range(1, args.seeds + 1):
                work_dir = args.keep  # each seed's tool files apart when there are several
                if args.keep is not None and args.seeds > 1:
                    work_dir = Path(args.keep) / f"seed{seed}"
                print(f"synthesizing {what}{params.top_name} for {args.target}"
                      f"{' with place and route' if args.fmax else ''}"
                      f"{f' (seed {seed})' if args.seeds > 1 else ''} ...", file=sys.stderr)
                try:
                    runs[seed] = synth.synthesize(spec, params, target=args.target,
                                                  fmax=args.fmax, baseline=baseline, db=db,
                                                  seed=seed, work_dir=work_dir,
                                                  timeout=args.timeout)
                except synth.SynthError as e:
                    if args.seeds == 1:
                        raise
                    # one placement that hangs or fails does not lose the other seeds
                    runs[seed] = str(e).splitlines()[0]
                    print(f"hwsim: seed {seed} failed: {runs[seed]}", file=sys.stderr)
            done = [r for r in runs.values() if not isinstance(r, str)]
            if not done:
                print(f"hwsim: synthesis failed: every seed of {what}{params.top_name} failed",
                      file=sys.stderr)
                return 1
            results.append(done[0])
            by_seed.append(runs)
    except synth.SynthToolNotFound as e:
        raise UsageError(str(e)) from None
    except (synth.SynthError, ValueError) as e:
        print(f"hwsim: synthesis failed: {e}", file=sys.stderr)
        return 1
    finally:
        if db is not None:
            db.close()
    print(format_cost_table(results))
    fmaxes = [[r.fmax_mhz for r in runs.values() if not isinstance(r, str)] if args.fmax
              else [] for runs in by_seed]
    medians = [statistics.median(f) if f else None for f in fmaxes]
    if args.seeds > 1:
        print()
        print(markdown_table(
            ["module"] + [f"seed {i}" for i in range(1, args.seeds + 1)]
            + ["median [MHz]", "min", "max"],
            [[top.top] + ["failed" if isinstance(r, str) else f"{r.fmax_mhz:.1f}"
                          for r in runs.values()]
             + [f"{med:.1f}", f"{min(f):.1f}", f"{max(f):.1f}"]
             for top, runs, med, f in zip(results, by_seed, medians, fmaxes)]))
    if len(results) == 2:
        a, b = results
        line = f"{a.top}: {100 * a.lut4 / b.lut4:.0f} % of the exact unit's LUT4s"
        if medians[0] and medians[1]:
            counts = {len(f) for f in fmaxes}
            over = (f"{args.seeds}" if counts == {args.seeds}
                    else f"{' and '.join(str(n) for n in (len(f) for f in fmaxes))} of "
                         f"{args.seeds}")
            line += (f", {medians[0] / medians[1]:.2f}x its median Fmax over {over} seeds"
                     if args.seeds > 1 else f", {medians[0] / medians[1]:.2f}x its Fmax")
        print(line)
    r = results[0]
    seeds = f"seeds 1..{args.seeds}" if args.seeds > 1 else f"seed {synth.PNR_SEED}"
    print(f"tools: {r.yosys}; {r.nextpnr or 'no place and route (--no-fmax)'}; "
          f"iCE40 {' '.join(synth.DEVICE)}, {seeds}")
    if args.json:
        _write_json(args.json, [{"top": top.top, "seed": seed, "error": r}
                                if isinstance(r, str) else r.to_dict()
                                for top, runs in zip(results, by_seed)
                                for seed, r in runs.items()])
    return 0


def cmd_sweep(args):
    from hwsim.sweep import (SweepError, TaskError, check_scheduler, export_csv, load_config,
                             plot_sweep, run_sweep, sweep_rows)
    out = None if args.output is None else _path_check(check_output_dir, args.output,
                                                       "-o/--output")
    if args.export:
        _path_check(check_output_file, args.export, "--export")
    try:
        cfg = load_config(args.config)
    except SweepError as e:
        raise UsageError(str(e)) from None
    out = out or _path_check(check_output_dir, f"sweep-{cfg.study}", "-o/--output")
    db = out / "results.sqlite"
    # the CSV (and the database) must not be the configuration or a file it names
    inputs = {"sweep configuration": args.config,
              **{f"sweep's {k}": v for point in cfg.points for k, v in point
                 if isinstance(v, str) and v and Path(v).is_file()}}
    csv = args.export or out / "results.csv"
    _path_check(check_not_input, csv, "--export" if args.export else "-o/--output",
                {**inputs, "results database": db,
                 **{f"results database's {s}": f"{db}{s}" for s in ("-wal", "-shm", "-journal",
                                                                     ".lock")}})
    _path_check(check_not_input, db, "-o/--output", inputs)
    if args.scheduler is not None:
        try:
            check_scheduler(args.scheduler)
        except SweepError as e:
            raise UsageError(str(e)) from None
    out.mkdir(parents=True, exist_ok=True)
    n = len(cfg.tasks())
    print(f"{cfg.study}: {len(cfg.points)} configurations x {len(cfg.seeds)} seeds = {n} tasks "
          f"-> {db}", file=sys.stderr)
    try:
        r = run_sweep(cfg, db, jobs=args.jobs, scheduler=args.scheduler,
                      progress=sys.stderr.isatty())
        rows = sweep_rows(cfg, db, fingerprint=r.get("fingerprint"))
        print(f"{r['tasks']} tasks: {r['cached']} already stored, {r['computed']} computed "
              f"in {r['seconds']:.1f} s")
        csv_path = export_csv(rows, csv, "--export" if args.export else "-o/--output")
    except TaskError as e:
        print(f"hwsim: error: {e}", file=sys.stderr)
        return 1
    except SweepError as e:
        raise UsageError(str(e)) from None
    print(f"wrote {csv_path}")
    if args.plots:
        for p in plot_sweep(cfg, rows, out):
            print(f"wrote {p}")
    return 0


def _study_files(study, args) -> dict:
    """The file options given for ``study``, each checked as readable UTF-8 text."""
    fixed = {}
    for opt in STUDY_FILE_OPTIONS:
        value = getattr(args, opt, None)
        if value is None:
            continue
        _path_check(read_text_file, value, f"--{opt}")
        fixed[opt] = str(Path(value).resolve())
    return fixed


def cmd_study(args):
    from hwsim.studies import get_study
    from hwsim.sweep import SweepError, TaskError, export_csv, parse_config, run_sweep, sweep_rows
    study = get_study(args.name)
    try:
        mod = study._mod()
    except RuntimeError as e:
        raise UsageError(str(e)) from None
    if not hasattr(mod, "default_sweep"):
        raise UsageError(f"study {study.name!r} has no default run; use hwsim sweep CONFIG.toml")
    out = _path_check(check_output_dir, args.output or f"study-{study.name}", "-o/--output")
    data = mod.default_sweep(quick=args.quick)
    files = _study_files(study, args)
    if files:
        data["fixed"] = {**data.get("fixed", {}), **files}
    try:
        cfg = parse_config(data, f"study {study.name}")
        for point in cfg.points:  # the data files are read here: errors before any work
            study.check({**study.params, **dict(point)})
    except (SweepError, TypeError, ValueError) as e:
        msg = re.sub(r"\s*\(?[^()]*skip_invalid[^()]*\)?", "", str(e))
        raise UsageError(msg) from None
    created = not out.exists()
    out.mkdir(parents=True, exist_ok=True)
    print(f"{study.name}: {len(cfg.tasks())} tasks -> {out}", file=sys.stderr)
    try:
        r = run_sweep(cfg, out / "results.sqlite", jobs=args.jobs, progress=sys.stderr.isatty())
    except BaseException as e:
        if created and not any(out.iterdir()):
            out.rmdir()
        if isinstance(e, TaskError):
            print(f"hwsim: error: {e}", file=sys.stderr)
            return 1
        if isinstance(e, SweepError):
            raise UsageError(str(e)) from None
        raise
    # the rows this run stored: a source edited meanwhile changes code_fingerprint()
    rows = sweep_rows(cfg, out / "results.sqlite", fingerprint=r["fingerprint"])
    export_csv(rows, out / "results.csv")
    lines = mod.report(rows, out)
    report = replace_text(out / "report.md", "\n".join(lines) + "\n")
    headline = first_table(lines)
    if headline:
        print("\n".join(headline))
    print(f"{r['tasks']} tasks ({r['cached']} stored, {r['computed']} computed) in "
          f"{r['seconds']:.1f} s; wrote {report}")
    return 0


def cmd_prove(args):
    from hwsim.sim import formal, runner
    spec, params = _unit_and_params(args)
    if args.verilog is not None:
        _path_check(read_text_file, args.verilog, "--verilog")
    if spec.name in formal.subblock_units():
        return _prove_subblocks(args, formal, spec, params)
    print(f"proving {params.top_name} ({args.property}) ...", file=sys.stderr)
    try:
        r = formal.prove(spec, params, verilog=args.verilog, timeout_s=args.timeout,
                         property=args.property)
    except formal.ProofToolMissing as e:
        raise UsageError(str(e)) from None
    except (TypeError, ValueError) as e:
        raise UsageError(str(e)) from None
    print(formal.format_result(r))
    if r.proved:
        return 0
    if r.counterexample and args.replay:
        sims = tuple(s for s in runner.SIMULATORS if s in runner.available_simulators())
        if sims:
            rows = formal.replay(spec, params, r.counterexample, sims=sims, verilog=args.verilog)
            print(formal.format_replay(rows))
    return 1


def _prove_subblocks(args, formal, spec, params):
    """``hwsim prove softmax``: one proof per sub-block (the stream level is simulated)."""
    if args.verilog is not None:
        raise UsageError(f"--verilog proves a whole unit; {spec.name} is proven by its "
                         f"sub-blocks, from the export")
    if args.property != "equivalence":
        raise UsageError(f"--property {args.property}: {spec.name}'s sub-blocks are proven "
                         f"for equivalence only")
    print(f"proving the sub-blocks of {params.top_name} ...", file=sys.stderr)
    try:
        results = formal.prove_subblocks(spec, params, timeout_s=args.timeout)
    except formal.ProofToolMissing as e:
        raise UsageError(str(e)) from None
    except (TypeError, ValueError) as e:
        raise UsageError(str(e)) from None
    for r in results:
        print(formal.format_result(r))
    print(formal.STREAM_NOTE)
    if all(r.proved for r in results):
        return 0
    if args.replay and any(r.counterexample for r in results):
        print("(no replay: counterexample replay runs whole units only; the solver's RTL "
              "and specification values are shown above)")
    return 1


#: what ``hwsim run -o DIR`` writes in DIR (hwsim.graph.evaluate.write_report)
RUN_REPORT_FILES = ("report.md", "attribution.png")


def cmd_run(args):
    from hwsim.paths import check_input_file
    _path_check(check_input_file, args.model, "MODEL")
    _path_check(check_input_file, args.data, "--data")
    if args.reference is not None:
        _path_check(check_input_file, args.reference, "--reference")
    inputs = {"MODEL": args.model, "--data": args.data, "--assign": args.assign,
              "--reference": args.reference}
    try:  # the models' external weights are inputs too
        from hwsim.studies.onnx_model import external_files
        for opt in ("MODEL", "--reference"):
            if inputs[opt] is not None:
                inputs |= {f"{opt} weights": str(f) for f in external_files(inputs[opt])}
    except ImportError:
        pass  # without the ml extra the command stops below with its install hint
    if args.output is not None:
        out = _path_check(check_output_dir, args.output, "-o/--output")
        _check_files_in(out, RUN_REPORT_FILES)
        for name in RUN_REPORT_FILES:
            _path_check(check_not_input, out / name, "-o/--output", inputs)
        inputs |= {f"-o/--output {name}": out / name for name in RUN_REPORT_FILES}
    if args.json is not None:
        _path_check(check_output_file, args.json, "--json")
        _path_check(check_not_input, args.json, "--json", inputs)
    try:
        from hwsim.graph.assign import Assignment, parse_assignment
        from hwsim.graph.evaluate import format_summary, run_model, write_report
        from hwsim.graph.model import ModelError
    except ImportError as e:
        raise UsageError(f"hwsim run needs the ml extra ({e.name} is missing): "
                         f"pip install 'hwsim[ml]'") from None
    assignment = Assignment()
    if args.assign is not None:
        text = _path_check(read_text_file, args.assign, "--assign")
        doc = _path_check(parse_toml, text, f"--assign {args.assign}")
        try:
            assignment = parse_assignment(doc, f"--assign {args.assign}")
        except (TypeError, ValueError) as e:
            raise UsageError(str(e)) from None
    from tqdm import tqdm
    def progress(items):
        return tqdm(items, desc="attribution", unit="node", leave=False,
                    disable=not sys.stderr.isatty())
    try:
        r = run_model(args.model, args.data, assignment, attribution=args.attribution,
                      progress=progress, reference=args.reference)
    except ModelError as e:
        raise UsageError(str(e)) from None
    for w in r.get("warnings", []):
        print(f"hwsim: warning: {w}", file=sys.stderr)
    print(format_summary(r))
    if args.json is not None:
        _write_json(args.json, r)
    if args.output is not None:
        print(f"wrote {write_report(r, Path(args.output))}")
    return 0


#: what ``hwsim explore -o DIR`` writes in DIR
EXPLORE_FILES = ("results.sqlite", "designs.csv", "best.toml", "report.md", "front.png",
                 "search.png")


def cmd_explore(args):  # empty paths are refused by main()
    out = _path_check(check_output_dir, args.output, "-o/--output")
    if args.json is not None:
        js = _path_check(check_output_file, args.json, "--json")
        # a link or a device (/dev/stdout) is written through, as every command's --json
        if (same_file(js, out) or any(same_file(js, out / n) for n in EXPLORE_FILES)
                or (args.emit is not None and same_file(js.absolute().parent, args.emit))):
            where = f"{str(out)!r}" + (f" and --emit {args.emit!r}" if args.emit else "")
            raise UsageError(f"--json must be a file outside what explore writes in {where}, "
                             f"not {args.json!r}")
        _path_check(check_not_input, js, "--json",
                    {"CONFIG": args.config, "--db": None if args.db == "none" else args.db})
    if args.db not in (None, "none") and Path(args.db).exists() and not Path(args.db).is_file():
        raise UsageError(f"--db must be a regular file, not {args.db!r}")
    if args.emit is not None:
        _path_check(check_output_dir, args.emit, "--emit")
    try:
        from hwsim.explore.config import ExploreError, load_config
        from hwsim.explore.run import emit_units, explore, format_summary, write_outputs
        from hwsim.graph.model import ModelError
    except ImportError as e:
        raise UsageError(f"hwsim explore needs the ml extra ({e.name} is missing): "
                         f"pip install 'hwsim[ml]'") from None
    from hwsim import synth
    from hwsim.sweep import SweepError, check_scheduler
    try:
        cfg = load_config(args.config)
    except ExploreError as e:
        raise UsageError(str(e)) from None
    for w in cfg.warnings:
        print(f"hwsim: warning: {w}", file=sys.stderr)
    if args.json is not None:  # nor a workload file the configuration names
        _path_check(check_not_input, args.json, "--json",
                    {f"workload.{k}": v for k, v in cfg.workload.items()
                     if k in ("model", "data") and isinstance(v, str)})
    if args.scheduler is not None:  # before --emit and --db make anything
        try:
            check_scheduler(args.scheduler)
        except SweepError as e:
            raise UsageError(str(e)) from None
    if args.emit is not None:
        try:
            Path(args.emit).mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise UsageError(f"--emit {args.emit!r} cannot be created ({e.strerror or e})") from None
    db = _open_db(args.db) if args.db != "none" else None
    try:
        result, space = explore(cfg, out, jobs=args.jobs, scheduler=args.scheduler, db=db,
                                progress=sys.stderr.isatty())
    except (ExploreError, ModelError, SweepError) as e:
        raise UsageError(str(e)) from None
    except synth.SynthToolNotFound as e:
        raise UsageError(str(e)) from None
    except synth.SynthError as e:
        print(f"hwsim: synthesis failed: {e}", file=sys.stderr)
        return 1
    finally:
        if db is not None:
            db.close()
    print(format_summary(result))
    for p in write_outputs(result, cfg, out):
        print(f"wrote {p}")
    if args.json is not None:
        _write_json(args.json, result)
    if result["best"] is None:
        return 1
    if args.emit is not None:
        files = emit_units(result, cfg, space, Path(args.emit))
        print(f"wrote {len(files)} files to {args.emit} (the best design's units and cost.md)")
    return 0


def cmd_demo(args):
    from hwsim.demo import run_demo
    out = _path_check(check_output_dir, args.output, "-o/--output")
    return run_demo(out, sim=args.sim, jobs=args.jobs)


def _unit_command(sub, name: str, help: str, common: argparse.ArgumentParser,
                  required: bool = True, specs=None, note=lambda spec: ""):
    """``hwsim NAME UNIT [unit options] [command options]``: one sub-parser per unit of
    ``specs`` (default: every registered unit); ``note(spec)`` ends its description."""
    specs = list(REGISTRY.values()) if specs is None else specs
    s = sub.add_parser(name, help=help, description=help)
    units = s.add_subparsers(dest="unit", metavar="UNIT", required=required,
                             parser_class=_Parser,
                             help=f"one of: {', '.join(x.name for x in specs)} (hwsim {name} "
                                  f"UNIT --help lists its options)")
    for spec in specs:
        u = units.add_parser(spec.name, help=spec.summary, parents=[common],
                             description=f"hwsim {name} {spec.name}: {spec.summary}{note(spec)}",
                             allow_abbrev=False)
        add_unit_options(u, spec.params_cls)
    return s


def _options(*adders) -> argparse.ArgumentParser:
    p = _Parser(add_help=False, allow_abbrev=False)
    for add in adders:
        add(p)
    return p


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="hwsim", allow_abbrev=False,
        description="Bit-accurate models, Verilog, verification and accuracy of approximate "
                    "arithmetic units.",
        epilog="Examples: hwsim verilog mitchell-mul --width 8 -o out/ ; "
               "hwsim verify mitchell-mul --width 8 --vectors exhaustive ; "
               "hwsim characterize mitchell-div --width 12 --frac-bits 8 ; "
               "hwsim verify softmax --help")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True,
                           parser_class=_Parser)

    s = sub.add_parser("units", help="list units and their parameters")
    s.set_defaults(func=cmd_units)

    def output_dir(q):
        q.add_argument("-o", "--output", default=".", metavar="DIR",
                       help="output directory (default: the current one)")

    s = _unit_command(sub, "verilog", "write <top>.v, a <top>.json sidecar and a <top>.vlt "
                                      "Verilator waiver file", _options(output_dir))
    s.set_defaults(func=cmd_verilog)

    def verify_options(q):
        q.add_argument("--vectors", metavar="exhaustive|COUNT",
                       help="every input combination, or the unit's corner cases + COUNT seeded "
                            "random vectors (default: exhaustive up to 16 input bits, e.g. two "
                            "8-bit operands; else the unit's default count: softmax 20000, "
                            "performer 500, attention 200, others 100000; stream units have no "
                            "exhaustive mode)")
        q.add_argument("--seed", type=_seed, default=0, help=f"random seed, 0..{MAX_SEED} "
                                                             f"(default 0)")
        q.add_argument("--sim", choices=["icarus", "verilator"],
                       help="simulator (default: the fastest available)")
        q.add_argument("--batched", action="store_true",
                       help="bulk mode: vectors from memory files through a generated Verilog "
                            "testbench, compared in numpy (benchmarks/results.md has its speed "
                            "against the per-cycle bench); the default cocotb bench also "
                            "checks the valid protocol with random stalls")
        q.add_argument("--waves", action="store_true",
                       help="dump waveforms in the build directory")
        q.add_argument("--build-dir", metavar="DIR",
                       help="build root (default ~/.cache/hwsim/build)")

    s = _unit_command(sub, "verify", "run the Verilog in a simulator against the model",
                      _options(verify_options))
    s.set_defaults(func=cmd_verify)

    def characterize_options(q):
        q.add_argument("--exhaustive", action="store_true",
                       help="every input combination (up to 32 input bits; the default up to 24)")
        q.add_argument("--samples", type=int, metavar="COUNT",
                       help="seeded uniform random inputs (default 1000000 above 24 input "
                            "bits); softmax, attention, performer: vectors per input "
                            "distribution (default: the unit's own)")
        q.add_argument("--seed", type=_seed, default=0, help="random seed (default 0)")
        q.add_argument("--jobs", type=_jobs, default=2, help="threads (default 2)")
        q.add_argument("--json", metavar="FILE", help="also write the results as JSON")

    s = _unit_command(sub, "characterize", "error metrics over all inputs or a seeded sample",
                      _options(characterize_options))
    s.set_defaults(func=cmd_characterize)

    from hwsim.synth import TOOL_TIMEOUT as synth_timeout  # standard library only

    def synth_options(q):
        q.add_argument("--target", default="ice40", help="synthesis target (ice40)")
        q.add_argument("--fmax", action=argparse.BooleanOptionalAction, default=True,
                       help="place and route a registered wrapper for Fmax (default on)")
        q.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True,
                       help="also synthesize the exact unit at the same widths (default on, "
                            "where one exists)")
        q.add_argument("--seeds", type=_pnr_seeds, default=1, metavar="N",
                       help="place and route with nextpnr seeds 1..N and report each module's "
                            "median Fmax and range (the seed alone moves Fmax by several per "
                            "cent; default 1)")
        q.add_argument("--timeout", type=_seconds, default=synth_timeout, metavar="S",
                       help=f"seconds each yosys / nextpnr run may take (default "
                            f"{synth_timeout}); with --seeds a seed that fails or times out "
                            f"is reported and the others are kept")
        q.add_argument("--db", default=None, metavar="FILE",
                       help="results cache (default ~/.cache/hwsim/results.sqlite; 'none' to "
                            "skip)")
        q.add_argument("--keep", metavar="DIR", help="keep the tool files in DIR")
        q.add_argument("--json", metavar="FILE", help="also write the results as JSON")

    s = _unit_command(sub, "synth", "LUT4/CARRY/DFF counts and Fmax (yosys + nextpnr-ice40), "
                                    "next to the exact baseline", _options(synth_options),
                      required=False)
    s.add_argument("--pareto", action="store_true",
                   help="instead of one unit: the multiplier front, as hwsim front")

    def front_options(q, prefix: str):
        q.add_argument("--json", dest="front_json", metavar="FILE",
                       help=f"{prefix}the points as JSON (unit, params, LUT4, MRED)")
        q.add_argument("-o", "--output", dest="front_out", default=None, metavar="DIR",
                       help=f"{prefix}where multiplier_front.png goes (default .)")
        q.add_argument("--db", dest="front_db", default=None, metavar="FILE",
                       help=f"{prefix}the synthesis cache (default: the user cache)")
        # None defaults: an option given before a unit's name is told apart from no option
        q.add_argument("--fmax", dest="front_fmax", action=argparse.BooleanOptionalAction,
                       default=None, help=f"{prefix}also place and route for Fmax "
                                          f"(default off)")

    front_options(s, "with --pareto: ")
    s.set_defaults(func=cmd_synth)

    from hwsim.cost_report import FRONT_WIDTHS
    from hwsim.units import front_units
    families = ", ".join(f"{x.front.family}" + (f" over {x.front.knob_name}"
                                               if x.front.knob_name else "")
                         for x in front_units())
    about = (f"the multiplier front: every multiplier family ({families}) at widths "
             f"{'/'.join(map(str, FRONT_WIDTHS))}, iCE40 LUT4 against MRED, the front plotted")
    s = sub.add_parser("front", help=about, description=about, allow_abbrev=False)
    front_options(s, "")
    s.set_defaults(func=cmd_synth_front)

    def prove_options(q):
        q.add_argument("--verilog", metavar="FILE",
                       help="prove this Verilog file (same top module and ports as the unit's "
                            "export) instead of the export")
        q.add_argument("--property", choices=["equivalence", "bounds"], default="equivalence",
                       help="equivalence: outputs == the specification for all inputs "
                            "(default); bounds: the documented error bounds hold")
        q.add_argument("--timeout", type=_seconds, metavar="S",
                       help="solver time limit in seconds (default none)")
        q.add_argument("--replay", action=argparse.BooleanOptionalAction, default=True,
                       help="run a counterexample through the model and the simulators "
                            "(default on)")

    def properties(spec):
        if spec.formal is None:
            return ". No formal specification yet: the unit is verified in simulation"
        how = " (by sub-block)" if spec.formal.subblocks else ""
        return f". Properties{how}: {', '.join(spec.formal.properties)}"

    s = _unit_command(sub, "prove", "formal proof (yosys + z3): the RTL equals the unit's "
                                    "bit-vector specification for all inputs",
                      _options(prove_options), note=properties)
    s.set_defaults(func=cmd_prove)

    s = sub.add_parser("sweep", help="run a study over a grid of parameters and seeds "
                                     "(resumable, parallel, optionally on a Dask cluster)",
                       allow_abbrev=False)
    s.add_argument("config", metavar="CONFIG.toml", help="sweep description (see examples/)")
    s.add_argument("-o", "--output", metavar="DIR",
                   help="output directory: results.sqlite, results.csv, plots "
                        "(default sweep-<study>)")
    s.add_argument("--jobs", type=_jobs, default=2, help="local worker processes (default 2)")
    s.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the tasks on this Dask distributed scheduler instead")
    s.add_argument("--export", metavar="FILE", help="CSV file (default DIR/results.csv)")
    s.add_argument("--plots", action=argparse.BooleanOptionalAction, default=True,
                   help="metric-vs-parameter plots (and Pareto with a cost column)")
    s.set_defaults(func=cmd_sweep)

    from hwsim.studies import STUDIES
    s = sub.add_parser("study", help="run an ML study on its defaults: report.md, CSV, plots")
    studies = s.add_subparsers(dest="name", metavar="NAME", required=True, parser_class=_Parser,
                               help=f"one of: {', '.join(STUDIES)}")
    for study in STUDIES.values():
        q = studies.add_parser(study.name, help=study.summary, allow_abbrev=False,
                               description=f"hwsim study {study.name}: {study.summary}")
        q.add_argument("-o", "--output", metavar="DIR",
                       help=f"output directory (default study-{study.name})")
        q.add_argument("--jobs", type=_jobs, default=2, help="worker processes (default 2)")
        q.add_argument("--quick", action="store_true",
                       help="a short version (one seed, fewer points)")
        for opt, text in STUDY_FILE_OPTIONS.items():
            if opt in study.params:
                q.add_argument(f"--{opt}", metavar="FILE", help=text)
        q.set_defaults(func=cmd_study)

    s = sub.add_parser("run", help="run an ONNX model with chosen ops on hwsim units, "
                                   "against onnxruntime", allow_abbrev=False,
                       description="hwsim run: a user's ONNX model (float or QDQ) with the ops "
                                   "an assignment file names on hwsim units, the rest float; "
                                   "metrics against onnxruntime's float run, per-node "
                                   "attribution. See docs/onnx.md.")
    s.add_argument("model", metavar="MODEL.onnx", help="the ONNX model file")
    s.add_argument("--data", required=True, metavar="FILE.npz",
                   help="inputs by graph input name (axis 0 = rows), optional 'labels' "
                        "(one integer class per row)")
    s.add_argument("--assign", metavar="FILE.toml",
                   help="[[assign]] rules (op, node pattern, unit, unit parameters), "
                        "[calibration], [formats]; default: everything float")
    s.add_argument("--reference", metavar="FLOAT.onnx",
                   help="compare against onnxruntime running this model instead (same inputs "
                        "and outputs), e.g. the float model a QDQ model was quantised from")
    s.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    s.add_argument("-o", "--output", metavar="DIR", help="write DIR/report.md with plots")
    s.add_argument("--attribution", action=argparse.BooleanOptionalAction, default=True,
                   help="each assigned node alone on its unit, the rest float (default on)")
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("explore", help="the cheapest per-layer units that keep an accuracy "
                                       "floor, priced by synthesis", allow_abbrev=False,
                       description="hwsim explore: search per-group unit choices (multiplier "
                                   "kind, width, Mitch-w truncation, softmax variant) on an "
                                   "ONNX model or a built-in one, under an accuracy floor, "
                                   "priced by yosys/nextpnr; sampling, random and greedy "
                                   "searches at equal budget. See docs/explore.md.")
    s.add_argument("config", metavar="CONFIG.toml", help="workload, [[group]] search space, "
                                                       "[constraint], [cost], [search] "
                                                       "(see examples/explore_digits.toml)")
    s.add_argument("-o", "--output", default="explore", metavar="DIR",
                   help="results.sqlite (resumable), designs.csv, best.toml, report.md, "
                        "plots (default explore)")
    s.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    s.add_argument("--emit", metavar="DIR",
                   help="write the Verilog, sidecars and cost table of the best design's units")
    s.add_argument("--jobs", type=_jobs, default=2, help="local worker processes (default 2)")
    s.add_argument("--scheduler", metavar="ADDRESS",
                   help="evaluate designs on this Dask distributed scheduler instead")
    s.add_argument("--db", default=None, metavar="FILE",
                   help="synthesis cache (default: the user cache, as hwsim synth; 'none': "
                        "no cache)")
    s.set_defaults(func=cmd_explore)

    s = sub.add_parser("demo", help="generate, verify and characterise default units; "
                                    "write DIR/report.md with plots", allow_abbrev=False)
    s.add_argument("-o", "--output", default="out", metavar="DIR", help="output directory")
    s.add_argument("--sim", choices=["icarus", "verilator"],
                   help="simulator (default: Icarus when present: fastest to build)")
    s.add_argument("--jobs", type=_jobs, default=2, help="threads (default 2)")
    s.set_defaults(func=cmd_demo)
    return p


def _unknown_option(args, extra: list[str]) -> str:
    """The message for arguments the parser did not take."""
    unit = getattr(args, "unit", None)
    opt = next((x.split("=")[0] for x in extra if x.startswith("--")), None)
    if unit in REGISTRY and opt is not None:
        fields = sorted(f.name for f in dataclasses.fields(REGISTRY[unit].params_cls))
        every = {f.name for spec in REGISTRY.values()
                 for f in dataclasses.fields(spec.params_cls)}
        if opt[2:].replace("-", "_") in every:
            opts = ", ".join(option_name(f) for f in fields)
            return f"{unit} has no parameter {opt} (its parameters: {opts})"
        return f"unknown option {opt} (see hwsim {args.command} {unit} --help)"
    where = " ".join(["hwsim"] + [getattr(args, k) for k in ("command", "name")
                                  if getattr(args, k, None)])
    if opt is not None:
        return f"unknown option {opt} (see {where} --help)"
    return f"unrecognized arguments: {' '.join(extra)} (see {where} --help)"


@functools.lru_cache(maxsize=1)
def _parser() -> argparse.ArgumentParser:
    return build_parser()  # argparse parsers keep no state between parses


#: options naming a path or an address, by argparse dest: an empty value is refused (it would
#: be skipped as "not given", or mean the current directory)
PATH_OPTIONS = {
    "output": ("-o/--output", "a directory"), "front_out": ("-o/--output", "a directory"),
    "build_dir": ("--build-dir", "a directory"), "keep": ("--keep", "a directory"),
    "emit": ("--emit", "a directory"),
    "json": ("--json", "a file name"), "front_json": ("--json", "a file name"),
    "export": ("--export", "a file name"), "db": ("--db", "a file name"),
    "front_db": ("--db", "a file name"),
    "verilog": ("--verilog", "a file"), "corpus": ("--corpus", "a file"),
    "sts": ("--sts", "a file"), "assign": ("--assign", "a file"),
    "reference": ("--reference", "a file"), "data": ("--data", "a file"),
    "config": ("CONFIG", "a file"), "model": ("MODEL", "a file"),
    "scheduler": ("--scheduler", "an address (tcp://host:port)"),
}


def _refuse_empty_paths(args) -> None:
    for dest, (option, rule) in PATH_OPTIONS.items():
        if getattr(args, dest, None) == "":
            raise UsageError(f"{option} must be {rule}, not ''")


def main(argv=None) -> int:
    parser = _parser()
    try:
        args, extra = parser.parse_known_args(argv)
        if extra:
            raise UsageError(_unknown_option(args, extra))
        _refuse_empty_paths(args)
        return args.func(args)
    except UsageError as e:
        print(f"hwsim: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `hwsim units | head`: the reader is gone, nothing to report
        import os
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no error at exit
        return 141
    except OSError as e:  # an output that failed late (a full disk), a file that vanished
        where = f"{e.filename}: " if e.filename else ""
        print(f"hwsim: error: {where}{e.strerror or e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("hwsim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
