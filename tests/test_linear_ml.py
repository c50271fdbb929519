"""LinearClassifier / LinearRegressor (ai.onnx.ml) on the product units (issue 27 item 4):
``X W^T`` on the unit, intercepts, post_transform and labels by ONNX Runtime
(hwsim.graph.linear_ml).

With exact-mul the node equals ONNX Runtime's float run of the same node on the quantised
operands *exactly*, for every post_transform, binary (one coefficient row) and multi-class,
int and string labels: the operands are the static formats' codes (8-bit: each product
below 2**14, sums of up to 20 terms below 2**19, intercepts on the same grid, so ONNX
Runtime's float32 arithmetic is exact too). Against the float model on the original
operands the scores lie within a bound derived from the formats. Mitchell-8 runs and differs.
"""

import json

import numpy as np
import pytest

from rtl import require_module

require_module("onnx", "ml")
require_module("onnxruntime", "ml")

import onnx  # noqa: E402
from onnx import TensorProto, helper  # noqa: E402

from hwsim.cli import main  # noqa: E402
from hwsim.graph.assign import build_impl, parse_assignment  # noqa: E402
from hwsim.graph.model import Graph  # noqa: E402

U = 2.0 ** -24     # float32 unit roundoff
W8 = 8


def _node_model(op, coef, intercepts, features, **attrs):
    outs = ["label", "scores"] if op == "LinearClassifier" else ["y"]
    n = helper.make_node(op, ["X"], outs, domain="ai.onnx.ml", name="lin",
                         coefficients=[float(v) for v in np.ravel(coef)],
                         intercepts=[float(v) for v in intercepts], **attrs)
    g = helper.make_graph([n], "g", [helper.make_tensor_value_info("X", TensorProto.FLOAT,
                                                                   [None, features])],
                          [helper.make_tensor_value_info(o, t, [None] * r) for o, t, r in zip(
                              outs, [TensorProto.STRING if "classlabels_strings" in attrs
                                     else TensorProto.INT64, TensorProto.FLOAT]
                              if op == "LinearClassifier" else [TensorProto.FLOAT],
                              (1, 2) if op == "LinearClassifier" else (2,))])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17),
                                            helper.make_opsetid("ai.onnx.ml", 3)])
    m.ir_version = 8
    onnx.checker.check_model(m)
    return Graph(m)


def _frac(peak, width=W8):
    """The static format's rule (docs/onnx.md): 2**e the smallest power of two above the
    peak, frac = width - 1 - e."""
    return width - 1 - np.frexp(np.asarray(peak, dtype=np.float64))[1]


def _q(x, frac, width=W8):
    raw = np.clip(np.round(np.asarray(x, np.float64) * 2.0 ** frac),
                  -(1 << (width - 1)), (1 << (width - 1)) - 1)
    return raw * 2.0 ** -frac


CASES = {   # op, outputs (rows of W), attributes
    "softmax-3": ("LinearClassifier", 3, dict(classlabels_ints=[3, 5, 9],
                                              post_transform="SOFTMAX", multi_class=1)),
    "logistic-4-strings": ("LinearClassifier", 4, dict(classlabels_strings=list("abcd"),
                                                       post_transform="LOGISTIC")),
    "softmax-zero-3": ("LinearClassifier", 3, dict(classlabels_ints=[0, 1, 2],
                                                   post_transform="SOFTMAX_ZERO")),
    "none-3": ("LinearClassifier", 3, dict(classlabels_ints=[0, 1, 2])),
    "binary-1row-logistic": ("LinearClassifier", 1, dict(classlabels_ints=[0, 1],
                                                         post_transform="LOGISTIC")),
    "binary-1row-none-strings": ("LinearClassifier", 1, dict(classlabels_strings=["no", "yes"])),
    "binary-2rows-logistic": ("LinearClassifier", 2, dict(classlabels_ints=[-1, 1],
                                                          post_transform="LOGISTIC")),
    # (ONNX Runtime 1.32's binary PROBIT writes only part of its scores: not a case)
    "probit-3": ("LinearClassifier", 3, dict(classlabels_ints=[0, 1, 2],
                                             post_transform="PROBIT")),
    "regressor-2": ("LinearRegressor", 2, dict(targets=2)),
    "regressor-1-logistic": ("LinearRegressor", 1, dict(targets=1, post_transform="LOGISTIC")),
}


def _draw(seed, m, features=20, rows=300):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal((rows, features)) * rng.uniform(0.2, 3, features)).astype(np.float32)
    w = (rng.standard_normal((m, features)) * 0.4).astype(np.float32)
    return x, w, rng


def _assign(unit, mode="static", weights="per-channel", width=W8):
    return parse_assignment({"assign": [{"op": ["LinearClassifier", "LinearRegressor"],
                                         "unit": unit, "width": width}],
                             "calibration": {"mode": mode, "weights": weights}})


def _same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape and a.dtype == b.dtype, (a.shape, b.shape, a.dtype, b.dtype)
    if a.dtype.kind == "f":
        return np.array_equal(a, b, equal_nan=True)
    return np.array_equal(a, b)


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("weights", ["per-channel", "per-tensor"])
def test_exact_mul_equals_onnxruntime_on_the_quantised_operands(case, weights):
    op, m, attrs = CASES[case]
    x, w, rng = _draw(list(CASES).index(case), m)
    fa = _frac(np.abs(x).max())
    fb = (_frac(np.abs(w).max(axis=1)) if weights == "per-channel"
          else np.full(m, _frac(np.abs(w).max())))
    # intercepts on the sums' grid 2**-(fa + fb_j): ONNX Runtime adds them exactly as well
    b = (rng.integers(-(1 << 12), 1 << 12, m) * 2.0 ** -(fa + fb)).astype(np.float32)
    graph = _node_model(op, w, b, x.shape[1], **attrs)
    impl, nodes, _ = build_impl(graph, _assign("exact-mul", weights=weights), {"X": x})
    assert list(nodes) == ["lin"]
    got = graph.run({"X": x}, impl)
    wq = np.stack([_q(w[j], fb[j]) for j in range(m)]).astype(np.float32)
    assert np.array_equal(wq.astype(np.float64), np.stack([_q(w[j], fb[j]) for j in range(m)]))
    ref = _node_model(op, wq, b, x.shape[1], **attrs).run({"X": _q(x, fa).astype(np.float32)})
    for k in ref:
        assert _same(got[k], ref[k]), (k, got[k][:3], ref[k][:3])
    # and the quantisation mattered: the float model on the original operands differs
    flt = graph.run({"X": x})
    assert not all(_same(flt[k], ref[k]) for k in ref)


@pytest.mark.parametrize("case", ["none-3", "regressor-2", "binary-1row-none-strings"])
def test_exact_mul_scores_within_the_derived_bound_of_the_float_model(case):
    """Scores without a post_transform against ONNX Runtime's float run of the original
    model: per element |z_hat - z_ort| <= sum_k (|x_k| e_w + |w_k| e_x + e_x e_w)
    (quantisation: e = one step of the format, 2**-frac, saturation included)
    + gamma_(F+2) (sum_k |x_k w_k| + |b|) (ONNX Runtime's float32 sum, any order)
    + 2u |z| (hwsim's one rounding to float32 and the float64 intercept add)."""
    op, m, attrs = CASES[case]
    x, w, rng = _draw(7, m)
    b = rng.standard_normal(m).astype(np.float32)
    graph = _node_model(op, w, b, x.shape[1], **attrs)
    impl, _, _ = build_impl(graph, _assign("exact-mul", width=16), {"X": x})
    got, flt = graph.run({"X": x}, impl), graph.run({"X": x})
    key = "y" if op == "LinearRegressor" else "scores"
    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    ex = 2.0 ** -_frac(np.abs(x64).max(), 16)
    ew = 2.0 ** -_frac(np.abs(w64).max(axis=1), 16)
    f = x.shape[1]
    gamma = (f + 2) * U / (1 - (f + 2) * U)
    mag = np.abs(x64) @ np.abs(w64).T
    z = x64 @ w64.T + b
    bound = (np.abs(x64).sum(1, keepdims=True) * ew + np.abs(w64).sum(1) * ex + f * ex * ew
             + gamma * (mag + np.abs(b)) + 2 * U * (np.abs(z) + 1e-30))
    if m == 1 and op == "LinearClassifier":      # ONNX Runtime's binary scores [1 - s, s]
        bound = np.concatenate([bound, bound], axis=1)
    err = np.abs(got[key].astype(np.float64) - flt[key])
    assert (err <= bound).all(), float((err / bound).max())
    assert err.max() > 0                                    # the unit's rounding shows
    assert bound.max() < 1e-3 * np.abs(flt[key]).max()     # a bound that means something
    if op == "LinearClassifier":
        # labels: equal wherever the float margin exceeds twice the bound
        s = flt["scores"].astype(np.float64)
        if m == 1:
            margin, sure = np.abs(s[:, 1]), 2 * bound[:, 1]
        else:
            top = np.sort(s, axis=1)
            margin, sure = top[:, -1] - top[:, -2], 2 * bound.max(axis=1)
        ok = margin > sure
        assert ok.mean() > 0.9
        assert np.array_equal(got["label"][ok], flt["label"][ok])


@pytest.mark.parametrize("case", ["softmax-3", "binary-1row-logistic", "regressor-2"])
@pytest.mark.parametrize("mode", ["static", "block"])
def test_mitchell_runs_and_differs(case, mode):
    op, m, attrs = CASES[case]
    x, w, rng = _draw(11, m)
    graph = _node_model(op, w, rng.standard_normal(m).astype(np.float32), x.shape[1], **attrs)
    out = {}
    for unit in ("exact-mul", "mitchell-mul"):
        impl, _, _ = build_impl(graph, _assign(unit, mode), {"X": x})
        out[unit] = graph.run({"X": x}, impl)
    flt = graph.run({"X": x})
    key = "y" if op == "LinearRegressor" else "scores"
    for unit in out:
        assert out[unit][key].shape == flt[key].shape and out[unit][key].dtype == flt[key].dtype
        assert np.isfinite(out[unit][key]).all()
    assert not np.array_equal(out["mitchell-mul"][key], out["exact-mul"][key])
    assert not np.array_equal(out["mitchell-mul"][key], flt[key])
    # Mitchell's products err by up to -11 %: within that of the float scores' magnitude
    mag = (np.abs(x) @ np.abs(w).T).max()
    assert np.abs(out["mitchell-mul"][key] - flt[key]).max() < 0.25 * mag


def test_an_unassigned_linear_classifier_is_onnxruntimes(tmp_path):
    op, m, attrs = CASES["softmax-3"]
    x, w, rng = _draw(3, m)
    graph = _node_model(op, w, np.zeros(m, np.float32), x.shape[1], **attrs)
    impl, nodes, _ = build_impl(graph, parse_assignment(
        {"assign": [{"op": "MatMul", "unit": "exact-mul"}]}), {"X": x})
    assert impl == {} and nodes == {}


def test_hwsim_run_puts_a_skl2onnx_logistic_regression_on_mitchell(tmp_path):
    """skl2onnx's default export (Scaler, LinearClassifier, Normalizer, ZipMap) through the
    CLI: the LinearClassifier on Mitchell-8, with its own attribution row."""
    require_module("skl2onnx", "ml")
    from skl2onnx import to_onnx
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    d = load_digits()
    x, y = d.data.astype(np.float32), d.target.astype(np.int64)
    est = make_pipeline(StandardScaler(), LogisticRegression(max_iter=300)).fit(x[:1000], y[:1000])
    onnx.save(to_onnx(est, x[:1]), tmp_path / "p.onnx")
    np.savez(tmp_path / "d.npz", X=x[1000:], labels=y[1000:])
    (tmp_path / "a.toml").write_text('[[assign]]\nop = "LinearClassifier"\n'
                                     'unit = "mitchell-mul"\nwidth = 8\n')
    assert main(["run", str(tmp_path / "p.onnx"), "--data", str(tmp_path / "d.npz"),
                 "--assign", str(tmp_path / "a.toml"), "--json", str(tmp_path / "r.json")]) == 0
    r = json.loads((tmp_path / "r.json").read_text())
    assert [v["op"] for v in r["assigned"].values()] == ["LinearClassifier"]
    assert r["formats"]           # X's static format, calibrated
    float_acc = float((est.predict(x[1000:]) == y[1000:]).mean())
    assert r["float_accuracy"] == pytest.approx(float_acc)
    assert r["outputs"]["output_probability"]["max_abs_error"] > 0
    assert r["accuracy"] > 0.8
    (row,) = r["attribution"]["nodes"]
    assert row["op"] == "LinearClassifier" and row["metric"] == r["accuracy"]


def test_only_ai_onnx_ml_linear_nodes_are_product_nodes():
    """The registry names the op; a node of that name in another domain is not it."""
    from hwsim.graph.assign import assigned_nodes
    op, m, attrs = CASES["softmax-3"]
    x, w, _ = _draw(5, m)
    graph = _node_model(op, w, np.zeros(m, np.float32), x.shape[1], **attrs)
    a = _assign("mitchell-mul")
    assert list(assigned_nodes(graph, a)) == ["lin"]
    graph.nodes[0].domain = "com.example"
    assert assigned_nodes(graph, a) == {}
    with pytest.raises(ValueError, match=r"^A: assign\[0\]: unit softmax cannot run "
                                         r"LinearRegressor \(units for LinearRegressor: "
                                         r".*mitchell-mul"):
        parse_assignment({"assign": [{"op": "LinearRegressor", "unit": "softmax"}]}, "A")


def test_explore_counts_the_products_of_a_linear_classifier():
    """explore prices a node by its multiply-accumulates per row: rows x F x classes."""
    from hwsim.explore.cost import node_ops
    op, m, attrs = CASES["softmax-3"]
    x, w, _ = _draw(5, m, features=7, rows=40)
    graph = _node_model(op, w, np.zeros(m, np.float32), x.shape[1], **attrs)
    assert node_ops(graph, {"X": x}, ["lin"]) == {"lin": (7 * 3, 0)}
