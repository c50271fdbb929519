"""circuit-mul's model: the netlist of a Verilog file, held against hwsim.circuits' numpy
oracle on every input; its Params (the file's SHA-256 in the identity, detected ports) and
the one-line refusal of every kind of bad circuit, from Python and through the CLI (exit 2,
nothing written)."""

import json

import numpy as np
import pytest

from hwsim.circuit_mul import CircuitMulParams, circuit_mul, circuit_products
from hwsim.circuits import Circuit, reference
from hwsim.cli import main
from hwsim.units import get_unit


def _grid(width, signed=False):
    lo, hi = (-(1 << (width - 1)), 1 << (width - 1)) if signed else (0, 1 << width)
    a, b = np.meshgrid(np.arange(lo, hi), np.arange(lo, hi), indexing="ij")
    return a.ravel(), b.ravel()


@pytest.mark.parametrize("circuit", [Circuit("broken-array", 8, hbl=2, vbl=6),
                                     Circuit("truncated", 8, t=5),
                                     Circuit("broken-array", 5, hbl=1, vbl=3)],
                         ids=lambda c: c.name)
def test_the_model_is_what_the_written_circuit_computes_on_every_input(circuit, tmp_path):
    f = tmp_path / "c.v"
    f.write_text(circuit.verilog())
    p = CircuitMulParams(verilog=str(f), width=circuit.width)
    a, b = _grid(circuit.width)
    got = circuit_mul(a, b, p)
    assert got.dtype == np.uint64
    np.testing.assert_array_equal(got, reference(circuit, a, b))
    assert (got != a.astype(np.uint64) * b.astype(np.uint64)).any()  # approximate indeed


def test_the_reference_circuit_is_exact_signed_and_unsigned():
    for signed in (False, True):
        p = CircuitMulParams(width=6, signed=signed)
        a, b = _grid(6, signed)
        got = circuit_mul(a, b, p)
        assert got.dtype == (np.int64 if signed else np.uint64)
        np.testing.assert_array_equal(got.astype(np.int64), a * b)


def test_wide_circuits_run_the_netlist_not_a_table(tmp_path):
    """12 x 12 (24 input bits, no table): seeded pairs against the oracle, signed exact too."""
    c = Circuit("truncated", 12, t=7)
    f = tmp_path / "t.v"
    f.write_text(c.verilog())
    p = CircuitMulParams(verilog=str(f), width=12)
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 1 << 12, (2, 200_000))
    np.testing.assert_array_equal(circuit_mul(a, b, p), reference(c, a, b))
    s = CircuitMulParams(width=12, signed=True)
    a, b = rng.integers(-(1 << 11), 1 << 11, (2, 200_000))
    np.testing.assert_array_equal(circuit_mul(a, b, s), a * b)


@pytest.mark.parametrize("circuit", [Circuit("exact", 16), Circuit("truncated", 16, t=9)],
                         ids=lambda c: c.name)
def test_the_one_pass_16_bit_model_is_the_oracle_and_the_general_engine(circuit, tmp_path):
    """circuit_mul's compiled path for int64 arrays (range check, transposition into bit
    planes, gates, transposition back, per block) on 300,017 seeded pairs with the corners:
    the numpy oracle of the written circuit and the netlist engine's general evaluate()."""
    from hwsim.netlist import CellLibrary, Netlist, map_to_cells
    f = tmp_path / "c.v"
    f.write_text(circuit.verilog())
    p = CircuitMulParams(verilog=str(f), width=16)
    rng = np.random.default_rng(29)
    a, b = rng.integers(0, 1 << 16, (2, 300_017))
    a[:4], b[:4] = [0, 65535, 65535, 1], [0, 65535, 1, 65535]
    got = circuit_mul(a, b, p)
    assert got.dtype == np.uint64
    np.testing.assert_array_equal(got, reference(circuit, a, b))
    net = Netlist.from_yosys(map_to_cells(circuit.verilog(), circuit.name), circuit.name,
                             CellLibrary.yosys_gates())
    np.testing.assert_array_equal(got, net.evaluate({"A": a, "B": b})["O"])
    np.testing.assert_array_equal(circuit_mul(a[:300_009].reshape(3, -1),
                                              b[:300_009].reshape(3, -1), p),
                                  got[:300_009].reshape(3, -1))
    exact = a.astype(np.uint64) * b.astype(np.uint64)
    assert (got == exact).all() == (circuit.kind == "exact")
    bad = b.copy()
    bad[200_000] = 1 << 16   # refused with the model's message, as on the general path
    with pytest.raises(ValueError, match=r"^circuit_mul: b has values outside \[0, 65536\) for "
                                         r"width 16 \(first: 65536\)$"):
        circuit_mul(a, bad, p)


@pytest.mark.parametrize("width", [16, 8])
def test_the_one_pass_signed_model_is_the_product(width):
    """Signed reference circuits on seeded pairs with the corners: the netlist's pass (16 bits)
    and the table's parallel look-up (8 bits, over 2**18 pairs) equal a * b."""
    p = CircuitMulParams(width=width, signed=True)
    lo, hi = p.in_range
    rng = np.random.default_rng(width)
    a, b = rng.integers(lo, hi, (2, 300_001))
    a[:4], b[:4] = [lo, lo, hi - 1, lo], [lo, hi - 1, hi - 1, 0]
    got = circuit_mul(a, b, p)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, a * b)
    with pytest.raises(ValueError, match=rf"^circuit_mul: a has values outside \[{lo}, {hi}\) "
                                         rf"for signed width {width} \(first: {hi}\)$"):
        circuit_mul(np.where(np.arange(a.size) == 299_999, hi, a), b, p)


def test_the_table_look_up_is_the_oracle_on_many_pairs(tmp_path):
    """The 8-bit product table through the parallel look-up (>= 2**18 pairs) and the general
    path (int32 operands, broadcast): the oracle's products."""
    c = Circuit("broken-array", 8, hbl=2, vbl=6)
    f = tmp_path / "c.v"
    f.write_text(c.verilog())
    p = CircuitMulParams(verilog=str(f), width=8)
    rng = np.random.default_rng(8)
    a, b = rng.integers(0, 256, (2, 300_000))
    np.testing.assert_array_equal(circuit_mul(a, b, p), reference(c, a, b))
    np.testing.assert_array_equal(circuit_mul(a[:1000].astype(np.int32), 200, p),
                                  reference(c, a[:1000], np.full(1000, 200)))


def test_the_file_hash_is_the_identity(tmp_path):
    f = tmp_path / "c.v"
    f.write_text(Circuit("truncated", 6, t=3).verilog())
    p = CircuitMulParams(verilog=str(f), width=6)
    assert p.sha256 == __import__("hashlib").sha256(f.read_bytes()).hexdigest()
    assert (p.top, p.ports) == ("mul6u_trunc3", "A,B,O")
    d = json.loads(p.to_json())
    assert CircuitMulParams.from_dict(d) == p
    # the same module name, other logic: another sha, another wrapper name, the old key refused
    f.write_text(Circuit("truncated", 6, t=3).verilog().replace("6'd", "6'd0+6'd", 1))
    q = CircuitMulParams(verilog=str(f), width=6)
    assert q.sha256 != p.sha256 and q.top_name != p.top_name and q != p
    with pytest.raises(ValueError, match=r"^CircuitMulParams\.sha256 must be the SHA-256 of "
                                         r"'.*c\.v' \([0-9a-f]{12}\.\.\.\), not [0-9a-f]{12}"
                                         r"\.\.\.: the file has changed$"):
        CircuitMulParams.from_dict(d)


def test_ports_are_detected_or_given(tmp_path):
    f = tmp_path / "m.v"
    f.write_text("module m(x, y, z, p);\n input [3:0] x, y;\n input [3:0] z;\n"
                 " output [7:0] p;\n assign p = x * y;\nendmodule\n")
    with pytest.raises(ValueError, match=r"^CircuitMulParams\.ports cannot be detected: m in "
                                         r"'.*m\.v' must have two 4-bit inputs and one output "
                                         r"\(inputs: x\[4\], y\[4\], z\[4\]; outputs: 1\); "
                                         r"give ports=A,B,O$"):
        CircuitMulParams(verilog=str(f), width=4)
    with pytest.raises(ValueError, match=r"^CircuitMulParams\.ports: m in '.*m\.v' has inputs "
                                         r"besides the operands \(z\); a circuit-mul is a "
                                         r"combinational A x B -> O$"):
        CircuitMulParams(verilog=str(f), width=4, ports="x,y,p")
    g = tmp_path / "g.v"    # operands in the other order than declared: b drives x
    g.write_text("module g(x, y, p);\n input [3:0] x, y;\n output [7:0] p;\n"
                 " assign p = {x, y};\nendmodule\n")
    p = CircuitMulParams(verilog=str(g), width=4, ports="y,x,p")
    assert p.port_names == ("y", "x", "p")
    assert int(circuit_mul(3, 5, p)) == (5 << 4) | 3


BAD = {
    "latch": ("  output reg [15:0] O;\n  always @* if (A[0]) O = A * B;",
              r"Netlist\.from_yosys: module 'm': cell '\w+' \(\$_DLATCH_P_\) is a latch; .*"),
    "flip-flop": ("  output reg [15:0] O;\n  always @(posedge A[0]) O <= A * B;",
                  r"Netlist\.from_yosys: module 'm': cell '\w+' \(\$_DFF_P_\) is a flip-flop; .*"),
    "loop": ("  output [15:0] O;\n  wire [15:0] t;\n  assign t = (t + 16'd1) ^ (A * B);\n"
             "  assign O = t;", r"Netlist\.from_yosys: module 'm': combinational loop .*"),
    "undriven": ("  output [15:0] O;", r"Netlist\.from_yosys: module 'm': output O\[0\] is "
                                      r"undriven"),
    "x": ("  output [15:0] O;\n  assign O = {8'bx, A & B};",
          r"Netlist\.from_yosys: module 'm': output O\[8\] is 'x' \(undefined\)"),
    "syntax": ("  output [15:0] O\n  assign O = A * B;",
               r"map_to_cells: yosys cannot map the Verilog text \(top m\): line 4: ERROR: .*"),
}


def _bad(kind: str) -> str:
    return f"module m(A, B, O);\n  input [7:0] A, B;\n{BAD[kind][0]}\nendmodule\n"


@pytest.mark.parametrize("kind", sorted(BAD))
def test_non_combinational_or_broken_circuits_are_refused_in_one_line(kind, tmp_path):
    f = tmp_path / f"{kind}.v"
    f.write_text(_bad(kind))
    with pytest.raises(ValueError, match=rf"^CircuitMulParams\.verilog '.*{kind}\.v': "
                                         rf"{BAD[kind][1]}$"):
        CircuitMulParams(verilog=str(f))


@pytest.mark.parametrize("text,kw,msg", [
    ("// no module\n", {}, r"^CircuitMulParams\.verilog '.*c\.v' must hold a Verilog module, "
                           r"not none$"),
    ("module a(A, B, O); input [7:0] A, B; output [15:0] O; assign O = A * B; endmodule\n"
     "module b(A, B, O); input [7:0] A, B; output [15:0] O; a u(A, B, O); endmodule\n", {},
     r"^CircuitMulParams\.top must name the circuit's module in '.*c\.v' \(a, b\), not empty "
     r"\(the file has 2 modules\)$"),
    ("module a(A, B, O); input [7:0] A, B; output [15:0] O; assign O = A * B; endmodule\n",
     {"top": "z"}, r"^CircuitMulParams\.top must be a module of '.*c\.v' \(a\), not 'z'$"),
    ("module a(A, B, O); input [7:0] A, B; output [7:0] O; assign O = A * B; endmodule\n", {},
     r"^CircuitMulParams\.width: output O of a in '.*c\.v' has 8 bits, not 2 x width = 16$"),
    ("module a(A, B, O); input [7:0] A, B; output [15:0] O; assign O = A * B; endmodule\n",
     {"width": 6}, r"^CircuitMulParams\.ports cannot be detected: a in '.*c\.v' must have two "
                   r"6-bit inputs and one output \(inputs: A\[8\], B\[8\]; outputs: 1\); give "
                   r"ports=A,B,O$"),
    ("module a(A, B, O); input [7:0] A, B; output [15:0] O; assign O = A * B; endmodule\n",
     {"ports": "A,A,O"}, r"^CircuitMulParams\.ports must name two different operand ports, "
                         r"not 'A,A,O'$"),
    ("module a(A, B, O); input [7:0] A, B; output [15:0] O; assign O = A * B; endmodule\n",
     {"ports": "A,O,B"}, r"^CircuitMulParams\.ports must name inputs of a \(A, B\) first, "
                         r"not 'O'$"),
    ("module circuit_mul_x(A, B, O); input [7:0] A, B; output [15:0] O; assign O = A * B; "
     "endmodule\n", {}, r"^CircuitMulParams\.verilog '.*c\.v' must not define modules named "
                        r"circuit_mul_\* \(hwsim's wrappers\), not 'circuit_mul_x'$"),
])
def test_bad_files_and_parameters_are_refused_in_one_line(text, kw, msg, tmp_path):
    f = tmp_path / "c.v"
    f.write_text(text)
    with pytest.raises(ValueError, match=msg):
        CircuitMulParams(verilog=str(f), **kw)


def test_params_refuse_wrong_kinds_and_orphan_fields(tmp_path):
    with pytest.raises(TypeError, match=r"^CircuitMulParams\.verilog must be a string, not 3$"):
        CircuitMulParams(verilog=3)
    with pytest.raises(ValueError, match=r"^CircuitMulParams\.verilog '.*nope\.v' does not "
                                         r"exist$"):
        CircuitMulParams(verilog=str(tmp_path / "nope.v"))
    with pytest.raises(ValueError, match=r"^CircuitMulParams\.top must be empty without a "
                                         r"verilog file \(hwsim's reference circuit\), not 'm'$"):
        CircuitMulParams(top="m")


@pytest.mark.parametrize("kind", ["latch", "x"])
def test_the_cli_refuses_a_bad_circuit_in_one_line_and_writes_nothing(kind, tmp_path, capsys):
    f = tmp_path / "bad.v"
    f.write_text(_bad(kind))
    out = tmp_path / "m.json"
    assert main(["characterize", "circuit-mul", "--verilog", str(f), "--json", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("hwsim: error: CircuitMulParams.verilog ") and err.count("\n") == 1
    assert sorted(x.name for x in tmp_path.iterdir()) == ["bad.v"]


def test_the_product_kernel_is_the_models_products_signed_and_in_sign_magnitude(tmp_path):
    """The graph's kernel: a signed circuit on the signed operands, an unsigned one as
    sgn(a) sgn(b) C(|a|, |b|), summed over k; against a loop over the model."""
    f = tmp_path / "c.v"
    f.write_text(Circuit("broken-array", 6, hbl=1, vbl=4).verilog())
    g = tmp_path / "g.v"
    g.write_text(Circuit("truncated", 10, t=6).verilog())
    rng = np.random.default_rng(3)
    q = rng.integers(-32, 32, (2, 3, 5))
    r = rng.integers(-32, 32, (2, 5, 4))
    q[0, 0, 0] = -32   # |-2**(N-1)| fits N unsigned bits
    wide = CircuitMulParams(verilog=str(g), width=10)     # 20 input bits: the netlist path
    for p in (CircuitMulParams(verilog=str(f), width=6), CircuitMulParams(width=6, signed=True),
              wide, CircuitMulParams(width=10, signed=True)):
        qa, qb = (q << 4, r << 4) if p.width == 10 else (q, r)
        want = np.zeros((2, 3, 4), np.int64)
        for gg in range(2):
            for i in range(3):
                for j in range(4):
                    for k in range(5):
                        x, y = int(qa[gg, i, k]), int(qb[gg, k, j])
                        if p.signed:
                            want[gg, i, j] += int(circuit_mul(x, y, p))
                        else:
                            m = int(circuit_mul(abs(x), abs(y), p))
                            want[gg, i, j] += -m if (x < 0) != (y < 0) else m
        np.testing.assert_array_equal(circuit_products(p, qa, qb), want)
    assert get_unit("circuit-mul").product_kernel() is circuit_products


def test_the_product_kernel_on_row_and_column_blocks_and_a_shared_weight(tmp_path):
    """The table kernel's tasks (4 rows of qa, 512 columns of qb: n = 7, m = 600) with one
    weight matrix broadcast along G (read once, checked once), signed and in sign-magnitude
    form, the extreme operands included; against the model's products summed in numpy."""
    f = tmp_path / "t.v"
    f.write_text(Circuit("truncated", 8, t=6).verilog())
    rng = np.random.default_rng(4)
    for p in (CircuitMulParams(verilog=str(f), width=8), CircuitMulParams(width=8, signed=True)):
        lo, hi = p.in_range if p.signed else (-255, 256)
        qa = rng.integers(lo, hi, (3, 7, 40))
        w = rng.integers(lo, hi, (1, 40, 600))
        qa[0, 0, :2], w[0, :2, 0] = (lo, hi - 1), (hi - 1, lo)
        qb = np.broadcast_to(w, (3, 40, 600))
        a, b = np.broadcast_arrays(qa[:, :, :, None], qb[:, None, :, :])
        if p.signed:
            want = circuit_mul(a, b, p).sum(axis=2)
        else:
            mag = circuit_mul(np.abs(a), np.abs(b), p).astype(np.int64)
            want = np.where((a < 0) != (b < 0), -mag, mag).sum(axis=2)
        np.testing.assert_array_equal(circuit_products(p, qa, qb), want)
        w[0, 39, 599] = hi
        kind = "signed" if p.signed else "sign-magnitude"
        with pytest.raises(ValueError, match=rf"^circuit_products: qb has values outside "
                                             rf"\[{lo}, {hi}\) for {kind} width 8 "
                                             rf"\(first: {hi}\)$"):
            circuit_products(p, qa, qb)
