"""``hwsim study NAME``: an ML study on its defaults: report.md, CSV, plots."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from hwsim.cli.common import Files, Parser, UsageError, jobs_option, path_check
from hwsim.paths import check_output_dir, read_text_file, replace_text
from hwsim.render.tables import caption_first_table, first_table

#: study parameters that name a file the user gives on the command line
STUDY_FILE_OPTIONS = {
    "corpus": "your sentences, one a line (default: the built-in 600-sentence corpus)",
    "sts": "an STS-benchmark file (sts-test.csv or GLUE STS-B dev.tsv); adds Spearman "
           "against its gold scores",
}


def files(args) -> Files:
    """Reads the file options given (--corpus, --sts); writes DIR/results.sqlite (with its
    sidecars and lock), results.csv, report.md and the study's plots (DIR/*.png)."""
    inputs = {f"--{opt}": getattr(args, opt, None) for opt in STUDY_FILE_OPTIONS}
    return Files(inputs).out_dir("-o/--output", args.output or f"study-{args.name}",
                                 names=("results.csv", "report.md"), patterns=("*.png",),
                                 databases=("results.sqlite",),
                                 labels={"results.sqlite": "results database"})


def _study_files(study, args) -> dict:
    """The file options given for ``study``, each checked as readable UTF-8 text."""
    fixed = {}
    for opt in STUDY_FILE_OPTIONS:
        value = getattr(args, opt, None)
        if value is None:
            continue
        path_check(read_text_file, value, f"--{opt}")
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
    out = path_check(check_output_dir, args.output or f"study-{study.name}", "-o/--output")
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
        r = run_sweep(cfg, out / "results.sqlite", jobs=args.jobs, progress=True,
                      desc=f"study {study.name}")
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
    lines = caption_first_table(mod.report(rows, out), study.headline)
    report = replace_text(out / "report.md", "\n".join(lines) + "\n")
    headline = first_table(lines)
    if headline:
        print("\n".join(headline))
    print(f"{r['tasks']} tasks ({r['cached']} stored, {r['computed']} computed) in "
          f"{r['seconds']:.1f} s; wrote {report}")
    return 0


def add(sub) -> None:
    """``hwsim study NAME [-o DIR] [--quick]``."""
    from hwsim.studies import STUDIES
    s = sub.add_parser("study", help="run an ML study on its defaults: report.md, CSV, plots")
    studies = s.add_subparsers(dest="name", metavar="NAME", required=True, parser_class=Parser,
                               help=f"one of: {', '.join(STUDIES)}")
    for study in STUDIES.values():
        q = studies.add_parser(study.name, help=study.summary, allow_abbrev=False,
                               description=f"hwsim study {study.name}: {study.summary}")
        q.add_argument("-o", "--output", metavar="DIR",
                       help=f"output directory (default study-{study.name})")
        q.add_argument("--jobs", type=jobs_option, default=2, help="worker processes (default 2)")
        q.add_argument("--quick", action="store_true",
                       help="a short version (one seed, fewer points)")
        for opt, text in STUDY_FILE_OPTIONS.items():
            if opt in study.params:
                q.add_argument(f"--{opt}", metavar="FILE", help=text)
        q.set_defaults(func=cmd_study, files=files)
