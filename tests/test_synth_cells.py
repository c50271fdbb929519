"""hwsim synth --target osu018 / cmos: standard-cell area, delay, leakage and energy per
operation (yosys + OpenSTA + hwsim.netlist), the cost-target registry, the operand streams."""

import json
import re
import shutil
import subprocess

import numpy as np
import pytest

from hwsim.cli import main
from hwsim.eval import stdcell, streams, synth
from hwsim.eval.resultdb import ResultDB
from hwsim.eval.targets import (
    TARGETS,
    CostTarget,
    get_target,
    register_target,
    unregister_target,
)
from hwsim.units import get_unit

EXACT = get_unit("exact-mul")
MITCHELL = get_unit("mitchell-mul")
OSU018 = get_target("osu018")



def _stat_liberty(work, top, lib) -> tuple[float, dict]:
    """What yosys' own ``stat -liberty`` prints for the kept netlist ``mapped.v``."""
    script = (f"read_liberty -lib {lib}; read_verilog mapped.v; hierarchy -top {top}; "
              f"tee -q -o check_stat.txt stat -liberty {lib}")
    r = subprocess.run([*synth.find_tool("yosys"), "-q", "-p", script],
                       cwd=work, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    text = (work / "check_stat.txt").read_text()
    area = float(re.findall(r"Chip area for (?:top )?module '[^']*': ([0-9.]+)", text)[-1])
    cells = {c: int(n) for c, n in re.findall(r"^\s+(\w+X\d)\s+(\d+)\s*$", text, flags=re.M)}
    return area, cells


@pytest.mark.synth
def test_area_is_yosys_stat_liberty_on_the_same_netlist_and_delay_leakage_positive(cell_tools,
                                                                                   tmp_path):
    params = MITCHELL.params(width=8)
    r = stdcell.cell_cost(MITCHELL, params, target="osu018", work_dir=tmp_path)
    area, cells = _stat_liberty(tmp_path / r.top, r.top, OSU018.library_path())
    assert r.area_um2 == area and r.cells == cells and r.cell_count == sum(cells.values())
    assert r.delay_ns > 0 and r.leakage_nw > 0
    assert r.library_sha256 == stdcell.file_sha256(OSU018.library_path())
    # the delay is the register-to-register period OpenSTA reports: arrival + setup
    report = (tmp_path / r.top / "timing.txt").read_text()
    arrival = float(re.search(r"^\s*([0-9.]+)\s+data arrival time", report, re.M)[1])
    assert arrival < r.delay_ns < arrival + 1.0
    # leakage: the sum of the library's cell_leakage_power over the cells (nW)
    text = OSU018.library_path().read_text()
    leak = {m[1]: float(m[2]) for m in re.finditer(
        r"cell\s*\((\w+)\)\s*\{[^{]*?cell_leakage_power\s*:\s*([0-9.eE+-]+)", text)}
    assert r.leakage_nw == pytest.approx(sum(leak[c] * n for c, n in r.cells.items()), rel=1e-5)


@pytest.mark.synth
@pytest.mark.slow  # 12-18 s on two busy cores
def test_exact_16_bit_multiplier_is_larger_than_the_8_bit_one(cell_tools):
    r8 = stdcell.cell_cost(EXACT, EXACT.params(width=8), target="osu018")
    r16 = stdcell.cell_cost(EXACT, EXACT.params(width=16), target="osu018")
    assert r16.area_um2 > 3 * r8.area_um2   # an array multiplier grows ~ quadratically
    assert r16.delay_ns > r8.delay_ns and r16.leakage_nw > r8.leakage_nw


@pytest.mark.synth
@pytest.mark.slow  # 12-18 s on two busy cores
def test_energy_uniform_against_small_operands_and_the_printed_sta_command(cell_tools, tmp_path):
    """An unsigned exact multiplier on small (log-uniform) operands switches fewer nets than
    on uniform ones; the kept power.tcl reproduces the number with OpenSTA."""
    params = EXACT.params(width=8)
    e = {}
    for kind in ("uniform", "small"):
        s = streams.operand_stream(EXACT, params, kind, 4000, seed=3)
        r = stdcell.cell_cost(EXACT, params, target="osu018", stream=s,
                              work_dir=tmp_path / kind)
        e[kind] = r
        assert r.energy["toggles"] == stdcell.ZERO_DELAY and r.energy["operations"] == 4000
        out = subprocess.run(["sta", "-no_splash", "-exit", "power.tcl"], cwd=r.work,
                             capture_output=True, text=True, timeout=300).stdout
        comb = re.search(r"^Combinational\s+\S+\s+\S+\s+\S+\s+(\S+)", out, re.M)
        assert float(comb[1]) * stdcell.POWER_CLOCK_NS * 1e6 == r.energy_fj_per_op
    assert 0 < e["small"].energy_fj_per_op < 0.8 * e["uniform"].energy_fj_per_op
    # leakage is the same circuit's either way; switching scales with the activity
    assert e["small"].energy["leakage_w"] == e["uniform"].energy["leakage_w"]
    assert e["small"].energy["switching_w"] < e["uniform"].energy["switching_w"]


@pytest.mark.synth
def test_power_uses_the_given_activities(cell_tools, tmp_path):
    """Twice every activity in the kept script: twice the internal and switching power
    (OpenSTA keeps the activities given, instead of its own propagated estimate)."""
    params = EXACT.params(width=4)
    s = streams.operand_stream(EXACT, params, "uniform", 2000, seed=1)
    r = stdcell.cell_cost(EXACT, params, target="osu018", stream=s, work_dir=tmp_path)
    script = (tmp_path / r.top / "power.tcl").read_text()

    def doubled(m):
        return f"{m[1]} {2 * float(m[2]):.6g} {m[3]}"
    script = re.sub(r"(sta::set_power_pin_activity \[get_pins \{[^}]*\}\]) (\S+) (\S+)",
                    doubled, script)
    script = re.sub(r"-activity (\S+)", lambda m: f"-activity {2 * float(m[1]):.6g}", script)
    (tmp_path / r.top / "double.tcl").write_text(script)
    out = subprocess.run(["sta", "-no_splash", "-exit", "double.tcl"], cwd=tmp_path / r.top,
                         capture_output=True, text=True, timeout=300).stdout
    internal, switching = map(float, re.search(r"^Combinational\s+(\S+)\s+(\S+)", out, re.M)
                              .groups())
    assert internal == pytest.approx(2 * r.energy["internal_w"], rel=1e-3)
    assert switching == pytest.approx(2 * r.energy["switching_w"], rel=1e-3)


@pytest.mark.synth
@pytest.mark.slow  # 12-18 s on two busy cores
def test_cli_json_for_the_unit_and_its_baseline(cell_tools, tmp_path, capsys):
    out_json = tmp_path / "c.json"
    db = tmp_path / "db.sqlite"
    args = ["synth", "mitchell-mul", "--width", "6", "--target", "osu018", "--stream", "small",
            "--ops", "2000", "--db", str(db), "--json", str(out_json)]
    assert main(args) == 0
    text = capsys.readouterr().out
    rows = json.loads(out_json.read_text())
    assert [r["top"] for r in rows] == ["mitchell_mul_u6", "exact_mitchell_mul_u6"]
    for r in rows:
        for k in ("target", "area_um2", "delay_ns", "leakage_nw", "cells", "energy_fj_per_op"):
            assert r[k] is not None, k
        assert r["target"] == "osu018" and r["energy"]["stream"] == "small"
    assert "zero-delay toggles (no glitches)" in text and "sta -no_splash -exit power.tcl" in text
    # the second run answers from the cache: the same numbers
    assert main(args[:-2] + ["--json", str(tmp_path / "d.json")]) == 0
    assert json.loads((tmp_path / "d.json").read_text()) == rows
    assert main(["synth", "mitchell-mul", "--width", "6", "--target", "cmos", "--db", "none",
                 "--json", str(tmp_path / "t.json")]) == 0
    t = json.loads((tmp_path / "t.json").read_text())
    assert t[0]["transistors"] < t[1]["transistors"] and t[0]["depth"] > 0


@pytest.mark.synth
def test_cache_key_changes_with_the_library_hash(cell_tools, tmp_path, monkeypatch):
    lib = tmp_path / "copy" / OSU018.library_path().name
    lib.parent.mkdir()
    lib.write_text(OSU018.library_path().read_text())
    register_target(CostTarget("osu018-copy", "a copy", liberty=lib, package="none"))
    try:
        db = ResultDB(tmp_path / "r.sqlite")
        params = EXACT.params(width=4)
        first = stdcell.cell_cost(EXACT, params, target="osu018-copy", db=db)
        calls = []
        real_map = stdcell._map_cells
        monkeypatch.setattr(stdcell, "_map_cells", lambda *a: calls.append(1) or real_map(*a))
        assert stdcell.cell_cost(EXACT, params, target="osu018-copy", db=db) == first
        assert calls == []                      # the same library: from the cache
        lib.write_text(lib.read_text() + "\n/* edited */\n")
        again = stdcell.cell_cost(EXACT, params, target="osu018-copy", db=db)
        assert calls == [1] and again.library_sha256 != first.library_sha256
        assert db.count("synth-cells") == 2
    finally:
        unregister_target("osu018-copy")


# -- refusals: one line, exit 2, before any tool runs ----------------------------------------

def test_missing_sta_or_library_is_one_line_with_the_install_hint(capsys, monkeypatch, tmp_path):
    which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda name: None if name == "sta" else which(name))
    assert main(["synth", "exact-mul", "--target", "osu018", "--db", "none"]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "hwsim: error: sta (OpenSTA) not found; install it: apt-get install opensta")
    monkeypatch.setattr(shutil, "which", which)
    register_target(CostTarget("osu999", "absent", liberty=tmp_path / "none" / "x.lib",
                               package="qflow-tech-osu999"))
    try:
        assert main(["synth", "exact-mul", "--target", "osu999", "--db", "none"]) == 2
        err = capsys.readouterr().err
        assert err == (f"hwsim: error: target osu999: the cell library {tmp_path}/none/x.lib is "
                       f"not installed; install it: apt-get install qflow-tech-osu999\n")
    finally:
        unregister_target("osu999")


@pytest.mark.parametrize("args, message", [
    (["--target", "osu018", "--seeds", "2"],
     "--seeds is an iCE40 place-and-route option; target osu018 has no placement"),
    (["--stream", "uniform"], "--stream needs a standard-cell target (osu018, osu035, osu050), "
                              "not ice40"),
    (["--target", "cmos", "--stream", "small"],
     "--stream needs a standard-cell target (osu018, osu035, osu050), not cmos"),
    (["--target", "osu018", "--ops", "10"],
     "--ops and --stream-seed shape a generated --stream; give --stream uniform or small"),
    (["--target", "osu018", "--stream", "nothing.npz"],
     "--stream 'nothing.npz': no such file (give uniform, small or a .npz file)"),
    (["--target", "osu018", "--ops", "1", "--stream", "small"],
     "--ops must be an integer in 2..10000000, not 1"),
])
def test_cli_refusals(args, message, capsys, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(stdcell, "cell_cost", lambda *a, **k: pytest.fail("no tool may run"))
    assert main(["synth", "mitchell-mul", "--width", "8", "--db", "none", *args]) == 2
    assert capsys.readouterr().err == f"hwsim: error: {message}\n"


def test_stream_file_refusals(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(stdcell, "cell_cost", lambda *a, **k: pytest.fail("no tool may run"))
    cases = {
        "missing.npz": ({"a": np.arange(4)}, "needs arrays a, b (operand codes of mitchell-mul); "
                                             "missing b"),
        "float.npz": ({"a": np.ones(4), "b": np.ones(4)},
                      "array a must hold integer operand codes, not float64"),
        "shape.npz": ({"a": np.zeros((2, 2), int), "b": np.zeros(4, int)},
                      "array a must be one-dimensional, not shape (2, 2)"),
        "length.npz": ({"a": np.zeros(4, int), "b": np.zeros(5, int)},
                       "arrays must have one length; b has 5, not 4"),
        "range.npz": ({"a": np.array([1, 300]), "b": np.array([1, 2])},
                      "mitchell_mul: a has values outside [0, 256) for width 8 (first: 300)"),
        "one.npz": ({"a": np.array([1]), "b": np.array([1])}, "needs 2..10,000,000 operations, "
                                                              "not 1"),
    }
    for name, (arrays, message) in cases.items():
        path = tmp_path / name
        np.savez(path, **arrays)
        assert main(["synth", "mitchell-mul", "--width", "8", "--target", "osu018", "--db",
                     "none", "--stream", str(path)]) == 2
        assert capsys.readouterr().err == f"hwsim: error: --stream {str(path)!r}: {message}\n"
    assert main(["synth", "mitchell-mul", "--target", "osu018", "--db", "none", "--stream",
                 str(tmp_path)]) == 2
    assert capsys.readouterr().err == (f"hwsim: error: --stream {str(tmp_path)!r}: is a "
                                       f"directory (give uniform, small or a .npz file)\n")
    (tmp_path / "junk.npz").write_text("not a zip")
    assert main(["synth", "mitchell-mul", "--width", "8", "--target", "osu018", "--db", "none",
                 "--stream", str(tmp_path / "junk.npz")]) == 2
    assert "not a .npz file (no zip archive)" in capsys.readouterr().err


# -- streams and targets, no tools -------------------------------------------------------------

def test_streams_are_seeded_in_range_and_small_is_small():
    for signed in (False, True):
        p = EXACT.params(width=8, signed=signed)
        lo, hi = (-128, 128) if signed else (0, 256)
        u = streams.generate(EXACT, p, "uniform", 50_000, seed=5)
        s = streams.generate(EXACT, p, "small", 50_000, seed=5)
        for x in (*u.values(), *s.values()):
            assert x.dtype == np.int64 and x.min() >= lo and x.max() < hi
        assert all((streams.generate(EXACT, p, "small", 50_000, seed=5)[k] == s[k]).all()
                   for k in s)
        assert not (streams.generate(EXACT, p, "small", 50_000, seed=6)["a"] == s["a"]).all()
        # log-uniform magnitudes: the median magnitude is about 2**(bits/2), not 2**(bits-1)
        bits = 7 if signed else 8
        assert np.median(np.abs(s["a"])) < 2 ** (bits / 2 + 0.5)
        assert np.median(np.abs(u["a"])) > 2 ** (bits - 1.5)
        assert (np.abs(s["a"]) >= 1).all() and np.abs(s["a"]).max() == hi - 1
        if signed:
            assert 0.45 < (s["a"] < 0).mean() < 0.55
    fm = get_unit("float-mul")
    with pytest.raises(ValueError, match=r"^--stream small: float-mul's operands are not "
                                         r"integers of a width field; give --stream uniform or "
                                         r"FILE.npz with its operand codes$"):
        streams.generate(fm, fm.params(), "small", 10, 1)
    u = streams.generate(fm, fm.params(), "uniform", 1000, 1)   # bf16 patterns
    assert u["a"].min() >= 0 and u["a"].max() < 1 << 16 and u["a"].max() > 1 << 15


def test_target_registry():
    assert list(TARGETS)[:1] == ["ice40"] and TARGETS["ice40"].fpga
    assert {t for t in TARGETS if TARGETS[t].cells} == {"osu018", "osu035", "osu050"}
    assert TARGETS["cmos"].json_keys == ("target", "transistors", "depth", "cells")
    assert {"area_um2", "delay_ns", "leakage_nw"} <= set(OSU018.json_keys)
    with pytest.raises(ValueError, match=r"^--target must be one of ice40, osu018, osu035, "
                                         r"osu050, cmos, not 'x'$"):
        get_target("x")
    with pytest.raises(ValueError, match="registered already"):
        register_target(CostTarget("osu018", "dup"))


def test_power_liberty_drops_only_combinational_timing_groups():
    lib = ("library(x) {\n cell (INVX1) {\n  area : 1;\n  pin(Y) {\n   function : \"(!A)\";\n"
           "   timing() {\n    related_pin : \"A\";\n    cell_rise(t) { values (\"1\"); }\n   }\n"
           "   internal_power() { rise_power(t) { values (\"2\"); } }\n  }\n }\n"
           " cell (DFFPOSX1) {\n  ff (DS0000,P0002) { next_state : \"D\"; }\n"
           "  pin(Q) { timing() { related_pin : \"CLK\"; } }\n }\n}\n")
    out = stdcell.power_liberty(lib)
    inv, dff = out.split("cell (DFFPOSX1)")
    assert "timing" not in inv and "internal_power" in inv and 'function : "(!A)"' in inv
    assert "timing()" in dff


def _pin_caps(liberty_text: str) -> dict:
    """(cell, input pin) -> (min, max) of the pin's rise / fall capacitance (pF)."""
    caps = {}
    for cell in re.split(r"(?m)^\s*cell\s*\(", liberty_text)[1:]:
        name = cell[:cell.index(")")].strip()
        for m in re.finditer(r"pin\s*\((\w+)\)\s*\{(.*?)\n\s*\}", cell, re.S):
            vals = [float(v) for v in re.findall(r"(?:rise_|fall_)capacitance\s*:\s*([0-9.eE+-]+)",
                                                 m[2])]
            if vals and re.search(r"direction\s*:\s*input", m[2]):
                caps[(name, m[1])] = (min(vals), max(vals))
    return caps


@pytest.mark.synth
def test_switching_power_is_half_c_v_squared_times_the_simulated_toggles(cell_tools, tmp_path):
    """Each net's switching power in OpenSTA's report is 1/2 C V^2 x its toggles per operation
    / period, C its load pins' capacitance (between the pins' smaller and larger of rise and
    fall capacitance): OpenSTA used the simulated activity of every net, not its own."""
    params = MITCHELL.params(width=6)
    s = streams.operand_stream(MITCHELL, params, "uniform", 3000, seed=2)
    r = stdcell.cell_cost(MITCHELL, params, target="osu018", stream=s, work_dir=tmp_path)
    work = tmp_path / r.top
    caps = _pin_caps(OSU018.library_path().read_text())
    module = json.loads((work / "mapped.json").read_text())["modules"][r.top]
    reg = set(re.findall(r"^\s*(\w+) \S+ \(\s*\n\s*\.CLK\(clk\)", (work / "wrapped.v").read_text(),
                         re.M))
    assert len(reg) == 1, reg                           # the wrapper's register cell
    load = {}                                           # bit -> (C min, C max)
    driver = {}                                         # bit -> "inst/PIN"
    for inst, c in module["cells"].items():
        for pin, bits in c["connections"].items():
            if (c["type"], pin) not in caps:           # an output pin
                driver[bits[0]] = f"{inst}/{pin}"
            else:
                lo, hi = caps[(c["type"], pin)]
                old = load.get(bits[0], (0.0, 0.0))
                load[bits[0]] = (old[0] + lo, old[1] + hi)
    d_cap = caps[(reg.pop(), "D")]
    for bit in module["ports"]["p"]["bits"]:           # each output bit drives a register's D
        old = load.get(bit, (0.0, 0.0))
        load[bit] = (old[0] + d_cap[0], old[1] + d_cap[1])
    act = {m[1]: float(m[2]) for m in re.finditer(
        r"sta::set_power_pin_activity \[get_pins \{dut/(\S+)\}\] (\S+) \S+",
        (work / "power.tcl").read_text())}
    v, period = 1.8, stdcell.POWER_CLOCK_NS * 1e-9
    bounds = [sum(0.5 * load.get(b, (0.0, 0.0))[k] * 1e-12 * v * v * act[p] / period
                  for b, p in driver.items()) for k in (0, 1)]
    assert set(act) == set(driver.values())
    assert bounds[0] * (1 - 1e-5) <= r.energy["switching_w"] <= bounds[1] * (1 + 1e-5)
    assert bounds[0] > 0.5 * bounds[1]


@pytest.mark.synth
def test_cmos_counts_flip_flops(cell_tools):
    """A pipelined unit's registers are counted (as yosys' 16-transistor $_DFF_P_ plus gates
    for their reset), not left out of the estimate."""
    comb = stdcell.cell_cost(MITCHELL, MITCHELL.params(width=4), target="cmos")
    piped = stdcell.cell_cost(MITCHELL, MITCHELL.params(width=4, stages=1), target="cmos")
    ffs = piped.cells["$_DFF_P_"]
    assert "$_DFF_P_" not in comb.cells and ffs >= 8     # at least the 8-bit product
    # yosys' CMOS table: NOT 2, NAND and NOR 4, a D flip-flop 16 transistors
    cost = {"$_NOT_": 2, "$_NAND_": 4, "$_NOR_": 4, "$_DFF_P_": 16}
    for r in (comb, piped):
        assert set(r.cells) <= stdcell.CMOS_COUNTED
        assert r.transistors == sum(cost[c] * n for c, n in r.cells.items())
    assert piped.transistors > comb.transistors
