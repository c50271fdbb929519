"""``hwsim characterize UNIT``: error metrics over every input or a seeded sample."""

from __future__ import annotations

from hwsim.eval.characterize import MAX_SAMPLES
from hwsim.eval.streams import MAX_OPERATIONS
from hwsim.cli.common import (
    CHARACTERIZE_EXHAUSTIVE_DEFAULT_BITS,
    DEFAULT_SAMPLES,
    MAX_INPUT_VALUES,
    Files,
    UsageError,
    int_option,
    jobs_option,
    options,
    path_check,
    seed_option,
    unit_and_params,
    unit_command,
    unit_files,
    values_per_vector,
    write_json,
)
from hwsim.paths import check_output_file
from hwsim.render.tables import METRICS_CAPTION, format_metrics_table


def _characterize_distributions(spec, params, args):
    import importlib
    import inspect

    if args.exhaustive:
        raise UsageError(f"{spec.name} has no exhaustive mode; give --samples COUNT "
                         f"(vectors per input distribution)")
    module, func = spec.characterizer.split(":")
    run = getattr(importlib.import_module(module), func)
    kwargs = {"seed": args.seed}
    if args.samples is not None:
        default = inspect.signature(run).parameters["samples"].default
        limit = MAX_INPUT_VALUES // (16 * values_per_vector(spec, params))
        if not 1 <= args.samples <= limit:
            raise UsageError(f"--samples must be an integer in 1..{limit} for "
                             f"{params.top_name} (default {default}), not {args.samples}")
        kwargs["samples"] = args.samples
    try:
        c = run(params, **kwargs)
    except (TypeError, ValueError) as e:
        raise UsageError(str(e)) from None
    print(c.summary(params))
    print(c.table())
    if args.json:
        write_json(args.json, c.to_dict())
    return 0


def files(args) -> Files:
    """Reads the unit's files (a user's circuit); writes --json FILE."""
    return unit_files(args).out("--json", args.json)


def cmd_characterize(args):
    from hwsim.eval.characterize import MAX_CHARACTERIZE_INPUT_BITS, characterize
    spec, params = unit_and_params(args)
    if args.json:
        path_check(check_output_file, args.json, "--json")
    if args.exhaustive and args.samples is not None:
        raise UsageError("give --exhaustive or --samples, not both")
    if args.stream is None and (args.ops is not None or args.stream_seed is not None):
        raise UsageError("--ops and --stream-seed shape --stream; give --stream")
    if spec.characterizer:
        if args.stream is not None:
            raise UsageError(f"--stream: {spec.name} has vector inputs; a stream is for units "
                             f"with scalar operand ports")
        return _characterize_distributions(spec, params, args)
    data = None
    if args.stream is not None:
        from hwsim.cli.synth_cells import generated_streams, resolve_stream
        if args.stream not in generated_streams() and (args.ops is not None
                                                       or args.stream_seed is not None):
            raise UsageError(f"--ops and --stream-seed shape a generated stream; --stream "
                             f"{args.stream} is a file")
        if args.json and args.stream not in generated_streams():
            from hwsim.paths import check_not_input
            path_check(check_not_input, args.json, "--json", {"--stream": args.stream})
        try:
            data = resolve_stream(spec, params, args.stream, args.ops, args.stream_seed)
        except (TypeError, ValueError) as e:
            raise UsageError(str(e)) from None
    samples = args.samples
    if samples is not None and not 1 <= samples <= MAX_SAMPLES:
        raise UsageError(f"--samples must be an integer in 1..{MAX_SAMPLES}, not {samples}")
    if (not args.exhaustive and samples is None
            and params.input_bits > CHARACTERIZE_EXHAUSTIVE_DEFAULT_BITS):
        samples = DEFAULT_SAMPLES
    if samples is None and params.input_bits > MAX_CHARACTERIZE_INPUT_BITS:
        raise UsageError(f"--exhaustive is limited to {MAX_CHARACTERIZE_INPUT_BITS} input bits, "
                         f"and {params.top_name} has {params.input_bits}; use --samples COUNT")
    try:
        c = characterize(spec, params, samples=samples, seed=args.seed, jobs=args.jobs,
                         progress=True)
    except (TypeError, ValueError) as e:
        raise UsageError(str(e)) from None
    print(f"{params.top_name}: {c.mode} over {c.metrics.n} inputs in {c.seconds:.1f} s")
    if c.overflows:
        print(f"{c.overflows:,} more inputs overflow to inf (or NaN) where the exact result is "
              f"finite: counted, not in the metrics")
    rows = [(params.top_name, c.metrics.to_dict())]
    out = c.to_dict()
    if data is not None:
        from hwsim.eval.characterize import characterize_operands
        d = characterize_operands(spec, params, data["operands"], name=data["name"],
                                  seed=data.get("seed"))
        n = d.metrics.n
        print(f"{params.top_name} on the {data['name']} stream: {n:,} operations"
              + (f" (seed {d.seed})" if d.seed is not None else "")
              + " (MRED over those whose exact result is not 0: the data-weighted MRED)")
        rows = [(f"{params.top_name} ({c.mode})", c.metrics.to_dict()),
                (f"{params.top_name} ({data['name']})", d.metrics.to_dict())]
        out |= {"mred_uniform": c.metrics.mred, "mred_data": d.metrics.mred,
                "data": d.to_dict()}
        if d.overflows:
            print(f"{d.overflows:,} stream operations overflow to inf (or NaN): counted, not "
                  f"in the metrics")
    print(METRICS_CAPTION)
    print(format_metrics_table(rows))
    if args.json:
        write_json(args.json, out)
    return 0


def add(sub) -> None:
    """``hwsim characterize UNIT [params] [--exhaustive | --samples N]``."""
    def characterize_options(q):
        q.add_argument("--exhaustive", action="store_true",
                       help="every input combination (up to 32 input bits; the default up to 24)")
        q.add_argument("--samples", type=int, metavar="COUNT",
                       help="seeded uniform random inputs (default 1000000 above 24 input "
                            "bits); softmax, attention, performer: vectors per input "
                            "distribution (default: the unit's own)")
        q.add_argument("--seed", type=seed_option, default=0, help="random seed (default 0)")
        q.add_argument("--jobs", type=jobs_option, default=2, help="threads (default 2)")
        q.add_argument("--json", metavar="FILE", help="also write the results as JSON")
        q.add_argument("--stream", metavar="uniform|small|digits|minilm|FILE.npz", default=None,
                       help="also the error metrics on this operand stream's distribution "
                            "(the data-weighted MRED; JSON: mred_uniform, mred_data, data): "
                            "log-uniform 'small' magnitudes, the codes the digits MLP or "
                            "MiniLM feed the unit, or arrays a and b of a .npz file")
        q.add_argument("--ops", type=int_option("ops", 2, MAX_OPERATIONS), default=None,
                       metavar="N", help="operations of a generated --stream (default 20000)")
        q.add_argument("--stream-seed", type=seed_option, default=None, metavar="S",
                       help="seed of a generated --stream (default 1)")

    s = unit_command(sub, "characterize", "error metrics over all inputs or a seeded sample",
                      options(characterize_options))
    s.set_defaults(func=cmd_characterize, files=files)
