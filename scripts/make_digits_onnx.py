"""Write an ONNX model nobody here wrote the forward pass for, and its data, for `hwsim run`.

    python scripts/make_digits_onnx.py OUT_DIR

OUT_DIR/mlp.onnx: scikit-learn's MLPClassifier (64 -> 32 ReLU -> 10 softmax) trained on the
first 1,400 of sklearn's bundled digits (seed 0), exported by skl2onnx (float32, opset 17,
no ZipMap: outputs ``label`` and ``probabilities``); OUT_DIR/mlp_qdq.onnx: the same model
quantised by ``onnxruntime.quantization.quantize_static`` (QDQ format, int8 activations and
per-channel int8 weights, calibrated on 64 training rows); OUT_DIR/digits.npz: the other 397
digits as ``X`` with their ``labels``. Deterministic; nothing is downloaded.
"""

import sys
from pathlib import Path


NAMES = ("mlp.onnx", "mlp_qdq.onnx", "digits.npz")


def main(out: Path) -> int:
    from hwsim.explore.workloads import write_digits
    from hwsim.paths import check_new_files
    try:
        check_new_files("make_digits_onnx.py", out, NAMES)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    write_digits(out, qdq=True)
    print(f"wrote {', '.join(str(out / n) for n in NAMES)}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
