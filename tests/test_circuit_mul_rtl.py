"""circuit-mul in Icarus and Verilator (cocotb): the user's own Verilog file, in hwsim's port
wrapper, against the model compiled from its netlist, on every 8-bit input; a signed circuit
with its ports named out of declaration order on seeded vectors and corners (Icarus: a
Verilator build costs a minute on two shared cores, and the first test runs there)."""

import pytest

from hwsim.circuit_mul import CircuitMulParams
from hwsim.circuits import Circuit
from hwsim.units import get_unit
from rtl import run_and_check, sim_params

CIRCUIT = get_unit("circuit-mul")


@pytest.mark.hdl
@pytest.mark.unit("circuit-mul")
@pytest.mark.parametrize("sim", sim_params())
def test_the_users_verilog_equals_the_model_on_every_input(sim, tmp_path, record_bench):
    f = tmp_path / "bam.v"
    f.write_text(Circuit("broken-array", 8, hbl=2, vbl=6).verilog())
    params = CircuitMulParams(verilog=str(f), width=8)
    r = run_and_check(CIRCUIT, params, sim, None, 0, tmp_path / "build", record_bench)
    assert r.vectors == 1 << 16


SIGNED = """module smul(p, x, y);
  output signed [19:0] p;
  input signed [9:0] y;
  input signed [9:0] x;
  // a signed product with its low two bits cleared: ports named out of declaration order
  assign p = (x * y) & ~20'sd3;
endmodule
"""


@pytest.mark.hdl
@pytest.mark.unit("circuit-mul")
@pytest.mark.parametrize("sim", [s for s in sim_params() if s.values[0] == "icarus"])
def test_a_signed_circuit_with_named_ports(sim, tmp_path, record_bench):
    f = tmp_path / "smul.v"
    f.write_text(SIGNED)
    params = CircuitMulParams(verilog=str(f), width=10, signed=True, ports="y,x,p")
    r = run_and_check(CIRCUIT, params, sim, 3000, 1, tmp_path / "build", record_bench)
    assert r.vectors > 3000


@pytest.mark.hdl
@pytest.mark.unit("circuit-mul")
@pytest.mark.parametrize("sim", [s for s in sim_params() if s.values[0] == "icarus"])
@pytest.mark.parametrize("batched", [False, True])
def test_a_circuit_driving_x_mismatches_where_it_does(sim, tmp_path, batched, monkeypatch):
    """yosys reads 'bx as don't care (the model is a * b everywhere); Icarus drives X for
    every even a: those 32,768 inputs are mismatches with their X text, not a bench that
    crashed reading them ('Can't convert LogicArray to int', 'invalid literal for int()')."""
    from hwsim.sim.batched import run_batched
    from hwsim.sim.runner import run_bench
    f = tmp_path / "xmul.v"
    f.write_text("module m(input [7:0] a, input [7:0] b, output [15:0] p);\n"
                 "  assign p = a[0] ? a * b : 16'bx;\nendmodule\n")
    params = CircuitMulParams(verilog=str(f), width=8)
    # under pytest cocotb's runner raises on a failed bench; hwsim verify gets the counts
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    r = (run_batched if batched else run_bench)(CIRCUIT, params, sim=sim, vectors=None,
                                                build_root=tmp_path / "build")
    assert r.vectors == 1 << 16 and r.mismatches == 1 << 15
    assert all(e["a"] % 2 == 0 and "x" in e["rtl_p"].lower() for e in r.examples)
