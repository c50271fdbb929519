"""hwsim run: ONNX models with nodes on hwsim units (hwsim.graph) — bits, formats, errors."""

import json

import numpy as np
import pytest

from rtl import require_module

require_module("onnx", "ml")
require_module("onnxruntime", "ml")
require_module("skl2onnx", "ml")

import onnx  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from hwsim.cli import main  # noqa: E402
from hwsim.graph.assign import parse_assignment  # noqa: E402
from hwsim.graph.evaluate import load_data, run_model  # noqa: E402
from hwsim.graph.model import Graph, ModelError, load  # noqa: E402
from hwsim.drum import DrumMulParams, drum_mul  # noqa: E402
from hwsim.mitchell import MitchellMulParams, mitchell_mul  # noqa: E402
from hwsim.realm import RealmMulParams, realm_mul  # noqa: E402


@pytest.fixture(scope="module")
def digits_onnx(tmp_path_factory):
    """An sklearn MLPClassifier on the digits, exported by skl2onnx (float32), and its data."""
    import warnings

    from skl2onnx import to_onnx
    from sklearn.datasets import load_digits
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    d = load_digits()
    x, y = (d.data / 16).astype(np.float32), d.target.astype(np.int64)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = MLPClassifier(hidden_layer_sizes=(24,), max_iter=60, random_state=0).fit(x[:1200], y[:1200])
    path = tmp_path_factory.mktemp("digits") / "mlp.onnx"
    onnx.save(to_onnx(clf, x[:1], options={"zipmap": False}, target_opset=17), path)
    data = path.parent / "digits.npz"
    np.savez(data, X=x[1200:1500], labels=y[1200:1500])
    return path, data


def _assign(*rules, **tables):
    return parse_assignment({"assign": list(rules), **tables})


def test_all_float_matches_onnxruntime_and_reports_the_contract(digits_onnx):
    path, data = digits_onnx
    r = run_model(path, data)
    assert r["reference"] == "onnxruntime" and r["float_path_error"] <= 1e-5
    assert set(r["outputs"]) == {"label", "probabilities"}
    p = r["outputs"]["probabilities"]
    assert p["cosine"] > 0.999999 and p["argmax_agreement"] == 1.0 and p["max_abs_error"] < 1e-5
    assert r["accuracy"] == r["float_accuracy"] and 0.8 < r["accuracy"] <= 1
    assert r["assigned"] == {} and "attribution" not in r


def test_mitchell_products_are_the_units_bits(digits_onnx):
    """The first MatMul on Mitchell-8, static formats: its output equals an independent
    computation: operands rounded with the calibrated fraction bits (activations per
    tensor, weights per column), every product by ``mitchell_mul``, exact int sums."""
    path, data = digits_onnx
    g = load(path)
    from hwsim.graph.assign import build_impl
    feeds, _ = load_data(data, g)
    a = _assign({"node": "MatMul", "unit": "mitchell-mul", "width": 8})
    impl, nodes, fracs = build_impl(g, a, feeds)
    assert list(nodes) == ["MatMul"]
    env = g.run(feeds, impl, keep=True)
    x = env["cast_input"].astype(np.float64)
    w = g.initializers["coefficient"].astype(np.float64)
    fa = fracs["cast_input"]
    assert 2.0 ** (7 - fa - 1) <= np.abs(x).max() < 2.0 ** (7 - fa)   # just enough integer bits
    fw = np.array([7 - np.frexp(np.abs(w[:, j]).max())[1] for j in range(w.shape[1])])
    qa = np.clip(np.rint(x * 2.0 ** fa), -128, 127).astype(np.int64)
    qb = np.clip(np.rint(w * 2.0 ** fw), -128, 127).astype(np.int64)
    prods = mitchell_mul(qa[:, :, None], qb[None, :, :], MitchellMulParams(width=8, signed=True))
    want = (prods.sum(axis=1) * 2.0 ** -(fa + fw)).astype(np.float32)
    assert np.array_equal(env["mul_result"], want)
    # the rest of the graph ran in float on it
    assert np.array_equal(env["add_result"], want + g.initializers["intercepts"])


@pytest.mark.parametrize("rule,params", [
    ({"unit": "drum-mul", "width": 8, "k": 4}, DrumMulParams(width=8, k=4)),
    ({"unit": "realm-mul", "width": 8, "keep_bits": 3, "m": 2, "q": 2},
     RealmMulParams(width=8, keep_bits=3, m=2, q=2)),
], ids=["drum", "realm"])
def test_unsigned_units_run_in_sign_magnitude(digits_onnx, rule, params):
    """DRUM and REALM on the first MatMul: every product is ``sgn(a) sgn(b) U(|a|, |b|)``
    with the unit's own model at the operand width, recomputed here element by element."""
    path, data = digits_onnx
    g = load(path)
    from hwsim.graph.assign import build_impl
    feeds, _ = load_data(data, g)
    feeds = {k: v[:40] for k, v in feeds.items()}
    impl, nodes, fracs = build_impl(g, _assign({"node": "MatMul", **rule}), feeds)
    env = g.run(feeds, impl, keep=True)
    x = env["cast_input"].astype(np.float64)
    w = g.initializers["coefficient"].astype(np.float64)
    fa = fracs["cast_input"]
    fw = np.array([7 - np.frexp(np.abs(w[:, j]).max())[1] for j in range(w.shape[1])])
    qa = np.clip(np.rint(x * 2.0 ** fa), -128, 127).astype(np.int64)
    qb = np.clip(np.rint(w * 2.0 ** fw), -128, 127).astype(np.int64)
    model = drum_mul if isinstance(params, DrumMulParams) else realm_mul
    mags = model(np.abs(qa)[:, :, None], np.abs(qb)[None, :, :], params)
    assert (qb < 0).any() and (mags != np.abs(qa[:, :, None] * qb)).any()  # pixels are >= 0
    prods = np.where((qa[:, :, None] < 0) != (qb[None] < 0), -mags, mags)
    want = (prods.sum(axis=1) * 2.0 ** -(fa + fw)).astype(np.float32)
    assert np.array_equal(env["mul_result"], want)


@pytest.mark.parametrize("params", [DrumMulParams(width=6, k=3), RealmMulParams(width=7),
                                    RealmMulParams(width=13, keep_bits=4)],
                         ids=lambda p: p.top_name)
def test_fixed_matmul_sign_magnitude_products(params):
    """The hook's products for both operand signs (the table path up to 12 bits, the model
    beyond) against a scalar loop, including the most negative code."""
    from hwsim.eval.hooks import FixedMatmul
    rng = np.random.default_rng(3)
    lo, hi = -(1 << (params.width - 1)), 1 << (params.width - 1)
    qa, qb = rng.integers(lo, hi, (2, 5, 9)), rng.integers(lo, hi, (2, 9, 4))
    qa[0, 0, 0] = lo
    model = drum_mul if isinstance(params, DrumMulParams) else realm_mul
    got = FixedMatmul(params).products(qa, qb)
    want = np.zeros((2, 5, 4))
    for g_, i, j, t in np.ndindex(2, 5, 4, 9):
        a, b = int(qa[g_, i, t]), int(qb[g_, t, j])
        want[g_, i, j] += (-1 if (a < 0) != (b < 0) else 1) * int(model(abs(a), abs(b), params))
    assert np.array_equal(got, want)


@pytest.mark.parametrize("unit, width", [("mitchell-mul", 6), ("mitchell-mul", 12),
                                         ("exact-mul", 9), ("exact-mul", 16)])
def test_product_kernels_equal_the_models_sums(unit, width):
    """A product unit's fast kernel (its registry ``Product.kernel``) against the generic
    path that sums the unit's model (the path a unit without a kernel takes: a table of
    signed products up to 11 bits, the model beyond)."""
    from hwsim.eval.hooks import _model_products, fixed_matmul
    from hwsim.units import get_unit
    f = fixed_matmul(unit, width)
    rng = np.random.default_rng(width)
    lo, hi = -(1 << (width - 1)), 1 << (width - 1)
    qa, qb = rng.integers(lo, hi, (3, 4, 17)), rng.integers(lo, hi, (3, 17, 5))
    qa[0, 0, :] = lo
    want = _model_products(qa, qb, f.params, get_unit(unit))
    assert np.abs(want).max() > 0
    assert np.array_equal(f.products(qa, qb), want.astype(np.float64))


def test_per_tensor_weights_block_mode_and_fixed_formats(digits_onnx):
    path, data = digits_onnx
    g = load(path)
    from hwsim.graph.assign import build_impl
    from hwsim.graph.evaluate import load_data
    feeds, _ = load_data(data, g)
    rule = {"op": "MatMul", "unit": "exact-mul", "width": 6}
    _, _, fr = build_impl(g, _assign(rule, calibration={"weights": "per-tensor"}), feeds)
    w = g.initializers["coefficient"]
    assert fr["coefficient"] == 5 - np.frexp(np.abs(w).max())[1]
    _, _, fr = build_impl(g, _assign(rule, formats={"cast_input": 3}), feeds)
    assert fr["cast_input"] == 3 and "coefficient" not in fr     # per-channel by default
    _, _, fr = build_impl(g, _assign(rule, calibration={"mode": "block"}), feeds)
    assert fr == {}
    # percentile calibration picks a smaller peak (more fraction bits) than max-abs
    env = g.run(feeds, keep=True)
    _, _, fp = build_impl(g, _assign(rule, calibration={"method": "percentile",
                                                        "percentile": 50}), feeds)
    _, _, fm = build_impl(g, _assign(rule), feeds)
    assert fp["next_activations"] >= fm["next_activations"]
    assert fm["next_activations"] == 5 - np.frexp(np.abs(env["next_activations"]).max())[1]
    # calibration rows: the first rows only
    _, _, f1 = build_impl(g, _assign(rule, calibration={"rows": 1}), feeds)
    one = g.run({"X": feeds["X"][:1]}, keep=True)
    assert f1["next_activations"] == 5 - np.frexp(np.abs(one["next_activations"]).max())[1]


def test_ops_on_units_change_the_outputs_and_attribution_names_each_node(digits_onnx):
    path, data = digits_onnx
    r = run_model(path, data, _assign({"op": "MatMul", "unit": "mitchell-mul", "width": 4},
                                      {"op": "Softmax", "unit": "softmax"}))
    assert set(r["assigned"]) == {"MatMul", "MatMul1", "Relu1"}     # skl2onnx's Softmax name
    assert r["assigned"]["MatMul"]["unit"] == "mitchell-mul" and r["assigned"]["MatMul"]["width"] == 4
    assert r["outputs"]["probabilities"]["max_abs_error"] > 1e-3
    att = r["attribution"]
    assert att["metric"] == "accuracy" and att["float"] == r["float_accuracy"]
    assert [n["node"] for n in att["nodes"]] == ["MatMul", "MatMul1", "Relu1"]
    # a 4-bit first layer alone loses accuracy: attribution sees it
    assert min(n["metric"] for n in att["nodes"]) < att["float"]


def _digits_study_model(tmp_path, w, dtype):
    """The digits study's trained weights as an ONNX graph (MatMul, Add, Relu, MatMul, Add)."""
    t = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    nodes = [helper.make_node("MatMul", ["x", "w0"], ["m0"], name="hidden"),
             helper.make_node("Add", ["m0", "b0"], ["a0"]),
             helper.make_node("Relu", ["a0"], ["h"]),
             helper.make_node("MatMul", ["h", "w1"], ["m1"], name="output"),
             helper.make_node("Add", ["m1", "b1"], ["logits"])]
    inits = [numpy_helper.from_array(np.asarray(v, dtype), k)
             for k, v in zip(["w0", "b0", "w1", "b1"], w)]
    g = helper.make_graph(nodes, "digits", [helper.make_tensor_value_info("x", t, [None, 64])],
                          [helper.make_tensor_value_info("logits", t, [None, 10])], inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    return Graph(m)


@pytest.mark.parametrize("multiplier,width", [("exact", 6), ("mitchell", 6), ("mitchell", 8)])
def test_reproduces_the_digits_study_bits(tmp_path, multiplier, width):
    """Same formats -> the same bits: the digits-mlp study's forward pass (its own per-tensor
    formats) and the ONNX path with those formats give identical logits."""
    from hwsim.studies import digits_mlp, mlp
    w = digits_mlp.train_float(0, 16, 5)
    _, _, xt, _ = mlp.dataset(0)
    params = {"multiplier": multiplier, "width": width, "keep_bits": None, "layers": "all"}
    want = digits_mlp.forward(xt, w, params, np.random.default_rng(0))
    g = _digits_study_model(tmp_path, w, np.float64)
    # the study's formats: one per tensor, from digits_mlp.fit_format; the hidden activations
    # it quantises are those of its own (approximate) first layer
    h_study = np.maximum(digits_mlp.approx_matmul(xt, w[0], params, None) + w[1], 0)
    fr = {name: digits_mlp.fit_format(v, width).frac_bits
          for name, v in (("x", xt), ("w0", w[0]), ("h", h_study), ("w1", w[2]))}
    from hwsim.graph.assign import build_impl
    unit = "exact-mul" if multiplier == "exact" else "mitchell-mul"
    a = _assign({"op": "MatMul", "unit": unit, "width": width},
                calibration={"weights": "per-tensor"}, formats=fr)
    impl, _, used = build_impl(g, a, {"x": xt})
    assert used == fr
    got = g.run({"x": xt}, impl)["logits"]
    assert np.array_equal(got, want)
    assert not np.array_equal(got, g.run({"x": xt})["logits"])   # and the units did something


def test_bad_models_and_data_are_one_line_errors(digits_onnx, tmp_path):
    path, data = digits_onnx
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\x08\x07garbage" * 10)
    with pytest.raises(ModelError, match=r"^MODEL: .*bad\.onnx is not a (readable|valid) ONNX model"):
        load(bad)
    g = load(path)
    with pytest.raises(ModelError, match=r"^--data: missing input\(s\) X \(the model's inputs: X float32\[None, 64\]\)$"):
        g.check_feeds({})
    with pytest.raises(ModelError, match=r"^--data: unknown array\(s\) Y "):
        g.check_feeds({"X": np.zeros((2, 64), np.float32), "Y": np.zeros(2)})
    with pytest.raises(ModelError, match=r"^--data: input X must have 64 on axis 1 \[None, 64\], not shape \[2, 63\]$"):
        g.check_feeds({"X": np.zeros((2, 63), np.float32)})
    with pytest.raises(ModelError, match=r"^--data: input X must have 2 axes \[None, 64\], not shape \[64\]$"):
        g.check_feeds({"X": np.zeros(64, np.float32)})
    with pytest.raises(ModelError, match=r"^--data: input X is float32, and an array of <U1 does "
                                         r"not cast to it safely .*; save X as float32$"):
        g.check_feeds({"X": np.array([["a"] * 64])})
    empty = tmp_path / "empty.npz"
    np.savez(empty, X=np.zeros((0, 64), np.float32))
    with pytest.raises(ModelError, match=r"^--data: .*empty\.npz has 0 rows; give at least one "
                                         r"row per input$"):
        load_data(empty, g)
    # ops hwsim has no kernel of its own for run in onnxruntime (Einsum, TopK) ...
    nodes = [helper.make_node("Einsum", ["x", "x"], ["y"], equation="ij,ij->ij", name="e1"),
             helper.make_node("TopK", ["y", "k"], ["v", "i"], name="t1"),
             helper.make_node("Einsum", ["v", "v"], ["z"], equation="ij,ij->ij", name="e2")]
    gr = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                           [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
                           [numpy_helper.from_array(np.array([1], np.int64), "k")])
    m = helper.make_model(gr, opset_imports=[helper.make_opsetid("", 17)])
    x = np.random.default_rng(3).normal(size=(2, 3)).astype(np.float32)
    want = np.sort(x * x, axis=-1)[:, -1:] ** 2
    np.testing.assert_allclose(Graph(m).run({"x": x})["z"], want, rtol=1e-6)
    # ... and an op onnxruntime does not run is refused when the model is loaded, in one line
    bad = tmp_path / "bad.onnx"
    m.graph.output[0].CopyFrom(helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 1]))
    m.graph.node[1].domain = "example.custom"
    m.opset_import.append(helper.make_opsetid("example.custom", 1))
    onnx.save(m, bad)
    with pytest.raises(ModelError, match=r"^onnxruntime cannot run .*bad\.onnx: .*TopK[^\n]*$"):
        load(bad)


def test_none_is_the_missing_null_in_assignments():
    from hwsim.mitchell import MitchellMulParams
    a = _assign({"op": "MatMul", "unit": "mitchell-mul", "width": 6, "keep_bits": "None"})
    assert a.rules[0].params == MitchellMulParams(width=6, keep_bits=None, signed=True)


@pytest.mark.parametrize("doc,msg", [
    ({"assign": [{"unit": "mitchell-mul", "width": 40}]},
     r"^A: assign\[0\]: MitchellMulParams.width must be an integer in 2..32, not 40$"),
    ({"assign": [{"unit": "mitchell-mul", "width": 30}]},
     r"^A: assign\[0\]: width must be at most 24 for ONNX products \(the int64 sums\), not 30$"),
    ({"assign": [{"unit": "mitchell-mul", "signed": False}]},
     r"^A: assign\[0\]: ONNX operands are signed; signed must be true, not False$"),
    ({"assign": [{"unit": "mitchell-div"}]},
     r"^A: assign\[0\]\.unit must be one of circuit-mul, drum-mul, exact-mul, exp, mitchell-mul, realm-mul, "
     r"softmax, not "
     r"'mitchell-div'; mitchell-div has no ONNX op to run$"),
    ({"assign": [{"unit": "drum-mul", "signed": True}]},
     r"^A: assign\[0\]: drum-mul has no parameter 'signed' \(it is unsigned and runs in "
     r"sign-magnitude form on the signed operands\)$"),
    ({"assign": [{"unit": "realm-mul", "width": 8, "keep_bits": 9}]},
     r"^A: assign\[0\]: RealmMulParams.keep_bits must be an integer in 1..7, not 9$"),
    ({"assign": [{"op": "Softmax", "unit": "mitchell-mul"}]},
     r"^A: assign\[0\]: unit mitchell-mul cannot run Softmax \(units for Softmax: exp, softmax\)$"),
    ({"assign": [{"op": "Relu", "unit": "mitchell-mul"}]},
     r"^A: assign\[0\]\.op: hwsim units implement MatMul, Gemm, Conv, QLinearMatMul, QLinearConv, MatMulInteger, ConvInteger, LinearClassifier, LinearRegressor, Softmax, not 'Relu'$"),
    ({"assign": [{"op": ["MatMul", "Relu"], "unit": "exact-mul"}]},
     r"^A: assign\[0\]\.op: hwsim units implement MatMul, Gemm, Conv, QLinearMatMul, QLinearConv, MatMulInteger, ConvInteger, LinearClassifier, LinearRegressor, Softmax, not 'Relu'$"),
    ({"assign": [{"op": [], "unit": "exact-mul"}]},
     r"^A: assign\[0\]\.op must be an op type or a list of op types, not \[\]$"),
    ({"assign": [{"op": "MatMul"}]}, r"^A: assign\[0\] needs a unit \(one of "),
    ({"assign": [{"unit": {"a": 1}}]},
     r"^A: assign\[0\]\.unit must be one of circuit-mul, drum-mul, .*, not \{'a': 1\}$"),
    ({"assign": [{"unit": "softmax", "length": 4}]},
     r"^A: assign\[0\]: softmax length comes from the model's rows; remove it$"),
    ({"assign": [{"unit": "exact-mul", "keep_bits": 3}]},
     r"^A: assign\[0\]: ExactMulParams has no parameter 'keep_bits' \(parameters: width, "
     r"signed, stages\)$"),
    ({"assign": {"unit": "exact-mul"}}, r"^A: assign must be an array of tables"),
    ({"calibration": {"mode": "dynamic"}},
     r"^A: calibration.mode must be one of static, block, not 'dynamic'$"),
    ({"calibration": {"percentile": 10}},
     r"^A: calibration.percentile must be a number in 50..100, not 10$"),
    ({"calibration": {"rows": 0}}, r"^A: calibration.rows must be an integer >= 1, not 0$"),
    ({"calibration": {"bits": 0}}, r"^A: calibration has no key 'bits'"),
    ({"formats": {"x": "Q4.4"}}, r"^A: formats must map tensor names to fraction bits"),
    ({"extra": {}}, r"^A: the file has no key 'extra' \(keys: assign, calibration, formats\)$"),
])
def test_bad_assignments(doc, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        parse_assignment(doc, "A")


def test_cli_run(digits_onnx, tmp_path, capsys):
    path, data = digits_onnx
    assign = tmp_path / "a.toml"
    assign.write_text('[[assign]]\nop = "MatMul"\nunit = "mitchell-mul"\nwidth = 8\n')
    out, js = tmp_path / "report", tmp_path / "r.json"
    assert main(["run", str(path), "--data", str(data), "--assign", str(assign), "--json",
                 str(js), "-o", str(out)]) == 0
    text = capsys.readouterr().out
    assert "2 node(s) on hwsim units" in text and "| probabilities |" in text
    r = json.loads(js.read_text())
    assert r["reference"] == "onnxruntime" and 0 <= r["accuracy"] <= 1
    assert {"cosine", "max_abs_error", "argmax_agreement"} <= set(r["outputs"]["probabilities"])
    assert (out / "report.md").read_text().startswith("# hwsim run")
    assert (out / "attribution.png").stat().st_size > 1000
    # a rule that matches nothing is named (a typo, not a silent float run)
    assign.write_text('[[assign]]\nnode = "attn*"\nunit = "mitchell-mul"\n')
    assert main(["run", str(path), "--data", str(data), "--assign", str(assign)]) == 0
    assert ("hwsim: warning: assign[0] (op=None, node=attn*, unit=mitchell-mul) matches no "
            "node of the model (ops a unit can run here: MatMul, Softmax)\n"
            ) in capsys.readouterr().err


@pytest.mark.parametrize("case", ["missing-model", "corrupt-model", "dir-data", "bad-npz",
                                  "wrong-input", "bad-toml", "binary-toml", "json-dir",
                                  "labels-shape", "unknown-option", "json-is-model",
                                  "json-is-data", "external-weights-missing", "nan-data",
                                  "assign-is-report", "external-weights-long", "nan-weights",
                                  "json-is-weights", "report-is-a-directory"])
def test_cli_run_errors_are_one_line(digits_onnx, tmp_path, capsys, case):
    path, data = digits_onnx
    args = ["run", str(path), "--data", str(data)]
    before = (path.read_bytes(), data.read_bytes())
    if case == "missing-model":
        args[1] = str(tmp_path / "none.onnx")
    elif case == "corrupt-model":
        (tmp_path / "c.onnx").write_bytes(b"not a model")
        args[1] = str(tmp_path / "c.onnx")
    elif case == "dir-data":
        args[3] = str(tmp_path)
    elif case == "bad-npz":
        (tmp_path / "b.npz").write_text("x")
        args[3] = str(tmp_path / "b.npz")
    elif case == "wrong-input":
        np.savez(tmp_path / "w.npz", Z=np.zeros((2, 64), np.float32))
        args[3] = str(tmp_path / "w.npz")
    elif case == "bad-toml":
        (tmp_path / "a.toml").write_text("[[assign]\n")
        args += ["--assign", str(tmp_path / "a.toml")]
    elif case == "binary-toml":
        (tmp_path / "a.toml").write_bytes(b"\x00\xff")
        args += ["--assign", str(tmp_path / "a.toml")]
    elif case == "json-dir":
        args += ["--json", str(tmp_path)]
    elif case == "json-is-model":  # the output would overwrite the model
        args += ["--json", str(path)]
    elif case == "json-is-data":
        args += ["--json", str(data)]
    elif case == "report-is-a-directory":  # found after the work, it left half a report
        (tmp_path / "o" / "report.md").mkdir(parents=True)
        args += ["-o", str(tmp_path / "o")]
    elif case == "json-is-weights":  # the model's external weights file
        import onnx
        from onnx import numpy_helper
        ext, model = tmp_path / "ext.onnx", onnx.load(str(path))
        for t in model.graph.initializer:
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t), t.name))
        onnx.save_model(model, str(ext), save_as_external_data=True, location="w.bin",
                        size_threshold=0)
        args[1] = str(ext)
        args += ["--json", str(tmp_path / "w.bin")]
    elif case == "external-weights-missing":  # copied model.onnx without model.onnx.data
        import onnx
        from onnx import numpy_helper
        ext, model = tmp_path / "ext.onnx", onnx.load(str(path))
        for t in model.graph.initializer:  # external data takes raw_data tensors only
            t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t), t.name))
        onnx.save_model(model, str(ext), save_as_external_data=True,
                        all_tensors_to_one_file=True, location="ext.onnx.data",
                        size_threshold=0)
        (tmp_path / "ext.onnx.data").unlink()
        args[1] = str(ext)
    elif case == "assign-is-report":  # -o DIR would write DIR/report.md over it
        (tmp_path / "report.md").write_text('[[assign]]\nop = "MatMul"\nunit = "exact-mul"\n')
        args += ["--assign", str(tmp_path / "report.md"), "-o", str(tmp_path)]
    elif case in ("external-weights-long", "nan-weights"):
        import onnx
        from onnx import numpy_helper
        bad, model = tmp_path / "bad.onnx", onnx.load(str(path))
        for t in model.graph.initializer:  # external data takes raw_data tensors only
            a = numpy_helper.to_array(t).copy()
            if case == "nan-weights" and t is model.graph.initializer[0]:
                a.flat[0] = np.nan
            t.CopyFrom(numpy_helper.from_array(a, t.name))
        if case == "nan-weights":
            onnx.save_model(model, str(bad))
        else:  # external data one element long, with no length recorded to check it by
            onnx.save_model(model, str(bad), save_as_external_data=True,
                            all_tensors_to_one_file=False, size_threshold=0)
            m = onnx.load(str(bad), load_external_data=False)
            for t in m.graph.initializer:
                keep = [e for e in t.external_data if e.key != "length"]
                del t.external_data[:]
                t.external_data.extend(keep)
            onnx.save_model(m, str(bad))
            w = tmp_path / m.graph.initializer[0].external_data[0].value
            w.write_bytes(w.read_bytes() + bytes(4))
        args[1] = str(bad)
    elif case == "nan-data":  # every metric would be NaN, and the JSON not JSON
        x = np.load(data)["X"].copy()
        x[2, 3] = np.inf
        np.savez(tmp_path / "n.npz", X=x)
        args[3] = str(tmp_path / "n.npz")
    elif case == "labels-shape":
        np.savez(tmp_path / "l.npz", X=np.zeros((3, 64), np.float32), labels=np.zeros(2, np.int64))
        args[3] = str(tmp_path / "l.npz")
    else:
        args += ["--width", "8"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwsim: error: ") and err.count("\n") == 1 and "Traceback" not in err
    assert (path.read_bytes(), data.read_bytes()) == before
    assert {"external-weights-long": "has unreadable weights", "nan-weights": "must hold "
            "finite weights, not 1 NaN / inf", "assign-is-report": "is the --assign file",
            "json-is-weights": "is the MODEL weights file"
            }.get(case, "") in err


@pytest.fixture(scope="module")
def digits_qdq(digits_onnx):
    """The digits model quantised by onnxruntime.quantization.quantize_static (QDQ, int8
    activations with zero points, per-channel int8 weights)."""
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, QuantType,
                                          quantize_static)
    path, data = digits_onnx
    x = np.load(data)["X"]

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.it = iter([{"X": x[i:i + 1]} for i in range(64)])

        def get_next(self):
            return next(self.it, None)

    out = path.parent / "mlp_qdq.onnx"
    quantize_static(str(path), str(out), Reader(), quant_format=QuantFormat.QDQ,
                    activation_type=QuantType.QInt8, weight_type=QuantType.QInt8,
                    per_channel=True)
    return out, data


def test_qdq_model_runs_integer_codes_through_the_unit(digits_qdq):
    path, data = digits_qdq
    g = load(path)
    from hwsim.graph.assign import build_impl
    from hwsim.graph.evaluate import load_data
    feeds, _ = load_data(data, g)
    impl, nodes, fracs = build_impl(g, _assign({"op": "MatMul", "unit": "mitchell-mul"}), feeds)
    assert set(nodes) == {"MatMul", "MatMul1"} and fracs == {}
    # int8 activations with a zero point: codes q - z need 9 signed bits
    assert impl["MatMul"].qdq_width == 9
    env = g.run(feeds, impl, keep=True)
    q = env["cast_input_QuantizeLinear_Output"].astype(np.int64)
    ini = g.initializers
    ca = q - ini["cast_input_zero_point"].astype(np.int64)
    cb = ini["coefficient_quantized"].astype(np.int64) - ini["coefficient_zero_point"].astype(np.int64)
    prods = mitchell_mul(ca[:, :, None], cb[None, :, :], MitchellMulParams(width=9, signed=True))
    want = (prods.sum(axis=1) * (float(ini["cast_input_scale"])
                                 * ini["coefficient_scale"].astype(np.float64))).astype(np.float32)
    assert np.array_equal(env["mul_result"], want)
    # REALM on the same codes: the unit at 9 bits in sign-magnitude form
    impl, _, _ = build_impl(g, _assign({"op": "MatMul", "unit": "realm-mul", "keep_bits": 4}),
                            feeds)
    env = g.run(feeds, impl, keep=True)
    rp = RealmMulParams(width=9, keep_bits=4)
    mags = realm_mul(np.abs(ca)[:, :, None], np.abs(cb)[None, :, :], rp)
    prods = np.where((ca[:, :, None] < 0) != (cb[None] < 0), -mags, mags)
    want = (prods.sum(axis=1) * (float(ini["cast_input_scale"])
                                 * ini["coefficient_scale"].astype(np.float64))).astype(np.float32)
    assert np.array_equal(env["mul_result"], want)
    r = run_model(path, data, _assign({"op": "MatMul", "unit": "exact-mul"}))
    assert r["float_path_error"] <= 1e-5 and r["assigned"]["MatMul"]["qdq_width"] == 9
    # exact integer products: ORT's float MatMul on dequantised values gives the same codes
    assert r["outputs"]["probabilities"]["argmax_agreement"] == 1.0
    assert r["outputs"]["probabilities"]["max_abs_error"] <= 1e-6


def test_onnx_study_sweeps_and_keys_rows_by_file_content(digits_onnx, tmp_path, capsys):
    import csv
    import shutil
    path, data = digits_onnx
    model = tmp_path / "m.onnx"
    shutil.copy(path, model)
    cfg = tmp_path / "s.toml"
    cfg.write_text(f'study = "onnx"\nseeds = [0]\n[fixed]\nmodel = "{model}"\ndata = "{data}"\n'
                   f'[grid]\nproducts = ["exact", "mitchell"]\nwidth = [4, 8]\n')
    out = tmp_path / "sw"
    assert main(["sweep", str(cfg), "-o", str(out), "--jobs", "1", "--no-plots"]) == 0
    rows = list(csv.DictReader(open(out / "results.csv")))
    assert len(rows) == 4 and {r["products"] for r in rows} == {"exact", "mitchell"}
    acc = {(r["products"], r["width"]): float(r["accuracy"]) for r in rows}
    direct = run_model(path, data, _assign({"op": ["MatMul", "Gemm", "Conv"], "node": "*",
                                            "unit": "mitchell-mul", "width": 4}),
                       attribution=False)
    assert acc[("mitchell", "4")] == direct["accuracy"]
    capsys.readouterr()
    assert main(["sweep", str(cfg), "-o", str(out), "--jobs", "1", "--no-plots"]) == 0
    assert "4 already stored, 0 computed" in capsys.readouterr().out
    # a changed model file (same path) is recomputed, never served the old rows
    m = onnx.load(model)
    m.doc_string = "edited"
    onnx.save(m, model)
    assert main(["sweep", str(cfg), "-o", str(out), "--jobs", "1", "--no-plots"]) == 0
    assert "0 already stored, 4 computed" in capsys.readouterr().out
    cfg.write_text(f'study = "onnx"\n[fixed]\nmodel = "{tmp_path / "none.onnx"}"\n'
                   f'data = "{data}"\n')
    assert main(["sweep", str(cfg), "-o", str(out)]) == 2
    assert "is not an existing file" in capsys.readouterr().err


def test_conv_and_gemm_on_the_unit_are_its_bits(tmp_path):
    """A CNN graph: a grouped, strided, padded Conv and a Gemm (transB) on Mitchell-6, static
    formats. Each output equals an independent computation: im2col by loops, operands
    rounded with the calibrated / per-channel fraction bits, mitchell_mul products."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 2, 6, 6)).astype(np.float32)
    w = rng.normal(0, 0.5, (4, 1, 3, 3)).astype(np.float32)
    wf = rng.normal(0, 0.5, (5, 4 * 3 * 3)).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], strides=[2, 2], pads=[1, 1, 1, 1],
                              group=2, name="conv"),
             helper.make_node("Flatten", ["c"], ["f"]),
             helper.make_node("Gemm", ["f", "wf"], ["y"], transB=1, name="fc")]
    g = helper.make_graph(nodes, "cnn", [helper.make_tensor_value_info("x", TensorProto.FLOAT,
                                                                       [None, 2, 6, 6])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
                          [numpy_helper.from_array(w, "w"), numpy_helper.from_array(wf, "wf")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    graph = Graph(m)
    from hwsim.graph.assign import build_impl
    a = _assign({"op": ["Conv", "Gemm"], "unit": "mitchell-mul", "width": 6})
    impl, nodes_, fr = build_impl(graph, a, {"x": x})
    assert set(nodes_) == {"conv", "fc"}
    env = graph.run({"x": x}, impl, keep=True)
    p6 = MitchellMulParams(width=6, signed=True)

    def q(v, f):
        return np.clip(np.rint(np.asarray(v, np.float64) * 2.0 ** f), -32, 31).astype(np.int64)

    def col_frac(wm):   # per output channel = per column of the right operand
        return np.array([5 - np.frexp(np.abs(wm[:, j]).max())[1] for j in range(wm.shape[1])])

    xp = np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)])
    want = np.zeros((3, 4, 3, 3))
    for grp in range(2):
        wm = w[2 * grp:2 * grp + 2].reshape(2, -1).T              # (9, 2): columns = channels
        fw = col_frac(wm)
        for n in range(3):
            for i in range(3):
                for j in range(3):
                    patch = xp[n, grp, 2 * i:2 * i + 3, 2 * j:2 * j + 3].reshape(-1)
                    prods = mitchell_mul(q(patch, fr["x"])[:, None], q(wm, fw), p6)
                    want[n, 2 * grp:2 * grp + 2, i, j] = prods.sum(0) * 2.0 ** -(fr["x"] + fw)
    assert np.array_equal(env["c"], want.astype(np.float32))
    wm = wf.T
    fw = col_frac(wm)
    prods = mitchell_mul(q(env["f"], fr["f"])[:, :, None], q(wm, fw)[None], p6)
    assert np.array_equal(env["y"], (prods.sum(1) * 2.0 ** -(fr["f"] + fw)).astype(np.float32))


def test_a_qdq_model_against_its_float_model(digits_onnx, digits_qdq, capsys, tmp_path):
    path, data = digits_onnx
    qdq, _ = digits_qdq
    r = run_model(qdq, data, reference=path, attribution=False)
    assert r["reference_model"] == str(path) and r["float_path_error"] <= 1e-5
    # int8 quantisation itself now shows: the QDQ model differs from the float model
    p = r["outputs"]["probabilities"]
    assert 0 < p["max_abs_error"] and p["cosine"] > 0.99
    assert r["float_accuracy"] == run_model(path, data, attribution=False)["float_accuracy"]
    assert main(["run", str(qdq), "--data", str(data), "--reference", str(path)]) == 0
    assert f"reference onnxruntime running {path}" in capsys.readouterr().out
    other = tmp_path / "other.onnx"
    m = onnx.load(path)
    m.graph.output.pop()
    onnx.save(m, other)
    assert main(["run", str(qdq), "--data", str(data), "--reference", str(other)]) == 2
    assert "--reference: " in capsys.readouterr().err


def test_onnx_study_key_covers_external_weights(digits_onnx, tmp_path):
    """A sweep row is keyed by the model's SHA-256 and, for weights in external files, by
    theirs: a changed weights file is a new task, never the old row."""
    import hashlib

    import onnx
    from onnx import numpy_helper

    from hwsim.studies.onnx_model import normalize
    path, data = digits_onnx
    plain = normalize({"model": str(path), "data": str(data)})["model_sha256"]
    assert plain == hashlib.sha256(path.read_bytes()).hexdigest()
    model = onnx.load(str(path))
    for t in model.graph.initializer:
        t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(t), t.name))
    ext = tmp_path / "ext.onnx"
    onnx.save_model(model, str(ext), save_as_external_data=True, all_tensors_to_one_file=True,
                    location="w.bin", size_threshold=0)
    before = normalize({"model": str(ext), "data": str(data)})["model_sha256"]
    w = tmp_path / "w.bin"
    b = bytearray(w.read_bytes())
    b[0] ^= 1
    w.write_bytes(bytes(b))
    after = normalize({"model": str(ext), "data": str(data)})["model_sha256"]
    assert len({plain, before, after}) == 3
