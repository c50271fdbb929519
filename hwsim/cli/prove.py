"""``hwsim prove UNIT``: formal proof (yosys + z3) that the RTL equals the unit's
specification for all inputs."""

from __future__ import annotations

import argparse
import sys

from hwsim.cli.common import (
    Files,
    UsageError,
    options,
    path_check,
    seconds_option,
    unit_and_params,
    unit_command,
    unit_files,
)
from hwsim.paths import read_text_file


def files(args) -> Files:
    """Reads --verilog FILE and the unit's files (a user's circuit); writes no file (the
    solver's are temporary)."""
    return Files({**unit_files(args).inputs, "--verilog": args.verilog})


def cmd_prove(args):
    from hwsim.sim import formal, runner
    spec, params = unit_and_params(args)
    if args.verilog is not None:
        path_check(read_text_file, args.verilog, "--verilog")
    if spec.name in formal.subblock_units():
        return _prove_subblocks(args, formal, spec, params)
    try:
        formal.proof_plan(spec, params, args.property, args.bound, args.timeout)
    except (TypeError, ValueError) as e:
        raise UsageError(str(e)) from None
    print(f"proving {params.top_name} ({args.property}) ...", file=sys.stderr)
    try:
        r = formal.prove(spec, params, verilog=args.verilog, timeout_s=args.timeout,
                         property=args.property, bound=args.bound)
    except formal.ProofToolMissing as e:
        raise UsageError(str(e)) from None
    except (TypeError, ValueError) as e:
        raise UsageError(str(e)) from None
    print(formal.format_result(r))
    if r.proved:
        return 0
    if r.counterexample and args.replay:
        sims = tuple(s for s in runner.SIMULATORS if s in runner.available_simulators())
        if sims:
            rows = formal.replay(spec, params, r.counterexample, sims=sims, verilog=args.verilog)
            print(formal.format_replay(rows))
    return 1


def _prove_subblocks(args, formal, spec, params):
    """``hwsim prove softmax``: one proof per sub-block (the stream level is simulated)."""
    if args.verilog is not None:
        raise UsageError(f"--verilog proves a whole unit; {spec.name} is proven by its "
                         f"sub-blocks, from the export")
    if args.property != "equivalence":
        raise UsageError(f"--property {args.property}: {spec.name}'s sub-blocks are proven "
                         f"for equivalence only")
    print(f"proving the sub-blocks of {params.top_name} ...", file=sys.stderr)
    try:
        results = formal.prove_subblocks(spec, params, timeout_s=args.timeout)
    except formal.ProofToolMissing as e:
        raise UsageError(str(e)) from None
    except (TypeError, ValueError) as e:
        raise UsageError(str(e)) from None
    for r in results:
        print(formal.format_result(r))
    print(formal.STREAM_NOTE)
    if all(r.proved for r in results):
        return 0
    if args.replay and any(r.counterexample for r in results):
        print("(no replay: counterexample replay runs whole units only; the solver's RTL "
              "and specification values are shown above)")
    return 1


def add(sub) -> None:
    """``hwsim prove UNIT [params] [--property ...]``."""
    def prove_options(q):
        q.add_argument("--verilog", metavar="FILE",
                       help="prove this Verilog file (same top module and ports as the unit's "
                            "export) instead of the export")
        q.add_argument("--property", choices=["equivalence", "bounds", "wce"],
                       default="equivalence",
                       help="equivalence: outputs == the specification for all inputs "
                            "(default); bounds: the documented error bounds hold; wce: "
                            "|p - a b| <= --bound for all inputs (a user's circuit)")
        q.add_argument("--bound", type=int, metavar="B",
                       help="the worst-case error bound --property wce proves")
        q.add_argument("--timeout", type=seconds_option, metavar="S",
                       help="solver time limit in seconds (default none)")
        q.add_argument("--replay", action=argparse.BooleanOptionalAction, default=True,
                       help="run a counterexample through the model and the simulators "
                            "(default on)")

    def properties(spec):
        if spec.formal is None:
            return ". No formal specification yet: the unit is verified in simulation"
        how = " (by sub-block)" if spec.formal.subblocks else ""
        return f". Properties{how}: {', '.join(spec.formal.properties)}"

    s = unit_command(sub, "prove", "formal proof (yosys + z3): the RTL equals the unit's "
                                    "bit-vector specification for all inputs",
                      options(prove_options), note=properties)
    s.set_defaults(func=cmd_prove, files=files)
