"""``hwsim synth UNIT``: iCE40 LUT4/CARRY/DFF counts and Fmax next to the exact baseline."""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

from hwsim.cli.common import (
    Files,
    UsageError,
    db_path,
    open_db,
    options,
    path_check,
    pnr_seeds_option,
    seconds_option,
    synthesis_errors,
    unit_and_params,
    unit_command,
    unit_files,
    write_json,
)
from hwsim.cli.front import cmd_synth_front, front_files, front_options
from hwsim.paths import check_not_input, check_output_dir, check_output_file
from hwsim.render.tables import format_cost_table, markdown_table
from hwsim.units import REGISTRY


def files(args) -> Files:
    """Reads the unit's files (a user's circuit) and a --stream FILE.npz; writes the
    synthesis cache (--db, with its sidecars), --json FILE and the tool files of --keep DIR
    (a directory per module, or per seed); with --pareto, what hwsim front does."""
    if args.pareto:
        return front_files(args)
    if args.unit is None:
        return Files()
    spec, params = unit_and_params(args)
    modules = [params.top_name] + (["exact_" + params.top_name]
                                   if args.baseline and spec.baseline is not None else [])
    keep = modules if args.seeds == 1 else [f"seed{s}" for s in range(1, args.seeds + 1)]
    f = unit_files(args)
    if getattr(args, "stream", None) is not None:
        from hwsim.eval.streams import STREAMS
        if args.stream not in STREAMS:  # an operand stream of the user's (.npz)
            f.inputs["--stream"] = args.stream
    return (f.out("--db", db_path(args.db), database=True).out("--json", args.json)
            .out_dir("--keep", args.keep, trees=keep))


def cmd_synth(args):
    from hwsim.eval import synth
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
    spec, params = unit_and_params(args)
    from hwsim.cli.synth_cells import check_stream_options, cmd_synth_cells
    from hwsim.eval.targets import get_target
    try:
        target = get_target(args.target)
    except ValueError as e:
        raise UsageError(str(e)) from None
    check_stream_options(args, target)
    if args.json:
        path_check(check_output_file, args.json, "--json")
        path_check(check_not_input, args.json, "--json", {"--db": db_path(args.db)})
    if args.keep:
        path_check(check_output_dir, args.keep, "--keep")
    if not target.fpga:  # a standard-cell library or CMOS gates (hwsim.eval.targets)
        return cmd_synth_cells(args, spec, params, target)
    if args.seeds > 1 and not args.fmax:
        raise UsageError("--seeds N needs place and route; drop --no-fmax")
    with_baseline = args.baseline and spec.baseline is not None
    db = open_db(args.db) if args.db != "none" else None
    # per module: the first result, and every seed's result or the reason it failed
    results, by_seed = [], []
    with synthesis_errors(db, failures=(ValueError,)):
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
                    # one seed: a stalled router moves on to the next seed (the result
                    # says which); --seeds N: each seed is itself or a failure
                    runs[seed] = synth.synthesize(
                        spec, params, target=args.target, fmax=args.fmax, baseline=baseline,
                        db=db, seed=seed, work_dir=work_dir, timeout=args.timeout,
                        **({} if args.seeds == 1 else {"tries": 1}))
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
    seeds = f"seeds 1..{args.seeds}" if args.seeds > 1 else seeds_used(results)
    print(f"tools: {r.yosys}; {r.nextpnr or 'no place and route (--no-fmax)'}; "
          f"iCE40 {' '.join(synth.DEVICE)}, {seeds}")
    if args.json:
        write_json(args.json, [{"top": top.top, "seed": seed, "error": r}
                                if isinstance(r, str) else r.to_dict()
                                for top, runs in zip(results, by_seed)
                                for seed, r in runs.items()])
    return 0


def seeds_used(results) -> str:
    """The tools line's seeds: ``seed 1``, or per module when a seed was abandoned or the
    modules' seeds differ (``seed 2 for m (seed 1 abandoned: router not converging), ...``)."""
    if len({r.seed for r in results}) == 1 and not any(r.abandoned for r in results):
        return f"seed {results[0].seed}"
    return ", ".join(
        f"seed {r.seed} for {r.top}" + (" (" + ", ".join(
            f"seed {s} abandoned: {why.split(':')[0]}" for s, why in r.abandoned) + ")"
            if r.abandoned else "") for r in results)


def add(sub) -> None:
    """``hwsim synth UNIT [params] [--target ...] [--seeds N]``, and ``--pareto``."""
    from hwsim.eval.synth import TOOL_TIMEOUT as synth_timeout  # standard library only

    def synth_options(q):
        from hwsim.cli.synth_cells import add_cell_options
        from hwsim.eval.targets import DEFAULT_TARGET, TARGETS
        q.add_argument("--target", default=DEFAULT_TARGET, metavar="|".join(TARGETS),
                       help=f"cost target (default {DEFAULT_TARGET}; the others: "
                            f"{', '.join(t for t in TARGETS if t != DEFAULT_TARGET)}; "
                            f"docs/cost.md)")
        add_cell_options(q)
        q.add_argument("--fmax", action=argparse.BooleanOptionalAction, default=True,
                       help="place and route a registered wrapper for Fmax (default on)")
        q.add_argument("--baseline", action=argparse.BooleanOptionalAction, default=True,
                       help="also synthesize the exact unit at the same widths (default on, "
                            "where one exists)")
        q.add_argument("--seeds", type=pnr_seeds_option, default=1, metavar="N",
                       help="place and route with nextpnr seeds 1..N and report each module's "
                            "median Fmax and range (the seed alone moves Fmax by several per "
                            "cent; default 1)")
        q.add_argument("--timeout", type=seconds_option, default=synth_timeout, metavar="S",
                       help=f"seconds each yosys / nextpnr run may take (default "
                            f"{synth_timeout}); a nextpnr run whose router stops converging "
                            f"is stopped before that and the next seed tried (the seed used "
                            f"is reported); with --seeds a seed that fails, stalls or times "
                            f"out is reported and the others are kept")
        q.add_argument("--db", default=None, metavar="FILE",
                       help="results cache (default ~/.cache/hwsim/results.sqlite; 'none' to "
                            "skip)")
        q.add_argument("--keep", metavar="DIR", help="keep the tool files in DIR")
        q.add_argument("--json", metavar="FILE", help="also write the results as JSON")

    s = unit_command(sub, "synth", "LUT4/CARRY/DFF counts and Fmax (yosys + nextpnr-ice40), "
                                    "next to the exact baseline", options(synth_options),
                      required=False)
    s.add_argument("--pareto", action="store_true",
                   help="instead of one unit: the multiplier front, as hwsim front")

    front_options(s, "with --pareto: ")
    s.set_defaults(func=cmd_synth, files=files)
