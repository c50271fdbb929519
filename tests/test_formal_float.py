"""Formal proofs of the float units (hwsim.sim.formal, ``spec_float_mul.float_mul_spec`` /
``float_div_spec``, written from ``hwsim/float_mul.py``'s docstring).

Every format and method is proved for all input pairs (each in under a second: the
significand products of the exact method merge in the AIG), one pipeline by BMC, and two
mutants of the exported Verilog that the proof must reject with a counterexample on which
the numpy model (``hwsim.float_mul``) gives the specification's value: round half up instead
of half to even (exact bf16) and an off-by-one underflow threshold (e4m3 divider).
"""

import pytest

from hwsim.float_mul import (
    FloatDivParams, FloatMethod, FloatMulParams, FloatType, float_div, float_mul,
)
from hwsim.units import get_unit
from rtl import export_verilog, require_prover

MUL, DIV = get_unit("float-mul"), get_unit("float-div")

#: the exact method's rounding increment ``round_bit & (sticky | lsb)`` loses its ``&``:
#: ties round up (Amaranth's export: ``$8 = $2 & $7; sig_rounded = $1 + $8;``)
TIES_UP = (r"(assign \\\$\d+ += \\\$\d+ ) +& \\\$\d+ ;(\n +assign sig_rounded)", r"\1;\2")
#: flush below the smallest normal pattern + 1 instead of below it (e4m3: 2**M = 8)
FLUSH_ONE_HIGHER = (r"< \$signed\(5'h08\)", "< $signed(5'h09)")


@pytest.fixture
def formal():
    """hwsim.sim.formal with z3 and yosys present (else skip with the install hint; CI fails)."""
    require_prover()
    from hwsim.sim import formal
    return formal


@pytest.mark.parametrize("params", [FloatMulParams(fmt=f, method=m) for f in FloatType
                                    for m in FloatMethod], ids=lambda p: p.top_name)
def test_float_mul_is_proved(formal, params):
    r = formal.prove(MUL, params)
    assert r.proved and r.status == "proved", formal.format_result(r)
    assert f"{params.input_bits} input bits" in r.size
    assert formal.format_result(r).startswith(f"proved: float-mul {params.top_name} == ")


@pytest.mark.unit("float-div")
@pytest.mark.parametrize("fmt", list(FloatType), ids=lambda f: f.value)
def test_float_div_is_proved(formal, fmt):
    r = formal.prove(DIV, FloatDivParams(fmt=fmt))
    assert r.proved, formal.format_result(r)


def test_a_float_pipeline_is_proved_by_bmc(formal):
    params = FloatMulParams(fmt=FloatType.BF16, method=FloatMethod.EXACT, stages=2)
    r = formal.prove(MUL, params)
    assert r.proved, formal.format_result(r)
    assert "2-cycle BMC" in r.size


def test_float_units_are_proved_units(formal):
    assert {"float-mul", "float-div"} <= set(formal.proved_units())


def test_rounding_ties_up_is_refuted(formal, tmp_path):
    params = FloatMulParams(fmt=FloatType.BF16, method=FloatMethod.EXACT)
    path = export_verilog(MUL, params, tmp_path, TIES_UP)
    r = formal.prove(MUL, params, verilog=path)
    assert r.status == "counterexample" and not r.proved, formal.format_result(r)
    a, b = r.counterexample["a"], r.counterexample["b"]
    assert int(float_mul(a, b, params)) == r.values["spec_p"] != r.values["rtl_p"]
    # a tie rounded up where even rounds down: the mutant is one LSB above the model
    assert r.values["rtl_p"] == r.values["spec_p"] + 1, (r.counterexample, r.values)


def test_a_flush_threshold_off_by_one_is_refuted(formal, tmp_path):
    params = FloatDivParams(fmt=FloatType.E4M3)
    path = export_verilog(DIV, params, tmp_path, FLUSH_ONE_HIGHER)
    r = formal.prove(DIV, params, verilog=path)
    assert r.status == "counterexample" and not r.proved, formal.format_result(r)
    a, b = r.counterexample["a"], r.counterexample["b"]
    model = int(float_div(a, b, params))
    assert model == r.values["spec_q"] != r.values["rtl_q"], (r.counterexample, r.values)
    assert model & 0x7F == FloatType.E4M3.min_normal  # the smallest normal, flushed by the mutant
