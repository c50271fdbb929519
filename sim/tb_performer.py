"""cocotb bench: exported Performer feature map against ``hwsim.performer.phi_fixed``."""

import cocotb

from hwsim.sim.bench import check_stream_unit


@cocotb.test()
async def performer_matches_model(dut):
    await check_stream_unit(dut)
