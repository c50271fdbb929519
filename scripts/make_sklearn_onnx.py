"""Write a scikit-learn pipeline exported by skl2onnx with its default options, and data,
for `hwsim run`.

    python scripts/make_sklearn_onnx.py OUT_DIR

OUT_DIR/pipeline.onnx: ``make_pipeline(StandardScaler(), PCA(24, random_state=0),
LogisticRegression(max_iter=2000))`` fitted on the first 1,400 of scikit-learn's bundled
digits, exported by ``skl2onnx.to_onnx`` with no options (opset 17): ``Scaler`` and
``LinearClassifier`` (ai.onnx.ml), the PCA as ``Sub`` + ``MatMul``, ``Normalizer`` and a
``ZipMap``, outputs ``output_label`` (int64) and ``output_probability`` (a sequence of maps
class -> probability, which ``hwsim run`` reads as a [rows, classes] array);
OUT_DIR/pipeline_digits.npz: the other 397 digits as ``X`` (float32) with their ``labels``.
Deterministic; nothing is downloaded; an existing file is never replaced.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

NAMES = ("pipeline.onnx", "pipeline_digits.npz")
TRAIN = 1400


def main(out: Path) -> int:
    import onnx
    from skl2onnx import to_onnx
    from sklearn.datasets import load_digits
    from sklearn.decomposition import PCA
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from hwsim.paths import check_new_files
    try:
        check_new_files("make_sklearn_onnx.py", out, NAMES)
    except ValueError as e:
        print(e, file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    d = load_digits()
    x, y = d.data.astype(np.float32), d.target.astype(np.int64)
    pipe = make_pipeline(StandardScaler(), PCA(24, random_state=0),
                         LogisticRegression(max_iter=2000))
    pipe.fit(x[:TRAIN], y[:TRAIN])
    onnx.save(to_onnx(pipe, x[:1], target_opset=17), str(out / "pipeline.onnx"))
    np.savez(out / "pipeline_digits.npz", X=x[TRAIN:], labels=y[TRAIN:])
    print(f"wrote {', '.join(str(out / n) for n in NAMES)}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sys.exit(main(Path(sys.argv[1])))
