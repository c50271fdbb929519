"""Run a unit's Amaranth component in Amaranth's own simulator (no external tools).

This is the fast, always-available RTL check: it drives the component with vectors and
returns its outputs as int64 arrays, to be compared with the model by exact equality.
"""

from __future__ import annotations

import numpy as np
from amaranth.sim import Simulator


def simulate(component, inputs: dict[str, np.ndarray], *, stall_seed: int | None = None,
             vcd: str | None = None) -> dict[str, np.ndarray]:
    """Drive ``inputs`` (port -> array) through ``component``; return output port -> array.

    Combinational components (``latency == 0``) are evaluated vector by vector. Pipelined
    ones get one vector per clock with ``in_valid`` high; with ``stall_seed`` set, random
    idle cycles (``in_valid`` low) are inserted so the valid chain is exercised too.
    Outputs are collected on the cycles where ``out_valid`` is high.
    """
    latency = component.latency
    names_in = list(inputs)
    outs = [n for n, mem in component.signature.members.items()
            if mem.flow.name == "Out" and n != "out_valid"]
    n = len(next(iter(inputs.values())))
    cols = {k: np.asarray(v).tolist() for k, v in inputs.items()}
    results: dict[str, list[int]] = {k: [] for k in outs}
    rng = np.random.default_rng(stall_seed) if stall_seed is not None else None

    async def combinational(ctx):
        for i in range(n):
            for k in names_in:
                ctx.set(getattr(component, k), cols[k][i])
            for k in outs:
                results[k].append(ctx.get(getattr(component, k)))

    async def pipelined(ctx):
        i = 0
        while len(results[outs[0]]) < n:
            feed = i < n and (rng is None or rng.random() < 0.8)
            if feed:
                for k in names_in:
                    ctx.set(getattr(component, k), cols[k][i])
                i += 1
            ctx.set(component.in_valid, int(feed))
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
                    vcd: str | None = None, out_len: int | None = None) -> np.ndarray:
    """Stream each row of ``vectors`` (shape ``(n, L)``) into ``component.i_stream`` and
    collect ``out_len`` (default L) outputs per row from ``o_stream``; returns an
    ``(n, out_len)`` object array.

    With ``stall_seed`` set, ``i_stream.valid`` and ``o_stream.ready`` drop at random
    (independently, about a quarter of the cycles each), so backpressure is exercised.
    """
    vectors = np.asarray(vectors)
    n, length = vectors.shape
    out_len = out_len or length
    flat = vectors.reshape(-1).tolist()
    n_out = n * out_len
    got: list[int] = []
    rng = np.random.default_rng(stall_seed) if stall_seed is not None else None

    def coin() -> bool:
        return rng is None or rng.random() >= 0.25

    async def bench(ctx):
        i = 0
        i_s, o_s = component.i_stream, component.o_stream
        limit = 40 * (len(flat) + n_out + 8) + 100 * n * length
        for _ in range(limit):
            if len(got) == n_out:
                return
            offer = i < len(flat) and coin()
            if offer:
                ctx.set(i_s.payload, flat[i])
            ctx.set(i_s.valid, int(offer))
            ctx.set(o_s.ready, int(coin()))
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
    return np.array(got, dtype=object).reshape(n, out_len)


def _run(sim: Simulator, vcd: str | None):
    if vcd:
        with sim.write_vcd(vcd):
            sim.run()
    else:
        sim.run()
