"""``hwsim run MODEL.onnx``: a user's ONNX model with chosen ops on hwsim units,
against onnxruntime."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hwsim.cli.common import (
    Files,
    UsageError,
    check_files_in,
    int_option,
    model_inputs,
    path_check,
    seed_option,
    toml_files,
    write_json,
)
from hwsim.paths import (
    check_not_input,
    check_output_dir,
    check_output_file,
    parse_toml,
    read_text_file,
)

#: what ``hwsim run -o DIR`` writes in DIR (hwsim.graph.evaluate.write_report)
RUN_REPORT_FILES = ("report.md", "attribution.png")


def files(args) -> Files:
    """Reads MODEL and --reference (with their external weights), --data, --assign; writes
    DIR/report.md and its plot, --json FILE, --capture DIR/<node>.npz."""
    inputs = {**model_inputs("MODEL", args.model), "--data": args.data,
              "--assign": args.assign, **model_inputs("--reference", args.reference)}
    inputs |= toml_files(f"--assign {args.assign}", args.assign, inputs)  # a user's circuit
    f = (Files(inputs).out_dir("-o/--output", args.output, names=RUN_REPORT_FILES)
         .out("--json", args.json))
    return f.out_dir("--capture", args.capture, patterns=("*.npz",))


def cmd_run(args):
    from hwsim.paths import check_input_file
    path_check(check_input_file, args.model, "MODEL")
    path_check(check_input_file, args.data, "--data")
    if args.reference is not None:
        path_check(check_input_file, args.reference, "--reference")
    inputs = {"MODEL": args.model, "--data": args.data, "--assign": args.assign,
              "--reference": args.reference}
    try:  # the models' external weights are inputs too
        from hwsim.studies.onnx_model import external_files
        for opt in ("MODEL", "--reference"):
            if inputs[opt] is not None:
                inputs |= {f"{opt} weights": str(f) for f in external_files(inputs[opt])}
    except ImportError:
        pass  # without the ml extra the command stops below with its install hint
    if args.output is not None:
        out = path_check(check_output_dir, args.output, "-o/--output")
        check_files_in(out, RUN_REPORT_FILES)
        for name in RUN_REPORT_FILES:
            path_check(check_not_input, out / name, "-o/--output", inputs)
        inputs |= {f"-o/--output {name}": out / name for name in RUN_REPORT_FILES}
    if args.json is not None:
        path_check(check_output_file, args.json, "--json")
        path_check(check_not_input, args.json, "--json", inputs)
    if args.capture is not None:
        path_check(check_output_dir, args.capture, "--capture")
    elif args.capture_ops is not None or args.capture_seed is not None:
        raise UsageError("--capture-ops and --capture-seed shape --capture DIR; give --capture")
    try:
        from hwsim.graph.assign import Assignment, parse_assignment
        from hwsim.graph.evaluate import format_summary, run_model, write_report
        from hwsim.graph.model import ModelError
    except ImportError as e:
        raise UsageError(f"hwsim run needs the ml extra ({e.name} is missing): "
                         f"pip install 'hwsim[ml]'") from None
    assignment = Assignment()
    if args.assign is not None:
        text = path_check(read_text_file, args.assign, "--assign")
        doc = path_check(parse_toml, text, f"--assign {args.assign}")
        try:
            assignment = parse_assignment(doc, f"--assign {args.assign}",
                                          base=Path(args.assign).parent)
        except (TypeError, ValueError) as e:
            raise UsageError(str(e)) from None
    from hwsim.progress import track

    def progress(items):
        return track(items, desc="run: attribution", unit="node", leave=False)
    capture = None
    if args.capture is not None:
        from hwsim.eval.capture import DEFAULT_CAP, OperandCapture
        capture = OperandCapture(DEFAULT_CAP if args.capture_ops is None else args.capture_ops,
                                 0 if args.capture_seed is None else args.capture_seed)
    from hwsim.graph.finite import FloatingPointLog
    try:
        with FloatingPointLog() as fp:   # numpy's warnings counted, not printed raw
            r = run_model(args.model, args.data, assignment, attribution=args.attribution,
                          progress=progress, reference=args.reference, metrics=args.metric,
                          capture=capture)
    except ModelError as e:
        raise UsageError(str(e)) from None
    r["warnings"] = r.get("warnings", []) + fp.lines()
    for w in r.get("warnings", []):
        print(f"hwsim: warning: {w}", file=sys.stderr)
    print(format_summary(r))
    if args.json is not None:
        write_json(args.json, r)
    if args.output is not None:
        print(f"wrote {write_report(r, Path(args.output))}")
    if capture is not None:
        write_capture(capture, Path(args.capture), inputs)
    return 0


def write_capture(capture, out: Path, inputs: dict) -> None:
    """``out/<node>.npz`` per captured node (never over an input), one line each."""
    import numpy as np

    from hwsim.eval.capture import file_names
    from hwsim.paths import atomic_writer
    names = file_names(capture.nodes)
    for name in names.values():
        path_check(check_not_input, out / name, "--capture", inputs)
    if not names:
        print("capture: no node ran on a product unit; nothing written")
        return
    out.mkdir(parents=True, exist_ok=True)
    for node, name in names.items():
        arrays = capture.arrays(node)
        with atomic_writer(out / name, binary=True) as f:
            np.savez(f, **arrays)
        n, total = arrays["a"].size, int(arrays["operations"])
        kept = "all" if n == total else f"a seeded subsample (seed {capture.seed}) of"
        print(f"captured {out / name}: {n:,} operand pairs, {kept} {total:,} products of "
              f"node {node} on {arrays['unit']}")


def add(sub) -> None:
    """``hwsim run MODEL.onnx --data FILE.npz [--assign FILE.toml]``."""
    s = sub.add_parser("run", help="run an ONNX model with chosen ops on hwsim units, "
                                   "against onnxruntime", allow_abbrev=False,
                       description="hwsim run: a user's ONNX model (float, QDQ or QOperator) with the ops "
                                   "an assignment file names on hwsim units, the rest float; "
                                   "metrics against onnxruntime's float run, per-node "
                                   "attribution. See docs/onnx.md.")
    s.add_argument("model", metavar="MODEL.onnx", help="the ONNX model file")
    s.add_argument("--data", required=True, metavar="FILE.npz",
                   help="inputs by graph input name (axis 0 = rows), optional 'labels' "
                        "(one integer class per row)")
    s.add_argument("--assign", metavar="FILE.toml",
                   help="[[assign]] rules (op, node pattern, unit, unit parameters), "
                        "[calibration], [formats]; default: everything float")
    s.add_argument("--reference", metavar="FLOAT.onnx",
                   help="compare against onnxruntime running this model instead (same inputs "
                        "and outputs), e.g. the float model a QDQ model was quantised from")
    s.add_argument("--metric", action="append", metavar="[OUTPUT=]KIND",
                   help="how to compare an output (every output without OUTPUT=): "
                        "classification (argmax agreement over the class axis, accuracy with "
                        "labels), probabilities (KL, max abs error), embedding (cosine, "
                        "Spearman of pairwise similarities), regression (MAE, R²) or labels "
                        "(agreement); repeatable; default: chosen per output, the report "
                        "says which and why")
    s.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    s.add_argument("-o", "--output", metavar="DIR", help="write DIR/report.md with plots")
    s.add_argument("--capture", metavar="DIR",
                   help="write DIR/<node>.npz per node on a product unit: arrays a and b, the "
                        "operand codes its unit sees (the format of hwsim synth --stream "
                        "FILE.npz)")
    s.add_argument("--capture-ops", type=int_option("capture-ops", 2, 10_000_000), default=None,
                   metavar="N", help="operand pairs kept per node, a seeded subsample beyond "
                                     "(default 200000)")
    s.add_argument("--capture-seed", type=seed_option, default=None, metavar="S",
                   help="seed of the --capture subsample (default 0)")
    s.add_argument("--attribution", action=argparse.BooleanOptionalAction, default=True,
                   help="each assigned node alone on its unit, the rest float (default on)")
    s.set_defaults(func=cmd_run, files=files)
