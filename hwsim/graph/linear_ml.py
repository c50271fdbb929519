"""``LinearClassifier`` and ``LinearRegressor`` (ai.onnx.ml) on hwsim's product units.

skl2onnx writes a fitted ``LogisticRegression`` / ``LinearSVC`` as ``LinearClassifier`` and
a ``LinearRegression`` / ``Ridge`` as ``LinearRegressor``: ``Z = X W^T + intercepts``
(``W``: the ``coefficients`` attribute, one row per class or target), then a
``post_transform`` (``NONE``, ``SOFTMAX``, ``LOGISTIC``, ``SOFTMAX_ZERO``, ``PROBIT``) and,
for the classifier, the label. A node an assignment puts on a product unit runs in two steps:

1. **The matrix product on the unit.** ``X W^T`` exactly as a ``MatMul`` with the weight
   as its right operand (:func:`hwsim.graph.assign.build_impl`): *static* mode quantises
   ``X`` to its calibrated format (``[formats]`` may name ``X``'s tensor) and ``W^T`` per
   output (``per-channel``: per class / target) or per tensor; *block* mode as for every
   product. Exact integer sums, scaled back; the intercepts added in float64, the result
   rounded once to float32 (ONNX Runtime's scores are float32).
2. **The rest in ONNX Runtime.** ``Z`` goes into a one-node session of the *same* op with
   the node's own attributes but ``coefficients`` the identity and ``intercepts`` zero.
   ``Z I + 0`` is ``Z`` exactly in float32 (every term but one is an exact zero), so the
   post_transform, the label and their corner cases are ONNX Runtime's own: the binary
   case with one coefficient row (ONNX Runtime's scores ``[1 - s, s]`` / ``[-s, s]``
   depending on the post_transform, the label from ``s > 0`` or ``s > 0.5``), string
   labels, ``PROBIT``. Writing the tail in numpy would restate those rules, and any
   difference would show as a unit's error; this way the only difference from the float
   path is the product.
"""

from __future__ import annotations

import numpy as np

from hwsim.graph.model import ModelError

__all__ = ["ML_LINEAR", "linear_ml_impl", "weights"]

ML_LINEAR = ("LinearClassifier", "LinearRegressor")


def weights(node):
    """``(W, b)``: the node's coefficients as ``[outputs, features]`` float32 rows (the
    number of features unknown until a row arrives: ``W`` flat here) and its intercepts."""
    w = np.asarray(node.attrs.get("coefficients", ()), dtype=np.float32)
    b = np.asarray(node.attrs.get("intercepts", ()), dtype=np.float32)
    return w, b


def _tail_model(graph, node, outputs: int):
    """A one-node model: the node's op with identity coefficients and zero intercepts."""
    from onnx import TensorProto, helper
    attrs = {k: v for k, v in node.attrs.items() if k not in ("coefficients", "intercepts")}
    if node.op_type == "LinearRegressor":
        attrs["targets"] = outputs
    eye = np.eye(outputs, dtype=np.float32).reshape(-1)
    n = helper.make_node(node.op_type, ["Z"], list(node.outputs), domain=node.domain,
                         coefficients=eye.tolist(), intercepts=[0.0] * outputs, **attrs)
    g = helper.make_graph([n], f"tail_{node.name}",
                          [helper.make_tensor_value_info("Z", TensorProto.FLOAT, [None, outputs])],
                          [helper.make_empty_tensor_value_info(o) for o in node.outputs if o])
    return helper.make_model(g, opset_imports=list(graph.model.opset_import),
                             ir_version=graph.model.ir_version)


def linear_ml_impl(graph, node, product):
    """The :meth:`hwsim.graph.model.Graph.run` implementation of a ``LinearClassifier`` /
    ``LinearRegressor`` node whose ``X W^T`` is ``product(x, w_t)`` (a
    :class:`hwsim.eval.hooks.FixedMatmul` or :class:`hwsim.eval.hooks.StaticMatmul`); see
    the module docstring."""
    from hwsim.graph.model import _first_line, _session
    w_flat, b = weights(node)
    cache = {}

    def wt(features: int):
        """``W^T`` ``[features, outputs]``, built once: owned and read-only, so a unit's
        quantised columns are remembered (:func:`hwsim.eval.hooks._constant_columns`)."""
        hit = cache.get(("w", features))
        if hit is not None:
            return hit
        if features < 1 or w_flat.size == 0 or w_flat.size % features:
            raise ModelError(f"node {node.name} ({node.op_type}): {w_flat.size} coefficients "
                             f"are not rows of the input's {features} features")
        m = w_flat.size // features
        if b.size not in (0, m):
            raise ModelError(f"node {node.name} ({node.op_type}): {b.size} intercepts for "
                             f"{m} coefficient rows")
        t = np.ascontiguousarray(w_flat.reshape(m, features).T.astype(np.float64))
        t.setflags(write=False)
        cache[("w", features)] = t
        return t

    def tail(outputs: int):
        s = cache.get(("tail", outputs))
        if s is None:
            try:
                s = _session(_tail_model(graph, node, outputs).SerializeToString())
            except Exception as e:   # onnxruntime's own exception types
                raise ModelError(f"onnxruntime cannot run node {node.name} ({node.op_type}) "
                                 f"after its product: {_first_line(e)}") from None
            cache[("tail", outputs)] = s
        return s

    def f(inputs, attrs, env):
        x = np.asarray(inputs[0])
        x2 = x.reshape(1, -1) if x.ndim == 1 else x
        if x2.ndim != 2:
            raise ModelError(f"node {node.name} ({node.op_type}): input must be [rows, "
                             f"features], not shape {list(x.shape)}")
        w_t = wt(x2.shape[1])
        z = np.asarray(product(x2.astype(np.float64), w_t), dtype=np.float64)
        if b.size:
            z = z + b.astype(np.float64)
        z = z.astype(np.float32)
        sess = tail(z.shape[1])
        names = [o.name for o in sess.get_outputs()]
        try:
            outs = dict(zip(names, sess.run(names, {"Z": z})))
        except Exception as e:
            raise ModelError(f"onnxruntime cannot run node {node.name} ({node.op_type}) "
                             f"after its product: {_first_line(e)}") from None
        return [outs.get(o) for o in node.outputs]
    return f
