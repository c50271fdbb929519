"""Valid/ready stall patterns: one definition for every bench.

The cocotb benches (``hwsim.sim.bench``), the Amaranth-simulator driver
(``hwsim.sim.amaranth_sim``) and the generated Verilog testbenches (``hwsim.sim.batched``)
all take their handshakes from :func:`handshake_pattern`: on cycle ``c`` (counted from 0
after reset) the source offers its next element when ``offer[c % PERIOD]`` and the sink is
ready when ``ready[c % PERIOD]``. The pattern depends only on the seed, so a seed that fails
in one backend replays cycle for cycle in the others.

Semantics: the source presents ``valid`` only on its offer cycles (it may withdraw an
element that was not accepted, and offer it again later), the sink raises ``ready`` on its
ready cycles; a transfer happens when both are high at a rising edge. Pipelined units with
``in_valid`` use ``offer`` alone (their output has no ``ready``).
"""

from __future__ import annotations

import numpy as np

#: pattern length (a prime, so it never lines up with a vector length)
PERIOD = 4093
#: fraction of cycles on which the source holds back / the sink is not ready
IDLE = 0.25


def handshake_pattern(seed: int | None, period: int = PERIOD,
                      idle: float = IDLE) -> tuple[list[bool], list[bool]]:
    """``(offer, ready)`` lists of ``period`` booleans for ``seed``; ``None``: no stalls."""
    if seed is None:
        return [True] * period, [True] * period
    rng = np.random.default_rng([int(seed), 0x57A11])
    offer = rng.random(period) >= idle
    ready = rng.random(period) >= idle
    return offer.tolist(), ready.tolist()


def pattern_hex(seed: int | None, period: int = PERIOD) -> str:
    """The pattern as a ``$readmemh`` file: one digit a cycle, bit 0 offer, bit 1 ready."""
    offer, ready = handshake_pattern(seed, period)
    return "\n".join(f"{int(o) | int(r) << 1:x}" for o, r in zip(offer, ready)) + "\n"


def verilog_pattern_decls(period: int = PERIOD) -> list[str]:
    """Verilog lines declaring and loading the pattern memory ``stall`` from ``stall.hex``."""
    return [f"  localparam integer PERIOD = {period};",
            "  reg [1:0] stall [0:PERIOD-1];",
            '  initial $readmemh("stall.hex", stall);']
