"""hwsim run's metrics that fit the output (hwsim.graph.metrics): the kind chosen per output
and why, each kind's metrics against independent formulas (scipy / scikit-learn), the user's
choice (--metric), and its one-line refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from hwsim.graph import metrics as gm  # noqa: E402


def _model(path, seed=0):
    """x [N, 6] -> Gemm -> logits [N, 5, 1, 1] (Reshape), Softmax -> prob [N, 5],
    ReduceMean of Tanh(Gemm) -> emb [N, 4] (an embedding), Gemm -> reg [N, 1],
    ArgMax -> cls [N] (int64)."""
    rng = np.random.default_rng(seed)

    def init(name, a, dtype=np.float32):
        return numpy_helper.from_array(np.asarray(a, dtype=dtype), name)
    nodes = [helper.make_node("Gemm", ["x", "w", "b"], ["s"], name="fc"),
             helper.make_node("Reshape", ["s", "shape4"], ["logits"], name="to4d"),
             helper.make_node("Softmax", ["s"], ["prob"], name="softmax", axis=1),
             helper.make_node("ArgMax", ["s"], ["cls"], name="argmax", axis=1, keepdims=0),
             helper.make_node("Gemm", ["x", "we"], ["h"], name="fe"),
             helper.make_node("Tanh", ["h"], ["t"], name="tanh"),
             helper.make_node("Reshape", ["t", "shape3"], ["t3"], name="to3d"),
             helper.make_node("ReduceMean", ["t3", "axes"], ["emb"], name="pool", keepdims=0),
             helper.make_node("Gemm", ["x", "wr"], ["reg"], name="regress")]
    f = TensorProto.FLOAT
    g = helper.make_graph(
        nodes, "kinds", [helper.make_tensor_value_info("x", f, [None, 6])],
        [helper.make_tensor_value_info("logits", f, [None, 5, 1, 1]),
         helper.make_tensor_value_info("prob", f, [None, 5]),
         helper.make_tensor_value_info("cls", TensorProto.INT64, [None]),
         helper.make_tensor_value_info("emb", f, [None, 4]),
         helper.make_tensor_value_info("reg", f, [None, 1])],
        [init("w", rng.normal(0, 1, (6, 5))), init("b", rng.normal(0, 0.1, 5)),
         init("we", rng.normal(0, 1, (6, 8))), init("wr", rng.normal(0, 1, (6, 1))),
         init("shape4", [0, 5, 1, 1], np.int64), init("shape3", [0, 4, 2], np.int64),
         init("axes", [2], np.int64)])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 18)])
    m.ir_version = 8
    onnx.save(m, str(path))
    return rng.normal(0, 1, (40, 6)).astype(np.float32)


WANT = {"logits": "classification", "prob": "probabilities", "cls": "labels",
        "emb": "embedding", "reg": "regression"}


def test_each_output_gets_its_kind_and_says_why(tmp_path):
    from hwsim.graph.model import load
    x = _model(tmp_path / "m.onnx")
    g = load(tmp_path / "m.onnx")
    ref = g.run({"x": x})
    got = {k: gm.choose(g, k, ref[k]) for k in g.outputs}
    assert {k: v[0] for k, v in got.items()} == WANT
    assert got["logits"][1] == ("float [40x5x1x1] from Gemm fc: a linear layer's scores over "
                                "axis 1, 5 classes")
    assert got["prob"][1] == "float [40x5] from Softmax softmax, 5 classes"
    assert got["emb"][1].startswith("float [40x4] from ReduceMean pool")
    # labels decide class scores for an output no linear layer made
    labels = ref["emb"].argmax(1)
    assert gm.choose(g, "emb", ref["emb"], labels)[0] == "classification"
    assert gm.choose(g, "emb", ref["emb"], labels + 4)[0] == "embedding"   # labels >= 4 columns


def test_rows_summing_to_one_are_probabilities_whatever_made_them():
    p = np.random.default_rng(9).dirichlet(np.ones(4), 6).astype(np.float32)
    assert gm.choose(None, "p", p) == ("probabilities", "float [6x4], rows >= 0 summing to 1 "
                                                         "over axis 1, 4 classes")
    assert gm.choose(None, "p", p * 1.01)[0] == "embedding"


def test_class_axis_wherever_it_is():
    assert gm.class_axis((8, 1000, 1, 1)) == 1
    assert gm.class_axis((8, 10)) == 1
    assert gm.class_axis((8, 7, 30)) == 2
    assert gm.class_axis((8, 1)) is None and gm.class_axis((8,)) is None


def _pert(a, seed, scale=0.3):
    return (a + np.random.default_rng(seed).normal(0, scale, a.shape)).astype(np.float32)


def test_classification_argmax_over_axis_1_of_nchw_and_accuracy():
    rng = np.random.default_rng(1)
    r = rng.normal(0, 1, (50, 6, 1, 1)).astype(np.float32)
    g = _pert(r, 2, 0.8)
    labels = rng.integers(0, 6, 50)
    m = gm.compute("classification", g, r, labels)
    want = (g[:, :, 0, 0].argmax(1) == r[:, :, 0, 0].argmax(1)).mean()
    assert 0 < want < 1 and m["argmax_agreement"] == pytest.approx(want, abs=0)
    assert m["accuracy"] == pytest.approx((g[:, :, 0, 0].argmax(1) == labels).mean(), abs=0)


def test_probabilities_kl_and_max_abs():
    from scipy.stats import entropy
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(7), 30)
    q = rng.dirichlet(np.ones(7), 30)
    m = gm.compute("probabilities", q, p)
    assert m["kl"] == pytest.approx(np.mean([entropy(a, b) for a, b in zip(p, q)]), rel=1e-12)
    assert m["max_abs_error"] == pytest.approx(np.abs(p - q).max(), abs=0)
    assert gm.compute("probabilities", p, p)["kl"] == 0.0
    # a zero where the reference is not: finite, large
    q0 = p.copy()
    q0[0, 0] = 0.0
    assert 0 < gm.compute("probabilities", q0, p)["kl"] < 1e3


def test_embedding_cosine_and_spearman_of_pairs():
    from scipy.stats import spearmanr
    r = np.random.default_rng(4).normal(0, 1, (12, 16))
    g = _pert(r, 5, 0.5)
    m = gm.compute("embedding", g, r)
    cos = lambda e: (e / np.linalg.norm(e, axis=1, keepdims=True)) @ (  # noqa: E731
        e / np.linalg.norm(e, axis=1, keepdims=True)).T
    i, j = np.triu_indices(12, 1)
    assert m["spearman"] == pytest.approx(spearmanr(cos(g)[i, j], cos(r)[i, j])[0], rel=1e-9)
    assert m["argmax_agreement"] is None
    assert m["cosine"] == pytest.approx(g.ravel() @ r.ravel() / np.linalg.norm(g) / np.linalg.norm(r),
                                        rel=1e-6)


def test_regression_mae_and_r2():
    from sklearn.metrics import mean_absolute_error, r2_score
    r = np.random.default_rng(6).normal(3, 2, (40, 1))
    g = _pert(r, 7, 0.5).astype(np.float64)
    m = gm.compute("regression", g, r)
    assert m["mae"] == pytest.approx(mean_absolute_error(r, g), rel=1e-12)
    assert m["r2"] == pytest.approx(r2_score(r, g), rel=1e-12)
    assert gm.compute("regression", g, np.ones_like(r))["r2"] is None    # constant reference


def test_integer_labels_agreement_only():
    r = np.arange(20) % 3
    g = r.copy()
    g[:5] = 0
    m = gm.compute("labels", g, r)
    assert m["agreement"] == pytest.approx((g == r).mean(), abs=0)
    assert m["cosine"] is None and m["max_abs_error"] is None and m["argmax_agreement"] is None
    with pytest.raises(ValueError, match=r"^the int64 output can be compared as labels or "
                                         r"regression, not as embedding$"):
        gm.compute("embedding", g, r)


def test_hwsim_run_json_and_summary_carry_the_metric_names(tmp_path, capsys):
    from hwsim.cli import main
    x = _model(tmp_path / "m.onnx")
    np.savez(tmp_path / "d.npz", x=x)
    (tmp_path / "a.toml").write_text('[[assign]]\nop = "Gemm"\nunit = "mitchell-mul"\nwidth = 6\n')
    args = ["run", str(tmp_path / "m.onnx"), "--data", str(tmp_path / "d.npz"), "--assign",
            str(tmp_path / "a.toml"), "--no-attribution", "--json", str(tmp_path / "r.json")]
    assert main(args) == 0
    out = capsys.readouterr().out
    r = json.loads((tmp_path / "r.json").read_text())["outputs"]
    assert {k: v["kind"] for k, v in r.items()} == WANT
    assert r["emb"]["metrics"] == ["cosine", "spearman"] and r["emb"]["argmax_agreement"] is None
    assert r["reg"]["metrics"] == ["mae", "r2"] and 0 < r["reg"]["r2"] < 1
    assert r["cls"]["metrics"] == ["agreement"] and r["cls"]["cosine"] is None
    assert r["logits"]["metrics"] == ["argmax_agreement"] and r["logits"]["argmax_agreement"] < 1
    for k in WANT:
        line = next(ln for ln in out.splitlines() if ln.startswith(f"{k}: "))
        assert line.startswith(f"{k}: {WANT[k]}: ") and line.endswith(f"({r[k]['why']})")
    # the user's choice: every output as ..., one output as ...
    (tmp_path / "r.json").unlink()
    assert main(args + ["--metric", "emb=regression"]) == 0
    r = json.loads((tmp_path / "r.json").read_text())["outputs"]
    assert r["emb"]["kind"] == "regression" and r["emb"]["why"] == "chosen by the user"
    assert r["reg"]["kind"] == "regression" and r["logits"]["kind"] == "classification"


@pytest.mark.parametrize("value,msg", [
    ("nope", r"--metric must be \[OUTPUT=\]KIND with KIND one of classification, "
             r"probabilities, embedding, regression, labels, not 'nope'"),
    ("x=labels", r"--metric: 'x' is not an output of the model \(outputs: logits, prob, cls, "
                 r"emb, reg\)"),
    ("cls=embedding", r"output cls: the int64 output can be compared as labels or regression, "
                      r"not as embedding"),
    ("reg=classification", r"output reg: a \[40x1\] output has no class axis"),
])
def test_bad_metric_is_one_line_exit_2(tmp_path, capsys, value, msg):
    from hwsim.cli import main
    x = _model(tmp_path / "m.onnx")
    np.savez(tmp_path / "d.npz", x=x)
    rc = main(["run", str(tmp_path / "m.onnx"), "--data", str(tmp_path / "d.npz"),
               "--metric", value])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1
    assert pytest.importorskip("re").search(msg, err), err


def test_attribution_without_labels_reads_a_float_output_not_the_integer_label(tmp_path):
    """The first output is an int64 label: attribution takes the first float output's cosine
    (a label has none)."""
    from hwsim.graph.evaluate import run_model
    from hwsim.graph.assign import parse_assignment
    x = _model(tmp_path / "m.onnx")
    import onnx as _onnx
    m = _onnx.load(str(tmp_path / "m.onnx"))
    outs = list(m.graph.output)
    del m.graph.output[:]
    m.graph.output.extend([outs[2]] + outs[:2] + outs[3:])     # cls first
    _onnx.save(m, str(tmp_path / "m2.onnx"))
    a = parse_assignment({"assign": [{"op": "Gemm", "unit": "mitchell-mul", "width": 6}]})
    r = run_model(tmp_path / "m2.onnx", {"x": x}, a)
    assert r["attribution"]["metric"] == "cosine of logits"
    assert all(0 < row["metric"] <= 1 for row in r["attribution"]["nodes"])
