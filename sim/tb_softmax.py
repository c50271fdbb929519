"""cocotb bench: exported streaming softmax Verilog against ``hwsim.softmax.softmax_fixed``."""

import cocotb

from hwsim.sim.bench import check_stream_unit


@cocotb.test()
async def softmax_matches_model(dut):
    await check_stream_unit(dut)
