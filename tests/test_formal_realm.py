"""Formal proofs of the REALM-style multiplier (hwsim.sim.formal, ``spec_realm.realm_mul``).

Positive proofs at widths that finish in seconds, one pipeline by BMC, and a mutant of the
exported Verilog (the correction table replaced by the constant 1: Mitch-w with unbiased
fractions) that the proof must reject with a counterexample on which the numpy model
(``hwsim.realm.realm_mul``) and the mutated RTL differ as the solver reports.
"""

import pytest

from hwsim.realm import RealmMulParams, realm_mul
from hwsim.units import get_unit
from rtl import export_verilog, require_prover

REALM = get_unit("realm-mul")

#: add the constant 1 instead of the table's entry: ``$n = $m + corr;`` (Amaranth's export)
TABLE_TO_ONE = (r"(assign \\\$\d+ += \\\$\d+ +\+ )corr;", r"\g<1>2'h1;")


@pytest.fixture
def formal():
    """hwsim.sim.formal with z3 and yosys present (else skip with the install hint; CI fails)."""
    require_prover()
    from hwsim.sim import formal
    return formal


@pytest.mark.parametrize("params", [
    RealmMulParams(width=8, keep_bits=3, m=2, q=2), RealmMulParams(width=6, keep_bits=5, m=2, q=3),
    RealmMulParams(width=8, keep_bits=1, m=0, q=0), RealmMulParams(width=4, keep_bits=3, m=3, q=3),
], ids=lambda p: p.top_name)
def test_realm_is_proved(formal, params):
    r = formal.prove(REALM, params)
    assert r.proved and r.status == "proved" and r.counterexample is None, formal.format_result(r)
    assert f"{params.input_bits} input bits" in r.size
    assert formal.format_result(r).startswith(f"proved: realm-mul {params.top_name} == ")


def test_a_realm_pipeline_is_proved_by_bmc(formal):
    params = RealmMulParams(width=8, keep_bits=3, m=2, q=2, stages=2)
    r = formal.prove(REALM, params)
    assert r.proved, formal.format_result(r)
    assert "2-cycle BMC" in r.size and f"{params.input_bits + 1} input bits" in r.size


def test_realm_is_a_proved_unit(formal):
    assert "realm-mul" in formal.proved_units()


def test_a_constant_correction_is_refuted(formal, tmp_path):
    params = RealmMulParams(width=8, keep_bits=3, m=2, q=2)
    path = export_verilog(REALM, params, tmp_path, TABLE_TO_ONE)
    r = formal.prove(REALM, params, verilog=path)
    assert r.status == "counterexample" and not r.proved, formal.format_result(r)
    a, b = r.counterexample["a"], r.counterexample["b"]
    model = int(realm_mul(a, b, params))
    assert model == r.values["spec_p"] != r.values["rtl_p"], (r.counterexample, r.values)
    # the mutant is the table (1,) with M = 0: its value is that model's
    mutant = RealmMulParams(width=8, keep_bits=3, m=0, q=1)
    assert mutant.table == (1,)
    assert r.values["rtl_p"] == int(realm_mul(a, b, mutant))
    assert formal.prove(REALM, params,
                        verilog=export_verilog(REALM, params, tmp_path, name="ok.v")).proved
