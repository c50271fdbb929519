"""``hwsim explore CONFIG.toml``: the cheapest per-layer units that keep an accuracy
floor, priced by synthesis."""

from __future__ import annotations

import sys
from pathlib import Path

from hwsim.cli.common import (
    Files,
    UsageError,
    db_path,
    jobs_option,
    loaded_once,
    model_inputs,
    open_db,
    path_check,
    toml_files,
    synthesis_errors,
    write_json,
)
from hwsim.paths import check_output_dir, check_output_file, same_file

#: what ``hwsim explore -o DIR`` writes in DIR
EXPLORE_FILES = ("results.sqlite", "designs.csv", "best.toml", "report.md", "front.png",
                 "search.png")
#: what ``hwsim explore --emit DIR`` writes in DIR: the units' files (named after their top
#: modules) and the cost table
EMIT_FILES, EMIT_PATTERNS = ("cost.md",), ("*.v", "*.json", "*.vlt")


def files(args) -> Files:
    """Reads CONFIG and the workload files it names (the model with its external weights, the
    data); writes DIR's results database (with its sidecars and lock), designs.csv, best.toml,
    report.md and plots, --emit DIR's units and cost.md, the synthesis cache (--db, with its
    sidecars) and --json FILE."""
    inputs = {"CONFIG": args.config}
    try:
        from hwsim.explore.config import ExploreError, load_config
        cfg = loaded_once(args, load_config, ExploreError)
    except (ImportError, ExploreError):  # the command says why, before it writes anything
        cfg = None
    if cfg is not None and isinstance(cfg.workload.get("model"), str):
        inputs |= model_inputs("workload.model", cfg.workload["model"])
        inputs["workload.data"] = cfg.workload["data"]
    inputs |= toml_files("CONFIG", args.config, inputs)  # a user's circuit (verilog = "mul.v")
    db = None if args.db == "none" else db_path(args.db)
    names = [n for n in EXPLORE_FILES if n != "results.sqlite"]
    return (Files(inputs)
            .out_dir("-o/--output", args.output, names=names, databases=("results.sqlite",),
                     labels={"results.sqlite": "results database"})
            .out_dir("--emit", args.emit, names=EMIT_FILES, patterns=EMIT_PATTERNS)
            .out("--db", db, database=True).out("--json", args.json))


def cmd_explore(args):  # empty paths are refused by main()
    out = path_check(check_output_dir, args.output, "-o/--output")
    if args.json is not None:
        js = path_check(check_output_file, args.json, "--json")
        # a link or a device (/dev/stdout) is written through, as every command's --json
        if (same_file(js, out) or any(same_file(js, out / n) for n in EXPLORE_FILES)
                or (args.emit is not None and same_file(js.absolute().parent, args.emit))):
            where = f"{str(out)!r}" + (f" and --emit {args.emit!r}" if args.emit else "")
            raise UsageError(f"--json must be a file outside what explore writes in {where}, "
                             f"not {args.json!r}")
    if args.db not in (None, "none") and Path(args.db).exists() and not Path(args.db).is_file():
        raise UsageError(f"--db must be a regular file, not {args.db!r}")
    if args.emit is not None:
        path_check(check_output_dir, args.emit, "--emit")
    try:
        from hwsim.explore.config import ExploreError, load_config
        from hwsim.explore.run import emit_units, explore, format_summary, write_outputs
        from hwsim.graph.model import ModelError
    except ImportError as e:
        raise UsageError(f"hwsim explore needs the ml extra ({e.name} is missing): "
                         f"pip install 'hwsim[ml]'") from None
    from hwsim.sweep import SweepError, check_scheduler
    try:
        cfg = loaded_once(args, load_config, ExploreError)
    except ExploreError as e:
        raise UsageError(str(e)) from None
    for w in cfg.warnings:
        print(f"hwsim: warning: {w}", file=sys.stderr)
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
    db = open_db(args.db) if args.db != "none" else None
    with synthesis_errors(db, usage=(ExploreError, ModelError, SweepError)):
        result, space = explore(cfg, out, jobs=args.jobs, scheduler=args.scheduler, db=db,
                                progress=True)
    print(format_summary(result))
    for p in write_outputs(result, cfg, out):
        print(f"wrote {p}")
    if args.json is not None:
        write_json(args.json, result)
    if result["best"] is None:
        return 1
    if args.emit is not None:
        files = emit_units(result, cfg, space, Path(args.emit))
        print(f"wrote {len(files)} files to {args.emit} (the best design's units and cost.md)")
    return 0


def add(sub) -> None:
    """``hwsim explore CONFIG.toml [-o DIR] [--json FILE] [--emit DIR]``."""
    s = sub.add_parser("explore", help="the cheapest per-layer units that keep an accuracy "
                                       "floor, priced by synthesis", allow_abbrev=False,
                       description="hwsim explore: search per-group unit choices (multiplier "
                                   "kind, width, Mitch-w truncation, softmax variant) on an "
                                   "ONNX model or a built-in one, under an accuracy floor, "
                                   "priced by yosys/nextpnr on iCE40 or by a standard-cell "
                                   "library ([cost] target: area, or energy on the "
                                   "operands each node is fed); sampling, random and greedy "
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
    s.add_argument("--jobs", type=jobs_option, default=2, help="local worker processes (default 2)")
    s.add_argument("--scheduler", metavar="ADDRESS",
                   help="evaluate designs on this Dask distributed scheduler instead")
    s.add_argument("--db", default=None, metavar="FILE",
                   help="synthesis cache (default: the user cache, as hwsim synth; 'none': "
                        "no cache)")
    s.set_defaults(func=cmd_explore, files=files)
