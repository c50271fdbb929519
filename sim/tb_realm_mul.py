"""cocotb bench: exported REALM-style multiplier Verilog against ``hwsim.realm.realm_mul``."""

import cocotb

from hwsim.sim.bench import check_unit


@cocotb.test()
async def realm_mul_matches_model(dut):
    await check_unit(dut)
