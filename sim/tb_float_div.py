"""cocotb bench: exported float divider Verilog against ``hwsim.float_mul.float_div``."""

import cocotb

from hwsim.sim.bench import check_unit


@cocotb.test()
async def float_div_matches_model(dut):
    await check_unit(dut)
