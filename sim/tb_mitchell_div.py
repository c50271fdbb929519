"""cocotb bench: exported Mitchell divider Verilog against ``hwsim.mitchell.mitchell_div``."""

import cocotb

from hwsim.sim.bench import check_unit


@cocotb.test()
async def mitchell_div_matches_model(dut):
    await check_unit(dut)
