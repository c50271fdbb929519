"""Graph rewrites a deployment makes before a model reaches an accelerator.

:func:`fold_batchnorm`: a ``Conv`` whose only consumer is an inference-mode
``BatchNormalization`` (as PyTorch exports ``nn.Conv2d`` + ``nn.BatchNorm2d``) becomes one
``Conv`` with ``W' = W * s`` (per output channel) and ``b' = (b - mean) * s + beta``,
``s = scale / sqrt(var + epsilon)``, computed in float64 and rounded once to the weights'
type; the BatchNormalization node goes, the Conv writes its output. This is what deployment
tools (ONNX Runtime's graph optimiser, TensorRT, vendor compilers) do, so that an int8 or
approximate multiplier sees the folded weights, as it would on the accelerator.

``hwsim run`` folds when an assignment puts such a Conv on a unit: the assigned run and the
attribution use the folded graph, the reference and the float path stay the model as
written; the report and the JSON (``rewrites``) say which BatchNormalization went into which
Conv. tests/test_fold.py checks the folded graph against the original within a derived
float32 bound.
"""

from __future__ import annotations

import numpy as np

__all__ = ["foldable_batchnorms", "fold_batchnorm"]


def foldable_batchnorms(graph) -> list[tuple]:
    """``[(conv node, batchnorm node)]``: each Conv with constant weights (and bias) whose
    output only an inference-mode BatchNormalization with constant parameters reads."""
    readers: dict = {}
    for n in graph.nodes:
        for t in n.needs:
            readers.setdefault(t, []).append(n)
    out = []
    for conv in graph.nodes:
        if conv.op_type != "Conv" or conv.domain not in ("", "ai.onnx") or len(conv.outputs) != 1:
            continue
        y = conv.outputs[0]
        r = readers.get(y, [])
        if len(r) != 1 or y in graph.outputs:
            continue
        bn = r[0]
        if (bn.op_type != "BatchNormalization" or bn.inputs[0] != y
                or bn.attrs.get("training_mode", 0) or len([o for o in bn.outputs if o]) != 1):
            continue
        params = list(conv.inputs[1:3]) + list(bn.inputs[1:5])
        if not all(t in graph.initializers for t in params if t):
            continue
        if graph.initializers[conv.inputs[1]].dtype.kind != "f":
            continue
        out.append((conv, bn))
    return out


def fold_batchnorm(graph, names=None):
    """``(graph', lines)``: the model with the pairs of :func:`foldable_batchnorms` (those
    whose Conv is in ``names``, default all) folded, and one line per fold
    (``BatchNormalization bn1 folded into Conv conv1``); ``graph`` itself when there is
    none."""
    from onnx import numpy_helper
    from hwsim.graph.model import Graph
    pairs = [(c, b) for c, b in foldable_batchnorms(graph) if names is None or c.name in names]
    if not pairs:
        return graph, []
    model = type(graph.model)()
    model.CopyFrom(graph.model)
    g = model.graph
    for n in graph.nodes:       # names stay what they were when nodes before them go
        if not g.node[n.index].name:
            g.node[n.index].name = n.name
    drop, lines, taken = set(), [], {t.name for t in g.initializer} | {
        o for n in g.node for o in n.output}
    for conv, bn in pairs:
        w = graph.initializers[conv.inputs[1]]
        b = (graph.initializers[conv.inputs[2]].astype(np.float64)
             if len(conv.inputs) > 2 and conv.inputs[2] else np.zeros(w.shape[0]))
        gamma, beta, mean, var = (graph.initializers[t].astype(np.float64) for t in bn.inputs[1:5])
        s = gamma / np.sqrt(var + float(bn.attrs.get("epsilon", 1e-5)))
        w2 = (w.astype(np.float64) * s.reshape((-1,) + (1,) * (w.ndim - 1))).astype(w.dtype)
        b2 = ((b - mean) * s + beta).astype(w.dtype)
        names_ = []
        for base, arr in ((f"{conv.inputs[1]}_bn_folded", w2), (f"{conv.name}_bias_bn_folded", b2)):
            name, i = base, 0
            while name in taken:
                i += 1
                name = f"{base}_{i}"
            taken.add(name)
            g.initializer.append(numpy_helper.from_array(arr, name))
            names_.append(name)
        proto = g.node[conv.index]
        del proto.input[1:]
        proto.input.extend(names_)
        proto.output[0] = next(o for o in bn.outputs if o)
        drop.add(bn.index)
        lines.append(f"BatchNormalization {bn.name} folded into Conv {conv.name}")
    keep = [n for i, n in enumerate(g.node) if i not in drop]
    del g.node[:]
    g.node.extend(keep)
    used = {t for n in g.node for t in n.input} | {o.name for o in g.output}
    stale = [t for t in g.initializer if t.name not in used]
    for t in stale:
        g.initializer.remove(t)
    gone = {t.name for t in stale}
    for i in [i for i in g.input if i.name in gone]:   # initializers listed as inputs (IR < 4)
        g.input.remove(i)
    return Graph(model, source=graph.source), lines
