"""cocotb bench: exported exact multiplier Verilog against ``hwsim.exact_mul.exact_mul``."""

import cocotb

from hwsim.sim.bench import check_unit


@cocotb.test()
async def exact_mul_matches_model(dut):
    await check_unit(dut)
