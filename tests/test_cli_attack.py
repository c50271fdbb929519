"""Files a careless or hostile user points the new CLI surfaces at: each is refused in one
line (exit 2), never a traceback. Each case here was a traceback or a misleading message."""

import zipfile

import numpy as np
import pytest

from hwsim.cli import main
from hwsim.eval import stdcell


def _synth_stream(path) -> list[str]:
    return ["synth", "mitchell-mul", "--width", "8", "--target", "osu018", "--db", "none",
            "--stream", str(path)]


def _members(path, **members):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


@pytest.mark.parametrize("make, message", [
    # a .npy (one array) named .npz: np.load returns an array, not a context manager
    (lambda p: np.save(open(p, "wb"), np.arange(5)),
     "is a .npy file (one array); give a .npz file with arrays a, b"),
    # a zip whose members are not .npy arrays: np.load hands back their bytes
    (lambda p: _members(p, **{"a.npy": "garbage", "b.npy": "garbage"}),
     "member a is not a .npy array"),
    (lambda p: _members(p, a="x", b="y"),
     "member a is not a .npy array"),
    # not a zip at all: numpy's reason ('pickled (object) data') misleads
    (lambda p: open(p, "w").write("not a zip"), "not a .npz file (no zip archive)"),
    (lambda p: open(p, "wb").write(b""), "not a .npz file (no zip archive)"),
])
def test_stream_file_not_npz(tmp_path, capsys, monkeypatch, make, message):
    monkeypatch.setattr(stdcell, "cell_cost", lambda *a, **k: pytest.fail("no tool may run"))
    path = tmp_path / "s.npz"
    make(path)
    assert main(_synth_stream(path)) == 2
    err = capsys.readouterr().err
    assert err == f"hwsim: error: --stream {str(path)!r}: {message}\n"


def test_stream_empty_name(capsys, monkeypatch, tmp_path):
    """--stream '' is not the current directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(stdcell, "cell_cost", lambda *a, **k: pytest.fail("no tool may run"))
    assert main(_synth_stream("")) == 2
    assert capsys.readouterr().err == ("hwsim: error: --stream '': no such file (give uniform, "
                                       "small or a .npz file)\n")


# -- a user's circuit named in hwsim run's --assign is an input -------------------------------

CIRCUIT = ("module m(input [7:0] a, input [7:0] b, output [15:0] p); assign p = a * b; "
           "endmodule\n")


def _matmul_model(tmp_path):
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from onnx import TensorProto, helper, numpy_helper
    w = numpy_helper.from_array(np.eye(4, 3, dtype=np.float32), "w")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 3])],
                          [w])
    model = tmp_path / "m.onnx"
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), model)
    data = tmp_path / "d.npz"
    np.savez(data, x=np.random.default_rng(0).standard_normal((4, 4)).astype(np.float32))
    return model, data


@pytest.mark.parametrize("how", ["same", "symlink", "hardlink", "report"])
def test_run_never_writes_over_the_circuit_its_assignment_names(tmp_path, capsys, monkeypatch,
                                                                 how):
    model, data = _matmul_model(tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mul.v").write_text(CIRCUIT)
    (tmp_path / "a.toml").write_text('[[assign]]\nop = "MatMul"\nunit = "circuit-mul"\n'
                                     'verilog = "mul.v"\nwidth = 8\n')
    out = ["--json", "mul.v"]
    if how == "symlink":
        (tmp_path / "r.json").symlink_to("mul.v")
        out = ["--json", "r.json"]
    elif how == "hardlink":
        (tmp_path / "r.json").hardlink_to(tmp_path / "mul.v")
        out = ["--json", "r.json"]
    elif how == "report":
        (tmp_path / "o").mkdir()
        (tmp_path / "o" / "report.md").hardlink_to(tmp_path / "mul.v")
        out = ["-o", "o"]
    code = main(["run", str(model), "--data", str(data), "--assign", "a.toml",
                 "--no-attribution", *out])
    err = capsys.readouterr().err
    assert (tmp_path / "mul.v").read_text() == CIRCUIT
    assert code == 2
    assert err.startswith("hwsim: error: ") and err.count("\n") == 1
    assert "--assign a.toml assign[0].verilog file" in err


@pytest.mark.parametrize("out", [["--json", "mul.v"], ["-o", "o"]])
def test_explore_never_writes_over_the_circuit_its_configuration_names(tmp_path, capsys,
                                                                       monkeypatch, out):
    from hwsim.cli import explore
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(explore, "cmd_explore", lambda args: pytest.fail("the work started"))
    (tmp_path / "mul.v").write_text(CIRCUIT)
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "best.toml").symlink_to(tmp_path / "mul.v")
    (tmp_path / "x.toml").write_text(
        '[workload]\nbuiltin = "digits"\n[[group]]\nname = "all"\nop = "MatMul"\n'
        '[[group.choice]]\nunit = "circuit-mul"\nverilog = "mul.v"\nwidth = 8\n'
        '[constraint]\nmetric = "accuracy"\nmax_drop = 1\n')
    code = main(["explore", "x.toml", "--db", "none", *out])
    err = capsys.readouterr().err
    assert (tmp_path / "mul.v").read_text() == CIRCUIT
    assert code == 2
    assert err.startswith("hwsim: error: ") and err.count("\n") == 1
    assert "CONFIG group[0].choice[0].verilog file" in err


def test_rtl_outputs_with_x_bits_are_mismatches():
    """A simulator's text for X bits (a user's circuit driving 'bx) is a mismatch with an
    example, not a crash of the bench ('Can't convert LogicArray to int')."""
    from hwsim.sim.compare import compare_outputs
    vec = {"a": np.array([1, 2, 3]), "b": np.array([1, 1, 1])}
    ports = {"a": {"dir": "in", "width": 4, "signed": True},
             "b": {"dir": "in", "width": 4, "signed": True},
             "p": {"dir": "out", "width": 8, "signed": True}}
    want = {"p": np.array([1, 2, -3])}
    assert compare_outputs({"p": [1, 2, 253]}, want, ports, vec) == (0, [])
    n, examples = compare_outputs({"p": [1, "0000xx10", 253]}, want, ports, vec)
    assert n == 1
    assert examples == [{"a": 2, "b": 1, "rtl_p": "0000xx10", "model_p": 2}]
    n, _ = compare_outputs({"p": [1, 2, 252]}, want, ports, vec)
    assert n == 1


def test_ctrl_c_while_the_parser_is_built_is_one_line(capsys, monkeypatch):
    """Ctrl-C in the first second (the parser reads every unit's options) printed
    KeyboardInterrupt's traceback; now 'hwsim: interrupted', exit 130, as later on."""
    from hwsim import cli

    def interrupted(*a):
        raise KeyboardInterrupt
    monkeypatch.setattr(cli, "_parser", interrupted)
    assert main(["units"]) == 130
    assert capsys.readouterr().err == "hwsim: interrupted\n"


@pytest.mark.parametrize("argv, message", [
    (["exact", "--width", "x", "-o", "e.v"], "argument --width: invalid int value: 'x'"),
    (["bogus", "-o", "e.v"], "argument kind: invalid choice: 'bogus' (choose from 'exact', "
                             "'broken-array', 'truncated')"),
    (["exact"], "the following arguments are required: -o/--output"),
    (["exact", "-o", ""], "-o/--output must be a file name, not ''"),
])
def test_circuits_command_refuses_in_one_line(tmp_path, capsys, monkeypatch, argv, message):
    """python -m hwsim.circuits: argparse's usage block made its errors three lines; -o ''
    read as the current directory."""
    from hwsim.circuits import main as circuits_main
    monkeypatch.chdir(tmp_path)
    try:
        code = circuits_main(argv)
    except SystemExit as e:
        code = e.code
    assert code == 2
    assert capsys.readouterr().err == f"python -m hwsim.circuits: error: {message}\n"
    assert list(tmp_path.iterdir()) == []


def test_circuit_sha256_spellings(tmp_path):
    """--sha256 as sha256sum prints it in capitals was 'the file has changed'; so was a
    value that is no SHA-256 at all ('abc', a leading space)."""
    import hashlib

    from hwsim.circuit_mul import CircuitMulParams
    f = tmp_path / "m.v"
    f.write_text(CIRCUIT)
    digest = hashlib.sha256(f.read_bytes()).hexdigest()
    p = CircuitMulParams(verilog=str(f), sha256=digest.upper())
    assert p.sha256 == digest and p == CircuitMulParams(verilog=str(f))
    for bad in ("abc", " " + digest, digest + "0", "g" * 64):
        with pytest.raises(ValueError, match=r"^CircuitMulParams\.sha256 must be 64 hexadecimal "
                                             r"digits \(the file's SHA-256, as sha256sum prints "
                                             r"it\), not '.*'$"):
            CircuitMulParams(verilog=str(f), sha256=bad)
    with pytest.raises(ValueError, match=r"the file has changed$"):
        CircuitMulParams(verilog=str(f), sha256="0" * 64)


@pytest.mark.parametrize("victim", ["a.v", "b.v"])
def test_sweep_never_writes_over_a_file_of_its_grid(tmp_path, capsys, monkeypatch, victim):
    """A grid axis of files (verilog = ["a.v", "b.v"]): only the last one was an input, so
    results.csv linked to a.v wrote the CSV into the user's Verilog."""
    from hwsim.cli import sweep
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sweep, "cmd_sweep", lambda args: pytest.fail("the work started"))
    for name in ("a.v", "b.v"):
        (tmp_path / name).write_text(CIRCUIT)
    (tmp_path / "sw.toml").write_text('study = "unit-error"\n[fixed]\nunit = "circuit-mul"\n'
                                      'samples = 100\n[grid]\nverilog = ["a.v", "b.v"]\n')
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "results.csv").symlink_to(tmp_path / victim)
    assert main(["sweep", "sw.toml", "-o", "o"]) == 2
    err = capsys.readouterr().err
    assert (tmp_path / victim).read_text() == CIRCUIT
    assert err.startswith("hwsim: error: -o/--output 'o/results.csv' is the sweep's verilog")
    assert err.count("\n") == 1


def test_front_refuses_a_stream_before_any_unit_is_priced(tmp_path, capsys, monkeypatch):
    """--widths 8,4 with operands up to 200: valid at 8 bits, refused at 4 only after every
    8-bit unit had been synthesised and priced (minutes); now before the first."""
    from hwsim.eval import stdcell, synth
    from hwsim.eval.targets import CostTarget
    monkeypatch.setattr(stdcell, "cell_cost", lambda *a, **k: pytest.fail("a unit was priced"))
    monkeypatch.setattr(synth, "synthesize", lambda *a, **k: pytest.fail("a unit was priced"))
    monkeypatch.setattr(stdcell, "find_tool", lambda *a, **k: "yosys")
    monkeypatch.setattr(stdcell, "find_sta", lambda *a, **k: "sta")
    monkeypatch.setattr(CostTarget, "library_path", lambda self: None)
    np.savez(tmp_path / "s.npz", a=np.array([3, 200]), b=np.array([5, 7]))
    assert main(["front", "--target", "osu018", "--widths", "8,4", "--stream",
                 str(tmp_path / "s.npz"), "--db", "none", "-o", str(tmp_path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err[-1].startswith(f"hwsim: error: --stream {str(tmp_path / 's.npz')!r}: ")
    assert "outside [0, 16) for width 4 (first: 200)" in err[-1]
    assert not (tmp_path / "multiplier_front.png").exists()


def test_characterize_never_prints_nan(tmp_path, capsys):
    """A stream whose exact products are all 0 has no MRED (and no % of the largest |exact|):
    the table printed 'nan' in four columns; the JSON already had null."""
    np.savez(tmp_path / "z.npz", a=np.zeros(5, int), b=np.arange(5))
    assert main(["characterize", "mitchell-mul", "--width", "4", "--stream",
                 str(tmp_path / "z.npz")]) == 0
    out = capsys.readouterr().out
    (row,) = [ln for ln in out.splitlines() if "z.npz)" in ln]
    assert "nan" not in out.lower()
    assert row.split(" | ")[-4:] == ["-", "-", "-", "- |"]


def test_circuits_command_write_failure_is_one_line(tmp_path, capsys, monkeypatch):
    """A write that fails after the checks (a full disk; /proc as root) was a traceback."""
    import hwsim.paths
    from hwsim.circuits import main as circuits_main

    def full(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(hwsim.paths, "replace_text", full)
    assert circuits_main(["exact", "-o", str(tmp_path / "e.v")]) == 1
    assert capsys.readouterr().err == (f"python -m hwsim.circuits: error: -o/--output "
                                       f"{str(tmp_path / 'e.v')!r} cannot be written (No space "
                                       f"left on device)\n")
    assert list(tmp_path.iterdir()) == []


def test_front_widths_named_twice(capsys, tmp_path):
    """--widths 4,4 priced and listed every 4-bit unit twice (22 rows for 11 units)."""
    assert main(["front", "--widths", "4,4", "--db", "none", "-o", str(tmp_path)]) == 2
    assert capsys.readouterr().err == ("hwsim: error: --widths must name each width once, not "
                                       "'4,4'\n")


def test_run_json_named_like_a_capture_file_is_refused(tmp_path, capsys, monkeypatch):
    """--json DIR/mm.npz with --capture DIR: the JSON was written, then replaced by node mm's
    capture (exit 0, the JSON gone)."""
    model, data = _matmul_model(tmp_path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a.toml").write_text('[[assign]]\nop = "MatMul"\nunit = "exact-mul"\n')
    (tmp_path / "cap").mkdir()
    assert main(["run", str(model), "--data", str(data), "--assign", "a.toml",
                 "--no-attribution", "--capture", "cap", "--json", "cap/mm.npz"]) == 2
    assert capsys.readouterr().err == ("hwsim: error: --json 'cap/mm.npz' is named like the "
                                       "--capture files (*.npz) hwsim writes in 'cap'; give "
                                       "another file name\n")
    assert list((tmp_path / "cap").iterdir()) == []


def test_a_json_that_cannot_be_written_after_the_work_is_exit_1(tmp_path, capsys, monkeypatch):
    """--json checked before the work, failing at the write (a full disk): a failure after
    valid input, exit 1 (was 2, bad usage)."""
    from hwsim.cli import common

    def full(*a, **k):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(common, "replace_text", full)
    out = tmp_path / "c.json"
    assert main(["characterize", "mitchell-mul", "--width", "4", "--json", str(out)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[-1] == (f"hwsim: error: {out}: --json cannot be written (No space left on "
                       f"device)")
    assert not out.exists()


def test_run_data_member_that_is_not_an_array(tmp_path, capsys):
    """A zip whose member x.npy holds no .npy header: numpy hands back its bytes, which run
    refused as 'an array of |S7 does not cast to float32'."""
    model, _ = _matmul_model(tmp_path)
    data = tmp_path / "d.npz"
    _members(data, **{"x.npy": "garbage"})
    assert main(["run", str(model), "--data", str(data), "--no-attribution"]) == 2
    assert capsys.readouterr().err == (f"hwsim: error: --data: {data}: member x is not a .npy "
                                       f"array\n")


def test_circuit_from_a_pipe_is_refused(tmp_path):
    """--verilog FIFO blocked for ever (no writer); --verilog /dev/stdin read the pipe once
    and then said 'must hold a Verilog module, not none'."""
    import os

    from hwsim.circuit_mul import CircuitMulParams
    fifo = tmp_path / "v.fifo"
    os.mkfifo(fifo)
    with pytest.raises(ValueError, match=r"^CircuitMulParams\.verilog '.*v\.fifo' must be a "
                                         r"regular file \(hwsim reads it again for each "
                                         r"tool\), not a pipe$"):
        CircuitMulParams(verilog=str(fifo))
