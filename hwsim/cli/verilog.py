"""``hwsim verilog UNIT``: the unit's Verilog, its JSON sidecar and Verilator waivers."""

from __future__ import annotations

from hwsim.cli.common import (
    Files,
    check_files_in,
    options,
    path_check,
    unit_and_params,
    unit_command,
    unit_files,
)
from hwsim.paths import check_output_dir


#: what ``hwsim verilog`` writes in DIR, after the top module's name
SUFFIXES = (".v", ".json", ".vlt")


def files(args) -> Files:
    """Reads the unit's files (a user's circuit); writes DIR/<top>.v, .json and .vlt."""
    _spec, params = unit_and_params(args)
    return unit_files(args).out_dir("-o/--output", args.output,
                           names=[f"{params.top_name}{s}" for s in SUFFIXES])


def cmd_verilog(args):
    from hwsim.hdl.export import write_verilog
    spec, params = unit_and_params(args)
    out = path_check(check_output_dir, args.output, "-o/--output")
    check_files_in(out, [f"{params.top_name}{s}" for s in SUFFIXES])
    v, j = write_verilog(spec, params, out)
    vlt = v.with_suffix(".vlt")
    print(f"wrote {v}, {j}" + (f" and {vlt} (Verilator waivers: verilator {vlt.name} "
                                f"{v.name} ...)" if vlt.exists() else ""))
    return 0


def add(sub) -> None:
    """``hwsim verilog UNIT [params] -o DIR``."""
    def output_dir(q):
        q.add_argument("-o", "--output", default=".", metavar="DIR",
                       help="output directory (default: the current one)")

    s = unit_command(sub, "verilog", "write <top>.v, a <top>.json sidecar and a <top>.vlt "
                                      "Verilator waiver file", options(output_dir))
    s.set_defaults(func=cmd_verilog, files=files)
