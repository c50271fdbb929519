"""``hwsim verilog UNIT``: the unit's Verilog, its JSON sidecar and Verilator waivers."""

from __future__ import annotations

from hwsim.cli.common import check_files_in, options, path_check, unit_and_params, unit_command
from hwsim.paths import check_output_dir


def cmd_verilog(args):
    from hwsim.hdl.export import write_verilog
    spec, params = unit_and_params(args)
    out = path_check(check_output_dir, args.output, "-o/--output")
    check_files_in(out, [f"{params.top_name}{s}" for s in (".v", ".json", ".vlt")])
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
    s.set_defaults(func=cmd_verilog)
