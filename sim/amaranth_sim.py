"""Run a unit's Amaranth component in Amaranth's own simulator (no external tools).

This is the fast, always-available RTL check: it drives the component with vectors and
returns its outputs as int64 arrays, to be compared with the model by exact equality.
"""

from __future__ import annotations

import numpy as np
from amaranth.hdl import Cat, Value
from amaranth.sim import Simulator

from hwsim.sim.stimulus import PERIOD, handshake_pattern


def _bus(*ports):
    """``(Cat(ports), pack)``: one assignable value for several ports, and ``pack(*values)``
    giving its integer for their values (each taken modulo 2**width, as the port sees it).

    A testbench ``ctx.set`` settles the whole design; driving every port of a vector with
    one ``set`` of the bus settles it once instead of once per port (same values, same
    outputs, fewer evaluations of the design).
    """
    values = [Value.cast(p) for p in ports]
    layout, offset = [], 0
    for v in values:
        layout.append((offset, (1 << len(v)) - 1))
        offset += len(v)

    def pack(*xs) -> int:
        word = 0
        for (off, mask), x in zip(layout, xs):
            word |= (int(x) & mask) << off
        return word
    return Cat(*values), pack


def simulate(component, inputs: dict[str, np.ndarray], *, stall_seed: int | None = None,
             vcd: str | None = None) -> dict[str, np.ndarray]:
    """Drive ``inputs`` (port -> array) through ``component``; return output port -> array.

    Combinational components (``latency == 0``) are evaluated vector by vector. Pipelined
    ones get one vector per clock with ``in_valid`` high; with ``stall_seed`` set, idle
    cycles (``in_valid`` low) follow :func:`hwsim.sim.stimulus.handshake_pattern`, so the
    valid chain is exercised too.
    Outputs are collected on the cycles where ``out_valid`` is high.
    """
    latency = component.latency
    names_in = list(inputs)
    outs = [n for n, mem in component.signature.members.items()
            if mem.flow.name == "Out" and n != "out_valid"]
    n = len(next(iter(inputs.values())))
    cols = {k: np.asarray(v).tolist() for k, v in inputs.items()}
    results: dict[str, list[int]] = {k: [] for k in outs}
    offer, _ = handshake_pattern(stall_seed)

    out_ports = [getattr(component, k) for k in outs]

    async def combinational(ctx):
        bus, pack = _bus(*(getattr(component, k) for k in names_in))
        for i in range(n):
            ctx.set(bus, pack(*(cols[k][i] for k in names_in)))
            for k, port in zip(outs, out_ports):
                results[k].append(ctx.get(port))

    async def pipelined(ctx):
        # a vector and in_valid = 1 in one set; an idle cycle only lowers in_valid
        bus, pack = _bus(*(getattr(component, k) for k in names_in), component.in_valid)
        i = cycle = 0
        while len(results[outs[0]]) < n:
            feed = i < n and offer[cycle % PERIOD]
            cycle += 1
            if feed:
                ctx.set(bus, pack(*(cols[k][i] for k in names_in), 1))
                i += 1
            else:
                ctx.set(component.in_valid, 0)
            await ctx.tick()
            if ctx.get(component.out_valid):
                for k in outs:
                    results[k].append(ctx.get(getattr(component, k)))

    sim = Simulator(component)
    if latency:
        sim.add_clock(1e-8)
        sim.add_testbench(pipelined)
    else:
        sim.add_testbench(combinational)
    _run(sim, vcd)
    return {k: np.array(v, dtype=object) for k, v in results.items()}


def simulate_stream(component, vectors: np.ndarray, *, stall_seed: int | None = None,
                    vcd: str | None = None, out_len: int | None = None,
                    with_cycles: bool = False):
    """Stream each row of ``vectors`` (shape ``(n, L)``) into ``component.i_stream`` and
    collect ``out_len`` (default L) outputs per row from ``o_stream``; returns an
    ``(n, out_len)`` object array (and the number of cycles taken, ``with_cycles=True``).

    With ``stall_seed`` set, ``i_stream.valid`` and ``o_stream.ready`` follow
    :func:`hwsim.sim.stimulus.handshake_pattern` (each low on about a quarter of the
    cycles), so backpressure is exercised; the cocotb and batched benches use the same
    pattern for the same seed, and take the same number of cycles.
    """
    vectors = np.asarray(vectors)
    n, length = vectors.shape
    out_len = out_len or length
    flat = vectors.reshape(-1).tolist()
    n_out = n * out_len
    got: list[int] = []
    offers, readies = handshake_pattern(stall_seed)
    cycles = [0]

    async def bench(ctx):
        i = 0
        i_s, o_s = component.i_stream, component.o_stream
        # the cycle's payload, valid and ready in one set (the payload only when offered)
        full, pack_full = _bus(i_s.payload, i_s.valid, o_s.ready)
        hs, pack_hs = _bus(i_s.valid, o_s.ready)
        limit = 40 * (len(flat) + n_out + 8) + 100 * n * length
        for cycle in range(limit):
            if len(got) == n_out:
                cycles[0] = cycle
                return
            offer = i < len(flat) and offers[cycle % PERIOD]
            if offer:
                ctx.set(full, pack_full(flat[i], 1, readies[cycle % PERIOD]))
            else:
                ctx.set(hs, pack_hs(0, readies[cycle % PERIOD]))
            # sample the handshakes of this cycle before the clock edge
            took = offer and ctx.get(i_s.ready)
            if ctx.get(o_s.valid) and ctx.get(o_s.ready):
                got.append(ctx.get(o_s.payload))
            await ctx.tick()
            if took:
                i += 1
        raise RuntimeError(f"stream stalled: {len(got)} of {n_out} outputs")

    sim = Simulator(component)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    _run(sim, vcd)
    out = np.array(got, dtype=object).reshape(n, out_len)
    return (out, cycles[0]) if with_cycles else out


def measure_latency(component, inputs: dict[str, int] | list[int],
                    max_cycles: int = 100_000) -> int:
    """Cycles the RTL takes, measured, without stalls.

    Plain ports (``inputs`` = port -> one value): 0 when the output is valid without a clock
    edge (combinational), else the edges from ``in_valid`` high with the vector to
    ``out_valid`` high. Streams (``inputs`` = the elements of one vector): the edges from
    accepting the last element before the first output to that output's cycle.
    """
    found: list[int] = []
    stream = hasattr(component, "i_stream")

    async def plain(ctx):
        for k, v in inputs.items():
            ctx.set(getattr(component, k), int(v))
        if not hasattr(component, "in_valid"):
            found.append(0)
            return
        ctx.set(component.in_valid, 1)
        for cycle in range(1, max_cycles):
            await ctx.tick()
            ctx.set(component.in_valid, 0)
            if ctx.get(component.out_valid):
                found.append(cycle)
                return

    async def streamed(ctx):
        i_s, o_s = component.i_stream, component.o_stream
        i, last = 0, None
        ctx.set(o_s.ready, 1)
        for cycle in range(max_cycles):
            offer = i < len(inputs)
            if offer:
                ctx.set(i_s.payload, int(inputs[i]))
            ctx.set(i_s.valid, int(offer))
            took = offer and ctx.get(i_s.ready)
            if ctx.get(o_s.valid):
                found.append(cycle - last)
                return
            await ctx.tick()
            if took:
                i, last = i + 1, cycle

    sim = Simulator(component)
    if stream or hasattr(component, "in_valid"):
        sim.add_clock(1e-8)
    sim.add_testbench(streamed if stream else plain)
    sim.run()
    if not found:
        raise RuntimeError(f"no output within {max_cycles} cycles")
    return found[0]


def _run(sim: Simulator, vcd: str | None):
    if vcd:
        with sim.write_vcd(vcd):
            sim.run()
    else:
        sim.run()
