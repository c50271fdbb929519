"""Generic cocotb driver for units with plain input/output ports (no streams).

A unit's ``tb_<unit>.py`` calls :func:`check_unit` from its ``@cocotb.test()``. The bench

* reads the unit name, params, vector count and seed from ``HWSIM_*`` environment variables
  (set by :func:`hwsim.sim.runner.run_bench`);
* draws the vectors with the unit's own generator (exhaustive, or corners + seeded random);
* drives one vector per step: combinational units settle for 1 ns; pipelined units get one
  vector per clock with random idle cycles on ``in_valid`` and are sampled when
  ``out_valid`` is high (on the falling edge, when the registers are stable);
* compares every output with the bit-exact model by integer equality and writes
  ``{"vectors", "mismatches", "examples"}`` to ``HWSIM_RESULT``.
"""

from __future__ import annotations

import json
import logging
import os
import time

import numpy as np

from cocotb.clock import Clock
from cocotb.triggers import FallingEdge, Timer

from hwsim.hdl.export import ports as port_info
from hwsim.sim.compare import compare_outputs, input_patterns, output_ports
from hwsim.units import get_unit

log = logging.getLogger("hwsim.bench")


def bench_config():
    spec = get_unit(os.environ["HWSIM_UNIT"])
    params = spec.params_cls.from_dict(json.loads(os.environ["HWSIM_PARAMS"]))
    vectors = os.environ.get("HWSIM_VECTORS", "exhaustive")
    count = None if vectors == "exhaustive" else int(vectors)
    seed = int(os.environ.get("HWSIM_SEED", "0"))
    return spec, params, count, seed


def _read(handle) -> int:
    """Unsigned value of a port: ``LogicArray`` for vectors, ``Logic`` for 1-bit ports."""
    v = handle.value
    return v.to_unsigned() if hasattr(v, "to_unsigned") else int(v)


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

    if params.latency == 0:
        for i in range(n):
            for h, col in in_handles:
                h.value = col[i]
            await Timer(1, unit="ns")
            for j, h in enumerate(out_handles):
                got[j].append(_read(h))
    else:
        rng = np.random.default_rng(seed + 1)
        stalls = (rng.random(2 * n + 16) < 0.15).tolist()
        Clock(dut.clk, 10, unit="ns").start()
        dut.rst.value = 1
        dut.in_valid.value = 0
        await FallingEdge(dut.clk)
        await FallingEdge(dut.clk)
        dut.rst.value = 0
        i = cycle = 0
        while len(got[0]) < n:
            if i < n and not stalls[cycle % len(stalls)]:
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
            if cycle > 2 * n + 16 + params.latency * 4:
                raise RuntimeError(f"out_valid seen {len(got[0])} times in {cycle} cycles, "
                                   f"expected {n}")
    seconds = time.perf_counter() - t0

    mismatches, examples = compare_outputs(dict(zip(outs, got)), spec.model(params, vec),
                                           ports, vec)
    for ex in examples:
        log.error("mismatch %r", ex)
    result = {"unit": spec.name, "top": params.top_name, "vectors": n, "mismatches": mismatches,
              "examples": examples, "seconds": seconds, "seed": seed}
    log.info("%s: %d vectors, %d mismatches, %.0f vectors/s", params.top_name, n, mismatches,
             n / max(seconds, 1e-9))
    path = os.environ.get("HWSIM_RESULT")
    if path:
        with open(path + ".tmp", "w") as fh:
            json.dump(result, fh)
        os.replace(path + ".tmp", path)
    assert mismatches == 0, f"{mismatches} of {n} vectors differ from the model; first: {examples[0]}"
    return result
