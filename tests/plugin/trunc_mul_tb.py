"""cocotb bench of the plug-in ``trunc-mul`` unit: hwsim's generic bench."""

import cocotb

from hwsim.sim.bench import check_unit


@cocotb.test()
async def trunc_mul_matches_model(dut):
    await check_unit(dut)
