"""cocotb bench: exported exp unit Verilog against ``hwsim.exp.exp_fixed``.

Combinational units (``stages = 0``) go through :func:`hwsim.sim.bench.check_unit`.
Pipelined units (``in_valid`` / ``out_valid``, no backpressure: the unit takes a vector on
every cycle) run every vector twice:

1. **bubbles**: ``in_valid`` low on a seeded ~30 % of the cycles
   (:func:`hwsim.sim.stimulus.handshake_pattern` with ``idle=BUBBLES``, so a failing seed
   replays in the other backends);
2. **back to back**: ``in_valid`` high on every cycle, the sustained throughput.

In both, every output seen with ``out_valid`` high is compared in order with the model, and
must appear exactly ``latency`` cycles after its input (input presented in cycle c, output
in cycle c + latency; so back to back, N vectors take N + latency cycles from the first
input to the last output, one result per cycle). After the last output the bench idles
``latency + 2`` cycles and counts any further ``out_valid`` as an error. A vector that
comes out wrong, late, early or extra counts as a mismatch; ``HWSIM_RESULT`` gets the
counts of both runs (``timing_errors``, ``cycles`` with bubbles, ``throughput_cycles``).
"""

from __future__ import annotations

import time

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge

from hwsim.hdl.export import ports as port_info
from hwsim.sim.bench import _read, _write_result, bench_config, check_unit, log, reset
from hwsim.sim.compare import compare_outputs, input_patterns, output_ports
from hwsim.sim.stimulus import PERIOD, handshake_pattern

#: fraction of cycles with ``in_valid`` low in the bubble run
BUBBLES = 0.3


async def _run(dut, in_handles, out_handles, n: int, offers: list[bool], latency: int):
    """Drive the ``n`` vectors on the cycles ``offers`` allows; returns the outputs in order,
    the cycles spent (first input to last output, inclusive) and the timing errors."""
    got: list[list[int]] = [[] for _ in out_handles]
    sent_at: list[int] = []  # cycle in which vector i was presented
    timing_errors = 0
    i = cycle = 0
    limit = 4 * n + 16 + 4 * latency
    while len(got[0]) < n:
        if i < n and offers[cycle % PERIOD]:
            for h, col in in_handles:
                h.value = col[i]
            dut.in_valid.value = 1
            sent_at.append(cycle)
            i += 1
        else:
            dut.in_valid.value = 0
        await FallingEdge(dut.clk)  # the rising edge ending `cycle` has passed
        cycle += 1
        if _read(dut.out_valid):
            k = len(got[0])
            if k >= len(sent_at) or cycle - sent_at[k] != latency:
                timing_errors += 1
                if timing_errors <= 5:
                    log.error("output %d in cycle %d: input %s, latency %d", k, cycle,
                              f"in cycle {sent_at[k]}" if k < len(sent_at) else "not sent",
                              latency)
            for j, h in enumerate(out_handles):
                got[j].append(_read(h))
        if cycle > limit:
            raise RuntimeError(f"out_valid seen {len(got[0])} times in {cycle} cycles, "
                               f"expected {n}")
    dut.in_valid.value = 0
    for _ in range(latency + 2):  # nothing may follow the last result
        await FallingEdge(dut.clk)
        if _read(dut.out_valid):
            timing_errors += 1
            log.error("extra out_valid after the last of %d results", n)
    return got, cycle - sent_at[0] + 1, timing_errors


@cocotb.test()
async def exp_matches_model(dut):
    spec, params, count, seed = bench_config()
    if params.latency == 0:
        await check_unit(dut)
        return
    latency = params.latency
    ports = port_info(spec.component(params))
    vec = spec.vectors(params, count, seed)
    n = len(next(iter(vec.values())))
    outs = output_ports(ports)
    want = spec.model(params, vec)
    in_handles = [(getattr(dut, k), col) for k, col in input_patterns(vec, ports).items()]
    out_handles = [getattr(dut, k) for k in outs]
    t0 = time.perf_counter()
    dut.in_valid.value = 0
    await reset(dut)

    offers, _ = handshake_pattern(seed, idle=BUBBLES)
    got, cycles, late = await _run(dut, in_handles, out_handles, n, offers, latency)
    bad, examples = compare_outputs(dict(zip(outs, got)), want, ports, vec)
    got2, cycles2, late2 = await _run(dut, in_handles, out_handles, n, [True] * PERIOD, latency)
    bad2, examples2 = compare_outputs(dict(zip(outs, got2)), want, ports, vec)
    seconds = time.perf_counter() - t0

    timing = late + late2 + (cycles2 != n + latency)
    mismatches = bad + bad2 + timing
    examples = examples + examples2
    for ex in examples:
        log.error("mismatch %r", ex)
    result = {"unit": spec.name, "top": params.top_name, "vectors": n, "mismatches": mismatches,
              "examples": examples, "seconds": seconds, "seed": seed, "cycles": cycles,
              "throughput_cycles": cycles2, "latency": latency, "timing_errors": timing,
              "bubble_fraction": float(1 - np.mean(offers))}
    log.info("%s: %d vectors twice (%d cycles with bubbles, %d back to back = N + %d), "
             "%d mismatches, %d timing errors", params.top_name, n, cycles, cycles2, latency,
             bad + bad2, timing)
    _write_result(result)
    assert cycles2 == n + latency, f"{n} vectors back to back took {cycles2} cycles, " \
                                   f"not {n} + latency {latency}"
    assert mismatches == 0, f"{mismatches} of {2 * n} results wrong or mistimed; first: " \
                            f"{examples[:1]}"
