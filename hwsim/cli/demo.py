"""``hwsim demo``: the main job on built-in defaults, DIR/report.md with plots."""

from __future__ import annotations

from hwsim.cli.common import Files, UsageError, jobs_option, path_check
from hwsim.paths import check_output_dir


def files(args) -> Files:
    """Reads no file (the demo runs on built-in defaults); writes DIR/report.md, explore.toml,
    the front's plot and the directories DIR/explore and DIR/build it fills."""
    from hwsim.reports.demo import OUTPUT_DIRS, OUTPUT_FILES
    return Files().out_dir("-o/--output", args.output, names=OUTPUT_FILES, trees=OUTPUT_DIRS)


def cmd_demo(args):
    from hwsim.reports.demo import check_outputs, run_demo
    out = path_check(check_output_dir, args.output, "-o/--output")
    try:
        check_outputs(out)     # a directory or file in the way: bad usage, before the work
    except OSError as e:
        raise UsageError(f"-o/--output: {e.filename}: {e.strerror}") from None
    return run_demo(out, sim=args.sim, jobs=args.jobs)


def add(sub) -> None:
    """``hwsim demo [-o DIR]``."""
    s = sub.add_parser("demo", help="the question hwsim answers, on built-in defaults: a model "
                                    "on approximate units, the cheapest per-layer design, the "
                                    "multiplier front, proofs; DIR/report.md with plots",
                       allow_abbrev=False)
    s.add_argument("-o", "--output", default="out", metavar="DIR", help="output directory")
    s.add_argument("--sim", choices=["icarus", "verilator"],
                   help="simulator (default: Icarus when present: fastest to build)")
    s.add_argument("--jobs", type=jobs_option, default=2, help="threads (default 2)")
    s.set_defaults(func=cmd_demo, files=files)
