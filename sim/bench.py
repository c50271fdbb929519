"""Generic cocotb driver for units with plain input/output ports (no streams).

A unit's ``tb_<unit>.py`` calls :func:`check_unit` from its ``@cocotb.test()``. The bench

* reads the unit name, params, vector count and seed from ``HWSIM_*`` environment variables
  (set by :func:`hwsim.sim.runner.run_bench`);
* draws the vectors with the unit's own generator (exhaustive, or corners + seeded random);
* drives one vector per step: combinational units settle for 1 ns; pipelined units get one
  vector per clock with idle cycles on ``in_valid`` (``hwsim.sim.stimulus``) and are sampled when
  ``out_valid`` is high (on the falling edge, when the registers are stable);
* compares every output with the bit-exact model by integer equality and writes
  ``{"vectors", "mismatches", "examples"}`` to ``HWSIM_RESULT``.
"""

from __future__ import annotations

import json
import logging
import os
import time

from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer

from hwsim.hdl.export import ports as port_info
from hwsim.sim.compare import compare_outputs, compare_stream, input_patterns, output_ports
from hwsim.sim.stimulus import PERIOD, handshake_pattern
from hwsim.units import get_unit

log = logging.getLogger("hwsim.bench")


def bench_config():
    spec = get_unit(os.environ["HWSIM_UNIT"])
    params = spec.params_cls.from_dict(json.loads(os.environ["HWSIM_PARAMS"]))
    vectors = os.environ.get("HWSIM_VECTORS", "exhaustive")
    count = None if vectors == "exhaustive" else int(vectors)
    seed = int(os.environ.get("HWSIM_SEED", "0"))
    return spec, params, count, seed


def _read(handle) -> int | str:
    """Unsigned value of a port: ``LogicArray`` for vectors, ``Logic`` for 1-bit ports; a
    value with X or Z bits as its text (``"0000xxxx"``): a mismatch, not a crash of the
    bench (a user's circuit may drive X)."""
    v = handle.value
    try:
        return v.to_unsigned() if hasattr(v, "to_unsigned") else int(v)
    except ValueError:
        return str(v)


async def reset(dut):
    """Start the 10 ns clock and hold ``rst`` for two rising edges.

    ``rst`` goes 0 -> 1 after 1 ns rather than starting at 1: Amaranth's Verilog computes
    next-state values in ``always @*`` blocks, which Icarus only evaluates on an input
    change, so a reset level present from time 0 may never reach them (state stays X).
    """
    dut.rst.value = 0
    await Timer(1, unit="ns")
    dut.rst.value = 1
    Clock(dut.clk, 10, unit="ns").start()
    await FallingEdge(dut.clk)
    await FallingEdge(dut.clk)
    dut.rst.value = 0


async def check_unit(dut) -> dict:
    spec, params, count, seed = bench_config()
    ports = port_info(spec.component(params))
    vec = spec.vectors(params, count, seed)
    n = len(next(iter(vec.values())))
    outs = output_ports(ports)
    in_handles = [(getattr(dut, k), col) for k, col in input_patterns(vec, ports).items()]
    out_handles = [getattr(dut, k) for k in outs]
    got: list[list[int]] = [[] for _ in outs]
    t0 = time.perf_counter()

    cycle = 0
    if params.latency == 0:
        for i in range(n):
            for h, col in in_handles:
                h.value = col[i]
            await Timer(1, unit="ns")
            for j, h in enumerate(out_handles):
                got[j].append(_read(h))
    else:
        offers, _ = handshake_pattern(seed)
        dut.in_valid.value = 0
        await reset(dut)
        i = cycle = 0
        while len(got[0]) < n:
            if i < n and offers[cycle % PERIOD]:
                for h, col in in_handles:
                    h.value = col[i]
                dut.in_valid.value = 1
                i += 1
            else:
                dut.in_valid.value = 0
            cycle += 1
            await FallingEdge(dut.clk)
            if _read(dut.out_valid):
                for j, h in enumerate(out_handles):
                    got[j].append(_read(h))
            if cycle > 4 * n + 16 + params.latency * 4:
                raise RuntimeError(f"out_valid seen {len(got[0])} times in {cycle} cycles, "
                                   f"expected {n}")
    seconds = time.perf_counter() - t0

    mismatches, examples = compare_outputs(dict(zip(outs, got)), spec.model(params, vec),
                                           ports, vec)
    for ex in examples:
        log.error("mismatch %r", ex)
    result = {"unit": spec.name, "top": params.top_name, "vectors": n, "mismatches": mismatches,
              "examples": examples, "seconds": seconds, "seed": seed,
              "cycles": cycle if params.latency else None}
    log.info("%s: %d vectors, %d mismatches, %.0f vectors/s", params.top_name, n, mismatches,
             n / max(seconds, 1e-9))
    _write_result(result)
    assert mismatches == 0, f"{mismatches} of {n} vectors differ from the model; first: {examples[0]}"
    return result


async def check_stream_unit(dut) -> dict:
    """Stream bench: each vector's elements go in on ``i_stream``, as many results come
    back on ``o_stream``; ``i_stream.valid`` and ``o_stream.ready`` follow
    :func:`hwsim.sim.stimulus.handshake_pattern` for the seed (each low on about a quarter of
    the cycles) so backpressure is exercised. Compares every
    output element with the model by integer equality; a vector counts as one mismatch
    if any of its elements differs."""
    from cocotb.triggers import ReadOnly

    spec, params, count, seed = bench_config()
    ports = port_info(spec.component(params))
    (in_name, vec_in), = spec.vectors(params, count, seed).items()
    want = next(iter(spec.model(params, {in_name: vec_in}).values()))
    n, per_vec = vec_in.shape
    out_per_vec = want.shape[-1]
    in_w = ports["i_stream__payload"]["width"]
    flat = [int(v) & ((1 << in_w) - 1) for v in vec_in.reshape(-1).tolist()]
    offers, readies = handshake_pattern(seed)
    dut.i_stream__valid.value = 0
    dut.o_stream__ready.value = 0
    await reset(dut)
    got: list[int] = []
    i = cycles = 0
    limit = 40 * (len(flat) + 8)
    t0 = time.perf_counter()
    while len(got) < n * out_per_vec:
        offer = i < len(flat) and offers[cycles % PERIOD]
        if offer:
            dut.i_stream__payload.value = flat[i]
        dut.i_stream__valid.value = int(offer)
        dut.o_stream__ready.value = int(readies[cycles % PERIOD])
        await ReadOnly()
        if offer and _read(dut.i_stream__ready):
            i += 1
        if _read(dut.o_stream__valid) and _read(dut.o_stream__ready):
            got.append(_read(dut.o_stream__payload))
        await FallingEdge(dut.clk)
        cycles += 1
        if cycles > limit:
            raise RuntimeError(f"stream stalled: {len(got)} of {n * out_per_vec} outputs "
                               f"after {cycles} cycles")
    seconds = time.perf_counter() - t0
    mismatches, examples = compare_stream(got, vec_in, want, ports, in_name)
    for ex in examples:
        log.error("mismatch %r", ex)
    result = {"unit": spec.name, "top": params.top_name, "vectors": int(n),
              "mismatches": mismatches, "examples": examples, "seconds": seconds,
              "seed": seed, "cycles": cycles}
    log.info("%s: %d vectors (%d elements), %d mismatches, %d cycles", params.top_name, n,
             n * per_vec, mismatches, cycles)
    _write_result(result)
    assert mismatches == 0, f"{mismatches} of {n} vectors differ; first: {examples[0]}"
    return result


def _write_result(result: dict):
    path = os.environ.get("HWSIM_RESULT")
    if path:
        with open(path + ".tmp", "w") as fh:
            json.dump(result, fh)
        os.replace(path + ".tmp", path)
