"""ML and accuracy studies computed through the numeric models: the STUDIES registry.

A study is a function of (params, seed) returning a dict of metrics; the sweep engine
(``hwsim.sweep``) runs it over grids of params and seeds. Each study declares its parameters
with defaults (``params``), validates a full parameter dict (``check``) and is imported
lazily (``run``), so listing studies stays cheap. :meth:`Study.normalize` turns the
parameters a sweep point names into the full parameter dict the task runs with (and the
sweep's cache key hashes); a study module may define its own ``normalize(point)`` and
``param_names()`` (``unit-error`` takes every field of the unit's Params class).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from hwsim._check import short_repr


#: the parameters of the onnx study (see hwsim.studies.onnx_model)
ONNX_PARAMS = {"model": "", "data": "", "products": "mitchell", "ops": "MatMul,Gemm,Conv",
               "node": "*", "width": 8, "keep_bits": None, "mode": "static",
               "weights": "per-channel", "rows": 0, "softmax": "float", "softmax_out_bits": 16}

#: the data parameters every MiniLM study has (see hwsim.studies.minilm_eval)
MINILM_DATA = {"sentences": 300, "corpus": "builtin", "sts": "", "max_tokens": 64}


@dataclass(frozen=True)
class Study:
    name: str
    summary: str
    params: dict[str, Any]
    module: str  # "hwsim.studies.<x>": defines run(params, seed) -> dict and check(params)
    #: what the study's headline numbers are, metric and unit: the caption of its report's
    #: first table (printed above it by ``hwsim study``); without a report, its metric columns
    headline: str = ""
    extra: str | None = None  # the pip extra it needs, for the error message
    notes: dict = field(default_factory=dict)
    #: the module defines ``param_names()`` and ``normalize(point)`` (parameters beyond
    #: ``params``, e.g. a unit's Params fields)
    open_params: bool = False

    def _mod(self):
        try:
            return importlib.import_module(self.module)
        except ImportError as e:
            if "pip install" in str(e):  # the module says how to get what it misses
                raise RuntimeError(f"study {self.name!r}: {e}") from None
            hint = f" (pip install 'hwsim[{self.extra}]')" if self.extra else ""
            raise RuntimeError(f"study {self.name!r} needs {e.name}{hint}") from None

    def check(self, params: dict) -> None:
        self._mod().check(params)

    def param_names(self) -> tuple[str, ...]:
        """Every parameter name a sweep point may use."""
        mod = importlib.import_module(self.module) if self.open_params else None
        return tuple(mod.param_names()) if mod else tuple(self.params)

    def normalize(self, point: dict) -> dict:
        """The full parameter dict of a sweep point (names from :meth:`param_names`, values
        as TOML gives them): the defaults merged with the point, each value of the kind its
        default has (a bool for a bool default; no bool where the default is a number or a
        string; no arrays or tables), then checked by the study. TOML has no null: the string
        ``"none"`` means ``None`` where the default is not a string. Raises ``TypeError`` /
        ``ValueError`` naming the parameter."""
        if self.open_params:
            return importlib.import_module(self.module).normalize(point)
        point = dict(point)
        for k, v in point.items():
            default = self.params[k]
            if is_none(v) and not isinstance(default, str):
                point[k] = v = None
            if isinstance(v, (list, dict)):
                raise TypeError(f"{self.name}: {k} must be a string, a number or a bool, "
                                f"not {short_repr(v)}")
            if isinstance(default, bool) and not isinstance(v, bool):
                raise TypeError(f"{self.name}: {k} must be true or false, not {short_repr(v)}")
            if isinstance(v, bool) and default is not None and not isinstance(default, bool):
                raise TypeError(f"{self.name}: {k} must be {_kind(default)}, not {v!r}")
        params = {**self.params, **point}
        self.check(params)
        return params

    def run(self, params: dict, seed: int) -> dict:
        return self._mod().run(params, seed)


STUDIES: dict[str, Study] = {s.name: s for s in [
    Study("unit-error", "error metrics (and optional iCE40 LUT4s) of one unit configuration "
                        "(a unit with scalar operands, as hwsim characterize takes; every field "
                        "of its Params)",
          {"unit": "mitchell-mul", "samples": 100_000, "synth": False},
          "hwsim.studies.unit_error", open_params=True,
          headline="per task: MRED and max RED (fractions of |exact|), MAE, WCE and bias "
                   "(output units); with synth = true, iCE40 LUT4"),
    Study("digits-mlp", "sklearn digits MLP inference with every product through a multiplier "
                        "model (fixed-point exact, Mitchell, Gaussian error, float bit trick)",
          {"multiplier": "mitchell", "width": 8, "keep_bits": None, "layers": "all",
           "hidden": 32, "epochs": 30},
          "hwsim.studies.digits_mlp", extra="ml",
          headline="test accuracy [%], mean ± std over seeds, by operand width"),
    Study("mitchell-training", "train the digits MLP with every product by the float bit trick "
                               "(fp32 / bf16) against float training (Mogami)",
          {"arithmetic": "fp32-trick", "hidden": 32, "epochs": 20},
          "hwsim.studies.mitchell_training", extra="ml",
          headline="final test accuracy [%], mean ± std over seeds, then per seed"),
    Study("taylor-softmax", "the even-order Taylor softmax (orders 2..8) as the MLP's output layer",
          {"output": "taylor", "order": 4, "hidden": 32, "epochs": 30},
          "hwsim.studies.taylor_softmax", extra="ml",
          headline="test accuracy [%], mean ± std over seeds, by output layer"),
    Study("zo-training", "train through a Mitchell forward pass: zeroth-order estimator vs "
                         "straight-through vs float backprop at equal evaluations",
          {"method": "zo", "width": 8, "budget": 6000, "directions": 16, "epsilon": 0.05,
           "hidden": 16},
          "hwsim.studies.zo_training", extra="ml",
          headline="test accuracy [%] through the Mitchell forward pass, mean ± std over "
                   "seeds (the float forward's beside it), by training method"),
    Study("minilm-units", "the pretrained MiniLM sentence encoder with hardware softmax / exp "
                          "units and exact, Mitchell or L-Mul products (block floating point "
                          "or fp32/bf16/fp16/fp8 float units): embedding fidelity to float",
          {"softmax": "two_pass", "method": "lut", "normalizer": "exact_div", "out_bits": 16,
           "in_fmt": "Q7.5", "lut_bits": 6, "products": "float", "linear": "float",
           "product_bits": 8, "keep_bits": None, "product_format": "bfp",
           "float_scale": "tensor", "head": "none", "head_bits": 12,
           **MINILM_DATA}, "hwsim.studies.minilm_units", extra="ml",
          headline="cosine to the float encoder's embeddings, mean (min) / Spearman ρ of all "
                   "pairwise similarities / nearest-neighbour agreement (fraction), by softmax "
                   "variant and output bits"),
    Study("bert-whitening", "BERT-whitening of MiniLM embeddings (keep k of 384 dims) applied in "
                            "fixed point / with Mitchell products: ranking fidelity",
          {"k": 128, "arithmetic": "float", "width": 8, "keep_bits": None, **MINILM_DATA},
          "hwsim.studies.bert_whitening", extra="ml",
          headline="Spearman ρ of all pairwise cosine similarities against the float "
                   "full-dimension embeddings (in brackets: against float whitening at the same "
                   "k), mean over seeds, by kept dimensions k"),
    Study("onnx", "a user's ONNX model (float or QDQ) with its products / softmax on hwsim "
                  "units, against onnxruntime (model, data, products, width, ...)",
          ONNX_PARAMS, "hwsim.studies.onnx_model", extra="ml", open_params=True,
          headline="per task, against onnxruntime: accuracy and float_accuracy (fractions) "
                   "with labels, delta_points [percentage points]; the first class output's "
                   "cosine, argmax agreement (fraction), Spearman ρ"),
    Study("onnx-design", "a user's ONNX model under one full assignment (model, data, "
                         "assignment as JSON): the designs hwsim explore evaluates",
          {"model": "", "data": "", "assignment": "{}"}, "hwsim.studies.onnx_design",
          extra="ml", open_params=True,
          headline="per task, against onnxruntime: accuracy and float_accuracy (fractions) "
                   "with labels; per output <name>.cosine, <name>.argmax_agreement "
                   "(fraction), <name>.spearman"),
    Study("performer-minilm", "MiniLM with each head's softmax attention replaced by FAVOR+ "
                              "random features (m, feature kind, feature bits), untuned",
          {"features": 64, "kind": "orthogonal", "feature_frac": None, "layers": "all",
           **MINILM_DATA}, "hwsim.studies.performer_minilm", extra="ml",
          headline="cosine to the float encoder's embeddings, Spearman ρ of all pairwise "
                   "similarities (mean ± std over omega seeds), nearest-neighbour agreement "
                   "(fraction), by random features m"),
]}


def check_choice(study: str, params: dict, name: str, choices) -> None:
    """``params[name]`` (compared as text) must be one of ``choices``."""
    if str(params[name]) not in choices:
        raise ValueError(f"{study}: {name} must be one of {', '.join(choices)}, "
                         f"not {params[name]!r}")


#: bounds of the digits-MLP studies' sizes: far above their defaults (32 neurons, 20-30
#: epochs), below what would run for days or allocate gigabytes
MAX_HIDDEN = 4096
MAX_EPOCHS = 10_000


def check_int_param(study: str, params: dict, name: str, lo: int, hi: int) -> int:
    """``params[name]`` must be an integer (not a bool or a float) in ``lo..hi``."""
    from hwsim._check import is_int, short_repr
    v = params[name]
    if not is_int(v) or not lo <= v <= hi:
        raise ValueError(f"{study}: {name} must be an integer in {lo}..{hi}, not {short_repr(v)}")
    return v


def is_none(value) -> bool:
    """``value`` is the string standing for TOML's missing null (``"none"``, any case)."""
    return isinstance(value, str) and value.lower() == "none"


def _kind(default) -> str:
    if default is None:
        return "a value"
    return "a string" if isinstance(default, str) else "a number"


def get_study(name: str) -> Study:
    try:
        return STUDIES[name]
    except KeyError:
        raise ValueError(f"unknown study {name!r} (studies: {', '.join(STUDIES)})") from None


