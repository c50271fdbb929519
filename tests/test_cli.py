"""The hwsim command: usage errors, exit codes, files written."""

import json
import shutil
import subprocess
import sys

import pytest

from hwsim.cli import main
from hwsim.reports.demo import published_facts
from hwsim.units import REGISTRY


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_units_lists_parameters(capsys):
    code, out, _ = run(capsys, "units")
    assert code == 0
    assert "mitchell-mul" in out and "mitchell-div" in out and "--keep-bits" in out


def test_verilog_writes_module_and_sidecar(capsys, tmp_path):
    code, out, _ = run(capsys, "verilog", "mitchell-mul", "--width", "8", "-o", str(tmp_path))
    assert code == 0
    text = (tmp_path / "mitchell_mul_u8.v").read_text()
    assert "module mitchell_mul_u8(" in text
    side = json.loads((tmp_path / "mitchell_mul_u8.json").read_text())
    assert side["params"] == {"width": 8, "signed": False, "keep_bits": None, "stages": 0}
    assert {k: (v["dir"], v["width"]) for k, v in side["ports"].items()} == {
        "a": ("in", 8), "b": ("in", 8), "p": ("out", 16)}


@pytest.mark.parametrize("argv,msg", [
    (["verify", "mitchell-mul", "--width", "0"],
     "hwsim: error: MitchellMulParams.width must be an integer in 2..32, not 0\n"),
    (["verilog", "mitchell-div", "--signed"],
     "hwsim: error: mitchell-div has no parameter --signed (its parameters: --frac-bits, "
     "--keep-bits, --stages, --width)\n"),
    (["verify", "adder"], f"hwsim: error: unknown unit 'adder' (units: {', '.join(REGISTRY)})\n"),
    (["verify", "mitchell-mul", "--width", "16", "--vectors", "exhaustive"],
     "hwsim: error: --vectors exhaustive is limited to 24 input bits, and mitchell_mul_u16 has "
     "32; give a count such as --vectors 1000000\n"),
    (["verify", "mitchell-mul", "--vectors", "lots"],
     "hwsim: error: --vectors must be 'exhaustive' or a count, not 'lots'\n"),
    (["characterize", "mitchell-mul", "--width", "20", "--exhaustive"],
     "hwsim: error: --exhaustive is limited to 32 input bits, and mitchell_mul_u20 has 40; "
     "use --samples COUNT\n"),
    (["characterize", "mitchell-mul", "--keep-bits", "9"],
     "hwsim: error: MitchellMulParams.keep_bits must be None or an integer in 0..6, not 9\n"),
    (["verify", "exp", "--in-fmt", "4.8"],
     "hwsim: error: --in-fmt: FixedFormat.parse: expected Q<int>.<frac> or UQ<int>.<frac> "
     "(e.g. Q4.8, UQ1.15), not '4.8'\n"),
    (["verify", "exp", "--method", "cordic"],
     "hwsim: error: --method must be one of lut, pwl, mitchell, ibert, taylor, not 'cordic'\n"),
    (["verify", "exp", "--lut-bits", "six"], "hwsim: error: --lut-bits must be an integer, not 'six'\n"),
    (["characterize", "exp", "--method", "taylor", "--order", "5"],
     "hwsim: error: ExpParams.order must be even (2, 4, 6 or 8): odd-order Taylor polynomials "
     "of exp go negative, not 5\n"),
    (["verify", "softmax", "--length", "0"],
     "hwsim: error: SoftmaxParams.length must be an integer in 1..64, not 0\n"),
    (["verify", "softmax", "--length", "64", "--out-fmt", "UQ0.6"],
     "hwsim: error: SoftmaxParams.out_fmt UQ0.6 is too narrow for length 64: 1/64 needs "
     "frac_bits >= 7 to be at least 2 LSBs\n"),
    (["verify", "softmax", "--vectors", "exhaustive"],
     "hwsim: error: softmax has no exhaustive mode (each vector is a whole stream); give "
     "--vectors COUNT (default 20000)\n"),
    (["characterize", "softmax", "--exhaustive"],
     "hwsim: error: softmax has no exhaustive mode; give --samples COUNT (vectors per input "
     "distribution)\n"),
    (["verify", "softmax", "--width", "8"],
     "hwsim: error: softmax has no parameter --width (its parameters: --base, --form, --in-fmt, "
     "--length, --lut-bits, --method, --normalizer, --order, --out-fmt, --recip-bits, "
     "--segments, --stages, --streaming)\n"),
    # devices would be read for ever: refused before any read
    (["run", "/dev/zero", "--data", "/dev/zero"],
     "hwsim: error: MODEL '/dev/zero' must be a file, not a device\n"),
    (["sweep", "/dev/urandom"], "hwsim: error: /dev/urandom: is a device, not a sweep file (TOML)\n"),
])
def test_usage_errors_are_one_line_exit_2(capsys, argv, msg):
    code, out, err = run(capsys, *argv)
    assert code == 2 and err == msg and "Traceback" not in err


def test_characterize_json(capsys, tmp_path):
    path = tmp_path / "c.json"
    code, out, _ = run(capsys, "characterize", "mitchell-mul", "--width", "6", "--json", str(path))
    assert code == 0 and "exhaustive over 4096 inputs" in out
    data = json.loads(path.read_text())
    assert data["mode"] == "exhaustive" and data["metrics"]["n"] == 4096
    assert data["metrics"]["max_red"] == pytest.approx(1 / 9, rel=1e-12)


def test_console_script_exit_code_for_bad_usage():
    exe = shutil.which("hwsim")
    cmd = [exe] if exe else [sys.executable, "-m", "hwsim.cli"]
    r = subprocess.run(cmd + ["verify", "mitchell-mul", "--width", "40"], capture_output=True, text=True)
    assert r.returncode == 2
    assert r.stderr.strip() == "hwsim: error: MitchellMulParams.width must be an integer in 2..32, not 40"


def test_characterize_exp_and_softmax(capsys, tmp_path):
    code, out, _ = run(capsys, "characterize", "exp", "--method", "mitchell", "--base", "2")
    assert code == 0 and "exp2_mitchell_q4_8_uq12_12: exhaustive over 4096 inputs" in out
    path = tmp_path / "s.json"
    code, out, _ = run(capsys, "characterize", "softmax", "--samples", "300", "--json", str(path))
    assert code == 0 and "1500 vectors of 8 logits" in out
    data = json.loads(path.read_text())
    assert set(data["distributions"]) == {"uniform", "normal s=0.5", "normal s=1",
                                          "normal s=2", "normal s=4", "all"}
    overall = data["distributions"]["all"]
    assert 1 - 8 * 2 ** -15 <= overall["sum_min"] <= overall["sum_max"] <= 1.0


def test_published_facts_all_hold():
    facts = published_facts()
    assert len(facts) == 4  # the Mitchell facts; Taylor facts: tests/test_exp_model.py
    for fact, expected, measured, holds in facts:
        assert holds, f"{fact}: expected {expected}, measured {measured}"


def test_every_unit_parameter_is_its_own_option():
    """Each Params field of each unit parses into that field (a field named like a command
    option, e.g. seed, would be shadowed), and the Params built from the parsed defaults
    equal the class defaults."""
    import dataclasses
    import enum

    from hwsim.cli import build_parser
    from hwsim.cli.options import option_name, params_from_args
    from hwsim.units import REGISTRY
    parser = build_parser()
    for cmd in ("verilog", "verify", "characterize", "synth"):
        for spec in REGISTRY.values():
            argv = [cmd, spec.name]
            for f in dataclasses.fields(spec.params_cls):
                d = f.default
                if isinstance(d, bool):
                    argv.append(option_name(f.name) if d else "--no-" + option_name(f.name)[2:])
                elif d is not None:
                    argv += [option_name(f.name), str(d.value if isinstance(d, enum.Enum) else d)]
            args = parser.parse_args(argv)
            assert args.unit == spec.name
            for f in dataclasses.fields(spec.params_cls):
                assert getattr(args, f"param_{f.name}") == f.default, (cmd, spec.name, f.name)
            assert params_from_args(spec.params_cls, args) == spec.params_cls()


def test_prove_cli_proves_and_rejects_a_mutant(capsys, tmp_path):
    from rtl import require_prover
    require_prover()     # skips on a user's machine without z3 / yosys; fails under CI=true
    code, out, _ = run(capsys, "prove", "mitchell-mul", "--width", "6")
    assert code == 0 and out.startswith("proved: mitchell-mul mitchell_mul_u6")
    code, out, _ = run(capsys, "verilog", "mitchell-mul", "--width", "6", "-o", str(tmp_path))
    v = tmp_path / "mitchell_mul_u6.v"
    text = v.read_text()
    mutant = text.replace(" + ", " - ", 1)
    assert mutant != text
    v.write_text(mutant)
    code, out, _ = run(capsys, "prove", "mitchell-mul", "--width", "6", "--verilog", str(v),
                       "--no-replay")
    assert code == 1 and out.startswith("counterexample: mitchell-mul") and "inputs: a=" in out


def test_a_closed_pipe_is_not_an_error():
    """``hwsim units | head -1``: the reader leaves early; no error line, no traceback."""
    import subprocess
    p = subprocess.Popen([sys.executable, "-m", "hwsim.cli", "units"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    p.stdout.close()     # before hwsim writes: its first write meets a closed pipe
    err = p.stderr.read()
    assert p.wait() == 141 and err == b""
