"""Params store plain Python ints and bools whatever integer type they are given, and the
public functions refuse bad arguments with DESIGN.md messages (owner, parameter, rule, value).

The cases are generated from ``hwsim.units.REGISTRY`` and ``dataclasses.fields``, so a new
unit or field is covered without editing this file (and an unclassified field fails).
"""

import dataclasses
import enum
import itertools
import json
import re

import numpy as np
import pytest

from hwsim import (FixedFormat, FloatFormat, MitchellDivParams, MitchellMulParams,
                   bf16_from_float, bf16_to_float, mitchell_div, mitchell_div_float, mitchell_mul,
                   mitchell_mul_float)
from hwsim._check import is_int
from hwsim.attention import AttentionParams, attention_fixed
from hwsim.exp import ExpParams, exp_fixed
from hwsim.metrics import error_metrics
from hwsim.performer import PerformerParams, phi_fixed
from hwsim.softmax import SoftmaxParams, softmax_fixed
from hwsim.units import REGISTRY

NUMPY_INTS = (np.int8, np.uint8, np.int16, np.int64, np.uint64)


def field_kind(f: dataclasses.Field) -> str:
    """``int``, ``bool``, ``optional_int``, ``format``, ``enum`` or ``text`` (a path, a module
    name: circuit-mul's), from the default's type."""
    d = f.default
    if isinstance(d, bool):
        return "bool"
    if is_int(d):
        return "int"
    if d is None and re.fullmatch(r"int \| None|Optional\[int\]", str(f.type)):
        return "optional_int"
    if isinstance(d, FixedFormat):
        return "format"
    if isinstance(d, enum.Enum):
        return "enum"
    if isinstance(d, str):
        return "text"
    raise AssertionError(f"{f.name}: field kind not covered by this test ({f.type!r})")


def _try(cls, **kwargs):
    try:
        return cls(**kwargs)
    except (TypeError, ValueError):
        return None


def base_configs(cls) -> list:
    """Plain-int configurations: the default, each bool flipped, and each optional int set to
    its smallest valid value (changing one enum field where the default refuses it)."""
    fields = dataclasses.fields(cls)
    configs = [cls()]
    for f in fields:
        kind = field_kind(f)
        if kind == "bool":
            p = _try(cls, **{f.name: not f.default})
            if p is not None:
                configs.append(p)
        elif kind == "optional_int":
            enum_variants = [{}] + [{e.name: m} for e in fields if field_kind(e) == "enum"
                                    for m in type(e.default)]
            found = next((p for v, extra in itertools.product(range(8), enum_variants)
                          if (p := _try(cls, **extra, **{f.name: v})) is not None), None)
            assert found is not None, f"no valid integer for {cls.__name__}.{f.name}"
            configs.append(found)
    return configs


def numpy_typed(p, np_int, np_bool=np.bool_) -> dict:
    """The fields of ``p`` with every int as ``np_int`` (np.int64 where it does not fit) and
    every bool as ``np_bool``, formats included."""
    def conv(v):
        if isinstance(v, bool):
            return np_bool(v)
        if is_int(v):
            info = np.iinfo(np_int)
            return (np_int if info.min <= v <= info.max else np.int64)(v)
        if isinstance(v, FixedFormat):
            return FixedFormat(conv(v.int_bits), conv(v.frac_bits), conv(v.signed))
        return v
    return {f.name: conv(getattr(p, f.name)) for f in dataclasses.fields(p)}


CASES = [(name, p) for name, spec in REGISTRY.items() for p in base_configs(spec.params_cls)]


def assert_plain(p):
    n = 0
    for f in dataclasses.fields(p):
        v = getattr(p, f.name)
        kind = field_kind(f)
        if kind == "bool" or (kind in ("int", "optional_int") and v is not None):
            assert type(v) is (bool if kind == "bool" else int), (f.name, type(v))
            n += 1
        elif kind == "format":
            assert (type(v.int_bits), type(v.frac_bits), type(v.signed)) == (int, int, bool)
            n += 3
    return n


def _int_fields(unit: str) -> int:
    """Integer fields every Params of ``unit`` has (float units have only ``stages``)."""
    return 1 if unit.startswith("float-") else 2


@pytest.mark.parametrize("np_int", NUMPY_INTS, ids=lambda t: t.__name__)
@pytest.mark.parametrize("unit,plain", CASES, ids=[f"{u}-{p.top_name}" for u, p in CASES])
def test_numpy_scalars_are_stored_plain(unit, plain, np_int):
    spec = REGISTRY[unit]
    kwargs = numpy_typed(plain, np_int)
    assert any(isinstance(v, np.generic) for v in kwargs.values())
    p = spec.params_cls(**kwargs)
    assert assert_plain(p) >= _int_fields(unit)
    assert p == plain and hash(p) == hash(plain)
    assert p.to_json() == plain.to_json()
    assert spec.params_cls.from_dict(json.loads(p.to_json())) == plain
    assert (p.top_name, p.latency) == (plain.top_name, plain.latency)
    v = spec.vectors(plain, 20, 0)
    for port, arr in spec.vectors(p, 20, 0).items():
        np.testing.assert_array_equal(arr, v[port])
    want = spec.model(plain, v)
    got = spec.model(p, v)
    assert got.keys() == want.keys()
    for port in want:
        assert got[port].size > 0 and got[port].dtype == want[port].dtype
        np.testing.assert_array_equal(got[port], want[port])


@pytest.mark.parametrize("unit", list(REGISTRY))
def test_from_dict_stores_plain(unit):
    cls = REGISTRY[unit].params_cls
    d = numpy_typed(cls(), np.int64)
    d = {k: (v.to_dict() if isinstance(v, FixedFormat) else v) for k, v in d.items()}
    d = {k: ({kk: np.int16(vv) if is_int(vv) else vv for kk, vv in v.items()}
             if isinstance(v, dict) else v) for k, v in d.items()}
    p = cls.from_dict(d)
    assert assert_plain(p) >= _int_fields(unit) and p == cls()
    json.dumps(p.to_dict())


def test_issue_case_mitchell_div_numpy_frac_bits():
    # 200 = 2**7 (1 + 72/128), 3 = 2**1 (1 + 64/128): d = 8, m = 136, e = 6, so
    # q = 136 * 2**(6 + 8 - 7) = 17408 (200/3 = 66.67 ~ 17408 / 2**8 = 68)
    plain = mitchell_div(200, 3, MitchellDivParams(width=8, frac_bits=8))
    numpy = mitchell_div(200, 3, MitchellDivParams(width=8, frac_bits=np.uint8(8)))
    assert int(plain[0]) == 136 << 7
    assert int(numpy[0]) == int(plain[0]) and bool(numpy[1]) is False
    # width as uint8 used to make 1 << width wrap to 0 and refuse every operand
    assert int(mitchell_mul(200, 3, MitchellMulParams(width=np.uint8(8)))) == \
        int(mitchell_mul(200, 3, MitchellMulParams(width=8)))


@pytest.mark.parametrize("make,exc,msg", [
    (lambda: MitchellMulParams(width=np.float64(8.0)), TypeError,
     r"^MitchellMulParams.width must be an integer in 2..32, not np.float64\(8.0\)$"),
    (lambda: MitchellMulParams(width=np.bool_(True)), TypeError,
     r"^MitchellMulParams.width must be an integer in 2..32, not True$"),
    (lambda: MitchellMulParams(signed=np.int64(1)), TypeError,
     r"^MitchellMulParams.signed must be a bool, not 1$"),
    (lambda: MitchellDivParams(width=np.int8(40)), ValueError,
     r"^MitchellDivParams.width must be an integer in 2..32, not 40$"),
    (lambda: FixedFormat(np.int8(4), np.float32(4)), TypeError,
     r"^FixedFormat.frac_bits must be an integer, not np.float32\(4.0\)$"),
    (lambda: FixedFormat(4, 4, signed=np.int64(1)), TypeError,
     r"^FixedFormat.signed must be a bool, not np.int64\(1\)$"),
    # enums and formats take no strings (DESIGN.md section 4): refused, not converted
    (lambda: ExpParams(method="lut"), TypeError,
     r"^ExpParams.method must be an? ExpMethod \(lut, pwl, mitchell, ibert, taylor\), "
     r"not 'lut'$"),
    (lambda: ExpParams(in_fmt="Q4.8"), TypeError,
     r"^ExpParams.in_fmt must be a FixedFormat, not 'Q4.8'$"),
])
def test_non_integer_scalars_refused(make, exc, msg):
    with pytest.raises(exc, match=msg):
        make()


@pytest.mark.parametrize("cls,d,exc,msg", [
    (MitchellMulParams, "width=8", TypeError,
     r"^MitchellMulParams.from_dict needs a dict, not 'width=8'$"),
    (MitchellMulParams, {"width": "8"}, TypeError,
     r"^MitchellMulParams.width must be an integer in 2..32, not '8'$"),
    (MitchellMulParams, {"width": 8.0}, TypeError,
     r"^MitchellMulParams.width must be an integer in 2..32, not 8.0$"),
    (MitchellMulParams, {"signed": "true"}, TypeError,
     r"^MitchellMulParams.signed must be a bool, not 'true'$"),
    (ExpParams, {"in_fmt": {"int_bits": 4}}, ValueError,
     r"^ExpParams.in_fmt must be a dict with keys int_bits, frac_bits and optionally signed, "
     r"not \{'int_bits': 4\} \(missing 'frac_bits'\)$"),
    (ExpParams, {"in_fmt": {"int_bits": 4, "frac_bits": 8, "sign": True}}, ValueError,
     r"^ExpParams.in_fmt must be a dict with keys int_bits, frac_bits and optionally signed, "
     r"not \{'int_bits': 4, 'frac_bits': 8, 'sign': True\} \(unknown key 'sign'\)$"),
    (ExpParams, {"in_fmt": {"int_bits": "4", "frac_bits": 8}}, TypeError,
     r"^ExpParams.in_fmt: FixedFormat.int_bits must be an integer, not '4'$"),
    (ExpParams, {"in_fmt": [4, 8]}, TypeError,
     r"^ExpParams.in_fmt must be a FixedFormat, not \[4, 8\]$"),
    (ExpParams, {"method": ["lut"]}, TypeError,
     r"^ExpParams.method must be an? ExpMethod \(lut, pwl, mitchell, ibert, taylor\), "
     r"not \['lut'\]$"),
])
def test_from_dict_bad_values(cls, d, exc, msg):
    with pytest.raises(exc, match=msg):
        cls.from_dict(d)


# -- the functions taking user arrays ---------------------------------------------------------

RAGGED = [[1, 2], [3]]
RAGGED_MSG = r"must be a rectangular array \(every row the same length\), not \[\[1, 2\], \[3\]\]$"
F43 = FixedFormat(4, 3)

ARRAY_FUNCTIONS = [  # (owner in the message, parameter, call with that parameter ragged)
    ("mitchell_mul", "a", lambda r: mitchell_mul(r, 1, MitchellMulParams())),
    ("mitchell_mul", "b", lambda r: mitchell_mul(1, r, MitchellMulParams())),
    ("mitchell_div", "a", lambda r: mitchell_div(r, 1, MitchellDivParams())),
    ("mitchell_div", "b", lambda r: mitchell_div(1, r, MitchellDivParams())),
    ("mitchell_mul_float", "a", lambda r: mitchell_mul_float(r, 1.0, FloatFormat.FP32)),
    ("mitchell_div_float", "b", lambda r: mitchell_div_float(1, r, FloatFormat.BF16)),
    ("bf16_from_float", "x", bf16_from_float),
    ("bf16_to_float", "bits", bf16_to_float),
    ("FixedFormat.quantize (Q4.3)", "x", F43.quantize),
    ("FixedFormat.to_float", "raw", F43.to_float),
    ("FixedFormat.cast (Q4.3 -> Q4.3)", "raw", lambda r: F43.cast(r, F43)),
    ("error_metrics", "approx", lambda r: error_metrics(r, [1, 2])),
    ("error_metrics", "exact", lambda r: error_metrics([1, 2], r)),
    ("exp_fixed", "x", lambda r: exp_fixed(r, ExpParams())),
    ("softmax_fixed", "x", lambda r: softmax_fixed(r, SoftmaxParams())),
    ("attention_fixed", "k", lambda r: attention_fixed(np.zeros((8, 8), np.int64), r,
                                                       np.zeros((8, 8), np.int64),
                                                       AttentionParams())),
    ("phi_fixed", "x", lambda r: phi_fixed(r, PerformerParams())),
]


@pytest.mark.parametrize("owner,name,call", ARRAY_FUNCTIONS,
                         ids=[f"{o.split()[0]}-{n}" for o, n, _ in ARRAY_FUNCTIONS])
def test_ragged_input_names_function_and_parameter(owner, name, call):
    with pytest.raises(ValueError, match=rf"^{re.escape(owner)}: {name} {RAGGED_MSG}"):
        call(RAGGED)


@pytest.mark.parametrize("call,msg", [
    (lambda: mitchell_mul([1, 2, 3], [1, 2], MitchellMulParams()),
     r"^mitchell_mul: a and b must have shapes that broadcast together, not \(3,\) and \(2,\)$"),
    (lambda: mitchell_div(np.ones((2, 3), np.int64), [1, 2], MitchellDivParams()),
     r"^mitchell_div: a and b must have shapes that broadcast together, "
     r"not \(2, 3\) and \(2,\)$"),
    (lambda: mitchell_mul_float(np.ones(4, np.float32), np.ones(3, np.float32),
                                FloatFormat.FP32),
     r"^mitchell_mul_float: a and b must have shapes that broadcast together, "
     r"not \(4,\) and \(3,\)$"),
    (lambda: mitchell_div_float(np.ones(4, np.float16), np.ones(3, np.float16),
                                FloatFormat.FP16),
     r"^mitchell_div_float: a and b must have shapes that broadcast together, "
     r"not \(4,\) and \(3,\)$"),
    (lambda: attention_fixed(*(np.zeros((n, 8, 8), np.int64) for n in (2, 3, 1)),
                             AttentionParams()),
     r"^attention_fixed: q, k and v must have shapes that broadcast together in all but "
     r"their last 2 axes, not \(2, 8, 8\), \(3, 8, 8\) and \(1, 8, 8\)$"),
])
def test_mismatched_shapes(call, msg):
    with pytest.raises(ValueError, match=msg):
        call()


def test_shapes_that_broadcast_still_do():
    a, b = np.arange(1, 5)[:, None], np.arange(1, 4)
    p = mitchell_mul(a, b, MitchellMulParams())
    assert p.shape == (4, 3)
    assert p.tolist() == [[int(mitchell_mul(x, y, MitchellMulParams())) for y in range(1, 4)]
                          for x in range(1, 5)]


@pytest.mark.parametrize("func,call", [
    ("exp_fixed", lambda: exp_fixed([0], PerformerParams())),
    ("softmax_fixed", lambda: softmax_fixed(np.zeros((1, 8), np.int64), ExpParams())),
    ("attention_fixed", lambda: attention_fixed(0, 0, 0, SoftmaxParams())),
])
def test_model_functions_refuse_other_params(func, call):
    with pytest.raises(TypeError, match=rf"^{func}: params must be "):
        call()


def test_phi_fixed_refuses_other_params():
    with pytest.raises(TypeError, match=r"^phi_fixed: params must be a PerformerParams, "
                                        r"not ExpParams$"):
        phi_fixed(np.zeros((2, 8), np.int64), ExpParams())
    with pytest.raises(TypeError, match=r"^phi_fixed: params must be a PerformerParams, "
                                        r"not dict$"):
        phi_fixed(np.zeros((2, 8), np.int64), {"dim": 8})


def test_python_ints_beyond_int64_are_out_of_range():
    with pytest.raises(ValueError, match=r"^mitchell_mul: a has values outside \[0, 256\) for "
                                         rf"width 8 \(first: {2**70}\)$"):
        mitchell_mul([1, 2**70], [1, 1], MitchellMulParams())
    with pytest.raises(ValueError, match=r"^FixedFormat.to_float: raw has values outside "
                                         rf"\[-64, 64\) for format Q4.3 \(first: {-2**64}\)$"):
        F43.to_float([-2**64])


def test_empty_lists_are_empty_integer_operands():
    # numpy makes [] float64; the integer operands take it as no values, not a wrong dtype
    assert mitchell_mul([], [], MitchellMulParams()).shape == (0,)
    q, dz = mitchell_div([], 3, MitchellDivParams())
    assert q.shape == dz.shape == (0,)
    assert bf16_to_float([]).dtype == np.float32 and F43.to_float([]).shape == (0,)
    with pytest.raises(TypeError, match=r"^mitchell_mul: a must be integers, "
                                        r"not dtype float64$"):
        mitchell_mul(np.array([]), [], MitchellMulParams())  # an explicit float array is not
