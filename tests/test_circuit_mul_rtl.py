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
