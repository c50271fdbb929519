"""cocotb bench: exported streaming attention head against ``hwsim.attention.attention_fixed``."""

import cocotb

from hwsim.sim.bench import check_stream_unit


@cocotb.test()
async def attention_matches_model(dut):
    await check_stream_unit(dut)
