"""Exported float-mul / float-div Verilog in Icarus Verilog and Verilator against the models.

Vectors, per simulator, for every method (mitchell, lmul, lmul-paper, exact) and the divider:

* e4m3 and e5m2: exhaustive, all 2**16 pairs;
* fp16: a structured subset of 2**16 pairs, every (sign, exponent field, mantissa in
  {0, 1, half, all ones}) against every other, so each exponent sum (flush and overflow
  boundaries), each mantissa carry / borrow and each special class meet;
* bf16 and fp32: every pair of special-class patterns (zero, subnormals, smallest normals,
  1.0, threshold exponents, largest finite, inf, NaNs, both signs) plus 4,000 seeded random
  pairs.

So that both simulators stay within seconds, all these combinational designs go into one
generated Verilog testbench per simulator (one build: Verilator's C++ compile dominates),
each design reading its vectors from memory files and writing its outputs; every output is
compared with the model by exact integer equality. The cocotb benches (sim/tb_float_*.py,
the ones ``hwsim verify`` runs) are exercised on pipelined configurations with idle cycles.
The >= 10**6-vector random runs for fp32 / bf16 are scripts/float_mul_rtl.py.
"""

import functools
import os
import subprocess
import time

import numpy as np
import pytest

from hwsim.float_mul import (
    FloatDivParams, FloatMethod, FloatMulParams, FloatType, float_corners, float_pairs,
)
from hwsim.hdl.export import to_verilog
from hwsim.sim.runner import simulator_env
from hwsim.units import get_unit
from rtl import require_sim, run_and_check, sim_params

MUL, DIV = get_unit("float-mul"), get_unit("float-div")
WIDE_RANDOM = 4_000


def fp16_structured() -> dict[str, np.ndarray]:
    fmt = FloatType.FP16
    m = fmt.man_bits
    vals = np.array([(s << 15) | (e << m) | f for s in (0, 1) for e in range(32)
                     for f in (0, 1, 1 << (m - 1), (1 << m) - 1)], dtype=np.int64)
    a, b = (x.ravel() for x in np.meshgrid(vals, vals, indexing="ij"))
    return {"a": a, "b": b}


def special_classes(fmt: FloatType) -> np.ndarray:
    """The corner patterns whose mantissa field is 0, 1 or all ones, and the canonical NaN:
    every special class (zero, subnormal, smallest normal, 1.0, the threshold exponents,
    largest finite, inf, NaNs) in both signs."""
    c = float_corners(fmt)
    f = c & ((1 << fmt.man_bits) - 1)
    mag = c & (fmt.sign_bit - 1)
    return c[(f == 0) | (f == 1) | (f == (1 << fmt.man_bits) - 1) | (mag == fmt.nan)]


def vectors_for(fmt: FloatType) -> dict[str, np.ndarray]:
    if fmt.bits == 8:
        a, b = float_pairs(fmt, None)
        return {"a": a, "b": b}
    if fmt is FloatType.FP16:
        return fp16_structured()
    c = special_classes(fmt)
    ca, cb = (x.ravel() for x in np.meshgrid(c, c, indexing="ij"))
    rng = np.random.default_rng(fmt.bits)
    r = rng.integers(0, 1 << fmt.bits, (2, WIDE_RANDOM), dtype=np.int64)
    return {"a": np.concatenate([ca, r[0]]), "b": np.concatenate([cb, r[1]])}


DESIGNS = [(MUL, FloatMulParams(fmt=f, method=m)) for f in FloatType for m in FloatMethod]
DESIGNS += [(DIV, FloatDivParams(fmt=f)) for f in FloatType]


@functools.cache
def _verilog(unit: str, params) -> str:
    """Exported once for both simulators (Amaranth's Verilog back end takes ~0.25 s a design)."""
    return to_verilog(get_unit(unit), params)


def _testbench(designs) -> str:
    lines = ["`timescale 1ns/1ps", "module float_tb;", "  integer i, fd;"]
    body = []
    for k, (spec, params, vec) in enumerate(designs):
        w, n = params.fmt.bits, len(vec["a"])
        out = "p" if spec is MUL else "q"
        lines += [f"  reg [{w - 1}:0] mem_a{k} [0:{n - 1}];", f"  reg [{w - 1}:0] mem_b{k} [0:{n - 1}];",
                  f"  reg [{w - 1}:0] a{k}, b{k};", f"  wire [{w - 1}:0] r{k};",
                  f"  {params.top_name} dut{k}(.a(a{k}), .b(b{k}), .{out}(r{k}));"]
        body += [f'    $readmemh("a{k}.hex", mem_a{k});', f'    $readmemh("b{k}.hex", mem_b{k});',
                 f'    fd = $fopen("r{k}.hex", "w");',
                 f"    for (i = 0; i < {n}; i = i + 1) begin",
                 f"      a{k} = mem_a{k}[i]; b{k} = mem_b{k}[i]; #1;",
                 f'      $fwrite(fd, "%h\\n", r{k});', "    end", "    $fclose(fd);"]
    return "\n".join(lines + ["  initial begin"] + body + ["    $finish;", "  end", "endmodule", ""])


def run_all(sim: str, build) -> list[tuple[str, int, int, str]]:
    """(top, vectors, mismatches, first mismatch) for every design in one simulation."""
    env = os.environ | simulator_env(sim)
    designs = []
    for spec, params in DESIGNS:
        vec = vectors_for(params.fmt)
        designs.append((spec, params, vec))
        (build / f"{params.top_name}.v").write_text(_verilog(spec.name, params))
        for port in ("a", "b"):
            (build / f"{port}{len(designs) - 1}.hex").write_text(
                "\n".join(f"{x:x}" for x in vec[port].tolist()) + "\n")
    (build / "tb.v").write_text(_testbench(designs))
    sources = ["tb.v"] + [f"{p.top_name}.v" for _, p in DESIGNS]
    if sim == "icarus":
        cmds = [["iverilog", "-g2012", "-s", "float_tb", "-o", "tb.vvp", *sources],
                ["vvp", "-n", "tb.vvp"]]
    else:
        cmds = [["verilator", "--binary", "--timing", "-CFLAGS", "-std=c++20 -fcoroutines",
                 "-Wno-fatal", "-Wno-lint", "-Wno-style", "--top-module", "float_tb",
                 "-j", "2", "-o", "tb_bin", *sources], [str(build / "obj_dir" / "tb_bin")]]
    for cmd in cmds:
        r = subprocess.run(cmd, cwd=build, env=env, capture_output=True, text=True)
        assert r.returncode == 0, (r.stdout + r.stderr)[-2000:]
    results = []
    for k, (spec, params, vec) in enumerate(designs):
        got = np.array([int(x, 16) for x in (build / f"r{k}.hex").read_text().split()],
                       dtype=np.int64)
        (want,) = spec.model(params, vec).values()
        bad = np.flatnonzero(got != want) if got.size == want.size else np.arange(want.size)
        first = (f"a={vec['a'][bad[0]]:#x} b={vec['b'][bad[0]]:#x} rtl "
                 f"{got[bad[0]] if bad[0] < got.size else None} model {want[bad[0]]:#x}"
                 if bad.size else "")
        results.append((params.top_name, int(want.size), int(bad.size), first))
    return results


@pytest.mark.unit("float-mul", "float-div")
@pytest.mark.parametrize("sim", sim_params())
def test_every_float_design(sim, tmp_path, record_property):
    t0 = time.perf_counter()
    results = run_all(sim, tmp_path)
    record_property("float_rtl", [(sim, *r[:3], spec.name) for (spec, _), r in zip(DESIGNS, results)])
    print(f"{sim}: {sum(r[1] for r in results)} vectors over {len(results)} designs in "
          f"{time.perf_counter() - t0:.1f} s")
    bad = [r for r in results if r[2]]
    assert not bad, f"{len(bad)} designs differ; first: {bad[0]}"
    sizes = {top: n for top, n, _, _ in results}
    assert sizes["float_mul_e4m3_exact"] == sizes["float_div_e5m2"] == 1 << 16
    assert sizes["float_mul_fp16_lmul"] == 256 ** 2


COCOTB = [(MUL, FloatMulParams(fmt=FloatType.E5M2, method=FloatMethod.LMUL, stages=2), 500),
          (DIV, FloatDivParams(fmt=FloatType.E5M2, stages=1), 0)]


@pytest.mark.sim
@pytest.mark.unit(sim="icarus")
@pytest.mark.parametrize("spec,params,count", COCOTB, ids=[c[1].top_name for c in COCOTB])
def test_cocotb_bench_pipelined(spec, params, count, tmp_path, record_bench):
    """The cocotb bench (``hwsim verify``) on Icarus, pipelined, with idle input cycles."""
    require_sim("icarus")
    r = run_and_check(spec, params, "icarus", count, 1, tmp_path, record_bench)
    assert r.vectors == float_corners(params.fmt).size ** 2 + count
