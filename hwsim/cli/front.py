"""``hwsim front`` (and ``hwsim synth --pareto``): every multiplier family of the
registry, iCE40 LUT4 against MRED, the front plotted."""

from __future__ import annotations

import argparse

from hwsim.cli.common import (Files, UsageError, db_path, open_db, path_check,
                              synthesis_errors, write_json)
from hwsim.paths import check_output_dir, check_output_file

#: what ``hwsim front -o DIR`` writes in DIR
FRONT_FILES = ("multiplier_front.png",)


def front_files(args) -> Files:
    """Reads no file of the user's; writes the synthesis cache (--db, with its sidecars),
    DIR/multiplier_front.png and --json FILE."""
    return (Files().out("--db", db_path(args.front_db), database=True)
            .out_dir("-o/--output", args.front_out or ".", names=FRONT_FILES)
            .out("--json", args.front_json))


def _front_choices(args):
    """(target, cost key, stream_for) from --target, --cost and --stream, refused in one
    line before any work."""
    from hwsim.eval.targets import DEFAULT_TARGET, get_target
    from hwsim.reports.cost import FRONT_COSTS
    try:
        target = get_target(getattr(args, "front_target", None) or DEFAULT_TARGET)
    except ValueError as e:
        raise UsageError(str(e)) from None
    cost = getattr(args, "front_cost", None)
    stream = getattr(args, "front_stream", None)
    allowed = (["lut4"] if target.fpga else ["area", "energy"] if target.cells
               else ["transistors"])
    cost = cost or allowed[0]
    if cost not in allowed:
        raise UsageError(f"--cost {cost}: target {target.name} prices {' or '.join(allowed)}")
    if cost == "energy" and stream is None:
        raise UsageError("--cost energy needs --stream (uniform, small, digits, minilm or a "
                         ".npz file): energy per operation is measured on an operand stream")
    ops, seed = getattr(args, "front_ops", None), getattr(args, "front_stream_seed", None)
    if stream is None and (ops is not None or seed is not None):
        raise UsageError("--ops and --stream-seed shape --stream; give --stream")
    stream_for = None
    if stream is not None and target.fpga:
        raise UsageError(f"--stream needs a standard-cell or cmos target, not {target.name}")
    if stream is not None:
        from hwsim.cli.synth_cells import resolve_stream

        def stream_for(spec, params):
            try:
                return resolve_stream(spec, params, stream, ops, seed)
            except (TypeError, ValueError) as e:
                raise UsageError(str(e)) from None
    return target, FRONT_COSTS[cost] if target.cells or target.fpga else "transistors", stream_for


def cmd_synth_front(args):
    from hwsim.reports import cost as cost_report
    from hwsim.render import plots
    target, cost, stream_for = _front_choices(args)
    out = path_check(check_output_dir, args.front_out or ".", "-o/--output")
    if args.front_json:
        path_check(check_output_file, args.front_json, "--json")
    widths = getattr(args, "front_widths", None)
    db = open_db(args.front_db) if args.front_db != "none" else None
    with synthesis_errors(db):
        if not target.fpga:
            from hwsim.eval import stdcell
            if target.cells:
                target.library_path()
                stdcell.find_sta()
            stdcell.find_tool("yosys")
        pts = cost_report.multiplier_front(db=db, fmax=bool(args.front_fmax),
                                           progress=True, widths=widths,
                                           target=None if target.fpga else target,
                                           stream_for=stream_for)
    data = stream_for is not None
    if target.fpga:
        print("\n".join(cost_report.front_table(pts)))
    else:
        print("\n".join(cost_report.cell_front_table(pts, cost)))
    if any("energy_fj_per_op" in p for p in pts):
        from hwsim.eval.stdcell import POWER_CLOCK_NS, ZERO_DELAY
        e = next(p["energy"] for p in pts if "energy" in p)
        print(f"energy: {ZERO_DELAY}; {e['stream']} stream of {e['operations']:,} operations "
              f"per unit, one operation per {POWER_CLOCK_NS:g} ns clock")
    out.mkdir(parents=True, exist_ok=True)
    labels = {"lut4": "iCE40 LUT4", "area_um2": f"{target.name} area [um2]",
              "energy_fj_per_op": f"{target.name} energy [fJ/op]",
              "transistors": "CMOS transistors"}
    err = ("mred_data", f"MRED on {pts[0]['stream']} operands [%]") if data and pts else (
        "mred", "MRED [%]")
    print(f"wrote {plots.multiplier_front(out / FRONT_FILES[0], pts, cost, labels[cost], *err)}")
    if args.front_json:
        write_json(args.front_json, pts)
    return 0


def front_options(q, prefix: str):
    q.add_argument("--json", dest="front_json", metavar="FILE",
                   help=f"{prefix}the points as JSON (unit, params, LUT4, MRED)")
    q.add_argument("-o", "--output", dest="front_out", default=None, metavar="DIR",
                   help=f"{prefix}where multiplier_front.png goes (default .)")
    q.add_argument("--db", dest="front_db", default=None, metavar="FILE",
                   help=f"{prefix}the synthesis cache (default: the user cache)")
    # None defaults: an option given before a unit's name is told apart from no option
    if prefix == "":     # hwsim front's own options (synth --pareto keeps the iCE40 front)
        from hwsim.cli.common import int_option, seed_option
        from hwsim.eval.streams import MAX_OPERATIONS
        from hwsim.eval.targets import TARGETS
        q.add_argument("--target", dest="front_target", default=None,
                       metavar="|".join(TARGETS),
                       help="where the units are priced (default ice40: LUT4; a standard-cell "
                            "library: area, delay, leakage, energy; cmos: transistors)")
        q.add_argument("--cost", "--metric", dest="front_cost", default=None,
                       choices=("lut4", "area", "energy", "transistors"),
                       help="the cost plotted against the error (default: lut4 on ice40, area "
                            "on a cell library, transistors on cmos; energy needs --stream)")
        q.add_argument("--stream", dest="front_stream", default=None,
                       metavar="uniform|small|digits|minilm|FILE.npz",
                       help="also the error on this operand stream (the data-weighted MRED, "
                            "plotted) and, on a cell library, the energy per operation on it")
        q.add_argument("--ops", dest="front_ops", type=int_option("ops", 2, MAX_OPERATIONS),
                       default=None, metavar="N",
                       help="operations of a generated --stream (default 20000)")
        q.add_argument("--stream-seed", dest="front_stream_seed", type=seed_option,
                       default=None, metavar="S", help="seed of a generated --stream (default 1)")
        q.add_argument("--widths", dest="front_widths", default=None, metavar="W[,W...]",
                       type=_widths, help="operand widths (default 8,12,16)")
    q.add_argument("--fmax", dest="front_fmax", action=argparse.BooleanOptionalAction,
                   default=None, help=f"{prefix}also place and route for Fmax "
                                      f"(default off)")


def _widths(text: str) -> tuple[int, ...]:
    try:
        ws = tuple(int(t) for t in text.split(","))
    except ValueError:
        ws = ()
    if not ws or not all(4 <= w <= 24 for w in ws):
        raise argparse.ArgumentTypeError(f"must be widths in 4..24 separated by commas, "
                                         f"not {text!r}")
    if len(set(ws)) < len(ws):  # each unit would be priced and listed twice
        raise argparse.ArgumentTypeError(f"must name each width once, not {text!r}")
    return ws


def add(sub) -> None:
    """``hwsim front [--json FILE] [-o DIR] [--db FILE] [--fmax]``."""
    from hwsim.reports.cost import FRONT_WIDTHS
    from hwsim.units import front_units
    families = ", ".join(f"{x.front.family}" + (f" over {x.front.knob_name}"
                                               if x.front.knob_name else "")
                         for x in front_units())
    about = (f"the multiplier front: every multiplier family ({families}) at widths "
             f"{'/'.join(map(str, FRONT_WIDTHS))}, iCE40 LUT4 against MRED, the front plotted")
    s = sub.add_parser("front", help=about, description=about, allow_abbrev=False)
    front_options(s, "")
    s.set_defaults(func=cmd_synth_front, files=front_files)
