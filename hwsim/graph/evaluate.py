"""``hwsim run``: a user's ONNX model through hwsim units, measured against ONNX Runtime.

:func:`run_model` loads the model and the data, runs

1. the float reference: ONNX Runtime (CPU)
   (of ``reference``, e.g. the float model a QDQ model came from, when given);
2. hwsim's float path (:class:`hwsim.graph.model.Graph`, no unit), which is that same ONNX
   Runtime session, so ``float_path_error`` (max |hwsim - ort| / max |ort| over every
   output) is 0 by construction: every difference after it is the units';
3. the assigned run (:mod:`hwsim.graph.assign`), and with ``attribution`` each assigned node
   alone on its unit, the rest float;

and reports per output (against the reference) the metrics that fit it
(:mod:`hwsim.graph.metrics`: classification, probabilities, embedding, regression or labels,
chosen per output or by ``metrics``), with ``kind``, ``metrics`` (their names) and ``why``
in the JSON, plus the contract's ``cosine``, ``max_abs_error`` and ``argmax_agreement``
(null where they do not apply); and ``accuracy`` / ``float_accuracy`` when the data has
``labels`` (the prediction is the first integer output of one value per row, else the argmax
over the class axis of the first float output that has one).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from hwsim.graph.assign import Assignment, build_impl, unmatched_rules
from hwsim.graph.model import Graph, ModelError, load

__all__ = ["load_data", "reference_outputs", "tensor_outputs", "output_metrics", "run_model", "format_summary",
           "write_report"]

FLOAT_PATH_TOLERANCE = 1e-5
MAX_SPEARMAN_ROWS = 2000


def load_data(path, graph: Graph, what: str = "--data") -> tuple[dict, np.ndarray | None]:
    """``(feeds, labels)`` from an NPZ file: one array per graph input, by name, and an
    optional ``labels`` array (one integer per row)."""
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"{what}: {path} is not an existing file")
    try:
        with np.load(p, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as e:  # zipfile.BadZipFile, ValueError (pickled), OSError
        raise ModelError(f"{what}: {path} is not a readable .npz file of arrays "
                         f"({type(e).__name__})") from None
    for k, v in arrays.items():  # a member without the .npy header comes back as bytes
        if not isinstance(v, np.ndarray):
            raise ModelError(f"{what}: {path}: member {k} is not a .npy array")
    # a graph input named labels takes the array (run_model says so): no class labels then
    labels = None if "labels" in graph.inputs else arrays.pop("labels", None)
    feeds = graph.check_feeds(arrays, what)
    rows = {v.shape[0] for v in feeds.values() if v.ndim}
    if len(rows) > 1:
        raise ModelError(f"{what}: the inputs must have the same number of rows (axis 0), not "
                         f"{', '.join(f'{k}: {v.shape[0]}' for k, v in feeds.items())}")
    if rows == {0}:
        raise ModelError(f"{what}: {path} has 0 rows; give at least one row per input")
    for name, v in feeds.items():  # NaN would pass through every metric as NaN
        if v.dtype.kind == "f" and not np.isfinite(v).all():
            raise ModelError(f"{what}: {path} must hold finite inputs, not "
                             f"{int((~np.isfinite(v)).sum())} NaN / inf in input {name}")
    if labels is not None:
        n = rows.pop() if rows else None
        if labels.dtype.kind not in "iu" or labels.ndim != 1 or (n is not None and len(labels) != n):
            raise ModelError(f"{what}: labels must be a 1-D integer array of one label per row "
                             f"({n}), not {labels.dtype} shape {list(labels.shape)}")
    return feeds, labels


def reference_outputs(graph: Graph, feeds: dict) -> dict:
    """ONNX Runtime's outputs (CPU, graph optimisations off so that it computes the graph as
    written): the session :meth:`Graph.run` uses for the float path, so hwsim's float path
    is this run (``float_path_error`` 0 by construction). Outputs that are sequences of maps
    (skl2onnx's ZipMap) become ``[rows, classes]`` arrays (:func:`tensor_outputs`)."""
    return tensor_outputs(graph, graph.run(feeds))


def tensor_outputs(graph: Graph, outs: dict) -> dict:
    """The outputs as arrays: a sequence of maps (ZipMap: one ``{class: probability}`` per
    row) becomes a ``[rows, classes]`` float32 array, columns in the order of the ZipMap's
    class labels; any other non-tensor output is refused in one line."""
    out = {}
    for k, v in outs.items():
        if isinstance(v, list) and (not v or isinstance(v[0], dict)):
            node = graph.producer.get(k)
            keys = None
            if node is not None:
                keys = node.attrs.get("classlabels_int64s") or node.attrs.get("classlabels_strings")
            if keys is None:
                keys = list(v[0]) if v else []
            try:
                v = np.array([[row[c] for c in keys] for row in v], dtype=np.float32).reshape(len(v), len(keys))
            except (KeyError, TypeError, ValueError):
                raise ModelError(f"{graph.source}: output {k} is a sequence of maps whose keys "
                                 f"are not its ZipMap's class labels; export without ZipMap "
                                 f"(skl2onnx: options={{'zipmap': False}})") from None
        elif not isinstance(v, np.ndarray):
            raise ModelError(f"{graph.source}: output {k} is a {type(v).__name__}, not a tensor; "
                             f"hwsim run compares tensor outputs (skl2onnx classifiers: "
                             f"options={{'zipmap': False}})")
        out[k] = v
    return out


def _is_float(a) -> bool:
    return np.asarray(a).dtype.kind == "f"


def output_metrics(got: np.ndarray, ref: np.ndarray, kind: str | None = None, labels=None,
                   graph: Graph | None = None, name: str = "") -> dict:
    """The per-output metrics of the module docstring (hwsim run's JSON contract): those of
    ``kind`` (default: :func:`hwsim.graph.metrics.choose`'s), with ``kind``, ``metrics``
    and ``why``."""
    from hwsim.graph import metrics as gm
    why = "chosen by the user"
    if kind is None:
        kind, why = gm.choose(graph, name, ref, labels)
    try:
        m = gm.compute(kind, got, ref, labels)
    except ValueError as e:
        raise ModelError(f"output {name or '?'}: {e}") from None
    names = [k for k in gm.METRICS[kind] if not (k == "accuracy" and m.get(k) is None)]
    return {"kind": kind, "metrics": names, "why": why, **m}


def predictions(outputs: dict, n: int) -> np.ndarray | None:
    """Class predictions: the first integer output with one value per row, else the argmax
    over the class axis of the first float output that has one
    (:func:`hwsim.graph.metrics.class_axis`: ``[N, 1000, 1, 1]`` too)."""
    for v in outputs.values():
        v = np.asarray(v)
        if v.dtype.kind in "iu" and v.size == n and v.shape[:1] == (n,):
            return v.reshape(-1)
    from hwsim.graph.metrics import class_axis
    for v in outputs.values():
        v = np.asarray(v)
        ax = class_axis(v.shape)
        if v.dtype.kind == "f" and ax is not None and v.shape[0] == n:
            return v.argmax(ax).reshape(n, -1)[:, 0] if v.ndim > 2 else v.argmax(ax)
    return None


def _float_path_error(got: dict, ref: dict) -> float:
    worst = 0.0
    for k, r in ref.items():
        g = np.asarray(got[k], dtype=np.float64)
        r = np.asarray(r, dtype=np.float64)
        if g.shape != r.shape:
            return float("inf")
        scale = np.abs(r).max() if r.size else 0.0
        err = np.abs(g - r).max() if r.size else 0.0
        if not (np.isfinite(err) and np.isfinite(scale)):
            return float("nan")   # NaN / inf in an output: the warnings say where
        worst = max(worst, float(err / scale) if scale else float(err))
    return worst


def _headline(outputs: dict, labels, n) -> tuple[str, callable]:
    """The metric attribution reports: accuracy with labels, else the cosine of the first
    float output, else the agreement of the first output (labels: no cosine)."""
    if labels is not None:
        return "accuracy", lambda outs: float((predictions(outs, n) == labels).mean())
    first = next((k for k, v in outputs.items() if np.asarray(v).dtype.kind == "f"), None)
    if first is None:
        first = next(iter(outputs))
        return f"agreement of {first}", lambda outs: output_metrics(
            outs[first], outputs[first], "labels")["agreement"]
    return f"cosine of {first}", lambda outs: output_metrics(outs[first], outputs[first],
                                                             "embedding")["cosine"]


def run_model(model, data, assignment: Assignment | None = None, attribution: bool = True,
              progress=None, reference=None, metrics: dict | None = None,
              capture=None) -> dict:
    """Everything ``hwsim run`` reports, as the JSON dict (see the module docstring).

    ``reference``: another ONNX model (path or :class:`Graph`) with the same inputs and
    outputs whose onnxruntime float run the metrics compare against, e.g. the float model a
    QDQ model was quantised from; default: ``model`` itself. ``metrics``: ``{output or
    None: kind}`` (``None``: every output) or the ``[OUTPUT=]KIND`` strings of ``--metric``
    (:func:`hwsim.graph.metrics.parse_choice`): the kinds the user chose; the others are
    chosen per output. ``capture``: an :class:`hwsim.eval.capture.OperandCapture` that
    records the operand codes of the assigned run (not of the attribution runs)."""
    t0 = time.perf_counter()
    graph = model if isinstance(model, Graph) else load(model)
    own_labels = "labels" in graph.inputs   # a graph input takes the array named labels
    feeds, labels = load_data(data, graph) if not isinstance(data, dict) else (
        graph.check_feeds({k: v for k, v in data.items() if k != "labels" or own_labels}),
        None if own_labels else data.get("labels"))
    assignment = assignment or Assignment()
    if metrics is not None and not isinstance(metrics, dict):   # ["[OUTPUT=]KIND", ...]
        from hwsim.graph.metrics import parse_choice
        try:
            metrics = parse_choice(metrics, graph.outputs)
        except ValueError as e:
            raise ModelError(str(e)) from None
    warnings = unmatched_rules(graph, assignment)
    from hwsim.graph import finite
    if finite.LABELS in graph.inputs:
        warnings.append("--data: the array 'labels' feeds the model's input named labels, "
                        "so no class labels are read (no accuracy)")
    own = reference_outputs(graph, feeds)
    ref = own
    if reference is not None:
        rgraph = reference if isinstance(reference, Graph) else load(reference, "--reference")
        if rgraph.outputs != graph.outputs or set(rgraph.inputs) != set(graph.inputs):
            raise ModelError(f"--reference: {rgraph.source} must have the model's inputs "
                             f"({', '.join(graph.inputs)}) and outputs "
                             f"({', '.join(graph.outputs)}), not "
                             f"({', '.join(rgraph.inputs)}) and ({', '.join(rgraph.outputs)})")
        ref = reference_outputs(rgraph, rgraph.check_feeds(feeds))
    finite.check_labels(labels, graph, ref, next((v.shape[0] for v in feeds.values() if v.ndim), 1),
                        f"--data {data}" if isinstance(data, (str, Path)) else "data")
    hw_float = own     # the float path is this very ONNX Runtime session (Graph.run)
    # a Conv on a unit sees its BatchNormalization folded in, as deployment does
    from hwsim.graph.assign import assigned_nodes
    from hwsim.graph.fold import fold_batchnorm
    model_graph = graph
    graph, rewrites = fold_batchnorm(graph, set(assigned_nodes(graph, assignment)))
    impl, nodes, fracs = build_impl(graph, assignment, feeds)
    run_impl = capture.wrap(impl) if capture is not None else impl
    got = tensor_outputs(graph, graph.run(feeds, run_impl)) if impl else own
    n = next((v.shape[0] for v in feeds.values() if v.ndim), 1)
    bad_lines, non_finite = finite.non_finite_warnings(
        model_graph, feeds, ref, got, "the reference" if reference is None else "--reference")
    warnings += bad_lines
    result = {
        "model": graph.source,
        "reference": "onnxruntime",
        "rows": int(n),
        "reference_model": graph.source if reference is None else str(
            getattr(reference, "source", reference)),
        "float_path_error": _float_path_error(hw_float, own),
        "outputs": {k: output_metrics(got[k], ref[k], (metrics or {}).get(k, (metrics or {}).get(None)),
                                      labels, model_graph, k) for k in graph.outputs},
        "accuracy": None, "float_accuracy": None,
        "assigned": {name: {**{k: v for k, v in r.to_dict().items() if k not in ("op", "node")},
                            "op": graph.node(name).op_type,
                            **({"qdq_width": impl[name].qdq_width}
                               if hasattr(impl[name], "qdq_width") else {})}
                     for name, r in nodes.items()},
        "formats": {k: int(v) for k, v in fracs.items()},
        "assignment": assignment.to_dict(),
        "warnings": warnings,
        "rewrites": rewrites,
        "non_finite": non_finite,
    }
    if labels is not None:
        pred, fpred = predictions(got, n), predictions(ref, n)
        if pred is None:
            raise ModelError("--data has labels, but the model has no class output (an integer "
                             "output of one value per row or a 2-D float output)")
        result["accuracy"] = float((pred == labels).mean())
        result["float_accuracy"] = float((fpred == labels).mean())
    if attribution and nodes:
        name_m, metric = _headline(ref, labels, n)
        rows = []
        items = list(nodes.items())
        for name, rule in (progress(items) if progress else items):
            one_impl, _, _ = build_impl(graph, assignment.only(name, rule), feeds, fracs)
            rows.append({"node": name, "op": graph.node(name).op_type, "unit": rule.unit,
                         "metric": metric(tensor_outputs(graph, graph.run(feeds, one_impl)))})
        result["attribution"] = {"metric": name_m, "float": metric(ref), "nodes": rows}
    result["seconds"] = time.perf_counter() - t0
    return result


def _error_text(x) -> str:
    """A relative error for the summary; NaN / inf (an output that is not a number) in words."""
    if x is None or not np.isfinite(x):
        return "not a number: an output holds NaN or inf, see the warnings"
    return f"{x:.1e}"


def format_summary(r: dict) -> str:
    """The headline table printed by ``hwsim run`` (its warnings go to stderr)."""
    from hwsim.render.tables import markdown_table
    lines = []
    against = ("" if r.get("reference_model", r["model"]) == r["model"]
               else f" running {r['reference_model']}")
    lines += [f"{r['model']}: {len(r['assigned'])} node(s) on hwsim units, {r['rows']} rows, "
              f"reference onnxruntime{against} (hwsim float path error "
              f"{_error_text(r['float_path_error'])})"]
    lines += r.get("rewrites", [])
    if r["accuracy"] is not None:
        lines.append(f"accuracy {100 * r['accuracy']:.2f} % (float {100 * r['float_accuracy']:.2f} %)")
    rows = []
    for k, m in r["outputs"].items():
        if m["cosine"] is None:    # a string output: the share of equal values
            rows.append([k, "-", "-", f"{m['agreement']:.4f} (equal)", "-"])
            continue
        rows.append([k, f"{m['cosine']:.6f}", f"{m['max_abs_error']:.4g}",
                     "-" if m["argmax_agreement"] is None else f"{m['argmax_agreement']:.4f}",
                     f"{m['spearman']:.5f}" if m.get("spearman") is not None else "-"])
    lines.append(markdown_table(["output", "cosine", "max abs error", "argmax agreement",
                                 "spearman (pairs)"], rows))
    from hwsim.graph.metrics import describe
    lines += [describe(k, m) for k, m in r["outputs"].items() if "kind" in m]
    return "\n".join(lines)


def write_report(r: dict, out: Path) -> Path:
    """``out/report.md`` (and ``out/attribution.png`` when there is an attribution)."""
    from hwsim.render.tables import markdown_table
    out.mkdir(parents=True, exist_ok=True)
    lines = ["# hwsim run", "", format_summary(r), ""]
    if r.get("warnings"):
        lines += ["## Warnings", "", *(f"- {w}" for w in r["warnings"]), ""]
    if r["assigned"]:
        lines += ["## Assigned nodes", "",
                  markdown_table(["node", "op", "unit", "parameters"],
                                 [[k, v["op"], v["unit"],
                                   ", ".join(f"{a}={b}" for a, b in v.items()
                                             if a not in ("op", "unit", "node"))]
                                  for k, v in r["assigned"].items()]), ""]
    if r.get("formats"):
        lines += ["## Calibrated operand formats (fraction bits)", "",
                  markdown_table(["tensor", "frac"], sorted(r["formats"].items())), ""]
    att = r.get("attribution")
    if att:
        from hwsim.render.plots import attribution_bars
        attribution_bars(out / "attribution.png", att)
        lines += ["## Per-node attribution", "",
                  f"Each assigned node alone on its unit, the rest float: {att['metric']} "
                  f"(float: {att['float']:.4f}).", "",
                  markdown_table(["node", "op", "unit", att["metric"]],
                                 [[x["node"], x["op"], x["unit"], f"{x['metric']:.4f}"]
                                  for x in att["nodes"]]), "",
                  "![attribution](attribution.png)", ""]
    path = out / "report.md"
    from hwsim.paths import replace_text
    replace_text(path, "\n".join(lines))  # whole or not at all
    return path
