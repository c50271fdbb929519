"""hwsim prove --property wce on a circuit-mul: the worst-case error of a user's circuit
proved for all inputs by yosys + z3, at the bound measured exhaustively (proved) and one below
it (a counterexample the model confirms); refusals in one line."""

import numpy as np
import pytest

from hwsim.circuit_mul import CircuitMulParams, circuit_mul
from hwsim.circuits import Circuit
from hwsim.cli import main
from hwsim.units import get_unit
from rtl import require_prover

CIRCUIT = get_unit("circuit-mul")


@pytest.fixture
def formal():
    require_prover()    # skips on a user's machine without z3 / yosys; fails under CI=true
    from hwsim.sim import formal
    return formal


def _wce(p: CircuitMulParams) -> int:
    lo, hi = p.in_range
    a, b = np.meshgrid(np.arange(lo, hi), np.arange(lo, hi), indexing="ij")
    return int(np.abs(circuit_mul(a, b, p).astype(np.int64) - a * b).max())


@pytest.mark.unit("circuit-mul")
@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_the_measured_worst_case_error_is_proved_and_one_less_is_refuted(formal, signed,
                                                                        tmp_path):
    f = tmp_path / "c.v"
    if signed:   # a signed product with its low two bits cleared (errors 0..3 below a b)
        f.write_text("module s(A, B, O); input signed [5:0] A, B; output signed [11:0] O;\n"
                     "  assign O = (A * B) & ~12'sd3;\nendmodule\n")
    else:
        f.write_text(Circuit("broken-array", 6, hbl=1, vbl=5).verilog())
    p = CircuitMulParams(verilog=str(f), width=6, signed=signed)
    wce = _wce(p)
    assert wce > 0
    r = formal.prove(CIRCUIT, p, property="wce", bound=wce, timeout_s=300)
    assert r.proved, formal.format_result(r)
    assert formal.format_result(r).startswith(f"proved [wce]: circuit-mul {p.top_name} within "
                                              f"{wce} of the exact product for all inputs")
    r = formal.prove(CIRCUIT, p, property="wce", bound=wce - 1, timeout_s=300)
    assert r.status == "counterexample"
    a, b = r.counterexample["a"], r.counterexample["b"]
    got = int(circuit_mul(a, b, p))
    assert abs(got - a * b) > wce - 1 and r.values == {"rtl_p": got, "spec_p": a * b}


@pytest.mark.unit("circuit-mul")
def test_the_cli_proves_a_bound_and_refuses_bad_ones(formal, tmp_path, capsys):
    f = tmp_path / "t.v"
    f.write_text(Circuit("truncated", 4, t=3).verilog())
    p = CircuitMulParams(verilog=str(f), width=4)
    wce = _wce(p)
    base = ["prove", "circuit-mul", "--verilog", str(f), "--width", "4", "--property", "wce"]
    assert main(base + ["--bound", str(wce)]) == 0
    assert capsys.readouterr().out.startswith("proved [wce]: ")
    assert main(base + ["--bound", str(wce - 1), "--no-replay"]) == 1
    assert capsys.readouterr().out.startswith("counterexample [wce]: ")
    assert main(base + ["--bound", "-1"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "hwsim: error: prove: bound must be an integer >= 0 for property 'wce', not -1")
    assert main(["prove", "circuit-mul", "--verilog", str(f), "--width", "4"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "hwsim: error: prove: unit circuit-mul has no specification to prove equivalence with "
        "(its properties: wce)")
    assert main(["prove", "mitchell-mul", "--width", "4", "--property", "wce", "--bound",
                 "9"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "hwsim: error: prove: unit mitchell-mul has no worst-case error property (its "
        "properties: equivalence, bounds)")
