"""Generated Verilog: Verilator -Wall lint, and a plain Icarus testbench without cocotb."""

import os
from concurrent.futures import ThreadPoolExecutor
import subprocess

import numpy as np
import pytest

from hwsim import MitchellDivParams, MitchellMulParams, mitchell_mul
from hwsim.attention import AttentionParams, Multiplier
from hwsim.performer import PerformerParams
from hwsim.exp import ExpBase, ExpMethod, ExpParams
from hwsim.softmax import Normalizer, SoftmaxForm, SoftmaxParams
from hwsim.cli import main
from hwsim.hdl.export import write_verilog
from hwsim.synth import SynthToolNotFound, find_tool
from hwsim.units import get_unit
from rtl import require_sim

LINT_CONFIGS = [("mitchell-mul", MitchellMulParams(width=w, signed=s, keep_bits=k, stages=st))
                for w in (2, 8, 32) for s in (False, True) for k, st in ((None, 0), (0, 3))]
LINT_CONFIGS += [("mitchell-div", MitchellDivParams(width=w, frac_bits=f, keep_bits=k, stages=st))
                 for w in (2, 8, 32) for f in (0, 32) for k, st in ((None, 2), (0, 0))]
LINT_CONFIGS += [("exp", ExpParams(method=m, base=b, stages=st))
                 for m in ExpMethod for b, st in ((ExpBase.E, 0), (ExpBase.TWO, 4))]
LINT_CONFIGS += [("softmax", SoftmaxParams(
    form=f, normalizer=n, method=ExpMethod.TAYLOR if f is SoftmaxForm.TAYLOR else ExpMethod.PWL))
    for f in SoftmaxForm for n in Normalizer]
LINT_CONFIGS += [("softmax", SoftmaxParams(out_stages=4)),
                 ("softmax", SoftmaxParams(normalizer=Normalizer.MITCHELL_DIV, out_stages=1))]
LINT_CONFIGS += [("attention", AttentionParams(multiplier=m)) for m in Multiplier]
LINT_CONFIGS += [("performer", PerformerParams())]


@pytest.fixture
def icarus():
    require_sim("icarus")


@pytest.mark.hdl
def test_verilator_lint_wall_clean(tmp_path):
    env = os.environ | require_sim("verilator")
    files = []
    for unit, params in LINT_CONFIGS:
        v, _ = write_verilog(get_unit(unit), params, tmp_path)
        files.append(v)

    def lint(v):
        return v, subprocess.run(["verilator", "--lint-only", "-Wall", str(v)],
                                 capture_output=True, text=True, env=env)

    with ThreadPoolExecutor(2) as pool:
        for v, r in pool.map(lint, files):
            assert r.returncode == 0 and r.stderr == "", f"{v.name}:\n{r.stderr}"


PLAIN_TB = """
`timescale 1ns/1ps
module tb;
  reg [7:0] a, b;
  wire [15:0] p;
  integer i, j, fd;
  mitchell_mul_u8 dut(.a(a), .b(b), .p(p));
  initial begin
    fd = $fopen("products.txt", "w");
    for (i = 0; i < 256; i = i + 1)
      for (j = 0; j < 256; j = j + 1) begin
        a = i; b = j; #1;
        $fwrite(fd, "%0d\\n", p);
      end
    $fclose(fd);
    $finish;
  end
endmodule
"""


@pytest.mark.hdl
def test_cli_verilog_in_a_plain_icarus_testbench(icarus, tmp_path, capsys):
    assert main(["verilog", "mitchell-mul", "--width", "8", "-o", str(tmp_path)]) == 0
    (tmp_path / "tb.v").write_text(PLAIN_TB)
    subprocess.run(["iverilog", "-o", "tb.vvp", "tb.v", "mitchell_mul_u8.v"], cwd=tmp_path,
                   check=True)
    subprocess.run(["vvp", "-n", "tb.vvp"], cwd=tmp_path, check=True, capture_output=True)
    rtl = np.loadtxt(tmp_path / "products.txt", dtype=np.int64)
    a, b = np.meshgrid(np.arange(256), np.arange(256), indexing="ij")
    model = mitchell_mul(a.ravel(), b.ravel(), MitchellMulParams(width=8)).astype(np.int64)
    assert rtl.size == 65536
    assert np.array_equal(rtl, model), f"{np.count_nonzero(rtl != model)} mismatches"


@pytest.mark.hdl
def test_cli_verify_exhaustive_8bit(icarus, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a relative build directory, as users type it
    code = main(["verify", "mitchell-mul", "--width", "8", "--vectors", "exhaustive",
                 "--sim", "icarus", "--build-dir", "build"])
    out = capsys.readouterr().out
    assert code == 0
    assert "mitchell_mul_u8 on icarus: 65536 vectors, 0 mismatches" in out


@pytest.mark.hdl
def test_demo_writes_report(icarus, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))  # the synthesis cache
    assert main(["demo", "-o", "out", "--sim", "icarus"]) == 0
    tmp_path = tmp_path / "out"
    report = (tmp_path / "report.md").read_text()
    assert report.count("| 65536 | 0 |") == 4  # four units, exhaustive, no mismatches
    assert report.count("| 4096 | 0 |") == 2  # two exp units, exhaustive
    assert report.count("| 1015 | 0 |") == 2  # two softmax units, corners + 1000
    assert "**NO**" not in report
    for png in ("mul_heatmap_8bit.png", "mul_error_histogram.png", "mul_error_vs_width.png",
                "exp_relative_error.png", "softmax_lut_sweep.png", "performer_kernel_error.png"):
        assert (tmp_path / png).stat().st_size > 10_000
    try:
        find_tool("yosys")
    except SynthToolNotFound:
        assert "## Cost (iCE40)\n\nSkipped: yosys not found" in report
    else:
        png = "mul_pareto.png"
        assert (tmp_path / png).stat().st_size > 10_000


@pytest.mark.hdl
def test_cli_verify_softmax_length_8(icarus, tmp_path, capsys):
    code = main(["verify", "softmax", "--length", "8", "--vectors", "300", "--sim", "icarus",
                 "--build-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "softmax_two_pass_l8_exp_lut6_div_q4_4_uq1_15 on icarus: 315 vectors, 0 mismatches" in out


@pytest.mark.hdl
def test_cli_verify_batched(icarus, tmp_path, capsys):
    code = main(["verify", "mitchell-div", "--width", "6", "--frac-bits", "4", "--stages", "2",
                 "--batched", "--sim", "icarus", "--build-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "mitchell_div_u6_f4_p2 on icarus-batched: 4096 vectors, 0 mismatches" in out


def _variants(value):
    """A few other values of a Params field's kind (some may be invalid for the unit)."""
    import enum

    from hwsim.fixed import FixedFormat
    if isinstance(value, bool):
        return [not value]
    if isinstance(value, int):
        return [value + 1, value - 1, value + 2]
    if value is None:
        return [0, 1, 2]
    if isinstance(value, enum.Enum):
        return [m for m in type(value) if m is not value]
    if isinstance(value, FixedFormat):
        return [FixedFormat(value.int_bits + 1, value.frac_bits, value.signed),
                FixedFormat(value.int_bits, value.frac_bits + 1, value.signed)]
    return []


@pytest.mark.parametrize("unit", ["mitchell-mul", "mitchell-div", "exp", "softmax", "attention",
                                  "performer"])
def test_every_parameter_changes_the_module_name(unit, tmp_path):
    """Two configurations never write the same Verilog file / module name unless their
    hardware is the same: each valid one-field change of the defaults gives a new top name,
    or (a field the configuration ignores, e.g. the Taylor order of a LUT exp) the very same
    Verilog."""
    import dataclasses
    spec = get_unit(unit)
    base = spec.params()
    seen = {base.top_name: base}
    for f in dataclasses.fields(base):
        for v in _variants(getattr(base, f.name)):
            try:
                p = dataclasses.replace(base, **{f.name: v})
            except (TypeError, ValueError):
                continue
            other = seen.setdefault(p.top_name, p)
            if other is not p:
                a, _ = write_verilog(spec, other, tmp_path / "a")
                b, _ = write_verilog(spec, p, tmp_path / "b")
                body = [x.read_text().split("\n", 1)[1] for x in (a, b)]  # after the params line
                assert body[0] == body[1], (
                    f"{f.name}={v!r} gives {p.top_name}, the name of a different design")
