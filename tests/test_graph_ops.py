"""hwsim's ONNX interpreter (float path) against ONNX Runtime: every supported op, random
shapes and attributes (hypothesis), one node per model; and whole models (a small CNN).

The contract: max |hwsim - ort| / max |ort| <= 1e-5 on every output.
"""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtl import require_module

require_module("onnx", "ml")
require_module("onnxruntime", "ml")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from hwsim.graph.evaluate import _float_path_error, reference_outputs  # noqa: E402
from hwsim.graph.model import Graph  # noqa: E402

TOL = 1e-5
F = TensorProto.FLOAT
I64 = TensorProto.INT64
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def model(nodes, inputs: dict, outputs: list, inits: dict | None = None, opset=17):
    """A model from nodes, ``{name: array}`` inputs (fed at run time), output names and
    ``{name: array}`` initializers."""
    def vi(name, a):
        return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(a.dtype),
                                             list(a.shape))
    g = helper.make_graph(
        nodes, "g", [vi(k, v) for k, v in inputs.items()],
        [helper.make_empty_tensor_value_info(o) for o in outputs],
        [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    return m


def check(m, feeds):
    g = Graph(m)
    ref = reference_outputs(g, feeds)
    got = g.run(feeds)
    for k in ref:
        assert np.asarray(got[k]).shape == np.asarray(ref[k]).shape, k
        assert np.asarray(got[k]).dtype == np.asarray(ref[k]).dtype, (k, got[k].dtype, ref[k].dtype)
    err = _float_path_error(got, ref)
    assert err <= TOL, err
    return got


def rnd(seed, *shape, lo=-2.0, hi=2.0):
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(np.float32)


shapes = st.lists(st.integers(1, 5), min_size=1, max_size=4)
seeds = st.integers(0, 2 ** 31)


@SETTINGS
@given(shape=shapes, seed=seeds, op=st.sampled_from(
    ["Relu", "Tanh", "Sigmoid", "Erf", "Exp", "Neg", "Abs", "Sqrt", "Log", "Floor", "Ceil",
     "Reciprocal", "Identity"]))
def test_unary(shape, seed, op):
    x = rnd(seed, *shape)
    if op in ("Sqrt", "Log", "Reciprocal"):
        x = np.abs(x) + 0.1
    check(model([helper.make_node(op, ["x"], ["y"])], {"x": x}, ["y"]), {"x": x})


@SETTINGS
@given(shape=shapes, seed=seeds, op=st.sampled_from(["Add", "Sub", "Mul", "Div", "Pow", "Max",
                                                    "Min", "Equal", "Less", "Greater"]),
       drop=st.integers(0, 3))
def test_binary_broadcast(shape, seed, op, drop):
    a = rnd(seed, *shape)
    b = rnd(seed + 1, *shape[drop:]) if drop < len(shape) else rnd(seed + 1, 1)
    if op in ("Div",):
        b = np.where(np.abs(b) < 0.1, 0.5, b).astype(np.float32)
    if op == "Pow":
        a = np.abs(a) + 0.1
    check(model([helper.make_node(op, ["a", "b"], ["y"])], {"a": a, "b": b}, ["y"]),
          {"a": a, "b": b})


@SETTINGS
@given(n=st.integers(1, 4), k=st.integers(1, 9), m=st.integers(1, 6), batch=st.integers(0, 2),
       seed=seeds)
def test_matmul(n, k, m, batch, seed):
    lead = (2,) * batch
    a, b = rnd(seed, *lead, n, k), rnd(seed + 1, k, m)
    check(model([helper.make_node("MatMul", ["a", "b"], ["y"])], {"a": a}, ["y"], {"b": b}),
          {"a": a})


@SETTINGS
@given(n=st.integers(1, 4), k=st.integers(1, 7), m=st.integers(1, 5), ta=st.booleans(),
       tb=st.booleans(), alpha=st.sampled_from([1.0, 0.5]), beta=st.sampled_from([1.0, 2.0]),
       seed=seeds)
def test_gemm(n, k, m, ta, tb, alpha, beta, seed):
    a = rnd(seed, *((k, n) if ta else (n, k)))
    b = rnd(seed + 1, *((m, k) if tb else (k, m)))
    c = rnd(seed + 2, m)
    node = helper.make_node("Gemm", ["a", "b", "c"], ["y"], transA=int(ta), transB=int(tb),
                            alpha=alpha, beta=beta)
    check(model([node], {"a": a}, ["y"], {"b": b, "c": c}), {"a": a})


@SETTINGS
@given(dims=st.sampled_from([1, 2]), cin=st.integers(1, 3), groups=st.sampled_from([1, 2]),
       cout=st.integers(1, 3), size=st.integers(4, 8), k=st.integers(1, 3),
       stride=st.integers(1, 2), pad=st.integers(0, 2), dil=st.integers(1, 2),
       bias=st.booleans(), seed=seeds)
def test_conv(dims, cin, groups, cout, size, k, stride, pad, dil, bias, seed):
    cin, cout = cin * groups, cout * groups
    x = rnd(seed, 2, cin, *([size] * dims))
    w = rnd(seed + 1, cout, cin // groups, *([k] * dims))
    inits = {"w": w}
    ins = ["x", "w"]
    if bias:
        inits["b"] = rnd(seed + 2, cout)
        ins.append("b")
    node = helper.make_node("Conv", ins, ["y"], strides=[stride] * dims, pads=[pad] * 2 * dims,
                            dilations=[dil] * dims, group=groups)
    check(model([node], {"x": x}, ["y"], inits), {"x": x})


@SETTINGS
@given(kind=st.sampled_from(["MaxPool", "AveragePool"]), size=st.integers(3, 8),
       k=st.integers(1, 3), stride=st.integers(1, 2), pad=st.integers(0, 1),
       include=st.booleans(), ceil=st.booleans(), seed=seeds)
def test_pool(kind, size, k, stride, pad, include, ceil, seed):
    pad = min(pad, k - 1)
    x = rnd(seed, 1, 2, size, size)
    attrs = dict(kernel_shape=[k, k], strides=[stride, stride], pads=[pad] * 4,
                 ceil_mode=int(ceil))
    if kind == "AveragePool":
        attrs["count_include_pad"] = int(include)
    check(model([helper.make_node(kind, ["x"], ["y"], **attrs)], {"x": x}, ["y"]), {"x": x})


def test_global_pools_flatten_and_auto_pad():
    x = rnd(3, 2, 3, 5, 7)
    for op in ("GlobalAveragePool", "GlobalMaxPool"):
        check(model([helper.make_node(op, ["x"], ["y"])], {"x": x}, ["y"]), {"x": x})
    for axis in (0, 1, 2, -1):
        check(model([helper.make_node("Flatten", ["x"], ["y"], axis=axis)], {"x": x}, ["y"]),
              {"x": x})
    for auto in ("SAME_UPPER", "SAME_LOWER", "VALID"):
        w = rnd(4, 4, 3, 2, 3)
        node = helper.make_node("Conv", ["x", "w"], ["y"], auto_pad=auto, strides=[2, 2])
        check(model([node], {"x": x}, ["y"], {"w": w}), {"x": x})


@SETTINGS
@given(shape=st.lists(st.integers(1, 5), min_size=2, max_size=4), seed=seeds,
       axis=st.integers(-1, 1), opset=st.sampled_from([11, 13, 17]))
def test_softmax(shape, seed, axis, opset):
    x = rnd(seed, *shape, lo=-8, hi=8)
    for op in ("Softmax", "LogSoftmax"):
        check(model([helper.make_node(op, ["x"], ["y"], axis=axis)], {"x": x}, ["y"],
                    opset=opset), {"x": x})


@SETTINGS
@given(shape=st.lists(st.integers(1, 6), min_size=1, max_size=3), seed=seeds,
       axis=st.integers(-1, 0))
def test_layer_norm_and_its_decomposed_form(shape, seed, axis):
    x = rnd(seed, *shape)
    norm = shape[axis:] if axis < 0 else shape
    norm = shape[-1:] if axis == -1 else shape
    s, b = rnd(seed + 1, *norm), rnd(seed + 2, *norm)
    node = helper.make_node("LayerNormalization", ["x", "s", "b"], ["y"], axis=axis,
                            epsilon=1e-5)
    check(model([node], {"x": x}, ["y"], {"s": s, "b": b}), {"x": x})
    # ReduceMean / Sub / Pow / Sqrt / Div (opset 17: ReduceMean axes as an attribute)
    nodes = [helper.make_node("ReduceMean", ["x"], ["m"], axes=[-1]),
             helper.make_node("Sub", ["x", "m"], ["d"]),
             helper.make_node("Pow", ["d", "two"], ["d2"]),
             helper.make_node("ReduceMean", ["d2"], ["v"], axes=[-1]),
             helper.make_node("Add", ["v", "eps"], ["ve"]),
             helper.make_node("Sqrt", ["ve"], ["sd"]),
             helper.make_node("Div", ["d", "sd"], ["y"])]
    inits = {"two": np.array(2.0, np.float32), "eps": np.array(1e-5, np.float32)}
    check(model(nodes, {"x": x}, ["y"], inits), {"x": x})
    # opset 18: axes as an input
    nodes = [helper.make_node("ReduceMean", ["x", "ax"], ["y"], keepdims=0),
             helper.make_node("ReduceSum", ["x", "ax"], ["z"])]
    check(model(nodes, {"x": x}, ["y", "z"], {"ax": np.array([0], np.int64)}, opset=18),
          {"x": x})


def test_gelu_forms():
    x = rnd(5, 3, 7, lo=-4, hi=4)
    for approx in ("none", "tanh"):
        check(model([helper.make_node("Gelu", ["x"], ["y"], approximate=approx)], {"x": x},
                    ["y"], opset=20), {"x": x})
    # the Erf form exporters write: 0.5 x (1 + erf(x / sqrt 2))
    nodes = [helper.make_node("Div", ["x", "r2"], ["a"]), helper.make_node("Erf", ["a"], ["e"]),
             helper.make_node("Add", ["e", "one"], ["b"]), helper.make_node("Mul", ["x", "b"], ["c"]),
             helper.make_node("Mul", ["c", "half"], ["y"])]
    inits = {"r2": np.array(np.sqrt(2), np.float32), "one": np.array(1, np.float32),
             "half": np.array(0.5, np.float32)}
    check(model(nodes, {"x": x}, ["y"], inits), {"x": x})


@SETTINGS
@given(seed=seeds, shape=st.lists(st.integers(1, 4), min_size=2, max_size=4))
def test_shape_ops(seed, shape):
    x = rnd(seed, *shape)
    rng = np.random.default_rng(seed)
    perm = [int(p) for p in rng.permutation(len(shape))]
    idx = rng.integers(-shape[0], shape[0], size=(2,)).astype(np.int64)
    nodes = [helper.make_node("Transpose", ["x"], ["t"], perm=perm),
             helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Reshape", ["x", "flat"], ["r"]),
             helper.make_node("Gather", ["x", "idx"], ["g"], axis=0),
             helper.make_node("Concat", ["x", "x"], ["c"], axis=-1),
             helper.make_node("Slice", ["x", "st", "en", "ax", "sp"], ["sl"]),
             helper.make_node("Unsqueeze", ["x", "uax"], ["u"]),
             helper.make_node("Squeeze", ["u", "uax"], ["q"]),
             helper.make_node("Cast", ["x"], ["ci"], to=TensorProto.INT64),
             helper.make_node("Greater", ["x", "zero"], ["gt"]),
             helper.make_node("Where", ["gt", "x", "zero"], ["w"]),
             helper.make_node("Expand", ["zero", "s"], ["e"]),
             helper.make_node("Split", ["x", "spl"], ["p0", "p1"], axis=0),
             helper.make_node("ArgMax", ["x"], ["am"], axis=-1, keepdims=0)]
    inits = {"flat": np.array([0, -1], np.int64), "idx": idx,
             "st": np.array([0, 1], np.int64), "en": np.array([100, -1], np.int64),
             "ax": np.array([0, 1], np.int64), "sp": np.array([2, 1], np.int64),
             "uax": np.array([1], np.int64), "zero": np.array(0, np.float32),
             "spl": np.array([1, shape[0] - 1], np.int64) if shape[0] > 1
             else np.array([1, 0], np.int64)}
    outs = ["t", "s", "r", "g", "c", "sl", "q", "ci", "w", "e", "p0", "p1", "am"]
    check(model(nodes, {"x": x}, outs, inits, opset=13), {"x": x})


def test_quantize_dequantize_linear():
    x = rnd(7, 4, 6, lo=-3, hi=3)
    for zp_t, zp in ((np.int8, 3), (np.uint8, 128)):
        nodes = [helper.make_node("QuantizeLinear", ["x", "s", "z"], ["q"]),
                 helper.make_node("DequantizeLinear", ["q", "s", "z"], ["y"])]
        inits = {"s": np.array(0.03, np.float32), "z": np.array(zp, zp_t)}
        got = check(model(nodes, {"x": x}, ["q", "y"], inits, opset=13), {"x": x})
        assert got["q"].dtype == zp_t
    # per-axis dequantisation of int8 weights
    w = np.random.default_rng(1).integers(-127, 128, (6, 5)).astype(np.int8)
    nodes = [helper.make_node("DequantizeLinear", ["w", "s", "z"], ["y"], axis=1)]
    inits = {"w": w, "s": rnd(2, 5, lo=0.01, hi=0.1), "z": np.zeros(5, np.int8)}
    m = model(nodes, {}, ["y"], inits, opset=13)
    g = Graph(m)
    ref = reference_outputs(g, {})
    assert _float_path_error(g.run({}), ref) <= TOL


def test_a_small_cnn():
    """Conv (strides, pads, groups) -> Relu -> MaxPool -> Conv -> GlobalAveragePool ->
    Flatten -> Gemm -> Softmax, the kind of graph a CNN export has."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 2, 12, 12)).astype(np.float32)
    inits = {"w1": rng.normal(0, 0.3, (8, 1, 3, 3)).astype(np.float32),
             "b1": rng.normal(0, 0.1, 8).astype(np.float32),
             "w2": rng.normal(0, 0.3, (6, 8, 3, 3)).astype(np.float32),
             "wf": rng.normal(0, 0.3, (4, 6)).astype(np.float32),
             "bf": rng.normal(0, 0.1, 4).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], strides=[2, 2], pads=[1, 1, 1, 1],
                              group=2, name="conv1"),
             helper.make_node("Relu", ["c1"], ["r1"]),
             helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[1, 1]),
             helper.make_node("Conv", ["p1", "w2"], ["c2"], pads=[1, 1, 1, 1], name="conv2"),
             helper.make_node("GlobalAveragePool", ["c2"], ["g"]),
             helper.make_node("Flatten", ["g"], ["f"]),
             helper.make_node("Gemm", ["f", "wf", "bf"], ["logits"], transB=1, name="fc"),
             helper.make_node("Softmax", ["logits"], ["probs"], axis=-1)]
    check(model(nodes, {"x": x}, ["logits", "probs"], inits), {"x": x})
