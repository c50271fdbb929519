"""The models ``hwsim explore`` searches over: a user's ONNX file and data, or a built-in one.

Built-in workloads are written once into the output directory (``workload/``) by code that
draws nothing at random without a fixed seed, so their files (and the SHA-256 that keys
every stored evaluation) are the same on every run with the same library versions:

* ``digits``: scikit-learn's MLPClassifier (64 -> 32 ReLU -> 10 softmax, ``random_state``
  0) trained on the first 1,400 of sklearn's bundled digits and exported by skl2onnx
  (:func:`write_digits`); data: the other 397 digits with their labels.
* ``minilm``: all-MiniLM-L6-v2 as ONNX (:mod:`hwsim.studies.minilm_onnx`) and the first
  ``sentences`` sentences of hwsim's built-in corpus, padded to the longest (at most 64
  tokens) with their attention mask.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

__all__ = ["write_digits", "write_minilm", "resolve"]


def write_digits(out: Path, qdq: bool = False) -> tuple[Path, Path]:
    """``out/mlp.onnx`` and ``out/digits.npz`` (and with ``qdq`` ``out/mlp_qdq.onnx``: the
    model through ``onnxruntime.quantization.quantize_static``, QDQ int8 activations and
    per-channel int8 weights, calibrated on 64 training rows)."""
    import onnx
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
    if qdq:
        from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                              quantize_static)

        class Reader(CalibrationDataReader):
            def __init__(self):
                self.rows = iter([{"X": x[i:i + 1]} for i in range(64)])

            def get_next(self):
                return next(self.rows, None)

        quantize_static(str(out / "mlp.onnx"), str(out / "mlp_qdq.onnx"), Reader(),
                        quant_format=QuantFormat.QDQ, activation_type=QuantType.QInt8,
                        weight_type=QuantType.QInt8, per_channel=True)
    return out / "mlp.onnx", out / "digits.npz"


def write_minilm(out: Path, sentences: int, max_tokens: int = 64) -> tuple[Path, Path]:
    """``out/minilm.onnx`` and ``out/minilm_<sentences>.npz``."""
    import onnx

    from hwsim.studies import minilm_onnx
    from hwsim.studies.minilm import MiniLM
    from hwsim.studies.sentences import builtin_corpus
    out.mkdir(parents=True, exist_ok=True)
    model = MiniLM(max_tokens=max_tokens)
    path = out / "minilm.onnx"
    if not path.exists():
        onnx.save(minilm_onnx.build(model), path)
    data = out / f"minilm_{sentences}.npz"
    if not data.exists():
        np.savez(data, **minilm_onnx.feeds(model, builtin_corpus()[:sentences]))
    return path, data


def resolve(workload: dict, out: Path) -> tuple[str, str]:
    """The (model, data) paths of a configuration's ``workload`` table."""
    if "builtin" not in workload:
        return workload["model"], workload["data"]
    where = out / "workload"
    if workload["builtin"] == "digits":
        if not (where / "mlp.onnx").exists() or not (where / "digits.npz").exists():
            write_digits(where)
        return str(where / "mlp.onnx"), str(where / "digits.npz")
    m, d = write_minilm(where, workload["sentences"])
    return str(m), str(d)
