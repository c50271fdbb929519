"""Checks of ``hwsim run``'s inputs and results that keep a number from hiding what it is.

* :func:`cast_feed`: the one rule for ``--data`` dtypes (``docs/onnx.md``): an array is cast
  to its graph input's dtype only where ``numpy.can_cast(array, input, "safe")`` holds
  (no value can change); any other dtype is refused in one line.
* :func:`check_labels`: class labels against the classes of the output predictions are
  read from (a float output's columns, an integer output's class labels).
* :func:`non_finite_warnings`: NaN / inf in the reference or hwsim outputs, named with the
  first position and the first node of the reference graph that produced one.
* :class:`FloatingPointLog`: numpy's floating-point warnings during an evaluation, counted
  instead of printed raw.
"""

from __future__ import annotations

import warnings
from collections import Counter

import numpy as np

from hwsim.graph.model import ModelError

#: the reserved ``--data`` key holding class labels
LABELS = "labels"


def cast_feed(a: np.ndarray, dtype: str, want: np.dtype, name: str, what: str) -> np.ndarray:
    """``a`` as ``want`` (the graph input ``name``'s dtype, spelled ``dtype``) when numpy
    casts it safely, else a one-line :class:`ModelError`."""
    if a.dtype == want:
        return a
    if np.can_cast(a.dtype, want, "safe"):
        return a.astype(want)
    raise ModelError(f"{what}: input {name} is {dtype}, and an array of {a.dtype} does not "
                     f"cast to it safely (hwsim run casts only where numpy's "
                     f"can_cast(..., 'safe') holds: no value may change); save {name} as "
                     f"{dtype}")


def _classes(graph, outputs: dict, n: int):
    """``(output name, classes)`` of the output predictions are read from (as
    :func:`hwsim.graph.evaluate.predictions`): an integer output's class labels when its
    producing node lists them (``None``: unknown), a float output's indices along its class
    axis."""
    for k, v in outputs.items():
        v = np.asarray(v)
        if v.dtype.kind in "iu" and v.size == n and v.shape[:1] == (n,):
            node = graph.producer.get(k)
            labels = None if node is None else node.attrs.get("classlabels_int64s")
            return k, None if labels is None else sorted(int(x) for x in labels)
    from hwsim.graph.metrics import class_axis
    for k, v in outputs.items():
        v = np.asarray(v)
        ax = class_axis(v.shape)
        if v.dtype.kind == "f" and ax is not None and v.shape[0] == n:
            return k, list(range(v.shape[ax]))
    return None, None


def check_labels(labels, graph, outputs: dict, n: int, what: str) -> None:
    """Refuse labels that are not classes of the prediction output, naming the first."""
    if labels is None:
        return
    name, classes = _classes(graph, outputs, n)
    if classes is None:
        return
    bad = ~np.isin(labels, classes)
    if bad.any():
        span = (f"0..{len(classes) - 1}" if classes == list(range(len(classes)))
                else ", ".join(map(str, classes[:8])) + (", ..." if len(classes) > 8 else ""))
        raise ModelError(f"{what}: labels must be classes of output {name} ({span}), not "
                         f"{int(labels[bad][0])} ({int(bad.sum())} of {labels.size} rows)")


def _first_bad(v: np.ndarray) -> tuple[int, int, tuple] | None:
    """``(NaN count, inf count, index of the first)`` of a float array, ``None`` if finite."""
    v = np.asarray(v)
    if v.dtype.kind not in "fc":
        return None
    bad = ~np.isfinite(v)
    if not bad.any():
        return None
    nan = int(np.isnan(v).sum())
    return nan, int(bad.sum()) - nan, tuple(int(i) for i in np.argwhere(bad)[0])


def _where(idx: tuple) -> str:
    return f"[{', '.join(map(str, idx))}]" if idx else ""


def first_node(graph, feeds: dict) -> str | None:
    """The first node (topological order) of ``graph``'s float run whose output holds NaN or
    inf while its inputs are finite, as ``"node NAME (OP), output T"``."""
    try:
        env = graph.run(feeds, keep=True)
    except ModelError:
        return None
    for node in graph._sorted():
        if any(_first_bad(env[t]) for t in node.inputs if t and t in env):
            continue
        for t in node.outputs:
            if t in env and isinstance(env[t], np.ndarray) and _first_bad(env[t]):
                return f"node {node.name} ({node.op_type}), output {t}"
    return None


def non_finite_warnings(graph, feeds: dict, ref: dict, got: dict,
                        ref_label: str = "the reference") -> tuple[list[str], dict]:
    """Warning lines and a JSON summary ``{"reference"|"hwsim": {output: {"nan", "inf",
    "first"}}}`` for every output holding NaN or inf; the reference's come with the node
    where the float run first produced one."""
    lines, summary = [], {}
    origin = None
    for side, outs in (("reference", ref), ("hwsim", got)):
        for k, v in outs.items():
            r = _first_bad(v)
            if r is None:
                continue
            nan, inf, idx = r
            summary.setdefault(side, {})[k] = {"nan": nan, "inf": inf, "first": list(idx)}
            who = ref_label if side == "reference" else "hwsim's run"
            text = (f"output {k} of {who} holds {nan} NaN and {inf} inf of "
                    f"{np.asarray(v).size} values (first: {k}{_where(idx)} = "
                    f"{np.asarray(v)[idx] if idx else np.asarray(v)})")
            if side == "reference":
                if origin is None:
                    origin = first_node(graph, feeds) or "no single node"
                text += f"; the float run first produces one at {origin}"
            lines.append(text + "; its metrics are not numbers")
    return lines, summary


class FloatingPointLog:
    """Inside ``with``: numpy's floating-point errors (``np.errstate(all="call")``) and
    RuntimeWarnings are counted, not printed; :meth:`lines` words them as warnings."""

    def __init__(self):
        self.counts: Counter = Counter()

    def _call(self, kind: str, flag: int) -> None:
        self.counts[kind] += 1

    def __enter__(self):
        self._err = np.errstate(all="call", call=self._call)
        self._err.__enter__()
        self._warn = warnings.catch_warnings(record=True)
        self._records = self._warn.__enter__()
        warnings.simplefilter("always", RuntimeWarning)
        return self

    def __exit__(self, *exc):
        self._warn.__exit__(*exc)
        self._err.__exit__(*exc)
        for w in self._records:
            if issubclass(w.category, RuntimeWarning):
                self.counts[str(w.message).split("\n")[0]] += 1
            else:
                warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
        return False

    def lines(self) -> list[str]:
        if not self.counts:
            return []
        total = sum(self.counts.values())
        kinds = ", ".join(f"{k}: {n}" for k, n in self.counts.most_common())
        return [f"numpy reported {total} floating-point warning(s) during the evaluation "
                f"({kinds}); values they touched may be NaN or inf"]
