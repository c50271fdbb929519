"""``hwsim front`` (and ``hwsim synth --pareto``): every multiplier family of the
registry, iCE40 LUT4 against MRED, the front plotted."""

from __future__ import annotations

import argparse
import sys

from hwsim.cli.common import Files, UsageError, db_path, open_db, path_check, write_json
from hwsim.paths import check_output_dir, check_output_file

#: what ``hwsim front -o DIR`` writes in DIR
FRONT_FILES = ("multiplier_front.png",)


def front_files(args) -> Files:
    """Reads no file of the user's; writes the synthesis cache (--db, with its sidecars),
    DIR/multiplier_front.png and --json FILE."""
    return (Files().out("--db", db_path(args.front_db), database=True)
            .out_dir("-o/--output", args.front_out or ".", names=FRONT_FILES)
            .out("--json", args.front_json))


def cmd_synth_front(args):
    from hwsim.reports import cost as cost_report
    from hwsim.render import plots
    from hwsim.eval import synth
    out = path_check(check_output_dir, args.front_out or ".", "-o/--output")
    if args.front_json:
        path_check(check_output_file, args.front_json, "--json")
    db = open_db(args.front_db) if args.front_db != "none" else None
    try:
        pts = cost_report.multiplier_front(db=db, fmax=bool(args.front_fmax),
                                           progress=True)
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
    print(f"wrote {plots.multiplier_front(out / FRONT_FILES[0], pts)}")
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
    q.add_argument("--fmax", dest="front_fmax", action=argparse.BooleanOptionalAction,
                   default=None, help=f"{prefix}also place and route for Fmax "
                                      f"(default off)")


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
