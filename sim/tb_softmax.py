"""cocotb bench: exported streaming softmax Verilog against ``hwsim.softmax.softmax_fixed``.

After the stream check (random gaps on ``i_stream.valid`` and stalls on ``o_stream.ready``),
a ``streaming`` design also runs a throughput check: ``THROUGHPUT_VECTORS`` more vectors
with the source always valid and the sink always ready. The first probability must come
``latency`` cycles after the first vector's last logit and then one probability every
cycle, so N vectors take ``N L + latency + L - 1`` cycles from the first logit accepted to
the last probability (``L`` cycles per vector); every probability is compared with the
model too. The counts go into the result file under ``"throughput"``.
"""

import logging

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge, ReadOnly

from hwsim.sim.bench import _read, _write_result, bench_config, check_stream_unit

THROUGHPUT_VECTORS = 32
log = logging.getLogger("hwsim.bench")


@cocotb.test()
async def softmax_matches_model(dut):
    result = await check_stream_unit(dut)
    _, params, _, seed = bench_config()
    if params.streaming:
        result["throughput"] = await _throughput(dut, params, seed)
        _write_result(result)
        t = result["throughput"]
        assert t["mismatches"] == 0, f"throughput run: {t['mismatches']} vectors differ"
        assert t["cycles_per_vector"] == params.length and t["latency"] == params.latency, t


async def _throughput(dut, params, seed) -> dict:
    """Stream ``THROUGHPUT_VECTORS`` vectors without stalls (the unit is empty: the stream
    check received every output) and count the cycles."""
    from hwsim.softmax import softmax_fixed, softmax_vectors
    x = softmax_vectors(params, THROUGHPUT_VECTORS, seed + 1)[-THROUGHPUT_VECTORS:]
    want = softmax_fixed(x, params)
    n, L = x.shape
    mask = (1 << params.in_fmt.width) - 1
    flat = [int(v) & mask for v in x.reshape(-1).tolist()]
    got, out_cycles = [], []
    i = cycle = 0
    first_in = None
    dut.o_stream__ready.value = 1
    while len(got) < n * L:
        offer = i < len(flat)
        if offer:
            dut.i_stream__payload.value = flat[i]
        dut.i_stream__valid.value = int(offer)
        await ReadOnly()
        if offer and _read(dut.i_stream__ready):
            first_in = cycle if first_in is None else first_in
            i += 1
        if _read(dut.o_stream__valid):
            got.append(_read(dut.o_stream__payload))
            out_cycles.append(cycle)
        await FallingEdge(dut.clk)
        cycle += 1
        if cycle > 10 * (n * L + params.latency):
            raise RuntimeError(f"throughput run stalled: {len(got)} of {n * L} outputs")
    dut.i_stream__valid.value = 0
    cycles = out_cycles[-1] - first_in + 1
    latency = out_cycles[0] - (first_in + L - 1)      # after the first vector's last logit
    per_vector = (out_cycles[-1] - out_cycles[0] + 1) / n
    mismatches = int((np.array(got).reshape(n, L) != want).any(axis=1).sum())
    log.info("%s throughput: %d vectors of %d in %d cycles (N L + latency + L - 1 = %d): "
             "%.2f cycles per vector, latency %d, %d mismatches", params.top_name, n, L,
             cycles, n * L + params.latency + L - 1, per_vector, latency, mismatches)
    return {"vectors": n, "cycles": cycles, "cycles_per_vector": per_vector,
            "latency": latency, "mismatches": mismatches}
