"""The unit registry: unit name -> :class:`UnitSpec`.

Adding a unit means adding its model, HDL and bench files and one entry here. The HDL
component and the bench are named by dotted path and imported lazily, so ``import hwsim``
stays numpy-only.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from hwsim.attention import AttentionParams
from hwsim.exp import ExpParams, exp_fixed, exp_real
from hwsim.softmax import SoftmaxParams, softmax_fixed, softmax_real, softmax_vectors
from hwsim.performer import PerformerParams
from hwsim.mitchell import MitchellDivParams, MitchellMulParams, mitchell_div, mitchell_mul
from hwsim.drum import DrumMulParams, drum_mul
from hwsim.realm import RealmMulParams, realm_mul
from hwsim.float_mul import (
    FloatDivParams, FloatMulParams, float_div, float_mul, float_pairs, float_values,
)
from hwsim.vectors import operand_pairs


@dataclass(frozen=True)
class UnitSpec:
    """Everything the CLI, the benches and the characteriser need to know about a unit.

    Attributes
    ----------
    name: CLI name, e.g. ``"mitchell-mul"``.
    params_cls: the unit's ``<Unit>Params`` dataclass.
    hdl: ``"module:Class"`` of the Amaranth component taking ``params``.
    bench: dotted module of the cocotb testbench.
    summary: one line for ``hwsim units``.
    vectors: ``(params, count | None, seed) -> {input port: int64 array}``; ``None`` = exhaustive.
    model: ``(params, inputs) -> {output port: int array}``, the bit-exact model.
    real: ``(params, inputs) -> (approx, exact)`` float64 arrays of the real values the unit
        approximates and computes, over the inputs where the exact result is defined.
    operands: the input ports, each spanning ``params.in_range``; characterisation draws
        them uniformly or enumerates all ``2**params.input_bits`` combinations.
    characterizer: ``"module:function"`` replacing that generic characterisation (softmax
        measures probability vectors over logit distributions instead).
    default_count: random vectors ``hwsim verify`` draws when not exhaustive by default.
    exhaustive_kernel: ``"module:function"`` of a compiled exhaustive characterisation
        kernel ``(params, first_operand_rows, stats, hist, jobs)``; ``None``: the numpy model.
    exhaustive: whether ``vectors(params, None, seed)`` enumerates every input (units whose
        vectors are whole streams, such as softmax rows, have no exhaustive mode).
    baseline: ``"module:Class"`` of an exact component with the same params and ports, for
        cost comparisons (``hwsim synth``).
    """

    name: str
    params_cls: type
    hdl: str
    bench: str
    summary: str
    vectors: Callable[[Any, int | None, int], dict[str, np.ndarray]]
    model: Callable[[Any, dict[str, np.ndarray]], dict[str, np.ndarray]]
    real: Callable[[Any, dict[str, np.ndarray]], tuple[np.ndarray, np.ndarray]]
    operands: tuple[str, ...] = ("a", "b")
    characterizer: str | None = None
    default_count: int = 100_000
    baseline: str | None = None
    exhaustive_kernel: str | None = None
    exhaustive: bool = True

    def hdl_class(self):
        module, cls = self.hdl.split(":")
        return getattr(importlib.import_module(module), cls)

    def component(self, params):
        return self.hdl_class()(params)

    def baseline_component(self, params):
        module, cls = self.baseline.split(":")
        return getattr(importlib.import_module(module), cls)(params)

    def params(self, **kwargs):
        return self.params_cls(**kwargs)


def _pairs(params, count, seed):
    a, b = operand_pairs(params.width, params.signed, count, seed)
    return {"a": a, "b": b}


def _mul_model(params, v):
    return {"p": mitchell_mul(v["a"], v["b"], params)}


def _mul_real(params, v):
    p = mitchell_mul(v["a"], v["b"], params).astype(np.float64)
    return p, v["a"].astype(np.float64) * v["b"].astype(np.float64)


def _drum_model(params, v):
    return {"p": drum_mul(v["a"], v["b"], params)}


def _drum_real(params, v):
    p = drum_mul(v["a"], v["b"], params).astype(np.float64)
    return p, v["a"].astype(np.float64) * v["b"].astype(np.float64)


def _float_pairs(params, count, seed):
    a, b = float_pairs(params.fmt, count, seed)
    return {"a": a, "b": b}


def _float_mul_model(params, v):
    return {"p": float_mul(v["a"], v["b"], params)}


def _float_div_model(params, v):
    return {"q": float_div(v["a"], v["b"], params)}


def _float_real(params, v, divide):
    """Over the pairs of normal operands whose exact result is a normal value of the format
    (a flush or overflow of the approximation still counts as its error)."""
    fmt = params.fmt
    x, y = float_values(v["a"], fmt), float_values(v["b"], fmt)
    lo = float(float_values(fmt.min_normal, fmt))
    hi = float(float_values(fmt.max_finite, fmt))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        exact = x / np.where(y == 0, 1, y) if divide else x * y
        keep = (np.isfinite(x) & np.isfinite(y) & (np.abs(x) >= lo) & (np.abs(y) >= lo)
                & (np.abs(exact) >= lo) & (np.abs(exact) <= hi))
    a, b = v["a"][keep], v["b"][keep]
    approx = float_div(a, b, params) if divide else float_mul(a, b, params)
    return float_values(approx, fmt), exact[keep]


def _float_mul_real(params, v):
    return _float_real(params, v, divide=False)


def _float_div_real(params, v):
    return _float_real(params, v, divide=True)


def _realm_model(params, v):
    return {"p": realm_mul(v["a"], v["b"], params)}


def _realm_real(params, v):
    p = realm_mul(v["a"], v["b"], params).astype(np.float64)
    return p, v["a"].astype(np.float64) * v["b"].astype(np.float64)


def _div_model(params, v):
    q, dz = mitchell_div(v["a"], v["b"], params)
    return {"q": q, "div_by_zero": dz.astype(np.int64)}


def _div_real(params, v):
    keep = v["b"] != 0
    a, b = v["a"][keep], v["b"][keep]
    q, _ = mitchell_div(a, b, params)
    return np.ldexp(q.astype(np.float64), -params.frac_bits), a / b


def _exp_inputs(params, count, seed):
    """Every input (``count=None``), else the corners (ends, zero, +-1 LSB, integers) and
    ``count`` seeded uniform inputs."""
    lo, hi = params.in_range
    if count is None:
        return {"x": np.arange(lo, hi, dtype=np.int64)}
    one = 1 << params.in_fmt.frac_bits
    corners = {lo, lo + 1, hi - 1, hi - 2, 0, 1, -1}
    corners |= {i * one for i in range(lo // one, (hi - 1) // one + 1)}
    rng = np.random.default_rng(seed)
    c = np.array(sorted(v for v in corners if lo <= v < hi), dtype=np.int64)
    return {"x": np.concatenate([c, rng.integers(lo, hi, count, dtype=np.int64)])}


def _exp_model(params, v):
    return {"y": exp_fixed(v["x"], params)}


def _exp_real(params, v):
    """Over the inputs whose exact result is inside the output range (no saturation)."""
    exact = exp_real(v["x"], params)
    keep = exact <= params.out_fmt.max_raw * params.out_fmt.lsb
    return params.out_fmt.to_float(exp_fixed(v["x"][keep], params)), exact[keep]


def _softmax_inputs(params, count, seed):
    return {"x": softmax_vectors(params, count, seed)}


def _softmax_model(params, v):
    return {"p": softmax_fixed(v["x"], params)}


def _softmax_real(params, v):
    return params.out_fmt.to_float(softmax_fixed(v["x"], params)), softmax_real(v["x"], params)


def _attention_inputs(params, count, seed):
    from hwsim.attention import attention_vectors
    return {"x": attention_vectors(params, count, seed)}


def _attention_model(params, v):
    from hwsim.attention import attention_fixed, split_problem
    q, k, vv = split_problem(v["x"], params)
    return {"y": attention_fixed(q, k, vv, params).reshape(len(v["x"]), -1)}


def _attention_real(params, v):
    from hwsim.attention import attention_fixed, attention_real, split_problem
    q, k, vv = split_problem(v["x"], params)
    return (params.out_fmt.to_float(attention_fixed(q, k, vv, params)).ravel(),
            attention_real(q, k, vv, params).ravel())


def _performer_inputs(params, count, seed):
    from hwsim.performer import performer_vectors
    return {"x": performer_vectors(params, count, seed)}


def _performer_model(params, v):
    from hwsim.performer import phi_fixed
    return {"y": phi_fixed(v["x"], params)}


def _performer_real(params, v):
    from hwsim.performer import phi_fixed, phi_float
    approx = params.exp_params.out_fmt.to_float(phi_fixed(v["x"], params))
    exact = phi_float(params.in_fmt.to_float(v["x"]), params.omega_fmt.to_float(params.omega_raw()))
    return approx.ravel(), exact.ravel()


REGISTRY: dict[str, UnitSpec] = {
    spec.name: spec for spec in [
        UnitSpec("mitchell-mul", MitchellMulParams, "hwsim.hdl.mitchell:MitchellMultiplier",
                 "hwsim.sim.tb_mitchell_mul", "Mitchell logarithmic multiplier (log2 p ~ k + x)",
                 _pairs, _mul_model, _mul_real, baseline="hwsim.hdl.exact:ExactMultiplier",
                 exhaustive_kernel="hwsim.characterize_kernels:mul_exhaustive"),
        UnitSpec("mitchell-div", MitchellDivParams, "hwsim.hdl.mitchell:MitchellDivider",
                 "hwsim.sim.tb_mitchell_div", "Mitchell logarithmic divider, N+F-bit quotient",
                 _pairs, _div_model, _div_real, baseline="hwsim.hdl.exact:ExactDivider",
                 exhaustive_kernel="hwsim.characterize_kernels:div_exhaustive"),
        UnitSpec("drum-mul", DrumMulParams, "hwsim.hdl.drum:DrumMultiplier",
                 "hwsim.sim.tb_drum_mul",
                 "DRUM multiplier: k-bit unbiased segments of each operand (Hashemi et al. 2015)",
                 _pairs, _drum_model, _drum_real, baseline="hwsim.hdl.exact:ExactMultiplier"),
        UnitSpec("realm-mul", RealmMulParams, "hwsim.hdl.realm:RealmMultiplier",
                 "hwsim.sim.tb_realm_mul",
                 "REALM-style log multiplier: truncated fractions + per-segment correction "
                 "table (Saadat et al. 2020)",
                 _pairs, _realm_model, _realm_real, baseline="hwsim.hdl.exact:ExactMultiplier"),
        UnitSpec("float-mul", FloatMulParams, "hwsim.hdl.float_mul:FloatMultiplier",
                 "hwsim.sim.tb_float_mul",
                 "float multiplier on bit patterns: Mitchell, L-Mul or exact (fp32..fp8)",
                 _float_pairs, _float_mul_model, _float_mul_real,
                 baseline="hwsim.hdl.float_mul:ExactFloatMultiplier"),
        UnitSpec("float-div", FloatDivParams, "hwsim.hdl.float_mul:FloatDivider",
                 "hwsim.sim.tb_float_div", "Mitchell float divider on bit patterns (fp32..fp8)",
                 _float_pairs, _float_div_model, _float_div_real),
        UnitSpec("exp", ExpParams, "hwsim.hdl.exp:ExpUnit", "hwsim.sim.tb_exp",
                 "fixed-point e**x / 2**x: LUT, PWL, Mitchell, I-BERT or even-order Taylor",
                 _exp_inputs, _exp_model, _exp_real, operands=("x",)),
        UnitSpec("softmax", SoftmaxParams, "hwsim.hdl.softmax:Softmax", "hwsim.sim.tb_softmax",
                 "streaming softmax: two-pass, online or Taylor; exact/Mitchell/LUT normaliser",
                 _softmax_inputs, _softmax_model, _softmax_real, operands=(),
                 characterizer="hwsim.characterize:characterize_softmax", default_count=20_000,
                 exhaustive=False),
        UnitSpec("attention", AttentionParams, "hwsim.hdl.attention:Attention",
                 "hwsim.sim.tb_attention",
                 "attention head softmax(QK^T/sqrt(d))V, exact or Mitchell products, streamed",
                 _attention_inputs, _attention_model, _attention_real, operands=(),
                 characterizer="hwsim.characterize:characterize_attention", default_count=200,
                 exhaustive=False),
        UnitSpec("performer", PerformerParams, "hwsim.hdl.performer:PerformerFeatures",
                 "hwsim.sim.tb_performer",
                 "Performer (FAVOR+) positive random-feature map, omega in a ROM, exp unit",
                 _performer_inputs, _performer_model, _performer_real, operands=(),
                 characterizer="hwsim.characterize:characterize_performer", default_count=500,
                 exhaustive=False),
    ]
}


def get_unit(name: str) -> UnitSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown unit {name!r} (units: {', '.join(REGISTRY)})") from None
