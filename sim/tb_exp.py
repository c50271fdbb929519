"""cocotb bench: exported exp unit Verilog against ``hwsim.exp.exp_fixed``."""

import cocotb

from hwsim.sim.bench import check_unit


@cocotb.test()
async def exp_matches_model(dut):
    await check_unit(dut)
