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
import warnings
from pathlib import Path

import numpy as np


def main(out: Path) -> None:
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)
    from skl2onnx import to_onnx
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    out.mkdir(parents=True, exist_ok=True)
    d = load_digits()
    x, y = (d.data / 16).astype(np.float32), d.target.astype(np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=300, random_state=0)
        clf.fit(x[:1400], y[:1400])
    onnx.save(to_onnx(clf, x[:1], options={"zipmap": False}, target_opset=17), out / "mlp.onnx")
    np.savez(out / "digits.npz", X=x[1400:], labels=y[1400:])

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.rows = iter([{"X": x[i:i + 1]} for i in range(64)])

        def get_next(self):
            return next(self.rows, None)

    quantize_static(str(out / "mlp.onnx"), str(out / "mlp_qdq.onnx"), Reader(),
                    quant_format=QuantFormat.QDQ, activation_type=QuantType.QInt8,
                    weight_type=QuantType.QInt8, per_channel=True)
    print(f"wrote {out / 'mlp.onnx'}, {out / 'mlp_qdq.onnx'}, {out / 'digits.npz'}")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(Path(sys.argv[1]))
