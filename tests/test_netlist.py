"""The gate-netlist engine (hwsim/netlist.py): mapped netlists compute what the arithmetic and
hwsim's models compute, bit for bit; zero-delay toggle counts equal Icarus running the same
netlist with the library's cell models; what cannot be simulated is refused in one line."""

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hwsim.netlist import (
    CellLibrary, Netlist, ToolNotFound, find_yosys, map_to_cells, netlist_verilog,
    parse_function,
)
from rtl import skip_unless_ci

OSU018 = Path("/usr/share/qflow/tech/osu018")
LIB = OSU018 / "osu018_stdcells.lib"
CELLS_V = OSU018 / "osu018_stdcells.v"
OSU_HINT = "apt-get install qflow-tech-osu018"

EXACT8 = "module exact8(input [7:0] a, input [7:0] b, output [15:0] o);\n  assign o = a * b;\nendmodule\n"


@pytest.fixture(scope="module")
def yosys():
    try:
        return find_yosys()
    except ToolNotFound as e:
        skip_unless_ci(str(e))


@pytest.fixture(scope="module")
def osu018():
    if not LIB.is_file() or not CELLS_V.is_file():
        skip_unless_ci(f"the OSU 0.18 um cells are missing ({LIB}); install them: {OSU_HINT}")
    return CellLibrary.from_liberty(LIB)


@pytest.fixture(scope="module")
def iverilog():
    if not (shutil.which("iverilog") and shutil.which("vvp")):
        skip_unless_ci("Icarus Verilog is missing; install it: apt-get install iverilog")


def build(verilog, top, target, osu018_lib=None):
    """The Netlist of ``top`` mapped to osu018 cells (``target="osu018"``) or yosys gates."""
    liberty = LIB if target == "osu018" else None
    cells = osu018_lib if target == "osu018" else CellLibrary.yosys_gates()
    return Netlist.from_yosys(map_to_cells(verilog, top, liberty), top, cells)


def all_pairs(width):
    a, b = np.meshgrid(np.arange(1 << width), np.arange(1 << width), indexing="ij")
    return a.ravel().astype(np.uint64), b.ravel().astype(np.uint64)


def mitchell8_verilog():
    from hwsim.hdl.export import to_verilog
    from hwsim.mitchell import MitchellMulParams
    from hwsim.units import get_unit
    params = MitchellMulParams(width=8)
    return params, to_verilog(get_unit("mitchell-mul"), params)


# -- Liberty functions: the syntax and precedence of the Liberty reference --------------------

def truth(tree, env):
    kind = tree[0]
    if kind == "var":
        return env[tree[1]]
    if kind == "const":
        return tree[1]
    if kind == "not":
        return 1 - truth(tree[1], env)
    x, y = truth(tree[1], env), truth(tree[2], env)
    return {"and": x & y, "or": x | y, "xor": x ^ y}[kind]


@pytest.mark.parametrize("text, python", [
    ("A B + C", lambda A, B, C: (A & B) | C),
    ("A ^ B C", lambda A, B, C: (A ^ B) & C),          # XOR binds before AND
    ("A + B ^ C", lambda A, B, C: A | (B ^ C)),
    ("!A B", lambda A, B, C: (1 - A) & B),             # inversion binds first
    ("(A+B)' * C", lambda A, B, C: (1 - (A | B)) & C),
    ("A & !(B | C)", lambda A, B, C: A & (1 - (B | C))),
    ("A'B'", lambda A, B, C: (1 - A) & (1 - B)),
    ("!((S A) + (!S B))", None),                       # osu018's MUX2X1, below
    ("1 ^ A", lambda A, B, C: 1 ^ A),
])
def test_liberty_function_syntax_and_precedence(text, python):
    tree = parse_function(text)
    for A in (0, 1):
        for B in (0, 1):
            for C in (0, 1):
                if python is None:  # S = C: Y = !(S ? A : B)
                    expect = 1 - (A if C else B)
                    got = truth(tree, {"S": C, "A": A, "B": B})
                else:
                    expect = python(A, B, C)
                    got = truth(tree, {"A": A, "B": B, "C": C})
                assert got == expect, (text, A, B, C)


@pytest.mark.parametrize("text", ["A +", "(A B", "A ) B", "A # B", ""])
def test_bad_liberty_function_is_one_line(text):
    with pytest.raises(ValueError, match=r"^CellLibrary: f: .+ in function '.*'$"):
        parse_function(text, "f")


def test_osu018_library_kinds_and_areas(osu018):
    """Sequential and three-state cells are known as such; areas are the Liberty ``area``."""
    text = LIB.read_text()
    for cell in ("DFFPOSX1", "DFFNEGX1", "DFFSR"):
        assert osu018[cell].kind == "flip-flop"
    assert osu018["LATCH"].kind == "latch"
    assert osu018["TBUFX1"].kind == "three-state cell"
    for name, ct in osu018.cells.items():
        m = re.search(r"cell \(" + name + r"\) \{[^}]*?\barea : ([0-9.]+);", text)
        assert m and float(m.group(1)) == ct.area, name
    assert set(osu018["FAX1"].outputs) == {"YC", "YS"}


# -- the model of a mapped netlist is the arithmetic, bit for bit -----------------------------

@pytest.mark.synth
@pytest.mark.parametrize("target", ["osu018", "gates"])
def test_exact_8x8_equals_numpy_on_all_pairs(yosys, osu018, target):
    nl = build(EXACT8, "exact8", target, osu018)
    assert nl.inputs == {"a": 8, "b": 8} and nl.outputs == {"o": 16}
    a, b = all_pairs(8)
    o = nl.evaluate({"a": a, "b": b})["o"]
    assert o.dtype == np.uint64
    assert np.array_equal(o, a * b)
    if target == "osu018":  # area = the library's areas over the cell counts
        assert nl.area == sum(osu018[c].area * n for c, n in nl.cell_counts.items()) > 0


@pytest.mark.synth
@pytest.mark.unit("mitchell-mul")
@pytest.mark.parametrize("target", ["osu018", "gates"])
def test_mapped_mitchell8_equals_hwsim_model_on_all_pairs(yosys, osu018, target):
    from hwsim.mitchell import mitchell_mul
    params, verilog = mitchell8_verilog()
    nl = build(verilog, params.top_name, target, osu018)
    a, b = all_pairs(8)
    got = nl.evaluate({"a": a, "b": b})["p"]
    want = mitchell_mul(a.astype(np.int64), b.astype(np.int64), params)
    assert np.array_equal(got, want.astype(np.uint64))


@pytest.mark.synth
def test_exact_16x16_in_gates_on_random_pairs(yosys, tmp_path):
    src = tmp_path / "mul16.v"  # a file path this time, with an operand stream across blocks
    src.write_text(EXACT8.replace("exact8", "mul16").replace("[7:0]", "[15:0]")
                   .replace("[15:0] o", "[31:0] o"))
    nl = build(src, "mul16", "gates")
    rng = np.random.default_rng(28)
    n = 200_003  # not a multiple of 64 or of a block
    a = rng.integers(0, 1 << 16, n, dtype=np.uint64)
    b = rng.integers(0, 1 << 16, n, dtype=np.uint64)
    assert np.array_equal(nl.evaluate({"a": a, "b": b})["o"], a * b)


@pytest.mark.synth
def test_a_written_cell_netlist_maps_back_to_the_same_cells(yosys, osu018):
    """write_verilog of an osu018 netlist (cells instantiated by name) reads back through
    map_to_cells with the library: same cells, same products; without it, one line."""
    data = map_to_cells(EXACT8, "exact8", LIB)
    assert list(data["modules"]) == ["exact8"]  # the library's black boxes are left out
    text = netlist_verilog(data, LIB)
    back = Netlist.from_yosys(map_to_cells(text, "exact8", LIB), "exact8", osu018)
    assert back.cell_counts == Netlist.from_yosys(data, "exact8", osu018).cell_counts
    a, b = all_pairs(8)
    assert np.array_equal(back.evaluate({"a": a, "b": b})["o"], a * b)
    with pytest.raises(ValueError, match=r"^map_to_cells: yosys cannot map the Verilog text "
                                         r"\(top exact8\): ERROR: Module `\\\w+' referenced in "
                                         r"module `\\exact8' in cell `\\_\d+_' is not part of "
                                         r"the design\.$"):
        map_to_cells(text, "exact8")


@pytest.mark.synth
def test_any_integer_dtype_gives_the_same_products(yosys):
    nl = build(EXACT8, "exact8", "gates")
    a, b = all_pairs(8)
    want = a * b
    for dtype in (np.uint8, np.int16, np.int32, np.int64, np.uint64):
        got = nl.evaluate({"a": a.astype(dtype), "b": b.astype(dtype)})["o"]
        assert got.dtype == np.uint64 and np.array_equal(got, want), dtype
    bits = np.array([True, False, True])  # a bool array is 0 / 1
    assert list(nl.evaluate({"a": bits, "b": np.array([3, 3, 0])})["o"]) == [3, 0, 0]
    empty = nl.evaluate({"a": np.zeros(0, int), "b": np.zeros(0, int)})["o"]
    assert empty.shape == (0,) and nl.toggles({"a": [], "b": []}).operations == 0


# -- zero-delay toggles ---------------------------------------------------------------------

@pytest.mark.synth
def test_toggles_of_ports_are_the_bit_changes_of_the_stream(yosys, osu018):
    """Port bits counted from the values alone (numpy) equal the engine's counts, for
    stream lengths around word and chunk edges."""
    nl = build(EXACT8, "exact8", "osu018", osu018)
    rng = np.random.default_rng(5)
    for n in (1, 2, 63, 64, 65, 4097, 100_001):
        a = rng.integers(0, 256, n)
        b = rng.integers(0, 256, n)
        tc = nl.toggles({"a": a, "b": b})
        assert tc.operations == n
        for port, values, width in (("a", a, 8), ("b", b, 8), ("o", a * b, 16)):
            for i in range(width):
                bits = (values >> i) & 1
                net = tc.nets[f"{port}[{i}]"]
                assert (net.toggles, net.ones) == (int((bits[1:] != bits[:-1]).sum()),
                                                   int(bits.sum())), (n, port, i)
        driven = [v for v in tc.nets.values() if v.driver is not None]
        assert len(driven) == nl.instances  # one output per cell in this netlist
        assert {v.input_port for v in tc.nets.values() if v.input_port} == \
            {(p, i) for p in "ab" for i in range(8)}


@pytest.mark.synth
def test_results_do_not_depend_on_how_the_stream_is_split_across_threads(yosys, osu018,
                                                                          monkeypatch):
    """Spans of words run on separate threads; the toggles between spans are added after: one
    span and seven uneven spans give the same outputs and counts."""
    import hwsim.netlist as netlist
    params, verilog = mitchell8_verilog()
    nl = build(verilog, params.top_name, "osu018", osu018)
    rng = np.random.default_rng(7)
    n = 64 * 300 + 17
    ops = {"a": rng.integers(0, 256, n), "b": rng.integers(0, 256, n)}
    monkeypatch.setattr(netlist, "_spans", lambda nwords: [(0, nwords)])
    one = nl.evaluate(ops)["p"], nl.toggles(ops)
    cuts = [0, 1, 2, 50, 51, 200, 299, 301]

    def seven(nwords):
        assert nwords == 301
        return list(zip(cuts[:-1], cuts[1:]))
    monkeypatch.setattr(netlist, "_spans", seven)
    many = nl.evaluate(ops)["p"], nl.toggles(ops)
    assert np.array_equal(one[0], many[0])
    assert one[1] == many[1]
    assert sum(v.toggles for v in one[1].nets.values()) > n


def parse_vcd(path: Path, scope: str) -> tuple[dict, dict]:
    """VCD of Icarus -> ({signal name: [(time, bit)]}, {"unit": timescale}); signals of
    ``scope`` only, vectors split into ``name[i]``."""
    text = path.read_text()
    header, _, body = text.partition("$enddefinitions")
    timescale = re.search(r"\$timescale\s+(.*?)\s*\$end", header, flags=re.S).group(1)
    ids: dict[str, list[tuple[str, int]]] = {}
    stack: list[str] = []
    for tok in re.finditer(r"\$(scope|upscope|var)\b(.*?)\$end", header, flags=re.S):
        kind, parts = tok.group(1), tok.group(2).split()
        if kind == "scope":
            stack.append(parts[1])
        elif kind == "upscope":
            stack.pop()
        elif ".".join(stack) == scope:
            width, code, name = int(parts[1]), parts[2], parts[3].removeprefix("\\")
            lo = int(parts[4].strip("[]").split(":")[1]) if width > 1 and len(parts) > 4 else 0
            bits = [(name, 0)] if width == 1 else [(f"{name}[{lo + i}]", i) for i in range(width)]
            ids.setdefault(code, []).extend(bits)
    changes: dict[str, list] = {}
    t = 0
    for ln in body.split("\n"):
        c = ln[:1]
        if c == "#":
            t = int(ln[1:])
        elif c in ("0", "1", "x", "z"):
            for name, _ in ids.get(ln[1:].strip(), ()):
                changes.setdefault(name, []).append((t, c))
        elif c == "b":
            value, code = ln[1:].split()
            if code in ids:
                width = max(i for _, i in ids[code]) + 1
                value = value.rjust(width, value[0] if value[0] in "xz" else "0")
                for name, i in ids[code]:
                    changes.setdefault(name, []).append((t, value[width - 1 - i]))
    return changes, {"unit": timescale}


def icarus_toggles(tmp_path, data, top, inputs, n, period, names):
    """Icarus runs the written netlist with the cell models; per net of ``names`` in
    ``top``'s scope: (toggles, ones) over the n operations applied at times period,
    2 period, ..."""
    verilog = netlist_verilog(data, LIB)
    (tmp_path / "netlist.v").write_text(verilog)
    ports = data["modules"][top]["ports"]
    widths = {p: len(v["bits"]) for p, v in ports.items()}
    lines = ["`timescale 1ns/1ps", "module tb;"]
    for p, w in widths.items():
        kind = "reg" if ports[p]["direction"] == "input" else "wire"
        lines.append(f"  {kind} [{w - 1}:0] {p};")
        if kind == "reg":
            lines.append(f"  reg [{w - 1}:0] mem_{p} [0:{n - 1}];")
            np.savetxt(tmp_path / f"{p}.hex", inputs[p].astype(np.uint64), fmt="%x")
    lines.append(f"  {top} dut(" + ", ".join(f".{p}({p})" for p in widths) + ");")
    lines += ["  integer i;", "  initial begin"]
    lines += [f'    $readmemh("{p}.hex", mem_{p});' for p in inputs]
    lines += ['    $dumpfile("tb.vcd");', "    $dumpvars(1, tb.dut);",
              f"    for (i = 0; i < {n}; i = i + 1) begin", f"      #{period};"]
    lines += [f"      {p} = mem_{p}[i];" for p in inputs]
    lines += ["    end", f"    #{period};", "    $finish;", "  end", "endmodule", ""]
    (tmp_path / "tb.v").write_text("\n".join(lines))
    subprocess.run(["iverilog", "-o", "tb.vvp", "tb.v", "netlist.v", str(CELLS_V)],
                   cwd=tmp_path, check=True, capture_output=True, timeout=300)
    subprocess.run(["vvp", "-n", "tb.vvp"], cwd=tmp_path, check=True, capture_output=True,
                   timeout=600)
    changes, info = parse_vcd(tmp_path / "tb.vcd", "tb.dut")
    scale = {"1ps": 1000, "10ps": 100, "100ps": 10, "1ns": 1}[info["unit"].replace(" ", "")]
    out = {}
    for name, seq in changes.items():
        if name not in names:
            continue
        # the value each operation settles to: the last change at or before its time
        values = np.full(n, -1)
        times = np.array([t for t, _ in seq]) // scale
        vals = np.array([{"0": 0, "1": 1}.get(v, -1) for _, v in seq])
        ops = np.arange(1, n + 1) * period
        idx = np.searchsorted(times, ops, side="right") - 1
        ok = idx >= 0
        values[ok] = vals[idx[ok]]
        assert (values >= 0).all(), f"{name} is x or z in Icarus"
        out[name] = (int((values[1:] != values[:-1]).sum()), int(values.sum()))
    return out


@pytest.mark.sim
@pytest.mark.synth
@pytest.mark.slow  # 16 s each on two busy cores (Icarus, and the VCD read in Python)
@pytest.mark.parametrize("unit", ["exact-mul-8", "mitchell-mul-8"])
def test_toggles_equal_icarus_with_the_cell_models(yosys, osu018, iverilog, tmp_path, unit):
    """Every net of the osu018 netlist toggles (and is 1) as often in the engine as in Icarus
    running ``write_verilog -noattr`` of the same netlist with osu018_stdcells.v (no delays:
    settled values per operation), over 10^4 seeded random operations."""
    if unit == "exact-mul-8":
        top, verilog, out = "exact8", EXACT8, "o"
    else:
        params, verilog = mitchell8_verilog()
        top, out = params.top_name, "p"
    data = map_to_cells(verilog, top, LIB)
    nl = Netlist.from_yosys(data, top, osu018)
    n = 10_000
    rng = np.random.default_rng(29)
    # half uniform, half small operands (a stream with long quiet stretches on high bits)
    inputs = {p: np.concatenate([rng.integers(0, 256, n // 2),
                                 rng.integers(0, 16, n - n // 2)]).astype(np.uint64)
              for p in ("a", "b")}
    tc = nl.toggles(inputs)
    icarus = icarus_toggles(tmp_path, data, top, inputs, n, period=10, names=set(tc.nets))
    ours = {name: (v.toggles, v.ones) for name, v in tc.nets.items()}
    assert set(ours) <= set(icarus), sorted(set(ours) - set(icarus))[:5]
    assert {k: icarus[k] for k in ours} == ours
    assert sum(t for t, _ in ours.values()) > n  # the stream does switch the netlist
    assert len(ours) >= nl.instances + 16 and any(name.startswith(f"{out}[") for name in ours)


# -- refusals ---------------------------------------------------------------------------------

BAD = {
    "ff": ("module ff(input clk, input d, output reg q); always @(posedge clk) q <= d; endmodule",
           {"osu018": r"cell '_\d+_' \(DFFPOSX1\) is a flip-flop; only combinational netlists of "
                      r"osu018_stdcells cells are simulated",
            "gates": r"cell '_\d+_' \(\$_DFF_P_\) is a flip-flop; only combinational netlists of "
                     r"yosys-gates cells are simulated"}),
    "latch": ("module latch(input en, input d, output reg q); always @* if (en) q = d; endmodule",
              r"cell '_\d+_' \(\$_DLATCH_P_\) is a latch; only combinational netlists of [\w-]+ "
              r"cells are simulated"),
    "loop": ("module loop(input b, input c, output o, output p); wire x, y; assign x = y ^ b; "
             "assign y = x | c; assign o = y; assign p = ~(y & b) ^ c; endmodule",  # p: after it
             r"combinational loop through 2 cells \('_\d+_', '_\d+_'\)"),
    "undriven": ("module undriven(input a, output [1:0] o); assign o[0] = a; endmodule",
                 r"output o\[1\] is undriven"),
    "empty": ("module empty(input a, output [1:0] o); endmodule",  # a black box to yosys
              r"output o\[0\] is undriven"),
    "xconst": ("module xconst(input a, output [1:0] o); assign o = {a, 1'bx}; endmodule",
               r"output o\[0\] is 'x' \(undefined\)"),
    "inout": ("module inout_port(inout a, output o); assign o = a; endmodule",
              r"port 'a' is inout; only input and output ports are simulated"),
}


@pytest.mark.synth
@pytest.mark.parametrize("target", ["osu018", "gates"])
@pytest.mark.parametrize("case", list(BAD))
def test_what_is_not_combinational_is_refused_in_one_line(yosys, osu018, target, case):
    src, rule = BAD[case]
    rule = rule[target] if isinstance(rule, dict) else rule
    top = re.match(r"module (\w+)", src).group(1)
    with pytest.raises(ValueError, match=rf"^Netlist\.from_yosys: module '{top}': {rule}$"):
        build(src, top, target, osu018)


@pytest.mark.synth
def test_unreadable_verilog_is_one_line(yosys, tmp_path):
    with pytest.raises(ValueError, match=r"^map_to_cells: verilog '.*nothere\.v' is not a file$"):
        map_to_cells(tmp_path / "nothere.v", "m")
    with pytest.raises(ValueError, match=r"^map_to_cells: yosys cannot map the Verilog text "
                                         r"\(top bad\): line 1: ERROR: syntax error.*$"):
        map_to_cells("module bad(input a, output o); assign o = a +; endmodule", "bad")
    with pytest.raises(ValueError, match=r"^map_to_cells: yosys cannot map the Verilog text "
                                         r"\(top other\): ERROR: Module `other' not found!$"):
        map_to_cells(EXACT8, "other")
    with pytest.raises(ValueError, match=r"^map_to_cells: top must be a Verilog module name, "
                                         r"not 'a; shell'$"):
        map_to_cells(EXACT8, "a; shell")
    with pytest.raises(ValueError, match=r"^Netlist\.from_yosys: module 'nope' is not in the "
                                         r"netlist \(modules: exact8\)$"):
        Netlist.from_yosys(map_to_cells(EXACT8, "exact8"), "nope", CellLibrary.yosys_gates())


@pytest.mark.synth
@pytest.mark.parametrize("body, drivers", [
    ("assign o = a & b;\nassign o = a | b;", r"a net has more than one driver: \$or at line 3; "
                                              r"\$and at line 2"),
    ("assign a = b; assign o = a;", r"net b has more than one driver: module input b\[0\]; "
                                    r"module input a\[0\]"),
])
def test_a_net_with_two_drivers_is_refused_in_one_line(yosys, body, drivers):
    """yosys keeps one of two drivers (a wrong circuit, silently): its check report is read."""
    src = f"module two(input a, input b, output o);\n{body}\nendmodule\n"
    with pytest.raises(ValueError, match=rf"^map_to_cells: the Verilog text \(top two\): {drivers}$"):
        map_to_cells(src, "two")


@pytest.mark.synth
def test_bad_operands_are_one_line(yosys):
    nl = build(EXACT8, "exact8", "gates")
    owner = r"^Netlist\(exact8\)\.evaluate: "
    a = np.arange(4)
    with pytest.raises(ValueError, match=owner + r"inputs must be exactly the ports a, b; missing b$"):
        nl.evaluate({"a": a})
    with pytest.raises(ValueError, match=owner + r"inputs must be exactly the ports a, b; unknown c$"):
        nl.evaluate({"a": a, "b": a, "c": a})
    with pytest.raises(ValueError, match=owner + r"a has values outside \[0, 256\) for width 8 "
                                                 r"\(first: 256\)$"):
        nl.evaluate({"a": a + 253, "b": a})
    with pytest.raises(ValueError, match=owner + r"b has values outside \[0, 256\) for width 8 "
                                                 r"\(first: -1\)$"):
        nl.evaluate({"a": a, "b": a - 1})
    with pytest.raises(TypeError, match=owner + r"input a must be an integer array, not float64$"):
        nl.evaluate({"a": a * 1.0, "b": a})
    with pytest.raises(ValueError, match=owner + r"inputs must have one length; b has 3, not 4$"):
        nl.evaluate({"a": a, "b": a[:3]})
    wide = build("module wide(input [64:0] a, output [64:0] o); assign o = ~a; endmodule",
                 "wide", "gates")
    with pytest.raises(ValueError, match=r"^Netlist\(wide\)\.toggles: port a has 65 bits; ports "
                                         r"of at most 64 bits are simulated$"):
        wide.toggles({"a": a})


@pytest.mark.synth
@pytest.mark.parametrize("wa, wb, expr, wo", [(8, 8, "a * b", 16),
                                               (20, 24, "(a * b) ^ {a, b}", 44),
                                               (32, 32, "a * b", 64)])
def test_evaluate_pairs_is_evaluate_unsigned_and_signed(yosys, wa, wb, expr, wo):
    """The fused pass (half a transposition up to 32 operand bits, a whole one above; an
    output of 64 bits) against evaluate() on seeded operands, for lengths around words and
    blocks of 4,096 operations; signed: the same patterns as two's complement values."""
    nl = build(f"module t(input [{wa - 1}:0] a, input [{wb - 1}:0] b, output [{wo - 1}:0] o);"
               f" assign o = {expr}; endmodule", "t", "gates")
    rng = np.random.default_rng(29)
    for n in (0, 1, 63, 64, 65, 4097, 100_001):
        a = rng.integers(0, 1 << wa, n, dtype=np.uint64)
        b = rng.integers(0, 1 << wb, n, dtype=np.uint64)
        a[:2], b[:2] = (1 << wa) - 1, (1 << wb) - 1
        want = nl.evaluate({"a": a, "b": b})["o"]
        got = nl.evaluate_pairs(a.astype(np.int64), b, ("a", "b", "o"))
        assert got.dtype == np.uint64 and np.array_equal(got, want), n
        back = nl.evaluate_pairs(b, a.astype(np.int32 if wa < 32 else np.int64), ["b", "a", "o"])
        assert np.array_equal(back, want), n
        sa, sb = (x.astype(np.int64) - ((x >> (w - 1)).astype(np.int64) << w)
                  for x, w in ((a, wa), (b, wb)))
        signed = nl.evaluate_pairs(sa, sb, ("a", "b", "o"), signed=True)
        top = (want >> np.uint64(wo - 1)).astype(np.int64)   # the output's sign bit
        low = (want & np.uint64((1 << (wo - 1)) - 1)).astype(np.int64)
        assert signed.dtype == np.int64 and np.array_equal(signed, low - (top << (wo - 1))), n


@pytest.mark.synth
def test_evaluate_pairs_refuses_bad_operands_and_ports_in_one_line(yosys):
    nl = build(EXACT8, "exact8", "gates")
    owner = r"^Netlist\(exact8\)\.evaluate_pairs: "
    a = np.arange(5000)   # the bad value past the first block of a thread's span
    ok = a % 256
    for x, y, signed, msg in [
            (a, ok, False, r"a has values outside \[0, 256\) for width 8 \(first: 256\)$"),
            (ok, ok - 1, False, r"b has values outside \[0, 256\) for width 8 \(first: -1\)$"),
            (ok - 128, ok, True, r"b has values outside \[-128, 128\) for signed width 8 "
                                 r"\(first: 128\)$"),
            ((ok // 2).astype(np.uint64), np.full(5000, 2 ** 64 - 1, np.uint64), True,
             r"b has values outside \[-128, 128\) for signed width 8 "
             r"\(first: 18446744073709551615\)$")]:
        with pytest.raises(ValueError, match=owner + msg):
            nl.evaluate_pairs(x, y, ("a", "b", "o"), signed=signed)
    with pytest.raises(ValueError, match=owner + r"ports must name the netlist's two inputs "
                                                 r"\(a, b\) first, not 'a', 'a'$"):
        nl.evaluate_pairs(ok, ok, ("a", "a", "o"))
    with pytest.raises(ValueError, match=owner + r"ports must name an output \(o\) last, "
                                                 r"not 'b'$"):
        nl.evaluate_pairs(ok, ok, ("a", "b", "b"))
    with pytest.raises(TypeError, match=owner + r"ports must be three port names \(a, b, "
                                                r"output\), not 'abo'$"):
        nl.evaluate_pairs(ok, ok, "abo")
    with pytest.raises(TypeError, match=owner + r"input a must be an integer array, not float64$"):
        nl.evaluate_pairs(ok * 1.0, ok, ("a", "b", "o"))
    with pytest.raises(ValueError, match=owner + r"inputs must have one length; b has 3, not 5000$"):
        nl.evaluate_pairs(ok, ok[:3], ("a", "b", "o"))


def test_bad_liberty_file_is_one_line(tmp_path):
    with pytest.raises(ValueError, match=r"^CellLibrary\.from_liberty: path '.*none\.lib': "
                                         r"No such file or directory$"):
        CellLibrary.from_liberty(tmp_path / "none.lib")
    (tmp_path / "x.lib").write_text("not a library")
    with pytest.raises(ValueError, match=r"^CellLibrary\.from_liberty: path '.*x\.lib' is not a "
                                         r"Liberty file \(it does not start with 'library \(NAME\) \{'\)$"):
        CellLibrary.from_liberty(tmp_path / "x.lib")
    (tmp_path / "open.lib").write_text("library (l) { cell (A) { area : 1; ")
    with pytest.raises(ValueError, match=r"^CellLibrary: .*open\.lib: a Liberty group is not "
                                         r"closed \(missing '\}'\)$"):
        CellLibrary.from_liberty(tmp_path / "open.lib")


# -- every cell's Liberty function against the library's own Verilog model --------------------

OSU_LIBS = {"osu018": ("osu018", "osu018_stdcells"), "osu035": ("osu035", "osu035_stdcells"),
            "osu050": ("osu050", "osu05_stdcells")}


def one_cell_netlist(ct) -> dict:
    """yosys JSON of a module whose input port ``x`` drives the cell's inputs in order and
    whose output ports ``y_<pin>`` are its outputs."""
    k = len(ct.inputs)
    outs = sorted(ct.outputs)
    ports = {"x": {"direction": "input", "bits": list(range(2, 2 + k))}}
    conns = {pin: [2 + i] for i, pin in enumerate(ct.inputs)}
    for j, pin in enumerate(outs):
        ports[f"y_{pin}"] = {"direction": "output", "bits": [2 + k + j]}
        conns[pin] = [2 + k + j]
    return {"modules": {"one": {"ports": ports, "netnames": {},
                                "cells": {"c": {"type": ct.name, "connections": conns}}}}}


@pytest.mark.sim
@pytest.mark.parametrize("lib", list(OSU_LIBS))
def test_every_cell_function_equals_the_cell_verilog_model(iverilog, tmp_path, lib):
    """Each combinational cell of the library, lowered and simulated by the engine, equals
    Icarus running the library's Verilog model of the cell, on every input combination."""
    folder, stem = OSU_LIBS[lib]
    liberty = OSU018.parent / folder / f"{stem}.lib"
    models = OSU018.parent / folder / f"{stem}.v"
    if not liberty.is_file() or not models.is_file():
        skip_unless_ci(f"{liberty} is missing; install it: apt-get install qflow-tech-{lib}")
    library = CellLibrary.from_liberty(liberty)
    modelled = set(re.findall(r"^module (\w+)", models.read_text(), flags=re.M))
    cells = [ct for ct in library.cells.values()
             if ct.kind == "combinational" and ct.inputs and ct.name in modelled]
    assert len(cells) >= 20
    kmax = max(len(ct.inputs) for ct in cells)
    lines = ["`timescale 1ns/1ps", "module tb;", f"  reg [{kmax - 1}:0] x;", "  integer i;"]
    shown = []
    for c, ct in enumerate(cells):
        pins = [f".{pin}(x[{i}])" for i, pin in enumerate(ct.inputs)]
        for pin in sorted(ct.outputs):
            lines.append(f"  wire c{c}_{pin};")
            pins.append(f".{pin}(c{c}_{pin})")
            shown.append(f"c{c}_{pin}")
        lines.append(f"  {ct.name} c{c}({', '.join(pins)});")
    lines += [f"  initial for (i = 0; i < {1 << kmax}; i = i + 1) begin",
              "    x = i; #1;", f'    $display("%0d {" ".join(["%b"] * len(shown))}", i, '
              f'{", ".join(shown)});', "  end", "endmodule", ""]
    (tmp_path / "tb.v").write_text("\n".join(lines))
    subprocess.run(["iverilog", "-o", "tb.vvp", "tb.v", str(models)], cwd=tmp_path, check=True,
                   capture_output=True, timeout=300)
    r = subprocess.run(["vvp", "-n", "tb.vvp"], cwd=tmp_path, check=True, capture_output=True,
                       text=True, timeout=300)
    rows = [ln.split() for ln in r.stdout.splitlines() if ln and ln[0].isdigit()]
    assert len(rows) == 1 << kmax
    icarus = {name: np.array([int(row[1 + j]) for row in rows]) for j, name in enumerate(shown)}
    for c, ct in enumerate(cells):
        k = len(ct.inputs)
        x = np.arange(1 << kmax) & ((1 << k) - 1)
        got = Netlist.from_yosys(one_cell_netlist(ct), "one", library).evaluate({"x": x})
        for pin in sorted(ct.outputs):
            assert np.array_equal(got[f"y_{pin}"], icarus[f"c{c}_{pin}"]), (lib, ct.name, pin)


def test_a_small_liberty_file_in_other_spellings(tmp_path):
    """Quoted names, postfix inversion, ``&``/``|`` operators, a continued line, a
    ``statetable`` cell, an output reading a pin that is not an input (internal state):
    parsed, kinds told apart, the functions simulated by the engine."""
    (tmp_path / "mini.lib").write_text(r'''
/* a tiny library */
library ("mini") {
  time_unit : "1ns" ;
  cell ("AO21") {
    area : 7.5 ;
    pin ("A") { direction : input ; }
    pin (B) { direction : input; }
    pin (C) { direction : "input"; }
    pin ("Y") { direction : output ;
      function : "(A&B)|\
C" ; }
  }
  cell (XNI) {
    area : 3;
    pin (A) { direction : input; }
    pin (B) { direction : input; }
    pin (Y) { direction : output; function : "(A ^ B')'" ; }
  }
  cell (ST) {
    area : 9;
    statetable ("D", "IQ") { table : "H : - : H, L : - : L"; }
    pin (D) { direction : input; }
    pin (Q) { direction : output; function : "IQ"; }
  }
  cell (HOLD) {
    area : 2;
    pin (D) { direction : input; }
    pin (Q) { direction : output; function : "D & IQ"; }
  }
}
''')
    lib = CellLibrary.from_liberty(tmp_path / "mini.lib")
    assert lib.name == "mini" and set(lib.cells) == {"AO21", "XNI", "ST", "HOLD"}
    assert (lib["AO21"].area, lib["AO21"].inputs, lib["AO21"].kind) == (7.5, ("A", "B", "C"),
                                                                         "combinational")
    assert lib["ST"].kind == "state table" and lib["HOLD"].kind == "state table"
    x = np.arange(8)
    a, b, c = x & 1, (x >> 1) & 1, (x >> 2) & 1
    got = Netlist.from_yosys(one_cell_netlist(lib["AO21"]), "one", lib).evaluate({"x": x})
    assert np.array_equal(got["y_Y"], (a & b) | c)
    got = Netlist.from_yosys(one_cell_netlist(lib["XNI"]), "one", lib).evaluate({"x": x & 3})
    assert np.array_equal(got["y_Y"], 1 - (a ^ (1 - b)))
    with pytest.raises(ValueError, match=r"^Netlist\.from_yosys: module 'one': cell 'c' \(ST\) "
                                         r"is a state table; only combinational netlists of "
                                         r"mini cells are simulated$"):
        Netlist.from_yosys(one_cell_netlist(lib["ST"]), "one", lib)
