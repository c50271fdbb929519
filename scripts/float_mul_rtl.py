"""Bulk random RTL verification of the float units: >= 10**6 vectors per configuration.

For fp32 and bf16, every method of ``float-mul`` (mitchell, lmul, exact) and ``float-div``:
every pair of corner patterns (``hwsim.float_mul.float_corners``) plus ``--count`` seeded
uniform random pairs (default 1,000,000), through the exported Verilog in Icarus and
Verilator with the batched testbench (``hwsim.sim.batched.run_batched``), every output
compared with the model by exact integer equality. Not part of the timed test suite
(tests/test_float_mul_rtl.py runs the exhaustive 8-bit and structured fp16 sets).

    .venv/bin/python scripts/float_mul_rtl.py [--count N] [--sim icarus verilator]

Prints one line per configuration and simulator; exit 1 on any mismatch.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time

from hwsim.float_mul import FloatDivParams, FloatMethod, FloatMulParams, FloatType
from hwsim.sim.batched import run_batched
from hwsim.units import get_unit


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--count", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--sim", nargs="+", default=["icarus", "verilator"])
    ap.add_argument("--formats", nargs="+", default=["fp32", "bf16"])
    args = ap.parse_args(argv)
    configs = []
    for f in args.formats:
        fmt = FloatType(f)
        configs += [("float-mul", FloatMulParams(fmt=fmt, method=m)) for m in FloatMethod]
        configs.append(("float-div", FloatDivParams(fmt=fmt)))
    failed = total = 0
    with tempfile.TemporaryDirectory(prefix="hwsim-float-rtl-") as tmp:
        for sim in args.sim:
            for unit, params in configs:
                t0 = time.perf_counter()
                r = run_batched(get_unit(unit), params, sim=sim, vectors=args.count,
                                seed=args.seed, build_root=tmp)
                total += r.vectors
                failed += r.mismatches > 0
                print(f"{params.top_name:28s} {sim:10s} {r.vectors:9d} vectors "
                      f"{r.mismatches:3d} mismatches  {time.perf_counter() - t0:6.1f} s"
                      + (f"  first: {r.examples[0]}" if r.mismatches else ""), flush=True)
    print(f"{total} vectors, {failed} configurations with mismatches")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
