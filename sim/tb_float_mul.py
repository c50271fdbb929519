"""cocotb bench: exported float multiplier Verilog against ``hwsim.float_mul.float_mul``."""

import cocotb

from hwsim.sim.bench import check_unit


@cocotb.test()
async def float_mul_matches_model(dut):
    await check_unit(dut)
