"""``hwsim verify UNIT``: the exported Verilog in a simulator against the model."""

from __future__ import annotations

import sys

from hwsim.cli.common import (
    MAX_INPUT_VALUES,
    MAX_SEED,
    VERIFY_EXHAUSTIVE_DEFAULT_BITS,
    Files,
    UsageError,
    options,
    path_check,
    seed_option,
    unit_and_params,
    unit_command,
    unit_files,
    values_per_vector,
)
from hwsim.paths import check_output_dir


def _parse_vectors(text: str | None, params, spec) -> int | None:
    if text is None:
        if spec.exhaustive and params.input_bits <= VERIFY_EXHAUSTIVE_DEFAULT_BITS:
            return None
        return spec.default_count
    if text == "exhaustive":
        if not spec.exhaustive:
            raise UsageError(f"{spec.name} has no exhaustive mode (each vector is a whole "
                             f"stream); give --vectors COUNT (default {spec.default_count})")
        from hwsim.vectors import MAX_EXHAUSTIVE_INPUT_BITS
        if params.input_bits > MAX_EXHAUSTIVE_INPUT_BITS:
            raise UsageError(f"--vectors exhaustive is limited to {MAX_EXHAUSTIVE_INPUT_BITS} input "
                             f"bits, and {params.top_name} has {params.input_bits}; give a count "
                             f"such as --vectors 1000000")
        return None
    try:
        n = int(text)
    except ValueError:
        raise UsageError(f"--vectors must be 'exhaustive' or a count, not {text!r}") from None
    limit = MAX_INPUT_VALUES // values_per_vector(spec, params)
    if not 0 <= n <= limit:
        raise UsageError(f"--vectors must be 'exhaustive' or a count in 0..{limit} for "
                         f"{params.top_name}, not {n}")
    return n


def files(args) -> Files:
    """Reads the unit's files (a user's circuit); writes the build directories it fills in
    --build-dir DIR (one per simulator and bench)."""
    _spec, params = unit_and_params(args)
    return unit_files(args).out_dir("--build-dir", args.build_dir,
                           trees=[f"{params.top_name}_{sim}{bench}" for sim in ("icarus", "verilator")
                                  for bench in ("", "_batched")])


def cmd_verify(args):
    from hwsim.sim import runner
    spec, params = unit_and_params(args)
    vectors = _parse_vectors(args.vectors, params, spec)
    if args.batched and args.waves:
        raise UsageError("--waves works with the cocotb bench; drop --batched to dump waves")
    if args.build_dir is not None:
        path_check(check_output_dir, args.build_dir, "--build-dir")
    try:
        sim = args.sim or runner.default_simulator()
        runner.simulator_env(sim)
    except runner.SimulatorNotFound as e:
        raise UsageError(str(e)) from None
    what = "all inputs" if vectors is None else f"corners + {vectors} random vectors"
    mode = "batched testbench" if args.batched else "cocotb per-cycle bench"
    print(f"verifying {params.top_name} on {sim} ({mode}): {what} (seed {args.seed})",
          file=sys.stderr)
    try:
        if args.batched:
            from hwsim.sim.batched import run_batched
            r = run_batched(spec, params, sim=sim, vectors=vectors, seed=args.seed,
                            build_root=args.build_dir)
        else:
            r = runner.run_bench(spec, params, sim=sim, vectors=vectors, seed=args.seed,
                                 build_root=args.build_dir, waves=args.waves)
    except (RuntimeError, OSError, SystemExit) as e:  # a build or simulator failure
        print(f"hwsim: {sim} failed on {params.top_name}: {str(e).splitlines()[0]}",
              file=sys.stderr)
        return 1
    print(f"{r.top} on {r.sim}: {r.vectors} vectors, {r.mismatches} mismatches "
          f"({r.rate:,.0f} vectors/s)")
    for ex in r.examples:
        print(f"  mismatch: {ex}")
    return 0 if r.passed else 1


def add(sub) -> None:
    """``hwsim verify UNIT [params] [--vectors ...] [--sim ...]``."""
    def verify_options(q):
        q.add_argument("--vectors", metavar="exhaustive|COUNT",
                       help="every input combination, or the unit's corner cases + COUNT seeded "
                            "random vectors (default: exhaustive up to 16 input bits, e.g. two "
                            "8-bit operands; else the unit's default count: softmax 20000, "
                            "performer 500, attention 200, others 100000; stream units have no "
                            "exhaustive mode)")
        q.add_argument("--seed", type=seed_option, default=0, help=f"random seed, 0..{MAX_SEED} "
                                                             f"(default 0)")
        q.add_argument("--sim", choices=["icarus", "verilator"],
                       help="simulator (default: the fastest available)")
        q.add_argument("--batched", action="store_true",
                       help="bulk mode: vectors from memory files through a generated Verilog "
                            "testbench, compared in numpy (benchmarks/results.md has its speed "
                            "against the per-cycle bench); the default cocotb bench also "
                            "checks the valid protocol with random stalls")
        q.add_argument("--waves", action="store_true",
                       help="dump waveforms in the build directory")
        q.add_argument("--build-dir", metavar="DIR",
                       help="build root (default ~/.cache/hwsim/build)")

    s = unit_command(sub, "verify", "run the Verilog in a simulator against the model",
                      options(verify_options))
    s.set_defaults(func=cmd_verify, files=files)
