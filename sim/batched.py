"""Batched RTL verification: bulk vectors through a generated Verilog testbench.

The per-cycle cocotb bench (``sim/bench.py``) crosses the Python/simulator boundary for
every vector; that is what it is for (protocol checks, random stalls). For bulk
model == RTL checks this module instead

1. writes every input port's vectors to a hex memory file;
2. generates a plain Verilog testbench that ``$readmemh``s them, drives one vector per
   step (combinational: 1 ns apart; pipelined: one per clock with ``in_valid`` high,
   sampled on the falling edge while ``out_valid`` is high) and ``$fwrite``s the outputs;
3. runs it in Icarus (``iverilog`` + ``vvp``) or Verilator (``--binary --timing``);
4. compares every output with the model in numpy by exact integer equality.

Stream units (``i_stream`` / ``o_stream``, e.g. softmax) get a testbench that feeds the
flattened input elements with ``valid`` and takes outputs with ``ready``, and writes every
accepted output. Stalls (``in_valid`` of pipelined units; ``valid`` and ``ready`` of
streams) follow :func:`hwsim.sim.stimulus.handshake_pattern` for the seed, loaded from
``stall.hex``: the same cycles as the cocotb bench and the Amaranth simulator.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path


from hwsim.sim.compare import (
    compare_outputs, compare_stream, input_patterns, is_stream, output_ports,
)
from hwsim.sim.runner import BenchResult, simulator_env
from hwsim.sim.stimulus import pattern_hex, verilog_pattern_decls
from hwsim.units import UnitSpec

TB_TOP = "hwsim_batch_tb"


def _testbench(top: str, ports: dict, n: int, latency: int) -> str:
    ins = [k for k, v in ports.items() if v["dir"] == "in" and k != "in_valid"]
    outs = output_ports(ports)
    w = {k: v["width"] for k, v in ports.items()}
    lines = ["`timescale 1ns/1ps", f"module {TB_TOP};", f"  localparam integer N = {n};"]
    for k in ins:
        lines += [f"  reg [{w[k] - 1}:0] mem_{k} [0:N-1];", f"  reg [{w[k] - 1}:0] {k};"]
    for k in outs:
        lines.append(f"  wire [{w[k] - 1}:0] {k};")
    conns = [f".{k}({k})" for k in ins + outs]
    if latency:
        lines += ["  reg clk = 0, rst = 1, in_valid = 0;", "  wire out_valid;",
                  "  always #5 clk = ~clk;"]
        conns += [".clk(clk)", ".rst(rst)", ".in_valid(in_valid)", ".out_valid(out_valid)"]
        lines += verilog_pattern_decls()
    lines += ["  integer i, got, fd, cycles;", f"  {top} dut({', '.join(conns)});",
              "  initial begin"]
    lines += [f'    $readmemh("{k}.hex", mem_{k});' for k in ins]
    lines.append('    fd = $fopen("outputs.hex", "w");')
    fmt = " ".join("%h" for _ in outs)
    write = f'$fwrite(fd, "{fmt}\\n", {", ".join(outs)});'
    if not latency:
        lines += ["    for (i = 0; i < N; i = i + 1) begin",
                  *[f"      {k} = mem_{k}[i];" for k in ins],
                  "      #1;", f"      {write}", "    end"]
    else:
        lines += ["    @(negedge clk); @(negedge clk); rst = 0;", "    i = 0; got = 0; cycles = 0;",
                  "    while (got < N) begin",
                  "      if (i < N && stall[cycles % PERIOD][0]) begin",
                  *[f"        {k} = mem_{k}[i];" for k in ins],
                  "        in_valid = 1; i = i + 1;",
                  "      end else in_valid = 0;",
                  "      @(negedge clk);",
                  "      cycles = cycles + 1;",
                  f"      if (out_valid) begin {write} got = got + 1; end",
                  "    end"]
        lines.append('    $display("CYCLES %0d", cycles);')
    lines += ["    $fclose(fd);", "    $finish;", "  end", "endmodule", ""]
    return "\n".join(lines)


def _stream_testbench(top: str, ports: dict, n_in: int, n_out: int) -> str:
    wi, wo = ports["i_stream__payload"]["width"], ports["o_stream__payload"]["width"]
    limit = 40 * (n_in + n_out + 8)
    return "\n".join([
        "`timescale 1ns/1ps", f"module {TB_TOP};",
        f"  localparam integer NI = {n_in}, NO = {n_out}, LIMIT = {limit};",
        f"  reg [{wi - 1}:0] mem_in [0:NI-1];",
        f"  reg [{wi - 1}:0] ip = 0;", f"  wire [{wo - 1}:0] op;",
        "  reg clk = 0, rst = 0, iv = 0, ordy = 0;", "  wire irdy, ov;",
        *verilog_pattern_decls(),
        "  integer i, got, cycles, fd;",
        "  always #5 clk = ~clk;",
        f"  {top} dut(.clk(clk), .rst(rst), .i_stream__payload(ip), .i_stream__valid(iv), "
        ".i_stream__ready(irdy), .o_stream__payload(op), .o_stream__valid(ov), "
        ".o_stream__ready(ordy));",
        "  initial begin",
        '    $readmemh("i_stream__payload.hex", mem_in);',
        '    fd = $fopen("outputs.hex", "w");',
        "    #1 rst = 1;  // a 0 -> 1 edge: see hwsim.sim.bench.reset",
        "    @(negedge clk); @(negedge clk); rst = 0;",
        "    i = 0; got = 0; cycles = 0;",
        "    while (got < NO) begin",
        "      iv = (i < NI) && stall[cycles % PERIOD][0];",
        "      if (i < NI) ip = mem_in[i];",
        "      ordy = stall[cycles % PERIOD][1];",
        "      #1;  // let the combinational handshake settle before the rising edge",
        "      if (iv && irdy) i = i + 1;",
        '      if (ov && ordy) begin $fwrite(fd, "%h\\n", op); got = got + 1; end',
        "      @(negedge clk);",
        "      cycles = cycles + 1;",
        '      if (cycles > LIMIT) begin $display("STALLED after %0d outputs", got); $finish; end',
        "    end",
        '    $display("CYCLES %0d", cycles);',
        "    $fclose(fd);", "    $finish;", "  end", "endmodule", ""])


def _is_hex(word: str) -> bool:
    return all(c in "0123456789abcdefABCDEF" for c in word) and bool(word)


def run_batched(spec: UnitSpec, params, *, sim: str = "icarus", vectors: int | None = None,
                seed: int = 0, build_root: Path | str | None = None,
                inputs: dict | None = None) -> BenchResult:
    """Model == RTL over ``vectors`` (None: exhaustive) with a generated Verilog testbench;
    ``inputs`` (``{operand: raw values}``, the shape ``spec.vectors`` returns) replaces the
    generated vectors, e.g. tensors captured from a real workload."""
    from hwsim.hdl.export import ports as port_info
    from hwsim.hdl.export import to_verilog
    from hwsim.sim.runner import default_build_root

    env = os.environ | simulator_env(sim)
    component = spec.component(params)
    ports = port_info(component)
    build = (Path(build_root or default_build_root()) / f"{params.top_name}_{sim}_batched").resolve()
    build.mkdir(parents=True, exist_ok=True)
    vec = spec.vectors(params, vectors, seed) if inputs is None else inputs
    n = len(next(iter(vec.values())))
    (build / f"{params.top_name}.v").write_text(to_verilog(spec, params, component))
    want = spec.model(params, vec)
    if is_stream(ports):
        (in_name, vec_in), = vec.items()
        mask = (1 << ports["i_stream__payload"]["width"]) - 1
        (build / "i_stream__payload.hex").write_text(
            "\n".join(f"{int(x) & mask:x}" for x in vec_in.reshape(-1).tolist()) + "\n")
        n_out = next(iter(want.values())).size
        tb = _stream_testbench(params.top_name, ports, vec_in.size, n_out)
    else:
        for k, col in input_patterns(vec, ports).items():
            (build / f"{k}.hex").write_text("\n".join(f"{x:x}" for x in col) + "\n")
        tb = _testbench(params.top_name, ports, n, params.latency)
    (build / "tb.v").write_text(tb)
    (build / "stall.hex").write_text(pattern_hex(seed))
    sources = ["tb.v", f"{params.top_name}.v"]
    if sim == "icarus":
        build_cmd = ["iverilog", "-g2012", "-s", TB_TOP, "-o", "tb.vvp", *sources]
        run_cmd = ["vvp", "-n", "tb.vvp"]
    else:
        # --timing needs C++20 coroutines, which g++ 12 enables only when asked
        build_cmd = ["verilator", "--binary", "--timing", "-CFLAGS", "-std=c++20 -fcoroutines",
                     "-Wno-fatal", "-Wno-lint", "-Wno-style",
                     "--top-module", TB_TOP, "-j", "2", "-o", "tb_bin", *sources]
        run_cmd = [str(build / "obj_dir" / "tb_bin")]
    _run(build_cmd, build, env, "build")
    t0 = time.perf_counter()
    out = _run(run_cmd, build, env, "simulation")
    seconds = time.perf_counter() - t0
    if "STALLED" in out:
        raise RuntimeError(f"batched simulation of {params.top_name} stalled: {out.strip()[-500:]}")
    lines = [line for line in (build / "outputs.hex").read_text().split("\n") if line]
    if is_stream(ports):
        mismatches, examples = compare_stream([int(w, 16) for w in lines], vec_in,
                                              next(iter(want.values())), ports, in_name)
    else:
        outs = output_ports(ports)
        cols: dict[str, list[int]] = {k: [] for k in outs}
        for line in lines:
            for k, word in zip(outs, line.split()):  # X / Z digits: a mismatch, as text
                cols[k].append(int(word, 16) if _is_hex(word) else word)
        mismatches, examples = compare_outputs(cols, want, ports, vec)
    m = re.search(r"CYCLES (\d+)", out)
    return BenchResult(unit=spec.name, top=params.top_name, sim=f"{sim}-batched", vectors=n,
                       mismatches=mismatches, seconds=seconds, examples=examples,
                       cycles=int(m.group(1)) if m else None)


def _run(cmd, cwd, env, what):
    r = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"batched {what} failed ({' '.join(cmd[:2])} ...):\n"
                           f"{(r.stdout + r.stderr)[-2000:]}")
    return r.stdout
