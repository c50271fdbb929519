"""The exact multiplier unit (``exact-mul``): model against Python integers, the component in
Amaranth's simulator, the exported Verilog in Icarus / Verilator, and its formal proof with
a mutant the proof must reject."""

import numpy as np
import pytest

from hwsim.exact_mul import ExactMulParams, exact_mul
from hwsim.sim.amaranth_sim import simulate
from hwsim.units import get_unit
from rtl import export_verilog, require_prover, run_and_check, sim_matrix

EXACT = get_unit("exact-mul")


@pytest.mark.parametrize("width, signed", [(2, False), (5, True), (8, False), (8, True)])
def test_model_is_the_integer_product_on_every_pair(width, signed):
    p = ExactMulParams(width=width, signed=signed)
    v = EXACT.vectors(p, None, 0)
    assert len(v["a"]) == 4 ** width
    got = exact_mul(v["a"], v["b"], p)
    assert got.dtype == (np.int64 if signed else np.uint64)
    want = [int(a) * int(b) for a, b in zip(v["a"], v["b"])]
    assert [int(x) for x in got] == want


@pytest.mark.parametrize("signed", [False, True])
def test_model_at_32_bits_keeps_every_bit(signed):
    """The extremes of a 32-bit product (2N = 64 bits) are exact, not wrapped."""
    p = ExactMulParams(width=32, signed=signed)
    lo, hi = p.in_range
    xs = np.array([lo, lo + 1, -1 if signed else 1, 0, hi - 1], dtype=np.int64)
    got = exact_mul(xs[:, None], xs[None, :], p)
    want = [[int(a) * int(b) for b in xs] for a in xs]
    assert [[int(x) for x in row] for row in got] == want


@pytest.mark.parametrize("kwargs, err, msg", [
    (dict(width=33), ValueError, r"^ExactMulParams.width must be an integer in 2..32, not 33$"),
    (dict(width=8.0), TypeError, r"^ExactMulParams.width must be an integer"),
    (dict(signed=1), TypeError, r"^ExactMulParams.signed must be a bool"),
    (dict(stages=9), ValueError, r"^ExactMulParams.stages must be an integer in 0..8, not 9$"),
])
def test_bad_params_are_refused(kwargs, err, msg):
    with pytest.raises(err, match=msg):
        ExactMulParams(**kwargs)


def test_out_of_range_operands_are_refused():
    with pytest.raises(ValueError, match=r"^exact_mul: a has values outside \[-8, 8\) for signed "
                                         r"width 4 \(first: 8\)$"):
        exact_mul(8, 1, ExactMulParams(width=4, signed=True))
    with pytest.raises(TypeError, match=r"^exact_mul: b must be integers, not dtype float64$"):
        exact_mul(1, 1.5, ExactMulParams())


@pytest.mark.parametrize("params", [ExactMulParams(width=5), ExactMulParams(width=5, signed=True),
                                    ExactMulParams(width=4, signed=True, stages=2)],
                         ids=lambda p: p.top_name)
def test_component_equals_the_model_in_amaranths_simulator(params):
    vec = EXACT.vectors(params, None, 0)
    got = simulate(EXACT.component(params), vec, stall_seed=1 if params.stages else None)
    want = EXACT.model(params, vec)["p"]
    assert len(want) == 4 ** params.width
    assert [int(x) for x in got["p"]] == [int(x) for x in want]


RTL = [ExactMulParams(width=8, signed=True), ExactMulParams(width=6, stages=2)]


@pytest.mark.hdl
@pytest.mark.parametrize("params,sim", sim_matrix(RTL, {p.top_name for p in RTL}))
def test_exported_verilog_equals_the_model(params, sim, tmp_path, record_bench):
    r = run_and_check(EXACT, params, sim, None, 0, tmp_path, record_bench)
    assert r.vectors == 4 ** params.width


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
