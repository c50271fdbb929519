"""Study ``onnx-design``: a user's ONNX model under one complete assignment (``hwsim explore``
evaluates its designs through it, so they are cached and resumable like any sweep row).

Parameters: ``model`` and ``data`` (paths, as for ``hwsim run``) and ``assignment``: the
assignment as JSON text (:meth:`hwsim.graph.assign.Assignment.to_dict`, the same tables as
an ``--assign`` TOML file). The task also holds the SHA-256 of the model and data files,
so an edited file is never served an old row. Metrics: ``accuracy`` and ``float_accuracy``
(with labels) and, for every output ``o``, ``o.cosine``, ``o.argmax_agreement`` and
``o.spearman`` where defined (docs/onnx.md), all against onnxruntime.
"""

from __future__ import annotations

import json

from hwsim._check import short_repr
from hwsim.studies.onnx_model import file_sha256

PARAMS = {"model": "", "data": "", "assignment": "{}"}


def param_names() -> tuple[str, ...]:
    return tuple(PARAMS)


def _assignment(params: dict):
    from hwsim.graph.assign import parse_assignment
    text = params["assignment"]
    if not isinstance(text, str):
        raise TypeError(f"onnx-design: assignment must be JSON text, not {short_repr(text)}")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise ValueError(f"onnx-design: assignment is not JSON ({e})") from None
    return parse_assignment(doc, "onnx-design: assignment")


def normalize(point: dict) -> dict:
    unknown = sorted(set(point) - set(PARAMS) - {"model_sha256", "data_sha256"})
    if unknown:
        raise ValueError(f"onnx-design: no parameter {unknown[0]!r} (parameters: "
                         f"{', '.join(PARAMS)})")
    params = {**PARAMS, **{k: v for k, v in point.items() if k in PARAMS}}
    check(params)
    for key in ("model", "data"):
        params[f"{key}_sha256"] = file_sha256("onnx-design", params, key)
    return params


def check(params: dict) -> None:
    from hwsim.studies.onnx_model import check_file
    for key in ("model", "data"):
        check_file("onnx-design", params, key)
    _assignment(params)


def run(params: dict, seed: int) -> dict:
    from hwsim.graph.evaluate import run_model
    r = run_model(params["model"], params["data"], _assignment(params), attribution=False)
    out = {}
    if r["accuracy"] is not None:
        out = {"accuracy": r["accuracy"], "float_accuracy": r["float_accuracy"]}
    for name, m in r["outputs"].items():
        for k in ("cosine", "argmax_agreement", "spearman"):
            if m.get(k) is not None:
                out[f"{name}.{k}"] = m[k]
    return out
