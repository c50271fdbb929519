"""``hwsim sweep CONFIG.toml``: a study over a grid of parameters and seeds."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hwsim.cli.common import UsageError, jobs_option, path_check
from hwsim.paths import check_not_input, check_output_dir, check_output_file


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
        cfg = load_config(args.config)
    except SweepError as e:
        raise UsageError(str(e)) from None
    out = out or path_check(check_output_dir, f"sweep-{cfg.study}", "-o/--output")
    db = out / "results.sqlite"
    # the CSV (and the database) must not be the configuration or a file it names
    inputs = {"sweep configuration": args.config,
              **{f"sweep's {k}": v for point in cfg.points for k, v in point
                 if isinstance(v, str) and v and Path(v).is_file()}}
    csv = args.export or out / "results.csv"
    path_check(check_not_input, csv, "--export" if args.export else "-o/--output",
                {**inputs, "results database": db,
                 **{f"results database's {s}": f"{db}{s}" for s in ("-wal", "-shm", "-journal",
                                                                     ".lock")}})
    path_check(check_not_input, db, "-o/--output", inputs)
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
    s.set_defaults(func=cmd_sweep)
