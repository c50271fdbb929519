"""Study ``onnx``: a user's ONNX model through hwsim units, one assignment per sweep point.

The point names the model and data files (``model``, ``data``: paths, as for ``hwsim run``)
and the assignment, flattened so that a sweep can grid over it:

* ``products``: ``"mitchell"``, ``"exact"`` or ``"float"``: the unit of the product nodes
  (``ops``, comma-separated op types, default ``"MatMul,Gemm,Conv"``; ``node``: an fnmatch
  pattern on node names, default ``"*"``), at ``width`` bits, Mitch-w ``keep_bits``;
* ``mode`` (``static`` / ``block``), ``weights`` (``per-channel`` / ``per-tensor``),
  ``rows`` (calibration rows, 0 = all) — the ``[calibration]`` table of docs/onnx.md;
* ``softmax``: ``"float"``, ``"softmax"`` (the softmax unit, ``SoftmaxParams`` defaults
  but ``softmax_out_bits``-bit outputs UQ1.(b-1)) or ``"exp"`` (the exp unit's defaults).

The task's parameters also hold the SHA-256 of the model and data files
(``model_sha256``, ``data_sha256``), so the sweep's cache key changes when a file's
content does: an edited model is never served an old row. Metrics: ``accuracy``,
``float_accuracy``, ``delta_points`` (with labels), and, of the first output with a class
axis (else the first float output), ``cosine``, ``argmax_agreement`` and, for an embedding,
``spearman`` against onnxruntime (hwsim.graph.metrics: the metrics that fit the output).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from hwsim._check import is_int, short_repr
from hwsim.studies import ONNX_PARAMS as PARAMS
from hwsim.studies import check_choice, is_none
PRODUCTS = ("mitchell", "exact", "float")
SOFTMAX = ("float", "softmax", "exp")


def param_names() -> tuple[str, ...]:
    return tuple(PARAMS)


@lru_cache(maxsize=64)
def _sha256(path: str, mtime_ns: int, size: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_file(study: str, params: dict, key: str) -> Path:
    """``params[key]`` is the path of an existing file."""
    v = params[key]
    if not isinstance(v, str) or not v:
        raise ValueError(f"{study}: {key} must be the path of a file, not {short_repr(v)}")
    p = Path(v)
    if not p.is_file():
        raise ValueError(f"{study}: {key} {v!r} is not an existing file")
    return p


def file_sha256(study: str, params: dict, key: str) -> str:
    """The SHA-256 of the file ``params[key]`` (cached by path, mtime and size); for an ONNX
    model whose weights live in external files, of the model and each of those files, so a
    changed weights file is never served a row of the old weights."""
    p = check_file(study, params, key).resolve()
    st = p.stat()
    digest = _sha256(str(p), st.st_mtime_ns, st.st_size)
    if key != "model":
        return digest
    parts = [digest]
    for name in external_files_of(str(p), st.st_mtime_ns, st.st_size):
        ext = (p.parent / name).resolve()
        try:
            es = ext.stat()
        except OSError:
            continue  # loading the model reports it
        parts.append(_sha256(str(ext), es.st_mtime_ns, es.st_size))
    return digest if len(parts) == 1 else hashlib.sha256(":".join(parts).encode()).hexdigest()


def external_files(path) -> list[Path]:
    """The external-data files of the ONNX model at ``path`` (none when it is unreadable)."""
    p = Path(path).resolve()
    st = p.stat()
    return [p.parent / n for n in external_files_of(str(p), st.st_mtime_ns, st.st_size)]


@lru_cache(maxsize=64)
def external_files_of(path: str, mtime_ns: int, size: int) -> tuple[str, ...]:
    """The external-data file names an ONNX model gives (none when unreadable: loading it
    says why)."""
    try:
        import onnx
        m = onnx.load(path, load_external_data=False)
    except Exception:  # not a model: check() and the task report it
        return ()
    names = []
    for t in m.graph.initializer:
        if t.data_location == onnx.TensorProto.EXTERNAL:
            names += [e.value for e in t.external_data if e.key == "location"]
    return tuple(dict.fromkeys(names))


def normalize(point: dict) -> dict:
    unknown = sorted(set(point) - set(PARAMS) - {"model_sha256", "data_sha256"})
    if unknown:
        raise ValueError(f"onnx: no parameter {unknown[0]!r} (parameters: {', '.join(PARAMS)})")
    params = {**PARAMS, **{k: v for k, v in point.items() if k in PARAMS}}
    if is_none(params["keep_bits"]):
        params["keep_bits"] = None
    check(params)
    for key in ("model", "data"):
        params[f"{key}_sha256"] = file_sha256("onnx", params, key)
    return params


def assignment(params: dict):
    """The :class:`hwsim.graph.assign.Assignment` of a point."""
    from hwsim.graph.assign import parse_assignment
    rules = []
    if params["products"] != "float":
        rule = {"op": [o.strip() for o in params["ops"].split(",")], "node": params["node"],
                "unit": "mitchell-mul" if params["products"] == "mitchell" else "exact-mul",
                "width": params["width"]}
        if params["keep_bits"] is not None:
            rule["keep_bits"] = params["keep_bits"]
        rules.append(rule)
    if params["softmax"] == "softmax":
        b = params["softmax_out_bits"]
        rules.append({"op": "Softmax", "unit": "softmax",
                      "out_fmt": {"int_bits": 1, "frac_bits": b - 1, "signed": False}})
    elif params["softmax"] == "exp":
        rules.append({"op": "Softmax", "unit": "exp"})
    cal = {"mode": params["mode"], "weights": params["weights"]}
    if params["rows"]:
        cal["rows"] = params["rows"]
    return parse_assignment({"assign": rules, "calibration": cal}, "onnx")


def check(params: dict) -> None:
    check_choice("onnx", params, "products", PRODUCTS)
    check_choice("onnx", params, "softmax", SOFTMAX)
    for key in ("model", "data"):
        check_file("onnx", params, key)
    for key, lo, hi in (("width", 2, 24), ("rows", 0, 1 << 30), ("softmax_out_bits", 2, 32)):
        v = params[key]
        if not is_int(v) or not lo <= v <= hi:
            raise ValueError(f"onnx: {key} must be an integer in {lo}..{hi}, not {short_repr(v)}")
    for key in ("ops", "node", "mode", "weights"):
        if not isinstance(params[key], str):
            raise TypeError(f"onnx: {key} must be a string, not {short_repr(params[key])}")
    assignment(params)


def run(params: dict, seed: int) -> dict:
    from hwsim.graph.evaluate import run_model
    r = run_model(params["model"], params["data"], assignment(params), attribution=False)
    out = {}
    if r["accuracy"] is not None:
        out = {"accuracy": r["accuracy"], "float_accuracy": r["float_accuracy"],
               "delta_points": 100 * (r["accuracy"] - r["float_accuracy"])}
    ms = list(r["outputs"].values())
    first = next((m for m in ms if m["argmax_agreement"] is not None),
                 next((m for m in ms if m["cosine"] is not None), ms[0]))
    if first["cosine"] is not None:
        out["cosine"] = first["cosine"]
    if first["argmax_agreement"] is not None:
        out["argmax_agreement"] = first["argmax_agreement"]
    if first.get("spearman") is not None:   # an embedding output's (hwsim.graph.metrics)
        out["spearman"] = first["spearman"]
    out["float_path_error"] = r["float_path_error"]
    return out
