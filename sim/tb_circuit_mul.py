"""cocotb bench: a user's multiplier circuit (its own Verilog, in hwsim's port wrapper) against
``hwsim.circuit_mul.circuit_mul``, the model compiled from its netlist."""

import cocotb

from hwsim.sim.bench import check_unit


@cocotb.test()
async def circuit_mul_matches_model(dut):
    await check_unit(dut)
