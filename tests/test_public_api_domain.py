"""Out-of-domain input to every public function of the unit-model modules.

The functions are enumerated, not listed: the modules that define the registered units'
Params classes (``hwsim.units.REGISTRY``), and in each the functions its ``__all__``
exports. Each function has one valid call here (``VALID``; a new public function fails
``test_every_public_function_has_a_valid_call`` until it gets one), whose arguments are
marked with their domain. Hypothesis then replaces one argument at a time by a value outside
its domain -- a wrong type, NaN, +-inf, a non-integer, a negative or huge integer, a bit
pattern outside the range -- and the call must raise a one-line ``ValueError`` or
``TypeError`` (DESIGN.md section 6): never another exception, never a returned value.
"""

from __future__ import annotations

import dataclasses
import enum
import importlib
import inspect
import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hwsim.units import REGISTRY

MODULES = sorted({spec.params_cls.__module__ for spec in REGISTRY.values()})


def public_functions() -> dict[str, object]:
    """``module.name`` -> function, over every unit-model module's ``__all__``."""
    out = {}
    for name in MODULES:
        mod = importlib.import_module(name)
        for attr in getattr(mod, "__all__", ()):
            obj = getattr(mod, attr)
            if inspect.isfunction(obj):
                out[f"{name}.{attr}"] = obj
    return out


# -- argument domains ----------------------------------------------------------------------

@dataclasses.dataclass
class Pattern:
    """Integer bit patterns (or raw fixed-point values) in ``[lo, hi)``."""
    value: object
    lo: int
    hi: int


@dataclasses.dataclass
class Real:
    """Real numbers; ``finite``: NaN and +-inf are out of the domain."""
    value: object
    finite: bool = True


@dataclasses.dataclass
class Int:
    """One integer in ``lo..hi`` (either open); ``none``: ``None`` is allowed; ``seed``: any
    non-negative integer, however large (numpy's seeds)."""
    value: object
    lo: int | None = None
    hi: int | None = None
    none: bool = False
    seed: bool = False


@dataclasses.dataclass
class Bool:
    value: bool


@dataclasses.dataclass
class Of:
    """An instance of ``cls`` (a Params class or an enum)."""
    value: object


def _valid() -> dict[str, dict]:
    from hwsim.attention import AttentionParams
    from hwsim.circuit_mul import CircuitMulParams
    from hwsim.drum import DrumMulParams
    from hwsim.exact_mul import ExactMulParams
    from hwsim.exp import ExpParams
    from hwsim.float_mul import FloatDivParams, FloatMethod, FloatMulParams, FloatType
    from hwsim.mitchell import FloatFormat, MitchellDivParams, MitchellMulParams
    from hwsim.performer import FeatureKind, PerformerParams
    from hwsim.realm import RealmMulParams
    from hwsim.softmax import SoftmaxParams

    def pat(n, lo, hi, shape=(3,)):
        return Pattern(np.random.default_rng(n).integers(lo, hi, shape), lo, hi)

    ap, pp, sp, ep = AttentionParams(), PerformerParams(), SoftmaxParams(), ExpParams()
    af = ap.in_fmt
    att = lambda n: pat(n, af.min_raw, af.max_raw + 1, (ap.length, ap.dim))  # noqa: E731
    real = lambda n, shape: Real(np.random.default_rng(n).normal(size=shape))  # noqa: E731
    bf = FloatType.BF16
    cp = CircuitMulParams()
    cq = lambda n, shape: pat(n, -(1 << cp.width) + 1, 1 << cp.width, shape)  # noqa: E731
    m = "hwsim.mitchell."
    return {
        "hwsim.attention.attention_fixed": dict(q=att(1), k=att(2), v=att(3), params=Of(ap)),
        "hwsim.attention.attention_real": dict(q=att(1), k=att(2), v=att(3), params=Of(ap)),
        "hwsim.attention.attention_scores": dict(q=att(1), k=att(2), p=Of(ap)),
        "hwsim.circuit_mul.circuit_mul": dict(a=pat(1, 0, 256), b=pat(2, 0, 256), params=Of(cp)),
        "hwsim.circuit_mul.circuit_products": dict(params=Of(cp), qa=cq(1, (1, 2, 3)),
                                                   qb=cq(2, (1, 3, 2))),
        "hwsim.circuit_mul.circuit_source": dict(params=Of(cp)),
        "hwsim.drum.drum_mul": dict(a=pat(1, 0, 256), b=pat(2, 0, 256), params=Of(DrumMulParams())),
        "hwsim.drum.drum_segment": dict(x=pat(1, 0, 1 << 53), k=Int(4, 2, 24)),
        "hwsim.exact_mul.exact_mul": dict(a=pat(1, 0, 256), b=pat(2, 0, 256),
                                          params=Of(ExactMulParams())),
        "hwsim.exp.exp_fixed": dict(x=pat(1, ep.in_fmt.min_raw, ep.in_fmt.max_raw + 1),
                                    params=Of(ep)),
        "hwsim.exp.exp_real": dict(x=pat(1, ep.in_fmt.min_raw, ep.in_fmt.max_raw + 1),
                                   params=Of(ep)),
        "hwsim.exp.taylor_poly": dict(x=real(1, 4), order=Int(4, 0)),
        "hwsim.exp.antilog_ratio_range": dict(params=Of(ep)),
        "hwsim.float_mul.float_mul": dict(a=pat(1, 0, 1 << 16), b=pat(2, 0, 1 << 16),
                                          params=Of(FloatMulParams())),
        "hwsim.float_mul.float_div": dict(a=pat(1, 0, 1 << 16), b=pat(2, 0, 1 << 16),
                                          params=Of(FloatDivParams())),
        "hwsim.float_mul.float_bits": dict(a=pat(1, 0, 1 << 16), b=pat(2, 0, 1 << 16),
                                           fmt=Of(bf), method=Of(FloatMethod.LMUL),
                                           divide=Bool(False)),
        "hwsim.float_mul.float_values": dict(bits=pat(1, 0, 1 << 16), fmt=Of(bf)),
        "hwsim.float_mul.float_encode": dict(x=Real(np.array([1.5, -2.0, np.inf, np.nan]),
                                                    finite=False), fmt=Of(bf)),
        "hwsim.float_mul.lmul_offset": dict(fmt=Of(bf)),
        "hwsim.float_mul.float_corners": dict(fmt=Of(bf)),
        "hwsim.float_mul.float_pairs": dict(fmt=Of(bf), count=Int(5, 0, none=True),
                                            seed=Int(0, 0, seed=True)),
        m + "mitchell_mul": dict(a=pat(1, 0, 256), b=pat(2, 0, 256), params=Of(MitchellMulParams())),
        m + "mitchell_div": dict(a=pat(1, 0, 256), b=pat(2, 0, 256), params=Of(MitchellDivParams())),
        # float operands: NaN and +-inf are values of the format (NaN in gives NaN out)
        m + "mitchell_mul_float": dict(a=Real(np.float32([1.5, -3.0]), False),
                                       b=Real(np.float32([2.0, 0.5]), False), fmt=Of(FloatFormat.FP32)),
        m + "mitchell_div_float": dict(a=Real(np.float32([1.5, -3.0]), False),
                                       b=Real(np.float32([2.0, 0.5]), False), fmt=Of(FloatFormat.FP32)),
        m + "bf16_from_float": dict(x=Real(np.float32([1.5, -2.0]), False)),
        m + "bf16_to_float": dict(bits=pat(1, 0, 1 << 16)),
        m + "leading_one": dict(x=pat(1, 0, 1 << 53)),
        m + "log_fraction": dict(x=pat(1, 0, 256), width=Int(8, 2, 32),
                                 keep_bits=Int(3, 0, 6, none=True)),
        "hwsim.performer.draw_omega": dict(m=Int(4, 1), d=Int(3, 1), kind=Of(FeatureKind.IID),
                                           seed=Int(0, 0, seed=True)),
        "hwsim.performer.phi_float": dict(x=real(1, (2, 3)), omega=real(2, (4, 3))),
        "hwsim.performer.linear_attention": dict(q=real(1, (2, 3)), k=real(2, (2, 3)),
                                                 v=real(3, (2, 3)), omega=real(4, (4, 3))),
        "hwsim.performer.softmax_attention": dict(q=real(1, (2, 3)), k=real(2, (2, 3)),
                                                  v=real(3, (2, 3))),
        "hwsim.performer.phi_fixed": dict(
            x=pat(1, pp.in_fmt.min_raw, pp.in_fmt.max_raw + 1, (2, pp.dim)), params=Of(pp)),
        "hwsim.performer.performer_vectors": dict(p=Of(pp), count=Int(4, 0), seed=Int(0, 0, seed=True)),
        "hwsim.realm.realm_mul": dict(a=pat(1, 0, 256), b=pat(2, 0, 256), params=Of(RealmMulParams())),
        "hwsim.realm.realm_fraction": dict(x=pat(1, 0, 256), width=Int(8, 2, 32),
                                           keep_bits=Int(3, 0, 7)),
        "hwsim.realm.error_bound": dict(params=Of(RealmMulParams())),
        "hwsim.softmax.softmax_fixed": dict(
            x=pat(1, sp.in_fmt.min_raw, sp.in_fmt.max_raw + 1, (2, sp.length)), params=Of(sp)),
        "hwsim.softmax.softmax_real": dict(
            x=pat(1, sp.in_fmt.min_raw, sp.in_fmt.max_raw + 1, (2, sp.length)), params=Of(sp)),
        "hwsim.softmax.softmax_reference": dict(
            x=pat(1, sp.in_fmt.min_raw, sp.in_fmt.max_raw + 1, (2, sp.length)), params=Of(sp)),
    }


VALID = _valid()
FUNCTIONS = public_functions()
CALLS = {"count": 0}

_WRONG_TYPES = st.sampled_from(["3", b"3", None, object(), [object()], {"a": 1}, 1 + 2j,
                                np.array(["x", "y"]), np.array([1 + 1j])])
_BIG = st.sampled_from([2 ** 63, 2 ** 64 + 1, 10 ** 30, -(2 ** 63) - 1])


def _bad(arg) -> st.SearchStrategy:
    """Values outside ``arg``'s domain."""
    if isinstance(arg, Pattern):
        lo, hi = arg.lo, arg.hi
        outside = st.one_of(st.integers(max_value=lo - 1), st.integers(min_value=hi), _BIG)
        nonint = st.sampled_from([0.5, 1.5, float(lo) + 0.25, math.nan, math.inf, -math.inf])

        def in_array(v):
            a = np.asarray(arg.value).ravel().tolist()
            return np.array(a[:-1] + [v], dtype=object if isinstance(v, int) and
                            not -(2 ** 63) <= v < 2 ** 63 else None)
        return st.one_of(outside, nonint, outside.map(in_array), nonint.map(in_array),
                         st.just(np.array([True, False])), _WRONG_TYPES)
    if isinstance(arg, Real):
        bad = [_WRONG_TYPES, st.just(np.array([True, False]))]
        if arg.finite:
            nf = st.sampled_from([math.nan, math.inf, -math.inf])
            shape = np.shape(arg.value)

            def poison(v):
                a = np.array(arg.value, dtype=np.float64, copy=True)
                a.flat[-1] = v
                return a.astype(np.asarray(arg.value).dtype) if shape else v
            bad.append(nf.map(poison))
        return st.one_of(*bad)
    if isinstance(arg, Int):
        out = [st.sampled_from([0.5, 2.5, math.nan, math.inf, "4", True, np.float64(3.0)]),
               _BIG.filter(lambda v: v < 0) if arg.seed else _BIG]
        if arg.lo is not None:
            out.append(st.integers(max_value=arg.lo - 1))
        if arg.hi is not None:
            out.append(st.integers(min_value=arg.hi + 1))
        if not arg.none:
            out.append(st.just(None))
        return st.one_of(*out)
    if isinstance(arg, Bool):
        return st.sampled_from([2, "yes", None, 0.0])
    if isinstance(arg, Of):
        v = arg.value
        other = [None, 3, "x", 1.5, {"a": 1}]
        if isinstance(v, enum.Enum):
            other += [v.value, v.name, next(m for m in type(v) if m is not v).value]
        else:
            other += [dataclasses.asdict(v) if dataclasses.is_dataclass(v) else {}, type(v),
                      next(s.params_cls() for s in REGISTRY.values()
                           if s.params_cls is not type(v))]
        return st.sampled_from(other)
    raise AssertionError(f"unknown domain {arg!r}")


def _plain(args: dict) -> dict:
    return {k: v.value for k, v in args.items()}


def test_every_public_function_has_a_valid_call():
    assert set(FUNCTIONS) == set(VALID), (
        f"without a valid call: {sorted(set(FUNCTIONS) - set(VALID))}; "
        f"no longer public: {sorted(set(VALID) - set(FUNCTIONS))}")
    for name, fn in FUNCTIONS.items():
        assert set(inspect.signature(fn).parameters) == set(VALID[name]), name


@pytest.mark.parametrize("name", sorted(VALID))
def test_the_valid_call_returns(name):
    """The template is valid: only the substituted argument makes a call fail."""
    FUNCTIONS[name](**_plain(VALID[name]))


@st.composite
def _case(draw, name):
    args = VALID[name]
    which = draw(st.sampled_from(sorted(args)))
    return which, draw(_bad(args[which]))


@pytest.mark.parametrize("name", sorted(VALID))
@settings(max_examples=35, deadline=None, derandomize=True, database=None,
          suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_out_of_domain_input_is_refused_in_one_line(name, data):
    which, bad = data.draw(_case(name), label="argument, value")
    kwargs = _plain(VALID[name]) | {which: bad}
    CALLS["count"] += 1
    try:
        with np.errstate(all="raise"):
            result = FUNCTIONS[name](**kwargs)
    except (ValueError, TypeError) as e:
        if type(e) is np.exceptions.AxisError or isinstance(e, FloatingPointError):
            raise
        text = str(e)
        assert text and "\n" not in text, f"{name}({which}={bad!r}): message {text!r}"
        return
    raise AssertionError(f"{name}({which}={bad!r}) returned {result!r} instead of refusing")


def test_zz_calls_made(record_property):
    """The count of out-of-domain calls (reported; the suite's last test in this file)."""
    record_property("out_of_domain_calls", CALLS["count"])
    print(f"{len(FUNCTIONS)} public functions of {len(MODULES)} modules, "
          f"{CALLS['count']} out-of-domain calls")
