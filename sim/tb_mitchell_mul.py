"""cocotb bench: exported Mitchell multiplier Verilog against ``hwsim.mitchell.mitchell_mul``."""

import cocotb

from hwsim.sim.bench import check_unit


@cocotb.test()
async def mitchell_mul_matches_model(dut):
    await check_unit(dut)
