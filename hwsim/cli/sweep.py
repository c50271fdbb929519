"""``hwsim sweep CONFIG.toml``: a study over a grid of parameters and seeds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hwsim.cli.common import Files, UsageError, jobs_option, loaded_once, model_inputs, path_check
from hwsim.paths import check_output_dir, check_output_file

#: the names of the plots a sweep writes in DIR (hwsim.sweep.plot_sweep: metric_vs_param.png)
PLOT_PATTERN = "*_vs_*.png"


def files(args) -> Files:
    """Reads CONFIG and the files its points name (a model with its external weights, data,
    assignments); writes DIR/results.sqlite (with its sidecars and lock), the CSV
    (DIR/results.csv or --export FILE) and DIR's plots."""
    from hwsim.sweep import SweepError, load_config
    try:
        cfg = loaded_once(args, load_config, SweepError)
    except SweepError:  # the command says why, before it writes anything
        cfg = None
    inputs = {"sweep configuration": args.config}
    for point in cfg.points if cfg else ():
        for k, v in point:
            if isinstance(v, str) and v and _is_file(v):
                # one label per file: a grid axis of files (verilog = ["a.v", "b.v"]) kept
                # only its last under one "sweep's verilog" label
                label = f"sweep's {k}" + (f" {v!r}" if f"sweep's {k}" in inputs
                                          and inputs[f"sweep's {k}"] != v else "")
                inputs |= (model_inputs(label, v) if v.endswith(".onnx") else {label: v})
    out = args.output or (f"sweep-{cfg.study}" if cfg else None)
    f = Files(inputs).out_dir("-o/--output", out, databases=("results.sqlite",),
                              labels={"results.sqlite": "results database"})
    if args.export:
        f.out("--export", args.export)
    else:
        f.out_dir("-o/--output", out, names=("results.csv",))
    return f.out_dir("-o/--output", out if args.plots else None, patterns=(PLOT_PATTERN,))


def _is_file(v: str) -> bool:
    try:
        return Path(v).is_file()
    except OSError:  # a name too long: no file, and the study's check says so
        return False


def cmd_sweep(args):
    from hwsim.sweep import (
        SweepError,
        TaskError,
        check_scheduler,
        export_csv,
        load_config,
        plot_sweep,
        run_sweep,
        sweep_rows,
    )
    out = None if args.output is None else path_check(check_output_dir, args.output,
                                                       "-o/--output")
    if args.export:
        path_check(check_output_file, args.export, "--export")
    try:
        cfg = loaded_once(args, load_config, SweepError)
    except SweepError as e:
        raise UsageError(str(e)) from None
    out = out or path_check(check_output_dir, f"sweep-{cfg.study}", "-o/--output")
    db = out / "results.sqlite"  # it, the CSV and the plots checked against the inputs: files()
    csv = args.export or out / "results.csv"
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
                      progress=True, desc=f"sweep {cfg.study}")
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


def add(sub) -> None:
    """``hwsim sweep CONFIG.toml [-o DIR] [--jobs J] [--scheduler ADDRESS]``."""
    s = sub.add_parser("sweep", help="run a study over a grid of parameters and seeds "
                                     "(resumable, parallel, optionally on a Dask cluster)",
                       allow_abbrev=False)
    s.add_argument("config", metavar="CONFIG.toml", help="sweep description (see examples/)")
    s.add_argument("-o", "--output", metavar="DIR",
                   help="output directory: results.sqlite, results.csv, plots "
                        "(default sweep-<study>)")
    s.add_argument("--jobs", type=jobs_option, default=2, help="local worker processes (default 2)")
    s.add_argument("--scheduler", metavar="ADDRESS",
                   help="run the tasks on this Dask distributed scheduler instead")
    s.add_argument("--export", metavar="FILE", help="CSV file (default DIR/results.csv)")
    s.add_argument("--plots", action=argparse.BooleanOptionalAction, default=True,
                   help="metric-vs-parameter plots (and Pareto with a cost column)")
    s.set_defaults(func=cmd_sweep, files=files)
