"""hwsim's float path around the nodes on units, against ONNX Runtime.

The float path is ONNX Runtime's (hwsim/graph/model.py): without an assignment the whole
model is one session; with one, the graph is cut at the assigned nodes into segments, each
its own session. These tests check the cutting (segments' inputs and outputs, the tensors
kept for calibration, subgraphs reading outer scopes, sequences between segments, the
model's local functions) against the whole model's run, and the product kernels the
assigned nodes use (Gemm, Conv with a pluggable product) against ONNX Runtime.

The contract: max |hwsim - ort| / max |ort| <= 1e-5 on every output.
"""

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rtl import require_module

require_module("onnx", "ml")
require_module("onnxruntime", "ml")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from hwsim.graph import ops  # noqa: E402
from hwsim.graph.evaluate import _float_path_error, reference_outputs  # noqa: E402
from hwsim.graph.model import Graph  # noqa: E402

TOL = 1e-5
F = TensorProto.FLOAT
SETTINGS = settings(max_examples=20, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def model(nodes, inputs: dict, outputs: list, inits: dict | None = None, opset=17, **kw):
    def vi(name, a):
        return helper.make_tensor_value_info(name, helper.np_dtype_to_tensor_dtype(a.dtype),
                                             list(a.shape))
    g = helper.make_graph(
        nodes, "g", [vi(k, v) for k, v in inputs.items()],
        [helper.make_empty_tensor_value_info(o) for o in outputs],
        [numpy_helper.from_array(v, k) for k, v in (inits or {}).items()])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], **kw)
    m.ir_version = 8
    return m


def rnd(seed, *shape, lo=-2.0, hi=2.0):
    return np.random.default_rng(seed).uniform(lo, hi, shape).astype(np.float32)


def float_impl(g, names):
    """The named product nodes on hwsim's own kernels with a float product (what a unit
    node runs, with np.matmul for the unit)."""
    impl = {}
    for name in names:
        n = g.node(name)
        if n.op_type == "Conv":
            impl[name] = lambda i, a, env: ops.conv(i, a)
        elif n.op_type == "Gemm":
            impl[name] = lambda i, a, env: ops.gemm(i, a)
        else:
            impl[name] = lambda i, a, env: [np.matmul(i[0], i[1]).astype(i[0].dtype)]
    return impl


def same_as_whole(m, feeds, names=(), cut_all=False):
    """The graph cut at ``names`` (float kernels) and with every node alone equals the whole
    model's session, outputs and (``keep=True``) every tensor."""
    g = Graph(m)
    ref = reference_outputs(g, feeds)
    whole = g.run(feeds, keep=True)
    for kw in ({"impl": float_impl(g, names)}, {"cut": [n.name for n in g.nodes]}):
        got = g.run(feeds, **kw)
        assert set(got) == set(ref)
        for k in ref:
            assert got[k].dtype == ref[k].dtype and got[k].shape == ref[k].shape, k
        assert _float_path_error(got, ref) <= TOL
        kept = g.run(feeds, keep=True, **kw)
        produced = [t for n in g.nodes for t in n.outputs if t]
        assert _float_path_error({t: kept[t] for t in produced},
                                 {t: whole[t] for t in produced}) <= TOL
    return g


@SETTINGS
@given(n=st.integers(1, 4), k=st.integers(1, 7), m=st.integers(1, 5), ta=st.booleans(),
       tb=st.booleans(), alpha=st.sampled_from([1.0, 0.5]), beta=st.sampled_from([1.0, 2.0]),
       seed=st.integers(0, 2 ** 31))
def test_gemm_kernel(n, k, m, ta, tb, alpha, beta, seed):
    a = rnd(seed, *((k, n) if ta else (n, k)))
    b = rnd(seed + 1, *((m, k) if tb else (k, m)))
    c = rnd(seed + 2, m)
    attrs = dict(transA=int(ta), transB=int(tb), alpha=alpha, beta=beta)
    g = Graph(model([helper.make_node("Gemm", ["a", "b", "c"], ["y"], **attrs)], {"a": a},
                    ["y"], {"b": b, "c": c}))
    assert _float_path_error({"y": ops.gemm([a, b, c], attrs)[0]},
                             reference_outputs(g, {"a": a})) <= TOL


@SETTINGS
@given(dims=st.sampled_from([1, 2, 3]), cin=st.integers(1, 3), groups=st.sampled_from([1, 2]),
       cout=st.integers(1, 3), size=st.integers(4, 7), k=st.integers(1, 3),
       stride=st.integers(1, 2), pad=st.integers(0, 2), dil=st.integers(1, 2),
       auto=st.sampled_from(["NOTSET", "SAME_UPPER", "SAME_LOWER", "VALID"]),
       bias=st.booleans(), seed=st.integers(0, 2 ** 31))
def test_conv_kernel(dims, cin, groups, cout, size, k, stride, pad, dil, auto, bias, seed):
    cin, cout = cin * groups, cout * groups
    x = rnd(seed, 2, cin, *([size] * dims))
    w = rnd(seed + 1, cout, cin // groups, *([k] * dims))
    inits, ins = {"w": w}, ["x", "w"]
    if bias:
        inits["b"] = rnd(seed + 2, cout)
        ins.append("b")
    attrs = dict(strides=[stride] * dims, dilations=[dil] * dims, group=groups)
    if auto.startswith("SAME") and dil > 1:
        auto = "VALID"            # onnxruntime refuses dilations with SAME padding
    if auto == "NOTSET":
        attrs["pads"] = [pad] * 2 * dims
    else:
        attrs["auto_pad"] = auto
    g = Graph(model([helper.make_node("Conv", ins, ["y"], **attrs)], {"x": x}, ["y"], inits))
    got = ops.conv([x, w, inits.get("b")], attrs)[0]
    assert _float_path_error({"y": got}, reference_outputs(g, {"x": x})) <= TOL


def test_a_cnn_cut_at_its_products():
    """Conv -> BatchNormalization -> Relu -> Pad -> MaxPool -> Conv -> AveragePool
    (ceil_mode) -> GlobalAveragePool -> Flatten -> Gemm -> Softmax, the way a PyTorch CNN
    exports; cut at its three products, and at every node."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 2, 12, 12)).astype(np.float32)
    inits = {"w1": rng.normal(0, 0.3, (8, 1, 3, 3)).astype(np.float32),
             "b1": rng.normal(0, 0.1, 8).astype(np.float32),
             "bn_s": rng.uniform(0.5, 1.5, 8).astype(np.float32),
             "bn_b": rng.normal(0, 0.1, 8).astype(np.float32),
             "bn_m": rng.normal(0, 0.1, 8).astype(np.float32),
             "bn_v": rng.uniform(0.5, 1.5, 8).astype(np.float32),
             "pads": np.array([0, 0, 1, 1, 0, 0, 1, 1], np.int64),
             "w2": rng.normal(0, 0.3, (6, 8, 3, 3)).astype(np.float32),
             "wf": rng.normal(0, 0.3, (4, 6)).astype(np.float32),
             "bf": rng.normal(0, 0.1, 4).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], strides=[2, 2],
                              pads=[1, 1, 1, 1], group=2, name="conv1"),
             helper.make_node("BatchNormalization", ["c1", "bn_s", "bn_b", "bn_m", "bn_v"],
                              ["bn"], name="bn1"),
             helper.make_node("Relu", ["bn"], ["r1"]),
             helper.make_node("Pad", ["r1", "pads"], ["p0"], mode="reflect"),
             helper.make_node("MaxPool", ["p0"], ["p1"], kernel_shape=[2, 2], strides=[1, 1]),
             helper.make_node("Conv", ["p1", "w2"], ["c2"], pads=[1, 1, 1, 1], name="conv2"),
             helper.make_node("AveragePool", ["c2"], ["a2"], kernel_shape=[3, 3],
                              strides=[2, 2], ceil_mode=1, count_include_pad=1, pads=[1, 1, 1, 1]),
             helper.make_node("GlobalAveragePool", ["a2"], ["g"]),
             helper.make_node("Flatten", ["g"], ["f"]),
             helper.make_node("Gemm", ["f", "wf", "bf"], ["logits"], transB=1, name="fc"),
             helper.make_node("Softmax", ["logits"], ["probs"], axis=-1)]
    g = same_as_whole(model(nodes, {"x": x}, ["logits", "probs"], inits), {"x": x},
                      ["conv1", "conv2", "fc"])
    # the fewest segments a cut at the products allows: between them and after fc
    plan = g._plan(frozenset(["conv1", "conv2", "fc"]))
    assert [k for k, _ in plan] == ["node", "segment", "node", "segment", "node", "segment"]
    assert [len(s.nodes) for k, s in plan if k == "segment"] == [4, 3, 1]


def test_parallel_branches_share_segments():
    """Q, K, V products of one input: one level, so the float work after them is one
    segment, not one per branch."""
    x = rnd(1, 2, 5, 4)
    inits = {w: rnd(i + 2, 4, 4) for i, w in enumerate(["wq", "wk", "wv"])}
    nodes = [helper.make_node("MatMul", ["x", w], [w[1]], name=w[1]) for w in inits]
    nodes += [helper.make_node("Transpose", ["k"], ["kt"], perm=[0, 2, 1]),
              helper.make_node("MatMul", ["q", "kt"], ["s"], name="scores"),
              helper.make_node("Softmax", ["s"], ["p"], axis=-1),
              helper.make_node("MatMul", ["p", "v"], ["y"], name="context"),
              helper.make_node("Relu", ["y"], ["out"])]
    g = same_as_whole(model(nodes, {"x": x}, ["out"], inits), {"x": x},
                      ["q", "k", "v", "scores", "context"])
    plan = g._plan(frozenset(["q", "k", "v", "scores", "context"]))
    segs = [[n.name for n in s.nodes] for k, s in plan if k == "segment"]
    assert segs == [["Transpose_3"], ["Softmax_5"], ["Relu_7"]], segs


def test_subgraphs_sequences_and_local_functions_survive_the_cut():
    """An If whose branches read a tensor of the outer graph, a sequence handed from one
    segment to the next, and a model-local function, each cut apart."""
    x = rnd(4, 3, 4)
    w = rnd(5, 4, 4)
    then_g = helper.make_graph([helper.make_node("Add", ["h", "h"], ["t_out"])], "then", [],
                               [helper.make_empty_tensor_value_info("t_out")])
    else_g = helper.make_graph([helper.make_node("Neg", ["h"], ["e_out"])], "else", [],
                               [helper.make_empty_tensor_value_info("e_out")])
    fn = helper.make_function("example.local", "Twice", ["a"], ["b"],
                              [helper.make_node("Add", ["a", "a"], ["b"])],
                              [helper.make_opsetid("", 17)])
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="mm"),
             helper.make_node("ReduceSum", ["h"], ["s"], keepdims=1),
             helper.make_node("Greater", ["s", "zero"], ["c"]),
             helper.make_node("If", ["c"], ["i"], then_branch=then_g, else_branch=else_g),
             helper.make_node("SplitToSequence", ["i"], ["seq"], axis=0),
             helper.make_node("MatMul", ["x", "w"], ["h2"], name="mm2"),
             helper.make_node("ConcatFromSequence", ["seq"], ["cat"], axis=0),
             helper.make_node("Add", ["cat", "h2"], ["sum"]),
             helper.make_node("Twice", ["sum"], ["out"], domain="example.local")]
    m = model(nodes, {"x": x}, ["out", "i"], {"w": w, "zero": np.zeros((), np.float32)},
              functions=[fn])
    m.opset_import.append(helper.make_opsetid("example.local", 1))
    same_as_whole(m, {"x": x}, ["mm", "mm2"])
