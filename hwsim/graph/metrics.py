"""Metrics that fit a model output (``hwsim run``): which kind of output it is, and the
metrics of that kind, against the reference run.

Kinds and their metrics (``hwsim run --metric [OUTPUT=]KIND`` chooses one; the default is
chosen per output by :func:`choose`, and the report says which and why):

* ``classification`` (class scores): ``argmax_agreement``, the share of rows whose largest
  score is at the same index of the *class axis*, and with ``labels`` in the data
  ``accuracy``, the share of rows whose argmax is the label. The class axis is the one axis
  after the rows whose length is above 1 (``[N, 1000, 1, 1]``: axis 1), the last such axis
  when there are several (``[N, tokens, vocabulary]``: the vocabulary).
* ``probabilities``: ``kl``, the mean over rows of the Kullback-Leibler divergence
  ``sum p log(p / q)`` of the hwsim probabilities ``q`` from the reference's ``p`` over the
  class axis (nats; a ``q <= 0``, which an approximate unit can give, counts as 1e-12, a
  large finite penalty; terms with ``p = 0`` count 0), ``max_abs_error``, and
  ``argmax_agreement``.
* ``embedding``: ``cosine`` of the flattened outputs and ``spearman``, the Spearman
  correlation of the cosine similarities of all pairs of rows (3 to 2,000 rows; the rows
  flattened), i.e. whether the embedding still ranks the pairs the same.
* ``regression``: ``mae`` (mean absolute error) and ``r2``, ``1 - SS_res / SS_tot`` with
  ``SS_tot`` the reference's squared deviations from its mean per column (``null`` when the
  reference is constant).
* ``labels`` (integer, boolean or string outputs): ``agreement``, the share of equal
  values; no cosine or error (a label's distance to another label means nothing). An
  integer output may be chosen as ``regression`` too (a count); the kinds with a class axis
  or rows to rank need a float output.

Every float output also keeps ``cosine`` and ``max_abs_error`` in the JSON (the contract of
``hwsim run --json``); ``argmax_agreement`` is ``null`` unless the kind has a class axis.

Automatic choice (:func:`choose`), in this order: a non-float output is ``labels``; a float
output with no class axis (one value per row) is ``regression``; values >= 0 from a
``Softmax`` (looking through layout ops and Quantize/DequantizeLinear: a QDQ model's
quantised probabilities too), or rows that are all >= 0 and sum to 1 (within 1e-3) over the
class axis, are ``probabilities``; with ``labels`` in the
data whose largest value is below the class axis' length, ``classification``; an output
whose producer, looking through layout ops (Reshape, Flatten, Squeeze, Transpose, ...) and a
bias Add, is a matrix product (MatMul, Gemm, Conv and their quantised forms, a linear
classifier) is ``classification`` (a linear layer's scores); one from a ``*Regressor`` op is
``regression``; any other with at least 3 rows is an ``embedding`` (pooled or normalised
features), else ``regression``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["KINDS", "METRICS", "class_axis", "choose", "compute", "parse_choice", "describe"]

#: the metrics each kind reports, in the order the summary prints them
METRICS = {
    "classification": ("argmax_agreement", "accuracy"),
    "probabilities": ("kl", "max_abs_error", "argmax_agreement"),
    "embedding": ("cosine", "spearman"),
    "regression": ("mae", "r2"),
    "labels": ("agreement",),
}
KINDS = tuple(METRICS)
MAX_SPEARMAN_ROWS = 2000
KL_FLOOR = 1e-12
PROBABILITY_TOLERANCE = 1e-3
#: ops that only move or retype values: the metric looks through them to the producer
_LAYOUT_OPS = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity", "Transpose", "Cast",
               "DequantizeLinear", "QuantizeLinear", "Dropout"}
_LINEAR_OPS = {"MatMul", "Gemm", "Conv", "QLinearMatMul", "QLinearConv", "MatMulInteger",
               "ConvInteger", "LinearClassifier", "SVMClassifier", "ConvTranspose"}
_NAMES = {"argmax_agreement": "argmax agreement", "accuracy": "accuracy", "kl": "KL",
          "max_abs_error": "max abs error", "cosine": "cosine", "spearman": "spearman (pairs)",
          "mae": "MAE", "r2": "R²", "agreement": "agreement"}


def class_axis(shape) -> int | None:
    """The class axis of an output of ``shape`` (axis 0: rows): the one later axis longer
    than 1, the last of several, ``None`` when every later axis has length 1."""
    axes = [i for i, n in enumerate(shape) if i > 0 and n > 1]
    return axes[-1] if axes else None


def parse_choice(values, outputs, where: str = "--metric") -> dict:
    """``{output or None: kind}`` from ``[OUTPUT=]KIND`` strings (``None``: every output);
    one-line ValueError naming the option, the rule and the value."""
    out = {}
    for v in values or ():
        name, eq, kind = v.rpartition("=")
        key = name if eq else None
        if kind not in KINDS:
            raise ValueError(f"{where} must be [OUTPUT=]KIND with KIND one of "
                             f"{', '.join(KINDS)}, not {v!r}")
        if key is not None and key not in outputs:
            raise ValueError(f"{where}: {key!r} is not an output of the model (outputs: "
                             f"{', '.join(outputs)})")
        if key in out:
            raise ValueError(f"{where} names {'every output' if key is None else key} twice "
                             f"({out[key]}, {kind})")
        out[key] = kind
    return out


def _producer(graph, name: str):
    """The node that computes ``name``, looking through layout ops and a bias Add/Sub."""
    seen = 0
    node = graph.producer.get(name) if graph is not None else None
    while node is not None and seen < 64:
        seen += 1
        if node.op_type in _LAYOUT_OPS and node.inputs:
            nxt = node.inputs[0]
        elif node.op_type in ("Add", "Sub") and len(node.inputs) == 2 and \
                any(t in graph.initializers for t in node.inputs):
            nxt = next(t for t in node.inputs if t not in graph.initializers)
        else:
            return node
        node = graph.producer.get(nxt)
    return node


def choose(graph, name: str, ref: np.ndarray, labels=None) -> tuple[str, str]:
    """``(kind, why)`` for the output ``name`` whose reference value is ``ref`` (see the
    module docstring)."""
    ref = np.asarray(ref)
    shape = "x".join(map(str, ref.shape)) or "scalar"
    if ref.dtype.kind not in "f":
        return "labels", f"{ref.dtype.name if ref.dtype.kind != 'O' else 'string'} [{shape}], " \
                         f"not float: compared by agreement only"
    ax = class_axis(ref.shape)
    if ax is None:
        return "regression", f"float [{shape}], one value per row"
    c = ref.shape[ax]
    node = _producer(graph, name)
    if node is not None and node.op_type == "Softmax" and ref.size and ref.min() >= 0:
        return "probabilities", f"float [{shape}] from Softmax {node.name}, {c} classes"
    if ref.size and ref.min() >= 0 and np.allclose(ref.sum(axis=ax), 1.0, rtol=0,
                                                   atol=PROBABILITY_TOLERANCE):
        return "probabilities", f"float [{shape}], rows >= 0 summing to 1 over axis {ax}, " \
                                f"{c} classes"
    if labels is not None and len(labels) and ref.shape[0] == len(labels) \
            and 0 <= int(np.min(labels)) and int(np.max(labels)) < c:
        return "classification", f"float [{shape}] and labels below {c}: class scores over " \
                                 f"axis {ax}"
    if node is not None and node.op_type in _LINEAR_OPS:
        return "classification", f"float [{shape}] from {node.op_type} {node.name}: a linear " \
                                 f"layer's scores over axis {ax}, {c} classes"
    if node is not None and node.op_type.endswith("Regressor"):
        return "regression", f"float [{shape}] from {node.op_type} {node.name}"
    if ref.shape[0] >= 3:
        src = f" from {node.op_type} {node.name}" if node is not None else ""
        return "embedding", f"float [{shape}]{src}, not a linear layer's scores"
    return "regression", f"float [{shape}], fewer than 3 rows to rank as an embedding"


def _argmax_agreement(g, r, ax):
    return float((g.argmax(ax) == r.argmax(ax)).mean()) if r.size else 1.0


def compute(kind: str, got, ref, labels=None) -> dict:
    """The metrics of ``kind`` (:data:`METRICS`) plus the JSON contract's ``cosine``,
    ``max_abs_error`` and ``argmax_agreement`` (``None`` where they do not apply)."""
    from hwsim.metrics import pair_cosines, spearman
    g0, r0 = np.asarray(got), np.asarray(ref)
    if g0.shape != r0.shape:
        raise ValueError(f"output shapes differ: {list(g0.shape)} vs reference {list(r0.shape)}")
    out = {"cosine": None, "max_abs_error": None, "argmax_agreement": None}
    dtype = r0.dtype.name if r0.dtype.kind in "biuf" else "string"
    if kind not in ("labels", "regression") and r0.dtype.kind != "f" or \
            kind == "regression" and r0.dtype.kind not in "biuf":
        can = "labels or regression" if r0.dtype.kind in "biu" else "labels"
        raise ValueError(f"the {dtype} output can be compared as {can}, not as {kind}")
    if kind == "labels":
        out["agreement"] = float((g0 == r0).mean()) if r0.size else 1.0
        return out
    g, r = g0.astype(np.float64), r0.astype(np.float64)
    gf, rf = g.reshape(-1), r.reshape(-1)
    den = np.linalg.norm(gf) * np.linalg.norm(rf)
    out["cosine"] = float(gf @ rf / den) if den else float(np.array_equal(gf, rf))
    out["max_abs_error"] = float(np.abs(g - r).max()) if g.size else 0.0
    ax = class_axis(r.shape)
    if kind in ("classification", "probabilities"):
        if ax is None:
            raise ValueError(f"a [{'x'.join(map(str, r.shape))}] output has no class axis (an "
                             f"axis after the rows longer than 1) for {kind}")
        out["argmax_agreement"] = _argmax_agreement(g, r, ax)
    if kind == "classification":
        out["accuracy"] = None
        if labels is not None and r.shape[0] == len(labels):
            out["accuracy"] = float((g.argmax(ax) == np.asarray(labels).reshape(
                (-1,) + (1,) * (r.ndim - 2))).mean())
    elif kind == "probabilities":
        q = np.moveaxis(g, ax, -1)
        q = np.where(q > 0, q, KL_FLOOR)
        p = np.moveaxis(r, ax, -1)
        terms = np.where(p > 0, p * (np.log(np.where(p > 0, p, 1.0)) - np.log(q)), 0.0)
        out["kl"] = float(terms.sum(-1).mean()) if p.size else 0.0
    elif kind == "embedding":
        rows = r.reshape(r.shape[0], -1) if r.ndim else r.reshape(1, 1)
        out["spearman"] = None
        if 3 <= rows.shape[0] <= MAX_SPEARMAN_ROWS and rows.shape[1] > 1:
            s = spearman(pair_cosines(g.reshape(rows.shape)), pair_cosines(rows))
            out["spearman"] = None if np.isnan(s) else s
    elif kind == "regression":
        out["mae"] = float(np.abs(g - r).mean()) if r.size else 0.0
        rr = r.reshape(r.shape[0], -1) if r.ndim else r.reshape(1, 1)
        tot = float(((rr - rr.mean(0)) ** 2).sum())
        res = float(((g.reshape(rr.shape) - rr) ** 2).sum())
        out["r2"] = 1.0 - res / tot if tot > 0 else None
    return out


def _fmt(key, v) -> str:
    if v is None:
        return f"{_NAMES[key]} undefined"
    if key in ("argmax_agreement", "accuracy", "agreement"):
        return f"{_NAMES[key]} {v:.4f}"
    if key == "kl":
        return f"KL {v:.3g} nats"
    return f"{_NAMES[key]} {v:.6g}"


def describe(name: str, m: dict) -> str:
    """One line: the output, its kind, the kind's metrics, and why that kind."""
    vals = ", ".join(_fmt(k, m.get(k)) for k in METRICS[m["kind"]]
                     if not (k == "accuracy" and m.get(k) is None))
    return f"{name}: {m['kind']}: {vals} ({m['why']})"
