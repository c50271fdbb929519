"""cocotb bench: exported DRUM multiplier Verilog against ``hwsim.drum.drum_mul``."""

import cocotb

from hwsim.sim.bench import check_unit


@cocotb.test()
async def drum_mul_matches_model(dut):
    await check_unit(dut)
