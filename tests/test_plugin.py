"""A multiplier family registered from outside hwsim reaches every layer through the
registry alone.

``tests/plugin/`` holds a toy unit, ``trunc-mul`` (operands with their low ``t`` bits
cleared, multiplied exactly), as a user would write one: its model and registry entry, its
Amaranth component and its cocotb bench, loaded through ``HWSIM_PLUGINS``. No file of hwsim
names it; these tests show it in ``hwsim units``, ``characterize``, ``verify``, ``synth``,
the front, ``hwsim run --assign``, an explore group and ``prove``.
"""

import importlib
import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest

from hwsim.cli import main
from rtl import require_module, require_prover, require_sim, skip_unless_ci

PLUGIN_DIR = Path(__file__).resolve().parent / "plugin"

pytestmark = pytest.mark.xdist_group("plugin")


@pytest.fixture
def plugin(monkeypatch):
    """The plug-in registered in this process and named to subprocesses (the simulators'
    Python imports it from ``HWSIM_PLUGINS``); removed again afterwards."""
    from hwsim import units
    monkeypatch.syspath_prepend(str(PLUGIN_DIR))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(
        [str(PLUGIN_DIR)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
    monkeypatch.setenv(units.PLUGINS_ENV, "trunc_mul")
    sys.modules.pop("trunc_mul", None)
    mod = importlib.import_module("trunc_mul")
    yield mod
    units.unregister("trunc-mul")
    sys.modules.pop("trunc_mul", None)


def test_the_plugin_is_listed_and_characterised(plugin, tmp_path, capsys):
    assert main(["units"]) == 0
    assert "trunc-mul      toy plug-in" in capsys.readouterr().out
    out = tmp_path / "c.json"
    assert main(["characterize", "trunc-mul", "--width", "6", "--t", "2", "--json", str(out)]) == 0
    got = json.loads(out.read_text())["metrics"]
    a, b = np.meshgrid(np.arange(64), np.arange(64))
    exact = a * b
    approx = (a & ~3) * (b & ~3)
    keep = exact != 0
    mred = np.mean(np.abs(approx - exact)[keep] / exact[keep])
    assert got["mred"] == pytest.approx(mred, rel=1e-12) and got["mred"] > 0.1


def test_a_bad_plugin_is_one_warning_line(tmp_path):
    import subprocess
    env = dict(os.environ, HWSIM_PLUGINS="no_such_plugin_module")
    r = subprocess.run([sys.executable, "-c", "import hwsim.units as u; print(len(u.REGISTRY))"],
                       env=env, capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0
    assert r.stderr == ("hwsim: warning: HWSIM_PLUGINS: plug-in 'no_such_plugin_module' was not "
                        "loaded (ModuleNotFoundError: No module named 'no_such_plugin_module')\n")


def test_registering_twice_is_refused(plugin):
    from hwsim.units import register
    with pytest.raises(ValueError, match=r"^register: a unit named 'trunc-mul' is registered "
                                         r"already$"):
        register(plugin.SPEC)


@pytest.mark.hdl
def test_the_plugin_is_verified_in_icarus(plugin, capsys):
    require_sim("icarus")
    assert main(["verify", "trunc-mul", "--width", "5", "--t", "1", "--sim", "icarus"]) == 0
    assert "trunc_mul_u5_t1 on icarus: 1024 vectors, 0 mismatches" in capsys.readouterr().out


def test_the_plugin_is_proved_and_a_wrong_spec_is_refuted(plugin, capsys, monkeypatch):
    require_prover()
    assert main(["prove", "trunc-mul", "--width", "6"]) == 0
    assert "proved: trunc-mul trunc_mul_u6_t2 == specification" in capsys.readouterr().out
    # the proof reads the registry's spec: a wrong one (t ignored) is refuted
    monkeypatch.setattr(plugin, "formal_spec", lambda z3, p, i: {
        "p": z3.ZeroExt(p.width, i["a"]) * z3.ZeroExt(p.width, i["b"])})
    assert main(["prove", "trunc-mul", "--width", "6", "--no-replay"]) == 1
    assert "!= specification" in capsys.readouterr().out


def _yosys():
    from hwsim.eval.synth import SynthToolNotFound, find_tool
    try:
        find_tool("yosys")
    except SynthToolNotFound as e:
        skip_unless_ci(str(e))


@pytest.mark.hdl
def test_the_plugin_is_synthesised_and_on_the_front(plugin, tmp_path, monkeypatch, capsys):
    _yosys()
    from hwsim import units
    from hwsim.reports import cost as cost_report
    db = str(tmp_path / "db.sqlite")
    out = tmp_path / "s.json"
    assert main(["synth", "trunc-mul", "--width", "6", "--no-fmax", "--db", db,
                 "--json", str(out)]) == 0
    unit, exact = json.loads(out.read_text())
    assert 0 < unit["lut4"] < exact["lut4"]
    monkeypatch.setattr(cost_report, "FRONT_WIDTHS", (4,))
    monkeypatch.setattr(units, "FRONT_KEEP", (None,))
    monkeypatch.setattr(units, "FRONT_DRUM_K", (3,))
    monkeypatch.setattr(units, "FRONT_REALM", ((2, 1, 1),))
    front = tmp_path / "front.json"
    capsys.readouterr()
    assert main(["front", "--json", str(front), "-o", str(tmp_path), "--db", db]) == 0
    pts = [p for p in json.loads(front.read_text()) if p["unit"] == "trunc-mul"]
    assert [p["params"]["t"] for p in pts] == [1, 2]
    assert all(p["lut4"] > 0 and p["mred"] > 0 for p in pts)
    assert "| trunc-mul | 4 | 1 |" in capsys.readouterr().out


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    require_module("skl2onnx", "ml")
    from hwsim.explore.workloads import write_digits
    return write_digits(tmp_path_factory.mktemp("digits"))


def _run(tmp_path, model, data, rule: str, name: str) -> dict:
    assign = tmp_path / f"{name}.toml"
    assign.write_text(f'[[assign]]\nop = "MatMul"\n{rule}\n')
    out = tmp_path / f"{name}.json"
    assert main(["run", str(model), "--data", str(data), "--assign", str(assign),
                 "--json", str(out)]) == 0
    return json.loads(out.read_text())


def test_the_plugin_runs_an_onnx_models_products(plugin, digits, tmp_path):
    """t = 0 clears nothing: the plug-in then computes what exact-mul does, to the bit; t = 3
    does not."""
    model, data = digits
    exact = _run(tmp_path, model, data, 'unit = "exact-mul"\nwidth = 8', "exact")
    t0 = _run(tmp_path, model, data, 'unit = "trunc-mul"\nwidth = 8\nt = 0', "t0")
    t3 = _run(tmp_path, model, data, 'unit = "trunc-mul"\nwidth = 8\nt = 3', "t3")
    assert t0["outputs"] == exact["outputs"] and t0["accuracy"] == exact["accuracy"]
    assert t3["outputs"] != exact["outputs"]


@pytest.mark.hdl
def test_the_plugin_is_an_explore_choice(plugin, digits, tmp_path):
    _yosys()
    model, data = digits
    cfg = tmp_path / "e.toml"
    cfg.write_text(f'[workload]\nmodel = "{model}"\ndata = "{data}"\n'
                   '[[group]]\nname = "all"\nop = "MatMul"\nunits = ["trunc-mul", "exact-mul"]\n'
                   'width = [6]\nt = [1, 3]\n[constraint]\nmetric = "accuracy"\nmax_drop = 100\n'
                   '[cost]\nobjective = "area"\nfmax = false\n[search]\nmethods = ["greedy"]\n'
                   'budget = 3\nseeds = [0]\n')
    out = tmp_path / "r.json"
    assert main(["explore", str(cfg), "-o", str(tmp_path / "ex"), "--json", str(out),
                 "--db", str(tmp_path / "db.sqlite")]) == 0
    r = json.loads(out.read_text())
    # with no floor to keep, the cheapest design wins: a trunc-mul (t = 3 clears the most)
    rules = r["best"]["assignment"]["assign"]
    assert {x["unit"] for x in rules} == {"trunc-mul"} and rules[0]["t"] == 3
