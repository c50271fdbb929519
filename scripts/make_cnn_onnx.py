"""Write a small CNN as PyTorch exports one, its QOperator int8 form, and data, for `hwsim run`.

    python scripts/make_cnn_onnx.py OUT_DIR

There is no PyTorch here: the graph is written with onnx.helper in the form
``torch.onnx.export`` gives (opset 17) for

    nn.ZeroPad2d(1), nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.AvgPool2d(2),
    nn.Flatten(), nn.Linear(64, 10)

in eval mode: ``Pad`` (pads and value as inputs), ``Conv`` (padding as the ``pads``
attribute), ``BatchNormalization`` (inference: running mean and variance), ``Relu``,
``MaxPool``, ``AveragePool``, ``Flatten``, ``Gemm`` (``transB=1``). Input ``x``
``[N, 1, 8, 8]``: scikit-learn's bundled digits / 16; output ``logits`` ``[N, 10]``.

The weights are not trained by backpropagation: the two convolutions are seeded random
(seed 0), each BatchNormalization's running statistics are those of its input on the first
1,400 digits (random gamma near 1, beta near 0, so folding it changes the weights), and the
``Linear`` layer is a logistic regression (scikit-learn, seed 0) fitted on the 64 pooled
features of those 1,400 digits: a real classifier, ~90 % on the other 397.

OUT_DIR/cnn.onnx: that model; OUT_DIR/cnn_qop.onnx: it through onnxruntime.quantization
(``quant_pre_process``, which folds the BatchNormalizations, then ``quantize_static`` with
``QuantFormat.QOperator``, int8, calibrated on 64 training digits): QLinearConv,
QLinearMatMul/QGemm and friends; OUT_DIR/cnn_digits.npz: the other 397 digits as ``x`` with
their ``labels``. Deterministic; nothing is downloaded; an existing file is never replaced.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

NAMES = ("cnn.onnx", "cnn_qop.onnx", "cnn_digits.npz")
TRAIN = 1400


def _graph(p: dict, outputs=("logits",)):
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    n = helper.make_node
    nodes = [
        n("Pad", ["x", "pad_pads", "pad_value"], ["pad0"], name="/pad/Pad", mode="constant"),
        n("Conv", ["pad0", "conv1.weight", "conv1.bias"], ["conv1"], name="/conv1/Conv",
          kernel_shape=[3, 3], pads=[0, 0, 0, 0], strides=[1, 1], dilations=[1, 1], group=1),
        n("BatchNormalization", ["conv1", "bn1.weight", "bn1.bias", "bn1.running_mean",
                                 "bn1.running_var"], ["bn1"], name="/bn1/BatchNormalization",
          epsilon=1e-5, momentum=0.9),
        n("Relu", ["bn1"], ["relu1"], name="/relu1/Relu"),
        n("MaxPool", ["relu1"], ["pool1"], name="/pool1/MaxPool", kernel_shape=[2, 2],
          strides=[2, 2], pads=[0, 0, 0, 0], ceil_mode=0),
        n("Conv", ["pool1", "conv2.weight", "conv2.bias"], ["conv2"], name="/conv2/Conv",
          kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1], dilations=[1, 1], group=1),
        n("BatchNormalization", ["conv2", "bn2.weight", "bn2.bias", "bn2.running_mean",
                                 "bn2.running_var"], ["bn2"], name="/bn2/BatchNormalization",
          epsilon=1e-5, momentum=0.9),
        n("Relu", ["bn2"], ["relu2"], name="/relu2/Relu"),
        n("AveragePool", ["relu2"], ["pool2"], name="/pool2/AveragePool", kernel_shape=[2, 2],
          strides=[2, 2], pads=[0, 0, 0, 0], ceil_mode=0, count_include_pad=1),
        n("Flatten", ["pool2"], ["features"], name="/flatten/Flatten", axis=1),
        n("Gemm", ["features", "fc.weight", "fc.bias"], ["logits"], name="/fc/Gemm",
          alpha=1.0, beta=1.0, transB=1),
    ]
    f = TensorProto.FLOAT
    outs = [helper.make_tensor_value_info(o, f, None) for o in outputs]
    if outputs == ("logits",):
        outs = [helper.make_tensor_value_info("logits", f, ["N", 10])]
    inits = [numpy_helper.from_array(v, k) for k, v in p.items()]
    g = helper.make_graph(nodes, "main_graph",
                          [helper.make_tensor_value_info("x", f, ["N", 1, 8, 8])], outs, inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)],
                          producer_name="pytorch", producer_version="2.1.0")
    m.ir_version = 8
    if outputs == ("logits",):
        onnx.checker.check_model(m)
    return m


def _run(model, x, names):
    import onnxruntime as ort
    s = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    return s.run(list(names), {"x": x})


def build(x: np.ndarray, y: np.ndarray):
    """The CNN's parameters, fitted as the module docstring says."""
    from sklearn.linear_model import LogisticRegression
    rng = np.random.default_rng(0)
    f32 = np.float32
    p = {"pad_pads": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64),
         "pad_value": np.array(0.0, f32),
         "conv1.weight": rng.normal(0, 0.5, (8, 1, 3, 3)).astype(f32),
         "conv1.bias": rng.normal(0, 0.1, 8).astype(f32),
         "conv2.weight": rng.normal(0, 0.2, (16, 8, 3, 3)).astype(f32),
         "conv2.bias": rng.normal(0, 0.1, 16).astype(f32)}
    for i, c in ((1, 8), (2, 16)):
        p |= {f"bn{i}.weight": rng.uniform(0.5, 1.5, c).astype(f32),
              f"bn{i}.bias": rng.normal(0, 0.1, c).astype(f32),
              f"bn{i}.running_mean": np.zeros(c, f32), f"bn{i}.running_var": np.ones(c, f32)}
    p |= {"fc.weight": np.zeros((10, 64), f32), "fc.bias": np.zeros(10, f32)}
    train = x[:TRAIN]
    for i in (1, 2):   # running statistics: those of the BatchNormalization's input
        (c,) = _run(_graph(p, (f"conv{i}",)), train, [f"conv{i}"])
        p[f"bn{i}.running_mean"] = c.mean(axis=(0, 2, 3)).astype(f32)
        p[f"bn{i}.running_var"] = c.var(axis=(0, 2, 3)).astype(f32)
    (feat,) = _run(_graph(p, ("features",)), train, ["features"])
    clf = LogisticRegression(max_iter=2000, random_state=0).fit(feat, y[:TRAIN])
    p["fc.weight"] = clf.coef_.astype(f32)
    p["fc.bias"] = clf.intercept_.astype(f32)
    return p


def main(out: Path) -> int:
    import onnx
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process
    from sklearn.datasets import load_digits
    from hwsim.paths import check_new_files
    try:
        check_new_files("make_cnn_onnx.py", out, NAMES)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    d = load_digits()
    x = (d.images / 16).astype(np.float32)[:, None]
    y = d.target.astype(np.int64)
    m = _graph(build(x, y))
    onnx.save(m, str(out / "cnn.onnx"))
    np.savez(out / "cnn_digits.npz", x=x[TRAIN:], labels=y[TRAIN:])

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.rows = iter([{"x": x[i:i + 8]} for i in range(0, 64, 8)])

        def get_next(self):
            return next(self.rows, None)
    import logging
    logging.getLogger().setLevel(logging.ERROR)   # the quantiser's pre-processing advice
    with tempfile.TemporaryDirectory() as tmp:
        pre = Path(tmp) / "pre.onnx"
        quant_pre_process(str(out / "cnn.onnx"), str(pre), skip_symbolic_shape=True)
        quantize_static(str(pre), str(out / "cnn_qop.onnx"), Reader(),
                        quant_format=QuantFormat.QOperator)
    print(f"wrote {', '.join(str(out / n) for n in NAMES)}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
