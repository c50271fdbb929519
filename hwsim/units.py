"""The unit registry: unit name -> :class:`UnitSpec`.

Adding a unit means adding its model, HDL and bench files and one entry here. The HDL
component and the bench are named by dotted path and imported lazily, so ``import hwsim``
stays numpy-only.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from hwsim.attention import AttentionParams
from hwsim.exp import ExpParams, exp_fixed, exp_real
from hwsim.softmax import MAX_LENGTH as SOFTMAX_MAX_LENGTH
from hwsim.softmax import SoftmaxParams, softmax_fixed, softmax_real, softmax_vectors
from hwsim.performer import PerformerParams
from hwsim.mitchell import MitchellDivParams, MitchellMulParams, mitchell_div, mitchell_mul
from hwsim.drum import DrumMulParams, drum_mul
from hwsim.realm import RealmMulParams, realm_mul
from hwsim.exact_mul import ExactMulParams, exact_mul
from hwsim.circuit_mul import CircuitMulParams, circuit_mul
from hwsim.float_mul import (
    FloatDivParams, FloatMulParams, float_div, float_mul, float_pairs, float_values,
)
from hwsim.vectors import operand_pairs


def _load(path: str):
    """The object a ``"module:name"`` path names (imported on first use)."""
    module, name = path.split(":")
    return getattr(importlib.import_module(module), name)


def _resolve(value):
    """A trait given as a callable or as a ``"module:name"`` path, as the callable."""
    return _load(value) if isinstance(value, str) else value


@dataclass(frozen=True)
class Product:
    """The unit computes the scalar products of a model's matrix products (``MatMul``,
    ``Gemm``, ``Conv`` in ``hwsim run`` and explore; the studies' dense layers).

    Operands are signed fixed point. A unit whose Params have a ``signed`` field runs with it
    set (``fixed``); an unsigned unit (``sign_magnitude``) runs as
    ``sgn(a) sgn(b) U(|a|, |b|)`` at the operand width. ``kernel`` (``"module:function"``
    or a callable ``(params, qa (G, n, k), qb (G, k, m)) -> exact sums (G, n, m)``) is a
    fast path; ``None`` sums the unit's model over k (a table up to 12 bits). ``unpriced``:
    why explore cannot price the unit (``None``: its RTL is what the graph runs)."""

    sign_magnitude: bool = False
    kernel: str | Callable | None = None
    unpriced: str | None = None

    #: ONNX Runtime's integer operator form (QOperator): the integer codes go through the
    #: unit, the model's scales are applied as the op defines (:mod:`hwsim.graph.qoperator`)
    quantized_ops = ("QLinearMatMul", "QLinearConv", "MatMulInteger", "ConvInteger")
    #: ai.onnx.ml's linear models (skl2onnx's LogisticRegression, LinearRegression): X W^T
    #: on the unit, the rest in ONNX Runtime (:mod:`hwsim.graph.linear_ml`)
    ml_ops = ("LinearClassifier", "LinearRegressor")
    ops = ("MatMul", "Gemm", "Conv") + quantized_ops + ml_ops


@dataclass(frozen=True)
class RowOp:
    """The unit replaces a ``Softmax`` over the last axis of float scores: ``hook``
    (``"module:Class"``) takes the unit's Params and is a callable on score arrays.
    ``length``: the Params field each call's row length sets (``None``: none)."""

    hook: str | Callable
    length: str | None = None
    max_length: int | None = None
    """the longest row the unit is priced at (a longer row is priced at this length)"""

    ops = ("Softmax",)


@dataclass(frozen=True)
class Front:
    """The unit's family on the multiplier front (``hwsim front``): ``family`` labels it,
    ``variants(width)`` gives its points at an operand width, ``knob(params_dict)`` labels
    a point (``None``: the family's full-precision point), ``knob_name`` heads the column,
    ``marker`` styles the line."""

    family: str
    variants: Callable[[int], list]
    knob: Callable[[dict], object] = lambda d: None
    knob_name: str = ""
    marker: str = "o"
    exact: bool = False


@dataclass(frozen=True)
class Formal:
    """How ``hwsim prove`` proves the unit: ``spec`` (``"module:function"``, the
    z3 specification ``(z3, params, inputs) -> outputs``) for a whole-unit proof, or
    ``subblocks`` (``params -> [SubBlock]``); ``bounds`` (``(z3, params, inputs, outputs)
    -> formula``) the error bounds ``--property bounds`` proves, ``None``: none."""

    spec: str | Callable | None = None
    bounds: str | Callable | None = None
    subblocks: str | Callable | None = None
    bounds_refuse: Callable | None = None
    """``params -> reason or None``: configurations the bounds do not cover."""
    wide: Callable[[], list] = lambda: []
    """``() -> [(params, property, seconds)]``: the wide proofs ``make prove`` runs and
    tabulates (the unit tests prove only widths that finish in seconds)."""
    wce: bool = False
    """``hwsim prove --property wce --bound B`` proves ``|p - a b| <= B`` for all inputs (a
    multiplier, ports a, b -> p, whose specification is its own netlist: a user's circuit)."""

    @property
    def properties(self) -> tuple[str, ...]:
        """What ``hwsim prove`` proves: equivalence (with a specification), bounds where the
        unit has them, a worst-case error bound (``wce``)."""
        return ((("equivalence",) if self.spec or self.subblocks else ())
                + (("bounds",) if self.bounds is not None else ())
                + (("wce",) if self.wce else ()))


@dataclass(frozen=True)
class UnitSpec:
    """Everything the layers above the units need to know about a unit: the CLI, the
    benches, the characteriser, model graphs, explore, the front and the proofs read it
    here and nowhere else.

    Attributes
    ----------
    name: CLI name, e.g. ``"mitchell-mul"``.
    params_cls: the unit's ``<Unit>Params`` dataclass.
    hdl: ``"module:Class"`` of the Amaranth component taking ``params``.
    bench: dotted module of the cocotb testbench.
    summary: one line for ``hwsim units`` and every help text that lists units.
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
    graph: the unit's role in a model graph (:class:`Product`, :class:`RowOp`) or ``None``.
    fixed: Params fields a model graph sets (``{"signed": True}``: ONNX operands are
        signed); a rule may repeat the value, not change it.
    label: the short name of the unit in explore's design labels (default: ``name``).
    front: the unit's family on the multiplier front (:class:`Front`) or ``None``.
    formal: how ``hwsim prove`` proves it (:class:`Formal`) or ``None``.
    sources: ``"module:function"`` ``(params) -> str``, Verilog text of modules the unit's
        component instantiates but does not describe (a user's own circuit), written before
        the component's module wherever its Verilog is exported; ``None``: none.
    cost_table: ``(width) -> [params]``, the unit's points in the cost table of docs/cost.md
        (``scripts/cost_table.py``) at operand width 8 or 16 (``[]``: none at that width);
        ``None``: the unit is not in the table.
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
    graph: Product | RowOp | None = None
    fixed: dict = field(default_factory=dict)
    label: str | None = None
    front: Front | None = None
    formal: Formal | None = None
    sources: str | Callable | None = None
    cost_table: Callable[[int], list] | None = None

    def hdl_class(self):
        return _load(self.hdl)

    def component(self, params):
        return self.hdl_class()(params)

    def baseline_component(self, params):
        return _load(self.baseline)(params)

    def params(self, **kwargs):
        return self.params_cls(**kwargs)

    @property
    def short(self) -> str:
        return self.label or self.name

    def product_kernel(self):
        """The :class:`Product` kernel as a callable, or ``None``."""
        k = self.graph.kernel if isinstance(self.graph, Product) else None
        return None if k is None else _resolve(k)

    def source_text(self, params) -> str:
        """The ``sources`` trait's Verilog text for ``params`` (``""``: none)."""
        return "" if self.sources is None else _resolve(self.sources)(params)

    def row_hook(self, params):
        """The :class:`RowOp` hook built on ``params``."""
        return _resolve(self.graph.hook)(params)

    def formal_fn(self, what: str):
        """``formal.spec`` / ``.bounds`` / ``.subblocks`` as a callable, or ``None``."""
        v = None if self.formal is None else getattr(self.formal, what)
        return None if v is None else _resolve(v)


def _pairs(params, count, seed):
    a, b = operand_pairs(params.width, params.signed, count, seed)
    return {"a": a, "b": b}


def multiplier(fn) -> tuple[Callable, Callable]:
    """``(model, real)`` of an integer multiplier unit whose bit-exact function is
    ``fn(a, b, params) -> p``: the model on ports a, b -> p; the real values, the product and
    the exact ``a * b``, over every input."""
    def model(params, v):
        return {"p": fn(v["a"], v["b"], params)}

    def real(params, v):
        return (fn(v["a"], v["b"], params).astype(np.float64),
                v["a"].astype(np.float64) * v["b"].astype(np.float64))
    return model, real


def _mitchell_products(params, qa, qb):
    from hwsim.mitchell_kernels import mitchell_matmul
    return mitchell_matmul(qa, qb, params)


#: the multiplier front's points per family (docs/units/realm.md: why these REALM points)
FRONT_KEEP = (None, 6, 4, 3, 2, 1)
FRONT_DRUM_K = (3, 4, 5, 6, 7, 8)
FRONT_REALM = ((3, 0, 1), (3, 2, 2), (4, 2, 2), (5, 3, 3))
#: hwsim's reference circuits on the front (hwsim.circuits), as fractions of the width:
#: truncated t / width; broken-array (hbl / width, vbl / width)
FRONT_TRUNC = (0.5, 0.75)
FRONT_BAM = ((0.25, 1.0), (0.25, 1.25))


def _circuit_front(width: int) -> list:
    from hwsim.circuit_mul import front_circuits
    return front_circuits(width, FRONT_TRUNC, FRONT_BAM)


def _circuit_knob(d: dict) -> str:
    """A circuit's module name (the reference circuits' names carry their knobs)."""
    return d["top"] or "reference"


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


def _mitchell_mul_wide():
    """Widths 8..32 both signednesses, Mitch-w and a pipeline at 32 bits; the 8/9 bounds at
    growing widths."""
    out = []
    for signed in (False, True):
        out += [(MitchellMulParams(width=w, signed=signed), "equivalence", 900)
                for w in (8, 16, 24, 32)]
        out += [(MitchellMulParams(width=32, signed=signed, keep_bits=k), "equivalence", 900)
                for k in (0, 3, 8)]
        out.append((MitchellMulParams(width=32, signed=signed, stages=2), "equivalence", 900))
    for w in (6, 8, 10, 12, 16):
        out += [(MitchellMulParams(width=w, signed=sg), "bounds", 300) for sg in (False, True)]
    return out


def _mitchell_div_wide():
    out = [(MitchellDivParams(width=w, frac_bits=f), "equivalence", 900)
           for w, f in ((8, 8), (16, 8), (16, 16), (24, 12), (32, 0), (32, 16), (32, 32))]
    out.append((MitchellDivParams(width=32, frac_bits=16, keep_bits=4), "equivalence", 900))
    out.append((MitchellDivParams(width=32, frac_bits=16, stages=2), "equivalence", 900))
    out += [(MitchellDivParams(width=w, frac_bits=w), "bounds", 300) for w in (6, 8, 10, 12)]
    return out


def _drum_wide():
    """k = 6 at 16 bits, k = 4 and 8 at the widest 24 bits (k = 8: minutes, the segment
    product is a k x k multiplier on both sides of the miter)."""
    return [(DrumMulParams(width=w, k=k), "equivalence", 900) for w, k in ((16, 6), (24, 4), (24, 8))]


def _realm_wide():
    """The front's configurations at 16 bits, the widest grid and correction at 24 bits."""
    return [(RealmMulParams(width=w, keep_bits=t, m=m, q=q), "equivalence", 900)
            for w, t, m, q in ((16, 3, 2, 2), (16, 4, 2, 2), (16, 5, 3, 3), (24, 8, 4, 8))]


def _exp_wide():
    """Every method and base at the default formats, every method at its widest input, the
    widest table and output, two-stage pipelines."""
    from hwsim.exp import ExpBase, ExpMethod
    from hwsim.fixed import FixedFormat
    out = [(ExpParams(method=m, base=b), "equivalence", 900) for m in ExpMethod for b in ExpBase]
    uq = FixedFormat(12, 12, signed=False)
    for m in ExpMethod:   # the widest input each method takes (24 bits; Taylor 3.21)
        fmt = FixedFormat(3, 21) if m is ExpMethod.TAYLOR else FixedFormat(4, 20)
        out.append((ExpParams(method=m, in_fmt=fmt, out_fmt=uq), "equivalence", 900))
    out.append((ExpParams(method=ExpMethod.LUT, lut_bits=12, in_fmt=FixedFormat(8, 16),
                          out_fmt=FixedFormat(16, 16, signed=False)), "equivalence", 900))
    out.append((ExpParams(method=ExpMethod.IBERT, in_fmt=FixedFormat(4, 20),
                          out_fmt=FixedFormat(4, 28, signed=False)), "equivalence", 900))
    out += [(ExpParams(method=m, stages=2), "equivalence", 900)
            for m in (ExpMethod.MITCHELL, ExpMethod.TAYLOR, ExpMethod.IBERT)]
    return out


_UNSIGNED_RTL = "only its unsigned RTL exists; hwsim run takes it"


def _with(cls, **fields):
    """``cls``'s default Params with ``fields`` replaced (JSON spellings)."""
    return cls.from_dict({**cls().to_dict(), **fields})


def _float_fmt(width: int) -> str:
    """The float format of a cost-table width: bf16 at 16 bits, e4m3 at 8."""
    return {16: "bf16", 8: "e4m3"}[width]


def _exp_cost(width: int) -> list:
    """Every exp method on a Q4.(width - 4) input (the default output format)."""
    fmt = {"int_bits": 4, "frac_bits": width - 4, "signed": True}
    return [_with(ExpParams, method=m, in_fmt=fmt) for m in ("lut", "pwl", "mitchell", "ibert", "taylor")]

REGISTRY: dict[str, UnitSpec] = {
    spec.name: spec for spec in [
        UnitSpec("mitchell-mul", MitchellMulParams, "hwsim.hdl.mitchell:MitchellMultiplier",
                 "hwsim.sim.tb_mitchell_mul", "Mitchell logarithmic multiplier (log2 p ~ k + x)",
                 _pairs, *multiplier(mitchell_mul), baseline="hwsim.hdl.exact:ExactMultiplier",
                 exhaustive_kernel="hwsim.eval.characterize_kernels:mul_exhaustive",
                 graph=Product(kernel=_mitchell_products), fixed={"signed": True},
                 label="mitchell",
                 front=Front("Mitchell / Mitch-w",
                             lambda w: [MitchellMulParams(width=w, keep_bits=k)
                                        for k in FRONT_KEEP if k is None or k <= w - 2],
                             knob=lambda d: d.get("keep_bits"), knob_name="keep_bits"),
                 formal=Formal("hwsim.sim.spec_mitchell:mitchell_mul", "hwsim.sim.spec_mitchell:mul_bounds", wide=_mitchell_mul_wide),
                 cost_table=lambda w: [MitchellMulParams(width=w), MitchellMulParams(width=w, keep_bits=4)]),
        UnitSpec("exact-mul", ExactMulParams, "hwsim.hdl.exact:ExactMultiplier",
                 "hwsim.sim.tb_exact_mul", "exact integer multiplier, the baseline of every product",
                 _pairs, *multiplier(exact_mul),
                 graph=Product(kernel="hwsim.exact_mul:exact_products"), fixed={"signed": True},
                 label="exact",
                 front=Front("exact", lambda w: [ExactMulParams(width=w)], marker="k", exact=True),
                 formal=Formal("hwsim.sim.spec_exact_mul:exact_mul", wide=lambda: [
                     (ExactMulParams(width=w, signed=sg), "equivalence", 900)
                     for sg in (False, True) for w in (16, 32)]),
                 cost_table=lambda w: [ExactMulParams(width=w)]),
        UnitSpec("circuit-mul", CircuitMulParams, "hwsim.hdl.circuit_mul:CircuitMultiplier",
                 "hwsim.sim.tb_circuit_mul",
                 "a multiplier circuit brought as Verilog (combinational); its gate netlist "
                 "is the model",
                 _pairs, *multiplier(circuit_mul), baseline="hwsim.hdl.exact:ExactMultiplier",
                 sources="hwsim.circuit_mul:circuit_source", default_count=1_000_000,
                 graph=Product(kernel="hwsim.circuit_mul:circuit_products"),
                 label="circuit",
                 front=Front("circuits (truncated / broken-array)", _circuit_front,
                             knob=_circuit_knob, knob_name="circuit", marker="D"),
                 formal=Formal(wce=True), cost_table=lambda w: _circuit_front(w)[::2]),
        UnitSpec("mitchell-div", MitchellDivParams, "hwsim.hdl.mitchell:MitchellDivider",
                 "hwsim.sim.tb_mitchell_div", "Mitchell logarithmic divider, N+F-bit quotient",
                 _pairs, _div_model, _div_real, baseline="hwsim.hdl.exact:ExactDivider",
                 exhaustive_kernel="hwsim.eval.characterize_kernels:div_exhaustive",
                 formal=Formal("hwsim.sim.spec_mitchell:mitchell_div", "hwsim.sim.spec_mitchell:div_bounds",
                               bounds_refuse=lambda p: None if p.keep_bits is None else
                               f"with keep_bits (Mitch-w), not keep_bits={p.keep_bits}",
                               wide=_mitchell_div_wide),
                 cost_table=lambda w: [MitchellDivParams(width=w, frac_bits=8)]),
        UnitSpec("drum-mul", DrumMulParams, "hwsim.hdl.drum:DrumMultiplier",
                 "hwsim.sim.tb_drum_mul",
                 "DRUM multiplier: k-bit unbiased segments of each operand (Hashemi et al. 2015)",
                 _pairs, *multiplier(drum_mul), baseline="hwsim.hdl.exact:ExactMultiplier",
                 graph=Product(sign_magnitude=True, unpriced=_UNSIGNED_RTL),
                 front=Front("DRUM", lambda w: [DrumMulParams(width=w, k=k)
                                                for k in FRONT_DRUM_K if k < w],
                             knob=lambda d: d.get("k"), knob_name="k", marker="s"),
                 formal=Formal("hwsim.sim.spec_drum:drum_mul", "hwsim.sim.spec_drum:drum_bounds", wide=_drum_wide),
                 cost_table=lambda w: [DrumMulParams(width=w, k=6)]),
        UnitSpec("realm-mul", RealmMulParams, "hwsim.hdl.realm:RealmMultiplier",
                 "hwsim.sim.tb_realm_mul",
                 "REALM-style log multiplier: truncated fractions + per-segment correction "
                 "table (Saadat et al. 2020)",
                 _pairs, *multiplier(realm_mul), baseline="hwsim.hdl.exact:ExactMultiplier",
                 graph=Product(sign_magnitude=True, unpriced=_UNSIGNED_RTL),
                 front=Front("REALM", lambda w: [RealmMulParams(width=w, keep_bits=t, m=m, q=q)
                                                 for t, m, q in FRONT_REALM if t < w],
                             knob=lambda d: f"{d['keep_bits']}/m{d['m']}/q{d['q']}",
                             knob_name="t/m/q", marker="^"),
                 formal=Formal("hwsim.sim.spec_realm:realm_mul", wide=_realm_wide),
                 cost_table=lambda w: [RealmMulParams(width=w, keep_bits=4, m=2, q=2)]),
        UnitSpec("float-mul", FloatMulParams, "hwsim.hdl.float_mul:FloatMultiplier",
                 "hwsim.sim.tb_float_mul",
                 "float multiplier on bit patterns: Mitchell, L-Mul or exact (fp32..fp8)",
                 _float_pairs, _float_mul_model, _float_mul_real,
                 baseline="hwsim.hdl.float_mul:ExactFloatMultiplier",
                 formal=Formal("hwsim.sim.spec_float_mul:float_mul_spec"),
                 cost_table=lambda w: [FloatMulParams.from_dict({"fmt": _float_fmt(w), "method": m})
                                       for m in ("lmul", "mitchell")]),
        UnitSpec("float-div", FloatDivParams, "hwsim.hdl.float_mul:FloatDivider",
                 "hwsim.sim.tb_float_div", "Mitchell float divider on bit patterns (fp32..fp8)",
                 _float_pairs, _float_div_model, _float_div_real,
                 formal=Formal("hwsim.sim.spec_float_mul:float_div_spec"),
                 cost_table=lambda w: [FloatDivParams.from_dict({"fmt": _float_fmt(w)})]),
        UnitSpec("exp", ExpParams, "hwsim.hdl.exp:ExpUnit", "hwsim.sim.tb_exp",
                 "fixed-point e**x / 2**x: LUT, PWL, Mitchell, I-BERT or even-order Taylor",
                 _exp_inputs, _exp_model, _exp_real, operands=("x",),
                 graph=RowOp("hwsim.eval.hooks:ExpSoftmax"),
                 formal=Formal("hwsim.sim.spec_exp:exp_spec", wide=_exp_wide), cost_table=_exp_cost),
        UnitSpec("softmax", SoftmaxParams, "hwsim.hdl.softmax:Softmax", "hwsim.sim.tb_softmax",
                 "streaming softmax: two-pass, online or Taylor; exact/Mitchell/LUT normaliser",
                 _softmax_inputs, _softmax_model, _softmax_real, operands=(),
                 characterizer="hwsim.eval.characterize:characterize_softmax", default_count=20_000,
                 exhaustive=False, graph=RowOp("hwsim.eval.hooks:SoftmaxHook", length="length",
                                           max_length=SOFTMAX_MAX_LENGTH),
                 formal=Formal(subblocks="hwsim.sim.spec_softmax:softmax_subblocks"),
                 cost_table=lambda w: [] if w != 8 else [  # L = 8, 8-bit logits
                     SoftmaxParams(), _with(SoftmaxParams, normalizer="mitchell_div")]),
        UnitSpec("attention", AttentionParams, "hwsim.hdl.attention:Attention",
                 "hwsim.sim.tb_attention",
                 "attention head softmax(QK^T/sqrt(d))V, exact or Mitchell products, streamed",
                 _attention_inputs, _attention_model, _attention_real, operands=(),
                 characterizer="hwsim.eval.characterize:characterize_attention", default_count=200,
                 exhaustive=False, formal=Formal(subblocks="hwsim.sim.spec_attention:attention_subblocks"),
                 cost_table=lambda w: [] if w != 8 else [  # L = 8, d = 8, 8-bit inputs
                     AttentionParams(), _with(AttentionParams, multiplier="mitchell")]),
        UnitSpec("performer", PerformerParams, "hwsim.hdl.performer:PerformerFeatures",
                 "hwsim.sim.tb_performer",
                 "Performer (FAVOR+) positive random-feature map, omega in a ROM, exp unit",
                 _performer_inputs, _performer_model, _performer_real, operands=(),
                 characterizer="hwsim.eval.characterize:characterize_performer", default_count=500,
                 exhaustive=False),
    ]
}


def spec_of(params) -> UnitSpec:
    """The registered unit whose Params class ``params`` is an instance of."""
    for spec in REGISTRY.values():
        if type(params) is spec.params_cls:
            return spec
    raise TypeError(f"{params!r} is not the Params of a registered unit")


def front_units() -> list[UnitSpec]:
    """The units on the multiplier front (their ``front`` trait), the exact family last."""
    return sorted((s for s in REGISTRY.values() if s.front is not None),
                  key=lambda s: s.front.exact)


def front_knob(point: dict):
    """A front point's knob label (``{"unit", "params"}``; its unit's ``front.knob``;
    ``None``: the family's full-precision point)."""
    spec = REGISTRY.get(point["unit"])
    return None if spec is None or spec.front is None else spec.front.knob(point["params"])


def units_with(role: type) -> list[UnitSpec]:
    """The units whose ``graph`` role is a ``role`` (:class:`Product`, :class:`RowOp`)."""
    return [s for s in REGISTRY.values() if isinstance(s.graph, role)]


def units_by_op() -> dict[str, tuple[str, ...]]:
    """ONNX op type -> the units that can run it (from each unit's ``graph`` role)."""
    out: dict[str, tuple[str, ...]] = {}
    for spec in REGISTRY.values():
        for op in getattr(spec.graph, "ops", ()):
            out[op] = out.get(op, ()) + (spec.name,)
    return out


def get_unit(name: str) -> UnitSpec:
    try:
        return REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown unit {name!r} (units: {', '.join(REGISTRY)})") from None


def register(spec: UnitSpec) -> UnitSpec:
    """Add a unit to the registry (a plug-in's module calls this when it is imported); every
    layer above, from ``hwsim units`` to explore and ``hwsim prove``, then offers it."""
    if not isinstance(spec, UnitSpec):
        raise TypeError(f"register: spec must be a UnitSpec, not {spec!r}")
    if spec.name in REGISTRY:
        raise ValueError(f"register: a unit named {spec.name!r} is registered already")
    if any(s.params_cls is spec.params_cls for s in REGISTRY.values()):
        raise ValueError(f"register: {spec.params_cls.__name__} is the Params of a registered "
                         f"unit already")
    REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a registered unit (tests that register a plug-in clean up with this)."""
    get_unit(name)
    del REGISTRY[name]


#: the environment variable naming plug-in modules (comma-separated) to import at start-up
PLUGINS_ENV = "HWSIM_PLUGINS"


def _load_plugins() -> None:
    """Import the modules ``HWSIM_PLUGINS`` names; each registers its units. A module that
    cannot be imported is one warning line on stderr, and hwsim goes on without it (the
    variable also reaches the simulators' Python, so a bench sees the same units)."""
    import os
    import sys
    for name in (m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(",")):
        if name:
            try:
                importlib.import_module(name)
            except Exception as e:    # noqa: BLE001 - any failure of a user's module
                print(f"hwsim: warning: {PLUGINS_ENV}: plug-in {name!r} was not loaded "
                      f"({type(e).__name__}: {e})", file=sys.stderr)


_load_plugins()
