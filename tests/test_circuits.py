"""hwsim.circuits: the reference circuits' oracle and correction constants from first
principles, their Verilog's shape, and ``python -m hwsim.circuits`` (writes one circuit, never
replaces a file, one-line refusals)."""

import numpy as np
import pytest

from hwsim.circuits import Circuit, main, reference


def _grid(n):
    a, b = np.meshgrid(np.arange(1 << n), np.arange(1 << n), indexing="ij")
    return a.ravel(), b.ravel()


@pytest.mark.parametrize("width,t", [(6, 3), (8, 5), (8, 8)])
def test_truncation_drops_the_low_columns_and_adds_their_mean_rounded(width, t):
    c = Circuit("truncated", width, t=t)
    a, b = _grid(width)
    exact = a * b
    dropped = sum(((a >> i) & (b >> j) & 1) << (i + j)
                  for i in range(width) for j in range(width) if i + j < t)
    mean = dropped.mean()          # uniform operands: the constant is this, to a multiple of 2**t
    assert c.correction == int(np.floor(mean / 2 ** t + 0.5)) * 2 ** t
    want = (exact - dropped + c.correction) % (1 << (2 * width))
    np.testing.assert_array_equal(reference(c, a, b).astype(np.int64), want)
    assert (reference(c, a, b) % np.uint64(1 << t) == 0).all()   # the t low bits are 0


def test_broken_array_drops_rows_and_columns():
    c = Circuit("broken-array", 6, hbl=2, vbl=5)
    a, b = _grid(6)
    kept = sum(((a >> i) & (b >> j) & 1) << (i + j)
               for i in range(6) for j in range(2, 6) if i + j >= 5)
    np.testing.assert_array_equal(reference(c, a, b).astype(np.int64), kept)
    assert (reference(c, a, b).astype(np.int64) <= a * b).all()
    full = Circuit("broken-array", 6)
    np.testing.assert_array_equal(reference(full, a, b).astype(np.int64), a * b)


def test_verilog_shape():
    text = Circuit("broken-array", 8, hbl=2, vbl=6).verilog()
    assert "module mul8u_bam_h2_v6 (A, B, O);" in text and text.count("endmodule") == 1
    assert "wire [15:0] r0" not in text and "wire [15:0] r2" in text   # rows j < hbl left out
    assert "input signed [7:0] A;" in Circuit("exact", 8, signed=True).verilog()


@pytest.mark.parametrize("kw,msg", [
    ({"kind": "wallace"}, r"^Circuit\.kind must be one of exact, broken-array, truncated, "
                          r"not 'wallace'$"),
    ({"kind": "truncated", "t": 9}, r"^Circuit\.t must be an integer in 0\.\.8, not 9$"),
    ({"kind": "truncated", "hbl": 1}, r"^Circuit\.hbl must be 0 for a truncated circuit, "
                                      r"not 1$"),
    ({"kind": "broken-array", "signed": True}, r"^Circuit\.signed must be False for a "
                                               r"broken-array circuit \(unsigned only\), not True$"),
])
def test_bad_knobs_are_refused_in_one_line(kw, msg):
    with pytest.raises(ValueError, match=msg):
        Circuit(**kw)


def test_the_command_writes_a_circuit_and_never_replaces_a_file(tmp_path, capsys):
    out = tmp_path / "t.v"
    assert main(["truncated", "--width", "8", "--t", "4", "-o", str(out)]) == 0
    assert out.read_text() == Circuit("truncated", 8, t=4).verilog()
    assert capsys.readouterr().out.startswith(f"wrote {out}: module mul8u_trunc4 ")
    out.write_text("mine")
    assert main(["exact", "-o", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"python -m hwsim.circuits: error: -o/--output {str(out)!r} exists; hwsim "
                   f"does not replace it\n")
    assert out.read_text() == "mine"
    assert main(["broken-array", "--vbl", "99", "-o", str(tmp_path / "x.v")]) == 2
    assert "Circuit.vbl must be an integer in 0..15, not 99" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t.v"]
