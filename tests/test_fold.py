"""BatchNormalization folded into the Conv before it (hwsim.graph.fold), as deployment does.

The folded graph equals the original in float32 within a derived bound: both compute
``s (conv(x, W) + b - mean) + beta`` (``s = gamma / sqrt(var + eps)``), one as written and one
with ``W' = fl(s W)``, ``b' = fl((b - mean) s + beta)``; a float32 sum of K products and a
handful of further roundings is within ``gamma_n (sum |terms|)``, ``gamma_n = n u / (1 - n u)``,
``u = 2**-24``, for any order of summation, so the two differ by at most
``2 gamma_(K+4) (|s| (conv(|x|, |W|) + |b| + |mean|) + |beta|)`` per element.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

U = 2.0 ** -24


def _model(path, seed=0, extra_reader=False, training=False, bias=True):
    rng = np.random.default_rng(seed)
    f32 = np.float32
    c, m = 3, 6
    p = {"w": rng.normal(0, 0.5, (m, c, 3, 3)).astype(f32), "b": rng.normal(0, 0.2, m).astype(f32),
         "gamma": rng.uniform(0.2, 3.0, m).astype(f32), "beta": rng.normal(0, 0.5, m).astype(f32),
         "mean": rng.normal(0, 1.0, m).astype(f32), "var": rng.uniform(0.05, 4.0, m).astype(f32)}
    nodes = [helper.make_node("Pad", ["x", "pads"], ["xp"], name="pad", mode="constant"),
             helper.make_node("Conv", ["xp", "w", "b"] if bias else ["xp", "w"], ["y"],
                              name="conv", pads=[0, 0, 0, 0]),
             helper.make_node("BatchNormalization", ["y", "gamma", "beta", "mean", "var"], ["z"],
                              name="bn", epsilon=1e-3,
                              **({"training_mode": 1} if training else {})),
             helper.make_node("Relu", ["z"], ["r"], name="relu"),
             helper.make_node("GlobalAveragePool", ["r"], ["g"], name="gap"),
             helper.make_node("Flatten", ["g"], ["out"], name="flat")]
    outs = [helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, m]),
            helper.make_tensor_value_info("z", TensorProto.FLOAT, [None, m, 7, 7])]
    if extra_reader:
        nodes.append(helper.make_node("Identity", ["y"], ["y_copy"], name="copy"))
        outs.append(helper.make_tensor_value_info("y_copy", TensorProto.FLOAT, [None, m, 7, 7]))
    if not bias:      # PyTorch's Conv2d(bias=False) before a BatchNorm2d
        p["b"] = np.zeros_like(p["b"])
    inits = [numpy_helper.from_array(v, k) for k, v in p.items() if bias or k != "b"]
    inits.append(numpy_helper.from_array(np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64), "pads"))
    g = helper.make_graph(nodes, "convbn",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, c, 7, 7])],
                          outs, inits)
    mod = helper.make_model(g, opset_imports=[helper.make_opsetid("", 15)])
    mod.ir_version = 8
    onnx.save(mod, str(path))
    return p, rng.normal(0, 1, (10, c, 7, 7)).astype(np.float32)


@pytest.mark.parametrize("bias", [True, False])
def test_folded_conv_equals_conv_then_batchnorm_within_the_float32_bound(tmp_path, bias):
    from hwsim.graph.fold import fold_batchnorm
    from hwsim.graph.model import load
    from hwsim.graph.ops import conv
    p, x = _model(tmp_path / "m.onnx", bias=bias)
    g = load(tmp_path / "m.onnx")
    folded, lines = fold_batchnorm(g)
    assert lines == ["BatchNormalization bn folded into Conv conv"]
    assert [n.op_type for n in folded.nodes] == ["Pad", "Conv", "Relu", "GlobalAveragePool",
                                                 "Flatten"]
    assert [n.op_type for n in g.nodes].count("BatchNormalization") == 1   # the original stays
    z, z2 = g.run({"x": x})["z"], folded.run({"x": x})["z"]
    xp = np.pad(x.astype(np.float64), [(0, 0), (0, 0), (1, 1), (1, 1)])
    mag = conv([np.abs(xp), np.abs(p["w"].astype(np.float64))], {})[0]
    s = p["gamma"].astype(np.float64) / np.sqrt(p["var"].astype(np.float64) + 1e-3)
    k = 3 * 3 * 3
    gam = (k + 4) * U / (1 - (k + 4) * U)
    ch = (1, -1, 1, 1)
    bound = 2 * gam * (np.abs(s).reshape(ch) * (mag + np.abs(p["b"]).reshape(ch)
                                                + np.abs(p["mean"]).reshape(ch))
                       + np.abs(p["beta"]).reshape(ch))
    err = np.abs(z2.astype(np.float64) - z.astype(np.float64))
    assert (err <= bound).all(), float((err / bound).max())
    assert bound.max() < 1e-4 * np.abs(z).max()      # the bound is tight enough to mean something
    # the folded weights are what the formula says (float64, rounded once)
    w2 = folded.initializers[folded.node("conv").inputs[1]]
    assert np.array_equal(w2, (p["w"].astype(np.float64) * s.reshape(-1, 1, 1, 1)).astype(np.float32))


@pytest.mark.parametrize("kw", [{"extra_reader": True}, {"training": True}])
def test_not_folded_when_another_node_reads_the_conv_or_in_training_mode(tmp_path, kw):
    from hwsim.graph.fold import fold_batchnorm, foldable_batchnorms
    from hwsim.graph.model import Graph
    _model(tmp_path / "m.onnx", **kw)
    g = Graph(onnx.load(str(tmp_path / "m.onnx")))
    assert foldable_batchnorms(g) == [] and fold_batchnorm(g) == (g, [])


def test_hwsim_run_folds_for_an_assigned_conv_and_says_so(tmp_path, capsys):
    from hwsim.cli import main
    _, x = _model(tmp_path / "m.onnx")
    np.savez(tmp_path / "d.npz", x=x)
    base = ["run", str(tmp_path / "m.onnx"), "--data", str(tmp_path / "d.npz"),
            "--no-attribution", "--json"]
    assert main(base + [str(tmp_path / "float.json")]) == 0
    assert "folded" not in capsys.readouterr().out
    assert json.loads((tmp_path / "float.json").read_text())["rewrites"] == []
    (tmp_path / "a.toml").write_text('[[assign]]\nop = "Conv"\nunit = "exact-mul"\nwidth = 16\n')
    assert main(base + [str(tmp_path / "r.json"), "--assign", str(tmp_path / "a.toml")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "BatchNormalization bn folded into Conv conv"
    r = json.loads((tmp_path / "r.json").read_text())
    assert r["rewrites"] == ["BatchNormalization bn folded into Conv conv"]
    assert list(r["assigned"]) == ["conv"]
    assert r["outputs"]["z"]["cosine"] > 0.9999     # 16-bit exact products of the folded Conv
