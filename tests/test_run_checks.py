"""hwsim run keeps a number from hiding what it is (hwsim.graph.finite): a reference output
holding NaN / inf is named with its first position and the node that first produced one
(the float-path check never reads 0), numpy's warnings are counted into the JSON and the
report instead of printed raw, labels are checked against the output's classes, a graph
input named ``labels`` takes that array, and --data dtypes are cast only where numpy's
``can_cast(..., "safe")`` holds."""

from __future__ import annotations

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from hwsim.graph.evaluate import run_model  # noqa: E402
from hwsim.graph.model import ModelError, load  # noqa: E402

F = TensorProto.FLOAT


def _save(tmp_path, nodes, inputs, outputs, inits=(), name="m.onnx"):
    g = helper.make_graph(nodes, "g", inputs, outputs, list(inits))
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / name
    onnx.save(m, path)
    return path


def _div_model(tmp_path):
    """x [N, 3] -> MatMul w -> s; s / z (z = [1, 0, 2]) -> q; Relu(q) -> y [N, 3]: a Div by
    zero makes inf in column 1 and NaN where s is 0 there."""
    w = numpy_helper.from_array(np.eye(3, dtype=np.float32), "w")
    z = numpy_helper.from_array(np.array([1, 0, 2], np.float32), "z")
    nodes = [helper.make_node("MatMul", ["x", "w"], ["s"], name="mm"),
             helper.make_node("Div", ["s", "z"], ["q"], name="divide"),
             helper.make_node("Relu", ["q"], ["y"], name="relu")]
    return _save(tmp_path, nodes, [helper.make_tensor_value_info("x", F, [None, 3])],
                 [helper.make_tensor_value_info("y", F, [None, 3])], [w, z])


def _data(tmp_path, name="d.npz", **arrays):
    path = tmp_path / name
    np.savez(path, **arrays)
    return path


def test_a_non_finite_reference_is_named_not_read_as_zero(tmp_path):
    model = _div_model(tmp_path)
    x = np.array([[1, 2, 3], [4, 0, 6], [7, 8, 9]], np.float32)
    r = run_model(model, _data(tmp_path, x=x), attribution=False)
    assert np.isnan(r["float_path_error"])          # max(0.0, nan) used to give 0.0
    assert r["non_finite"]["reference"]["y"] == {"nan": 1, "inf": 2, "first": [0, 1]}
    (line,) = [w for w in r["warnings"] if "output y of the reference" in w]
    assert line == ("output y of the reference holds 1 NaN and 2 inf of 9 values (first: "
                    "y[0, 1] = inf); the float run first produces one at node divide (Div), "
                    "output q; its metrics are not numbers")
    from hwsim.graph.evaluate import format_summary
    head = format_summary(r).splitlines()[0]
    assert "float path error not a number: an output holds NaN or inf, see the warnings" in head
    assert "0.0e+00" not in head


def test_a_finite_run_has_no_such_warning(tmp_path):
    model = _div_model(tmp_path)
    # 0 / 0 is NaN: the same check fires on a row whose column 1 is 0
    r = run_model(model, _data(tmp_path, x=np.array([[1, 0, 1]], np.float32)), attribution=False)
    assert r["non_finite"]["reference"]["y"]["nan"] == 1 and np.isnan(r["float_path_error"])
    w = numpy_helper.from_array(np.eye(3, dtype=np.float32), "w")
    clean = _save(tmp_path, [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
                  [helper.make_tensor_value_info("x", F, [None, 3])],
                  [helper.make_tensor_value_info("y", F, [None, 3])], [w], "clean.onnx")
    r = run_model(clean, _data(tmp_path, "c.npz", x=np.array([[1, 2, 3]], np.float32)),
                  attribution=False)
    assert r["non_finite"] == {} and r["float_path_error"] == 0.0 and r["warnings"] == []


def test_cli_counts_numpy_warnings_into_json_and_report(tmp_path, capsys):
    from hwsim.cli import main
    model = _div_model(tmp_path)
    x = np.array([[1, 2, 3], [4, 0, 6]], np.float32)
    data = _data(tmp_path, x=x)
    out = tmp_path / "out"
    assert main(["run", str(model), "--data", str(data), "--json", str(tmp_path / "r.json"),
                 "-o", str(out)]) == 0
    cap = capsys.readouterr()
    assert "RuntimeWarning" not in cap.err and "0.0e+00" not in cap.out
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["float_path_error"] is None            # NaN is null in strict JSON
    assert any(w.startswith("output y of the reference holds 1 NaN and 1 inf") for w in r["warnings"])
    for w in r["warnings"]:
        assert f"hwsim: warning: {w}" in cap.err
    report = (out / "report.md").read_text()
    assert "## Warnings" in report and r["warnings"][0] in report


def test_numpy_floating_point_warnings_are_counted():
    from hwsim.graph.finite import FloatingPointLog
    with FloatingPointLog() as fp:
        np.array([1.0]) / np.array([0.0])
        np.log(np.array([-1.0, -2.0]))
    assert fp.counts == {"divide by zero": 1, "invalid value": 1}
    (line,) = fp.lines()
    assert line.startswith("numpy reported 2 floating-point warning(s) during the evaluation ")


def _classifier(tmp_path, input_name="x"):
    w = numpy_helper.from_array(np.arange(12, dtype=np.float32).reshape(4, 3) / 10, "w")
    return _save(tmp_path, [helper.make_node("MatMul", [input_name, "w"], ["scores"], name="fc")],
                 [helper.make_tensor_value_info(input_name, F, [None, 4])],
                 [helper.make_tensor_value_info("scores", F, [None, 3])], [w], "clf.onnx")


@pytest.mark.parametrize("bad", [99, -1, 3])
def test_labels_outside_the_classes_are_refused(tmp_path, bad):
    model = _classifier(tmp_path)
    x = np.random.default_rng(0).normal(size=(4, 4)).astype(np.float32)
    data = _data(tmp_path, x=x, labels=np.array([0, 2, bad, 1]))
    with pytest.raises(ModelError, match=rf"^--data .*d\.npz: labels must be classes of output "
                                         rf"scores \(0\.\.2\), not {bad} \(1 of 4 rows\)$"):
        run_model(model, data, attribution=False)
    ok = run_model(model, _data(tmp_path, "ok.npz", x=x, labels=np.array([0, 2, 1, 1])),
                   attribution=False)
    assert 0.0 <= ok["accuracy"] <= 1.0


def test_labels_refusal_is_one_line_exit_2(tmp_path, capsys):
    from hwsim.cli import main
    model = _classifier(tmp_path)
    x = np.zeros((2, 4), np.float32)
    data = _data(tmp_path, x=x, labels=np.array([99, 0]))
    assert main(["run", str(model), "--data", str(data)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "labels must be classes of output scores (0..2), not 99" in err[0]


def test_a_graph_input_named_labels_takes_that_array(tmp_path):
    model = _classifier(tmp_path, input_name="labels")
    x = np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32)
    r = run_model(model, _data(tmp_path, labels=x), attribution=False)
    assert r["accuracy"] is None and r["outputs"]["scores"]["cosine"] == pytest.approx(1.0)
    assert any("feeds the model's input named labels" in w for w in r["warnings"])
    r2 = run_model(model, {"labels": x}, attribution=False)
    assert r2["accuracy"] is None


@pytest.mark.parametrize("dtype,ok", [(np.float32, True), (np.float16, True), (np.int8, True),
                                      (np.bool_, True), (np.float64, False), (np.int64, False),
                                      (np.int32, False), (np.uint32, False)])
def test_data_casts_are_safe_casts_only(tmp_path, dtype, ok):
    g = load(_classifier(tmp_path))
    x = np.ones((2, 4), dtype)
    assert ok == np.can_cast(dtype, np.float32, "safe")
    if ok:
        assert g.check_feeds({"x": x})["x"].dtype == np.float32
    else:
        name = np.dtype(dtype).name
        with pytest.raises(ModelError, match=rf"^--data: input x is float32, and an array of "
                                             rf"{name} does not cast to it safely \(hwsim run "
                                             rf"casts only where numpy's can_cast\(\.\.\., 'safe'\) "
                                             rf"holds: no value may change\); save x as float32$"):
            g.check_feeds({"x": x})
