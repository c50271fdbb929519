"""The sequential gate-netlist engine (hwsim/eval/sequential.py): a pipelined unit's mapped
netlist, run cycle by cycle over independent lanes, computes what the unit's model computes,
and its zero-delay toggle counts equal Icarus running the same netlist with the library's
cell models over one continuous stream; what it cannot simulate is refused in one line."""

import re
import subprocess

import numpy as np
import pytest

from hwsim.eval.sequential import SequentialNetlist, flip_flops
from hwsim.netlist import Netlist, map_to_cells, netlist_verilog
from test_netlist import CELLS_V, LIB, iverilog, osu018, parse_vcd, yosys  # noqa: F401

pytestmark = pytest.mark.synth


def pipelined(unit: str, **fields):
    from hwsim.hdl.export import to_verilog
    from hwsim.units import get_unit
    spec = get_unit(unit)
    params = spec.params_cls(**fields)
    return spec, params, to_verilog(spec, params)


def stream(params, n, seed):
    """Seeded operands, half uniform and half small (long quiet stretches on high bits),
    with the handshake held: in_valid 1, rst 0."""
    rng = np.random.default_rng(seed)
    w = params.width
    ab = {p: np.concatenate([rng.integers(0, 1 << w, n // 2),
                             rng.integers(0, 1 << (w // 2), n - n // 2)]) for p in ("a", "b")}
    return ab | {"in_valid": np.ones(n, np.int64), "rst": np.zeros(n, np.int64)}


@pytest.fixture(scope="module")
def mitchell_p2(yosys, osu018):  # noqa: F811
    spec, params, verilog = pipelined("mitchell-mul", width=8, stages=2)
    data = map_to_cells(verilog, params.top_name, LIB)
    return spec, params, data, SequentialNetlist.from_yosys(data, params.top_name, osu018)


def test_the_library_flip_flops_are_read(osu018):  # noqa: F811
    ffs = flip_flops(LIB)
    assert set(ffs) == {"DFFNEGX1", "DFFPOSX1", "DFFSR"}
    assert ffs["DFFPOSX1"].clocked_on == ("var", "CLK")
    assert ffs["DFFNEGX1"].clocked_on == ("not", ("var", "CLK"))
    assert ffs["DFFSR"].clear == ("not", ("var", "R"))


@pytest.mark.unit("mitchell-mul")
@pytest.mark.parametrize("lanes", [64, 640, None])
def test_pipelined_outputs_equal_the_model(mitchell_p2, lanes):
    """Output p of cycle t + latency is the model's product of cycle t's operands, for every
    operation, whatever the number of lanes (each lane a contiguous slice of the stream)."""
    spec, params, data, nl = mitchell_p2
    assert nl.flip_flops > 16 and "DFFPOSX1" in nl.cell_counts
    n, lat = 20_000, params.latency
    ins = stream(params, n, 5)
    out, tc = nl.cycles(ins, warmup=lat, lanes=lanes)
    want = spec.model(params, {"a": ins["a"], "b": ins["b"]})["p"]
    assert np.array_equal(out["p"][lat:].astype(np.int64), want[:n - lat])
    assert (out["out_valid"][lat:] == 1).all()
    assert tc.operations == n - lat


def test_lanes_do_not_change_the_counts(mitchell_p2):
    """With a warm-up of the pipeline's depth, every lane starts in the state one continuous
    run has there: the counts are the same for 64, 192 and 1,024 lanes."""
    spec, params, data, nl = mitchell_p2
    ins = stream(params, 12_345, 7)
    runs = [nl.cycles(ins, warmup=params.latency, lanes=k)[1] for k in (64, 192, 1024)]
    assert runs[0] == runs[1] == runs[2]
    assert sum(v.toggles for v in runs[0].nets.values()) > 12_345


def test_a_combinational_netlist_counts_as_the_combinational_engine(yosys, osu018):  # noqa: F811
    """warmup = 0 on a netlist without flip-flops is Netlist.toggles' definition."""
    from hwsim.mitchell import MitchellMulParams
    from hwsim.hdl.export import to_verilog
    from hwsim.units import get_unit
    params = MitchellMulParams(width=8)
    data = map_to_cells(to_verilog(get_unit("mitchell-mul"), params), params.top_name, LIB)
    data["modules"][params.top_name]["ports"]["clk"] = {"direction": "input", "bits": [999999]}
    seq = SequentialNetlist.from_yosys(data, params.top_name, osu018)
    del data["modules"][params.top_name]["ports"]["clk"]
    comb = Netlist.from_yosys(data, params.top_name, osu018)
    rng = np.random.default_rng(3)
    ab = {p: rng.integers(0, 256, 9_000).astype(np.uint64) for p in ("a", "b")}
    out, tc = seq.cycles(ab, lanes=128)
    assert np.array_equal(out["p"], comb.evaluate(ab)["p"])
    assert tc == comb.toggles(ab)


def icarus_cycles(tmp_path, data, top, inputs, n, names, clock="clk"):
    """Icarus runs the written netlist with the cell models, one continuous stream from
    power-up: cycle t's inputs at 10 t ns, the rising clock edge that ends it at 10 t + 5;
    per net of ``names``: the settled value of each cycle (sampled at 10 t + 4, -1 for x/z)."""
    (tmp_path / "netlist.v").write_text(netlist_verilog(data, LIB))
    ports = data["modules"][top]["ports"]
    widths = {p: len(v["bits"]) for p, v in ports.items()}
    lines = ["`timescale 1ns/1ps", "module tb;"]
    for p, w in widths.items():
        kind = "reg" if ports[p]["direction"] == "input" else "wire"
        lines.append(f"  {kind} [{w - 1}:0] {p};")
        if p in inputs:
            lines.append(f"  reg [{w - 1}:0] mem_{p} [0:{n - 1}];")
            np.savetxt(tmp_path / f"{p}.hex", inputs[p].astype(np.uint64), fmt="%x")
    lines.append(f"  {top} dut(" + ", ".join(f".{p}({p})" for p in widths) + ");")
    lines += ["  integer i;", "  initial begin", f"    {clock} = 0;"]
    lines += [f'    $readmemh("{p}.hex", mem_{p});' for p in inputs]
    lines += ['    $dumpfile("tb.vcd");', "    $dumpvars(1, tb.dut);",
              f"    for (i = 0; i < {n}; i = i + 1) begin"]
    lines += [f"      {p} = mem_{p}[i];" for p in inputs]
    lines += [f"      #5 {clock} = 1;", f"      #5 {clock} = 0;", "    end", "    $finish;",
              "  end", "endmodule", ""]
    (tmp_path / "tb.v").write_text("\n".join(lines))
    subprocess.run(["iverilog", "-o", "tb.vvp", "tb.v", "netlist.v", str(CELLS_V)],
                   cwd=tmp_path, check=True, capture_output=True, timeout=300)
    subprocess.run(["vvp", "-n", "tb.vvp"], cwd=tmp_path, check=True, capture_output=True,
                   timeout=600)
    changes, info = parse_vcd(tmp_path / "tb.vcd", "tb.dut")
    scale = {"1ps": 1000, "10ps": 100, "100ps": 10, "1ns": 1}[info["unit"].replace(" ", "")]
    out = {}
    samples = (np.arange(n) * 10 + 4) * scale
    for name, seq in changes.items():
        if name in names:
            times = np.array([t for t, _ in seq])
            vals = np.array([{"0": 0, "1": 1}.get(v, -1) for _, v in seq])
            idx = np.searchsorted(times, samples, side="right") - 1
            out[name] = np.where(idx >= 0, vals[np.maximum(idx, 0)], -1)
    return out


@pytest.mark.sim
@pytest.mark.slow  # Icarus on 10^4 cycles and the VCD read in Python
def test_toggles_equal_icarus_on_a_pipelined_unit(mitchell_p2, iverilog, tmp_path):  # noqa: F811
    """Every net of the pipelined Mitchell-8 (2 register stages, 39 flip-flops) toggles and
    is 1 as often in the lane engine (1,024 lanes of ~10 cycles each) as in Icarus running
    the same osu018 netlist continuously over 10^4 cycles from power-up, counted once the
    pipeline is full (transitions into cycles 3.., ones in cycles 2..); flip-flop outputs
    included; the product is the model's."""
    spec, params, data, nl = mitchell_p2
    n, lat = 10_000, params.latency
    ins = stream(params, n, 29)
    out, tc = nl.cycles(ins, warmup=lat, lanes=1024)
    # a VCD drops the backslash of an escaped Verilog name (yosys' \\$133 is $133 there)
    nets = {name.removeprefix("\\"): v for name, v in tc.nets.items()}
    icarus = icarus_cycles(tmp_path, data, params.top_name, ins, n, set(nets))
    assert set(nets) <= set(icarus), sorted(set(nets) - set(icarus))[:5]
    theirs = {}
    for name, v in icarus.items():
        if name in nets:
            v = v[lat:]
            assert (v >= 0).all(), f"{name} is x or z in Icarus once the pipeline is full"
            theirs[name] = (int((v[1:] != v[:-1]).sum()), int(v.sum()))
    ours = {name: (v.toggles, v.ones) for name, v in nets.items()}
    assert theirs == ours
    ff_nets = [k for k, v in nets.items() if v.driver and v.driver[0] in
               {i for i, c in data["modules"][params.top_name]["cells"].items()
                if c["type"].startswith("DFF")}]
    assert len(ff_nets) == nl.flip_flops and sum(ours[k][0] for k in ff_nets) > n
    p = icarus["p[0]"]  # the port bits sampled in Icarus are the model's product bits
    want = spec.model(params, {"a": ins["a"], "b": ins["b"]})["p"]
    assert np.array_equal(p[lat:], (want[:n - lat] & 1))


BAD = {
    "negedge": ("module negclk(input clk, input d, output reg q); always @(negedge clk) q <= d; "
                "endmodule", r"flip-flop '_\d+_' \(DFFNEGX1\) is clocked on the falling edge; "
                             r"only flip-flops on the rising edge of clk are simulated"),
    "gated": ("module gated(input clk, input en, input d, output reg q); wire g = clk & en; "
              "always @(posedge g) q <= d; endmodule",
              r"the clock clk drives cell '_\d+_' \(AND2X1\), not a flip-flop \(a gated clock "
              r"or clock logic is not simulated\)"),
    "async": ("module asyncff(input clk, input r, input d, output reg q); always @(posedge clk or "
              "posedge r) if (r) q <= 0; else q <= d; endmodule",
              r"flip-flop '_\d+_' \(DFFSR\) has its asynchronous clear driven by logic; only "
              r"flip-flops with clear tied inactive are simulated"),
    "noclock": ("module noclock(input c, input d, output reg q); always @(posedge c) q <= d; "
                "endmodule", r"clock 'clk' is not a one-bit input port"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_what_is_not_simulated_is_refused_in_one_line(yosys, osu018, case):  # noqa: F811
    src, rule = BAD[case]
    top = re.match(r"module (\w+)", src).group(1)
    with pytest.raises(ValueError, match=rf"^SequentialNetlist\.from_yosys: module '{top}': {rule}$"):
        SequentialNetlist.from_yosys(map_to_cells(src, top, LIB), top, osu018)


def test_bad_streams_are_one_line(mitchell_p2):
    spec, params, data, nl = mitchell_p2
    ins = stream(params, 100, 1)
    own = r"^SequentialNetlist\(mitchell_mul_u8_p2\)\.cycles: "
    with pytest.raises(ValueError, match=own + r"lanes must be a positive multiple of 64, not 100$"):
        nl.cycles(ins, lanes=100)
    with pytest.raises(ValueError, match=own + r"the stream has 100 cycles; it needs more than "
                                               r"warmup = 100$"):
        nl.cycles(ins, warmup=100)
    with pytest.raises(ValueError, match=own + r"a has values outside \[0, 256\) for width 8 "
                                               r"\(first: 300\)$"):
        nl.cycles(ins | {"a": np.full(100, 300)})
    with pytest.raises(ValueError, match=own + r"inputs must be exactly the ports b, in_valid, "
                                               r"rst, a \(the clock clk is not one\); not clk$"):
        nl.cycles(ins | {"clk": np.zeros(100, int)})


@pytest.mark.unit("mitchell-mul")
def test_energy_of_a_pipelined_unit_counts_its_flip_flops(yosys, osu018, tmp_path):  # noqa: F811
    """cell_cost prices a pipelined unit's energy on a stream: its cells' power (the
    report's per-instance rows of the unit, flip-flops included): more than the registers
    alone, which cost more than a fifth of the combinational unit. A netlist whose outputs
    are not the model's is refused."""
    from hwsim.eval import stdcell
    from hwsim.eval.sequential import pipelined_toggles
    from hwsim.eval.streams import operand_stream
    try:
        stdcell.find_sta()
    except Exception as e:  # noqa: BLE001
        from rtl import skip_unless_ci
        skip_unless_ci(str(e))
    spec = get_unit_("mitchell-mul")
    comb, piped = (spec.params_cls(width=8, stages=s) for s in (0, 2))
    s = operand_stream(spec, comb, "uniform", 4_000, 1)
    r0, r2 = (stdcell.cell_cost(spec, p, target="osu018", stream=s, work_dir=tmp_path)
              for p in (comb, piped))
    assert r2.energy["operations"] == 4_000 - piped.latency
    power = (tmp_path / piped.top_name / "power.txt").read_text()
    rows = re.findall(r"^\s*(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s+dut/(\S+)\s*$", power, flags=re.M)
    data = __import__("json").loads((tmp_path / piped.top_name / "mapped.json").read_text())
    ffs = {i for i, c in data["modules"][piped.top_name]["cells"].items()
           if c["type"].startswith("DFF")}
    assert len(rows) == len(data["modules"][piped.top_name]["cells"]) and len(ffs) == 39
    ff_fj = sum(float(t) for *_, t, inst in rows if inst in ffs) * stdcell.POWER_CLOCK_NS * 1e6
    assert r2.energy_fj_per_op == pytest.approx(
        sum(float(r[3]) for r in rows) * stdcell.POWER_CLOCK_NS * 1e6, rel=1e-9)
    assert r2.energy_fj_per_op > ff_fj > 0.2 * r0.energy_fj_per_op
    with pytest.raises(ValueError, match=r"^pipelined_toggles: mitchell_mul_u8_p2: output p of "
                                         r"operation 0 is \d+ after 2 cycles, the model's \d+$"):
        pipelined_toggles(data, piped.top_name, osu018, s["operands"], 2,
                          lambda v: {"p": spec.model(piped, v)["p"] + 1})


def get_unit_(name):
    from hwsim.units import get_unit
    return get_unit(name)


@pytest.mark.slow  # the softmax's mapping to cells
@pytest.mark.unit("softmax")
def test_a_streamed_unit_runs_closed_loop_and_equals_the_model(yosys, osu018):  # noqa: F811
    """Softmax rows through i_stream with backpressure, 64 lanes of 4 rows each: every lane's
    o_stream payloads are the model's probabilities of its rows, in order; the rows counted
    are those after each lane's first; the cycles per row are the unit's throughput."""
    from hwsim.eval.sequential import streamed_toggles
    # the Mitchell normaliser: mapped in a fraction of the exact divider's time (53 s of CPU)
    from hwsim.softmax import Normalizer
    spec, params, verilog = pipelined("softmax", length=4, normalizer=Normalizer.MITCHELL_DIV)
    data = map_to_cells(verilog, params.top_name, LIB)
    lo, hi = params.in_range
    rows = np.random.default_rng(2).integers(lo, hi, (64 * 4, params.length))
    counts, cycles, taken = streamed_toggles(
        data, params.top_name, osu018, rows, lambda r: spec.model(params, {"x": r})["p"])
    assert taken == 64 * 3 and cycles >= taken * params.length
    assert counts.operations == cycles + 1 and sum(v.toggles for v in counts.nets.values()) > 0
    with pytest.raises(ValueError, match=r"^streamed_toggles: \w+: lane 0's \d+ outputs are not "
                                         r"the model's outputs of its rows$"):
        streamed_toggles(data, params.top_name, osu018, rows,
                         lambda r: spec.model(params, {"x": r})["p"] ^ 1)


@pytest.mark.unit("mitchell-mul")
def test_synth_stream_prices_a_pipelined_unit_and_says_how(yosys, osu018, capsys):  # noqa: F811
    """hwsim synth --stages 2 --stream: the unit and its registered exact baseline priced,
    the energy line naming the operations counted once the pipeline is full and the power
    read per instance (no longer a refusal)."""
    from hwsim.cli import main
    from hwsim.eval import stdcell
    try:
        stdcell.find_sta()
    except Exception as e:  # noqa: BLE001
        from rtl import skip_unless_ci
        skip_unless_ci(str(e))
    rc = main(["synth", "mitchell-mul", "--width", "8", "--stages", "2", "--target", "osu018",
               "--stream", "uniform", "--ops", "600", "--db", "none"])
    out = capsys.readouterr().out
    assert rc == 0
    assert ("energy: zero-delay toggles (no glitches); uniform stream, 598 operations counted "
            "once the pipeline is full, seed 1, one operation per clock at 10 ns; the unit's "
            "cells in OpenSTA's report_power -instances (its flip-flops included) x the "
            "period") in out
    assert re.search(r"^\| mitchell_mul_u8_p2 \| \d+ \| \d+ \| [\d.]+ \| [\d.]+ \| [\d.]+ \|$",
                     out, flags=re.M)
