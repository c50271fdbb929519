"""Formal proofs of the exact multiplier (``spec_exact_mul.exact_mul``) and a mutant the proof
must reject."""

import pytest

from hwsim.exact_mul import ExactMulParams
from hwsim.units import get_unit
from rtl import export_verilog, require_prover

EXACT = get_unit("exact-mul")


@pytest.fixture
def formal():
    require_prover()
    from hwsim.sim import formal
    return formal


@pytest.mark.parametrize("params", [ExactMulParams(width=8), ExactMulParams(width=12, signed=True),
                                    ExactMulParams(width=6, signed=True, stages=1)],
                         ids=lambda p: p.top_name)
def test_exact_mul_is_proved(formal, params):
    r = formal.prove(EXACT, params)
    assert r.proved, formal.format_result(r)


def test_an_unsigned_product_of_signed_operands_is_refuted(formal, tmp_path):
    """The mutant multiplies the operands' bits unsigned: wrong whenever one is negative."""
    params = ExactMulParams(width=6, signed=True)
    path = export_verilog(EXACT, params, tmp_path, (r"\$signed\(a\) \* \$signed\(b\)", "a * b"))
    r = formal.prove(EXACT, params, verilog=path)
    assert r.status == "counterexample", formal.format_result(r)
    a, b = r.counterexample["a"], r.counterexample["b"]
    assert a < 0 or b < 0
    assert r.values["rtl_p"] != a * b
