"""``hwsim synth UNIT --target osu018|osu035|osu050|cmos``: standard-cell area, delay,
leakage and (``--stream``) energy per operation next to the exact baseline; or the
library-free CMOS transistor count. The target's traits come from the registry
(:mod:`hwsim.eval.targets`)."""

from __future__ import annotations

import sys

from hwsim.cli.common import UsageError, open_db, synthesis_errors, write_json
from hwsim.render.tables import markdown_table


def resolve_stream(spec, params, stream: str, ops: int | None, seed: int | None) -> dict:
    """The stream ``--stream`` names: generated (uniform, small), captured from a built-in
    model (digits, minilm: :mod:`hwsim.studies.model_streams`, cached) or a file."""
    from hwsim.eval.stdcell import STREAM_OPS
    count, seed = STREAM_OPS if ops is None else ops, 1 if seed is None else seed
    from hwsim.eval.streams import operand_stream
    if stream in _model_streams():
        from hwsim.studies.model_streams import unit_stream
        return unit_stream(spec, params, stream, count, seed)
    return operand_stream(spec, params, stream, count, seed)


def _model_streams() -> tuple[str, ...]:
    from hwsim.studies.model_streams import MODEL_STREAMS
    return MODEL_STREAMS


def generated_streams() -> tuple[str, ...]:
    """The --stream names that are not files (--ops and --stream-seed shape them)."""
    from hwsim.eval.streams import STREAMS
    return STREAMS + _model_streams()


def check_stream_options(args, target) -> None:
    """--stream, --ops and --stream-seed only where they mean something (before any work)."""
    STREAMS = generated_streams()
    if args.stream is None and (args.ops is not None or args.stream_seed is not None):
        raise UsageError("--ops and --stream-seed shape a generated --stream; give --stream "
                         "uniform or small")
    if args.stream is not None and args.stream not in STREAMS and (
            args.ops is not None or args.stream_seed is not None):
        raise UsageError(f"--ops and --stream-seed shape a generated stream; --stream "
                         f"{args.stream} is a file")
    if args.stream is not None and not target.cells:
        from hwsim.eval.targets import TARGETS
        cells = [t.name for t in TARGETS.values() if t.cells]
        raise UsageError(f"--stream needs a standard-cell target ({', '.join(cells)}), not "
                         f"{target.name}")


def _fmt(v, digits: int) -> str:
    return "-" if v is None else f"{v:.{digits}f}"


def cmd_synth_cells(args, spec, params, target) -> int:
    from hwsim.eval import stdcell
    from hwsim.eval.synth import SynthToolNotFound
    from hwsim.eval.targets import TargetUnavailable
    check_stream_options(args, target)
    if args.seeds > 1:
        raise UsageError(f"--seeds is an iCE40 place-and-route option; target {target.name} "
                         f"has no placement")
    stream = None
    try:  # what the user typed first, then the tools
        if args.stream is not None:
            stream = resolve_stream(spec, params, args.stream, args.ops, args.stream_seed)
        if target.cells:
            target.library_path()
        stdcell.find_tool("yosys")
        if target.cells:
            stdcell.find_sta()
    except (TargetUnavailable, SynthToolNotFound, ValueError) as e:
        raise UsageError(str(e)) from None
    if args.json and stream is not None and stream["seed"] is None:
        from hwsim.cli.common import path_check
        from hwsim.paths import check_not_input
        path_check(check_not_input, args.json, "--json", {"--stream": args.stream})
    with_baseline = args.baseline and spec.baseline is not None
    db = open_db(args.db) if args.db != "none" else None
    results = []
    with synthesis_errors(db, failures=(ValueError,)):
        for baseline in ([False, True] if with_baseline else [False]):
            what = "exact baseline of " if baseline else ""
            print(f"synthesizing {what}{params.top_name} for {target.name} ...", file=sys.stderr)
            results.append(stdcell.cell_cost(spec, params, target=target, baseline=baseline,
                                             stream=stream, db=db, work_dir=args.keep,
                                             timeout=args.timeout))
    energy = stream is not None
    if target.cells:
        head = ["module", "area [um2]", "cells", "delay [ns]", "leakage [nW]"]
        rows = [[r.top, _fmt(r.area_um2, 0), str(r.cell_count), _fmt(r.delay_ns, 3),
                 _fmt(r.leakage_nw, 2)] for r in results]
        if energy:
            head.append("energy [fJ/op]")
            for row, r in zip(rows, results):
                row.append(_fmt(r.energy_fj_per_op, 1))
    else:
        head = ["module", "transistors", "logic depth", "gates"]
        rows = [[r.top, str(r.transistors), str(r.depth), str(r.cell_count)] for r in results]
    print(markdown_table(head, rows))
    if len(results) == 2:
        a, b = results
        if target.cells:
            line = f"{a.top}: {100 * a.area_um2 / b.area_um2:.0f} % of the exact unit's area"
            if a.delay_ns and b.delay_ns:
                line += f", {a.delay_ns / b.delay_ns:.2f}x its delay"
            if energy and a.energy_fj_per_op and b.energy_fj_per_op:
                line += f", {a.energy_fj_per_op / b.energy_fj_per_op:.2f}x its energy per operation"
        else:
            line = f"{a.top}: {100 * a.transistors / b.transistors:.0f} % of the exact unit's transistors"
        print(line)
    for r in results:
        print(f"cells of {r.top}: " + ", ".join(f"{c} {n}" for c, n in sorted(r.cells.items())))
    r = results[0]
    if energy:
        e = r.energy
        seed = f", seed {e['seed']}" if e.get("seed") is not None else ""
        if getattr(spec.component(params), "latency", 0):  # flip-flops: hwsim.eval.sequential
            per = (f"{e['cycles_per_op']:g} cycles per operation" if e.get("cycles_per_op")
                   else "one operation per clock")
            print(f"energy: {stdcell.ZERO_DELAY}; {e['stream']} stream, {e['operations']:,} "
                  f"operations counted once the pipeline is full{seed}, {per} at "
                  f"{e['clock_ns']:g} ns; the unit's cells in OpenSTA's report_power "
                  f"-instances (its flip-flops included) x the period")
        else:
            print(f"energy: {stdcell.ZERO_DELAY}; {e['stream']} stream of {e['operations']:,} "
                  f"operations{seed}, one operation per {e['clock_ns']:g} ns clock; the "
                  f"Combinational row of OpenSTA's report_power x the period")
        if args.keep:
            for x in results:
                print(f"power of {x.top}: cd {x.work} && sta -no_splash -exit power.tcl")
        else:
            print("power: rerun with --keep DIR for the netlists and the sta script "
                  "(cd DIR/<module> && sta -no_splash -exit power.tcl)")
    if target.cells:
        print(f"tools: {r.yosys}; {r.sta}; {r.library} (sha256 {r.library_sha256[:12]}), "
              f"{target.process}, no wire-load model; delay: registered inputs and outputs")
    else:
        print(f"tools: {r.yosys}; abc -g cmos2, stat -tech cmos, ltp -noff")
    if args.json:
        write_json(args.json, [x.to_dict() for x in results])
    return 0


def add_cell_options(q) -> None:
    """The options of the standard-cell targets on ``hwsim synth``."""
    from hwsim.cli.common import int_option, seed_option
    from hwsim.eval.stdcell import POWER_CLOCK_NS, STREAM_OPS
    from hwsim.eval.streams import MAX_OPERATIONS
    q.add_argument("--stream", metavar="uniform|small|digits|minilm|FILE.npz", default=None,
                   help=f"standard-cell targets: energy per operation on this operand stream "
                        f"(uniform codes, log-uniform 'small' magnitudes, the codes the digits "
                        f"MLP or MiniLM feed the unit, or arrays a and b of a .npz file), "
                        f"zero-delay toggles, one operation per {POWER_CLOCK_NS:g} ns clock")
    q.add_argument("--ops", type=int_option("ops", 2, MAX_OPERATIONS), default=None,
                   metavar="N", help=f"operations of a generated --stream (default {STREAM_OPS:,})")
    q.add_argument("--stream-seed", type=seed_option, default=None, metavar="S",
                   help="seed of a generated --stream (default 1)")
