"""ONNX Runtime's QOperator form on hwsim's product units (hwsim.graph.qoperator).

The test models are quantised here by onnxruntime.quantization from a small seeded float
model: quantize_static(QuantFormat.QOperator) gives QLinearConv / QLinearMatMul,
quantize_dynamic gives ConvInteger / MatMulInteger. With the exact product unit every
QOperator node's output equals ONNX Runtime's code for code (the integer sums are the same
and the requantisation repeats ORT's float32 steps); with another unit the node's output
equals the unit model's products of the codes, summed, computed here independently.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from hwsim.units import Product, REGISTRY  # noqa: E402


def _float_model(path, seed=0):
    """Conv (pads) + Relu + Flatten + MatMul + Add: a seeded float model."""
    rng = np.random.default_rng(seed)

    def init(name, a):
        return numpy_helper.from_array(a.astype(np.float32), name)
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 3, 6, 6])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], name="conv1", pads=[1, 1, 1, 1]),
             helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
             helper.make_node("Flatten", ["r1"], ["f"], name="flat"),
             helper.make_node("MatMul", ["f", "w2"], ["m"], name="fc"),
             helper.make_node("Add", ["m", "b2"], ["y"], name="fc_bias")]
    g = helper.make_graph(nodes, "small", [x], [y],
                          [init("w1", rng.normal(0, 0.3, (5, 3, 3, 3))),
                           init("b1", rng.normal(0, 0.1, 5)),
                           init("w2", rng.normal(0, 0.1, (5 * 36, 4))),
                           init("b2", rng.normal(0, 0.1, 4))])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    onnx.save(m, str(path))
    return rng.normal(0, 1, (12, 3, 6, 6)).astype(np.float32)


def _quantized(tmp_path, kind, seed=0, **options):
    from onnxruntime.quantization import (CalibrationDataReader, QuantFormat, quantize_dynamic,
                                          quantize_static)
    f = tmp_path / "float.onnx"
    data = _float_model(f, seed)
    q = tmp_path / f"{kind}.onnx"
    if kind == "static":
        class Reader(CalibrationDataReader):
            def __init__(self):
                self.it = iter([{"x": data[i:i + 4]} for i in range(0, len(data), 4)])

            def get_next(self):
                return next(self.it, None)
        quantize_static(str(f), str(q), Reader(), quant_format=QuantFormat.QOperator, **options)
    else:
        quantize_dynamic(str(f), str(q))
    return f, q, data


def _run(q, data, unit, width=8):
    from hwsim.graph.assign import build_impl, parse_assignment
    from hwsim.graph.model import load
    g = load(q)
    a = parse_assignment({"assign": [{"unit": unit, "width": width}]})
    impl, nodes, _ = build_impl(g, a, {"x": data})
    return g, impl, nodes, g.run({"x": data}, impl, keep=True), g.run({"x": data}, keep=True)


def _static_options(name):
    from onnxruntime.quantization import QuantType
    return {"int8": {}, "per-channel": {"per_channel": True},
            "uint8": {"activation_type": QuantType.QUInt8, "weight_type": QuantType.QUInt8}}[name]


@pytest.mark.parametrize("kind,options,ops", [
    ("static", "int8", {"QLinearConv", "QLinearMatMul"}),
    ("static", "per-channel", {"QLinearConv", "QLinearMatMul"}),
    ("static", "uint8", {"QLinearConv", "QLinearMatMul"}),
    ("dynamic", None, {"ConvInteger", "MatMulInteger"})])
def test_exact_unit_equals_onnxruntime_code_for_code(tmp_path, kind, options, ops):
    _, q, data = _quantized(tmp_path, kind, **(_static_options(options) if options else {}))
    g, impl, nodes, got, ref = _run(q, data, "exact-mul")
    assert {g.node(n).op_type for n in nodes} == ops
    for n in nodes:
        out = g.node(n).outputs[0]
        assert got[out].dtype == ref[out].dtype
        assert np.array_equal(got[out], ref[out]), n
        assert impl[n].qdq_width in (8, 9)
    assert np.array_equal(got["y"], ref["y"])


def _codes(g, env, node, i_code, i_zp):
    c = env[node.inputs[i_code]].astype(np.int64)
    if i_zp < len(node.inputs) and node.inputs[i_zp]:
        c = c - np.asarray(env[node.inputs[i_zp]]).astype(np.int64).reshape(())
    return c


@pytest.mark.parametrize("unit", ["mitchell-mul", "drum-mul"])
def test_matmul_integer_sums_the_units_products_of_the_codes(tmp_path, unit):
    from hwsim.units import get_unit
    _, q, data = _quantized(tmp_path, "dynamic", seed=1)
    g, impl, nodes, got, ref = _run(q, data, unit)
    node = next(g.node(n) for n in nodes if g.node(n).op_type == "MatMulInteger")
    w = impl[node.name].qdq_width
    assert w == 9    # uint8 codes minus a zero point known only at run time
    a, b = _codes(g, got, node, 0, 2), _codes(g, got, node, 1, 3)   # its inputs in this run
    spec = get_unit(unit)
    params = spec.params_cls.from_dict({"width": w, **spec.fixed})
    mag = spec.graph.sign_magnitude
    x, y = np.broadcast_arrays(a[:, :, None], b[None, :, :])
    if mag:
        p = spec.model(params, {"a": np.abs(x), "b": np.abs(y)})
        p = np.sign(x) * np.sign(y) * np.asarray(next(iter(p.values())), dtype=np.int64)
    else:
        p = np.asarray(next(iter(spec.model(params, {"a": x, "b": y}).values())), dtype=np.int64)
    want = p.sum(1)
    out = node.outputs[0]
    assert got[out].dtype == np.int32
    assert np.array_equal(got[out].astype(np.int64), want)
    assert not np.array_equal(got[out], ref[out])      # the unit is approximate


def test_products_broadcast_a_single_weight_matrix(tmp_path):
    """A Conv's one weight matrix against a stack of images: every kernel sees it per image
    (a Mitchell kernel once read a stack of 1 against G wrongly: sums off by 1e9)."""
    from hwsim.eval.hooks import FixedMatmul
    from hwsim.mitchell import MitchellMulParams, mitchell_mul
    p = MitchellMulParams(width=9, signed=True)
    rng = np.random.default_rng(3)
    a, b = rng.integers(-256, 256, (3, 4, 6)), rng.integers(-256, 256, (6, 5))
    want = mitchell_mul(a[:, :, :, None], b[None, None, :, :], p).sum(2)
    assert np.array_equal(FixedMatmul(p).products(a, b), want)
    assert np.array_equal(FixedMatmul(p).products(a, b[None]), want)


def test_hwsim_run_reports_the_qoperator_nodes(tmp_path):
    from hwsim.cli import main
    f, q, data = _quantized(tmp_path, "static")
    np.savez(tmp_path / "d.npz", x=data)
    (tmp_path / "a.toml").write_text('[[assign]]\nunit = "mitchell-mul"\nwidth = 8\n')
    rc = main(["run", str(q), "--data", str(tmp_path / "d.npz"), "--assign",
               str(tmp_path / "a.toml"), "--reference", str(f), "--no-attribution",
               "--json", str(tmp_path / "r.json")])
    assert rc == 0
    r = json.loads((tmp_path / "r.json").read_text())
    assert {v["op"] for v in r["assigned"].values()} == {"QLinearConv", "QLinearMatMul"}
    assert all(v["qdq_width"] == 9 and v["unit"] == "mitchell-mul"
               for v in r["assigned"].values())
    assert 0.9 < r["outputs"]["y"]["cosine"] < 1.0


def test_product_units_list_the_qoperator_ops():
    from hwsim.units import units_by_op
    by_op = units_by_op()
    for op in Product.quantized_ops:
        assert set(by_op[op]) == {s.name for s in REGISTRY.values() if isinstance(s.graph, Product)}


def test_explore_counts_the_qoperator_products(tmp_path):
    """explore prices a node by its multiply-accumulates per row: a QOperator node counts as
    its float form does (QLinearConv's weights are its input 3)."""
    from hwsim.explore.cost import node_ops
    from hwsim.graph.model import load
    f, q, data = _quantized(tmp_path, "static")
    fg, qg = load(f), load(q)
    want = node_ops(fg, {"x": data}, ["conv1", "fc"])
    got = node_ops(qg, {"x": data}, [n.name for n in qg.nodes
                                     if n.op_type in ("QLinearConv", "QLinearMatMul")])
    assert sorted(v[0] for v in got.values()) == sorted(v[0] for v in want.values())
    assert sorted(v[0] for v in want.values()) == [4 * 180, 5 * 36 * 27]
