"""hwsim explore on a standard-cell target: [cost] target = "osu018" with objective area or
energy. The energy objective is checked against the flow it reuses, run independently:
hwsim run --capture for each node's operands, hwsim synth --stream FILE.npz for the energy
per operation, the operations per row from the model's weight shapes."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from hwsim.cli import main
from hwsim.eval import stdcell
from hwsim.eval.targets import CostTarget, register_target, \
    unregister_target
from hwsim.explore.config import parse_config
from hwsim.explore.cost import LazyPrices, UnitCost
from rtl import require_module

pytestmark = pytest.mark.xdist_group("explore")

HEAD = "[workload]\nbuiltin = 'digits'\n"
GROUP = "[[group]]\nnode = 'MatMul'\nunits = ['exact-mul']\nwidth = [4]\n"
FLOOR = "[constraint]\nmax_drop = 1\n"


def run_cli(tmp_path, text, *extra):
    p = tmp_path / "e.toml"
    p.write_text(text)
    return main(["explore", str(p), "-o", str(tmp_path / "out"), *extra])


@pytest.mark.parametrize("text, message", [
    (HEAD + GROUP + FLOOR + "[cost]\ntarget = 'asic'",
     "cost.target must be one of ice40, osu018, osu035, osu050, not 'asic'"),
    (HEAD + GROUP + FLOOR + "[cost]\ntarget = 'cmos'",   # no area nor energy in um2 / fJ
     "cost.target must be one of ice40, osu018, osu035, osu050, not 'cmos'"),
    (HEAD + GROUP + FLOOR + "[cost]\ntarget = 18",
     "cost.target must be one of ice40, osu018, osu035, osu050, not 18"),
    (HEAD + GROUP + FLOOR + "[cost]\nobjective = 'power'\ntarget = 'osu018'",
     "cost.objective must be one of area, lut-ops, energy, not 'power'"),
    (HEAD + GROUP + FLOOR + "[cost]\nobjective = 'energy'",
     "cost.objective energy cannot be priced on target ice40 (iCE40 LUT4 counts carry no "
     "energy (lut-ops is their proxy); energy needs a standard-cell target; ice40 prices area "
     "or lut-ops)"),
    (HEAD + GROUP + FLOOR + "[cost]\nobjective = 'lut-ops'\ntarget = 'osu018'",
     "cost.objective lut-ops cannot be priced on target osu018 (lut-ops counts iCE40 LUT4; a "
     "standard-cell target prices energy itself; osu018 prices area or energy)"),
    (HEAD + GROUP + FLOOR + "[cost]\ntarget = 'osu018'\nfmax = true",
     "cost.fmax is iCE40 place and route; target osu018 reports each unit's delay instead: "
     "remove fmax"),
    (HEAD + GROUP + FLOOR + "[cost]\ntarget = 'osu018'\noperations = 100",
     "cost.operations shapes the operand capture of objective energy, not of area: remove it"),
    (HEAD + GROUP + FLOOR + "[cost]\nobjective = 'energy'\ntarget = 'osu018'\noperations = 1",
     "cost.operations must be an integer in 2..10000000, not 1"),
    (HEAD + GROUP + FLOOR + "[cost]\nobjective = 'energy'\ntarget = 'osu018'\nseed = -1",
     "cost.seed must be an integer in 0..4294967295, not -1"),
    (HEAD + GROUP + FLOOR + "[cost]\nobjective = 'energy'\ntarget = 'osu018'\nclock = 5",
     "cost has no key 'clock' (keys: objective, fmax, target, operations, seed)"),
    (HEAD + "[[group]]\nop = 'Softmax'\nunits = ['softmax']\n" + FLOOR
     + "[cost]\nobjective = 'energy'\ntarget = 'osu018'",
     "cost.objective energy prices units on the operand pairs a model's products feed them; "
     "group 'group0' has softmax"),
])
def test_bad_cost_or_target_is_one_line_exit_2(tmp_path, capsys, text, message):
    assert run_cli(tmp_path, text) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "out").exists()  # refused before any work


def test_defaults_stay_ice40_area_and_the_target_is_read_from_the_registry():
    cfg = parse_config({"workload": {"builtin": "digits"}, "constraint": {"max_drop": 0.5},
                        "group": [{"units": ["exact-mul"], "width": [4]}]})
    assert (cfg.target, cfg.objective) == ("ice40", "area")
    fake = register_target(CostTarget("test-cells", "a test library", liberty=Path("x.lib"),
                                      package="none"))
    try:
        cfg = parse_config({"workload": {"builtin": "digits"}, "constraint": {"max_drop": 0.5},
                            "group": [{"units": ["exact-mul"], "width": [4]}],
                            "cost": {"objective": "energy", "target": fake.name,
                                     "operations": 300, "seed": 7}})
        assert (cfg.target, cfg.objective, cfg.operations, cfg.seed) == (
            "test-cells", "energy", 300, 7)
    finally:
        unregister_target(fake.name)


def test_lazy_prices_take_energy_keys_with_their_group_in_estimate_order():
    from hwsim.explore.config import Choice
    wide, narrow = Choice.of("exact-mul", {"width": 8}), Choice.of("exact-mul", {"width": 3})
    keys = [(wide, 0, 1), (narrow, 0, 1), (wide, 0, 0)]
    calls = []

    def pricer(ks, **_):
        calls.extend(ks)
        return {k: UnitCost("t", None, None, None, 1.0, 1.0, 1.0, 2.0, 3.0) for k in ks}
    p = LazyPrices(keys, fmax=False, db=None, pricer=pricer)
    p.ensure(keys)
    assert calls == [(narrow, 0, 1), (wide, 0, 1), (wide, 0, 0)]  # operand bits, then file order
    assert p[(wide, 0, 0)].value("energy") == 3.0 and p[(wide, 0, 0)].value("area") == 1.0


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    require_module("skl2onnx", "ml")
    from hwsim.explore.workloads import write_digits
    model, data = write_digits(tmp_path_factory.mktemp("workload"))
    return Path(model), Path(data)


def test_missing_library_is_one_line_with_the_install_hint_exit_2(tmp_path, capsys, digits):
    model, data = digits
    register_target(CostTarget("test-missing", "a library not installed",
                               liberty=tmp_path / "nowhere.lib", package="qflow-tech-test"))
    try:
        code = run_cli(tmp_path, f"[workload]\nmodel = '{model}'\ndata = '{data}'\n" + GROUP
                       + FLOOR + "[cost]\nobjective = 'energy'\ntarget = 'test-missing'")
    finally:
        unregister_target("test-missing")
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1, err
    assert "apt-get install qflow-tech-test" in err



def _ops_per_row(model: Path) -> dict:
    """Multiply-accumulates per row of each MatMul, from the weight shapes alone."""
    import onnx
    m = onnx.load(str(model))
    shapes = {t.name: tuple(t.dims) for t in m.graph.initializer}
    out = {}
    for n in m.graph.node:
        if n.op_type == "MatMul":
            k, cols = next(shapes[i] for i in n.input if i in shapes)
            out[n.name] = k * cols
    return out


@pytest.mark.synth
@pytest.mark.slow
def test_energy_objective_is_sum_of_ops_times_the_synth_energy_on_hwsim_run_captures(
        tmp_path, capsys, digits, cell_tools):
    model, data = digits
    ops = _ops_per_row(model)
    assert set(ops) == {"MatMul", "MatMul1"}
    text = (f"[workload]\nmodel = '{model}'\ndata = '{data}'\n"
            "[[group]]\nname = 'hidden'\nnode = 'MatMul'\nunits = ['exact-mul']\nwidth = [3, 4]\n"
            "[[group]]\nname = 'output'\nnode = 'MatMul1'\nunits = ['exact-mul']\nwidth = [3, 4]\n"
            "[constraint]\nmin = 0.0\n"
            "[cost]\nobjective = 'energy'\ntarget = 'osu018'\noperations = 3000\nseed = 5\n"
            "[search]\nmethods = ['random']\nbudget = 4\nseeds = [0]\n")
    assert run_cli(tmp_path, text, "--json", str(tmp_path / "r.json"),
                   "--db", str(tmp_path / "explore.sqlite")) == 0
    out = capsys.readouterr().out
    for text in (out, *(Path(tmp_path / "out" / f).read_text() for f in ("report.md",
                                                                         "best.toml"))):
        assert "energy: zero-delay toggles (no glitches)" in text and "pJ/row" in text
    r = json.loads((tmp_path / "r.json").read_text())
    assert (r["target"], r["objective"], r["cost_unit"]) == ("osu018", "energy", "pJ/row")
    assert len(r["designs"]) == 4

    # independently: each uniform design's own run captures its nodes' operands (hwsim run
    # --capture), hwsim synth prices the unit on each file (no shared cache)
    from hwsim.explore.run import to_toml
    energy, area = {}, {}   # (width, node) -> fJ/op, width -> um2
    for width in (3, 4):
        d = next(e for e in r["designs"] if set(e["design"].values()) == {f"exact{width}"})
        assign = tmp_path / f"a{width}.toml"
        assign.write_text(to_toml(d["assignment"]))
        cap = tmp_path / f"cap{width}"
        assert main(["run", str(model), "--data", str(data), "--assign", str(assign),
                     "--capture", str(cap), "--capture-ops", "3000", "--capture-seed", "5",
                     "--no-attribution"]) == 0
        for node in ops:
            with np.load(cap / f"{node}.npz") as z:
                assert z["a"].size == 3000 and json.loads(str(z["params"]))["width"] == width
            js = tmp_path / f"s{width}{node}.json"
            assert main(["synth", "exact-mul", "--width", str(width), "--signed",
                         "--target", "osu018", "--stream", str(cap / f"{node}.npz"),
                         "--json", str(js), "--db", "none"]) == 0
            row = json.loads(js.read_text())[0]
            energy[(width, node)] = row["energy_fj_per_op"]
            area[width] = row["area_um2"]
    capsys.readouterr()
    assert energy[(3, "MatMul")] != energy[(4, "MatMul")]
    for e in r["designs"]:
        widths = {g: int(label.removeprefix("exact")) for g, label in e["design"].items()}
        expected = (ops["MatMul"] * energy[(widths["hidden"], "MatMul")]
                    + ops["MatMul1"] * energy[(widths["output"], "MatMul1")]) / 1000
        # the same two products summed in another order: a few ulps at most
        assert math.isclose(e["cost"], expected, rel_tol=1e-12), (e["design"], e["cost"], expected)
        assert e["energy_pj_per_row"] == e["cost"]
        assert e["area_um2"] == area[widths["hidden"]] + area[widths["output"]]  # instances 1
    # the best design is the cheapest feasible of the four (min = 0: all feasible)
    assert r["best"]["cost"] == min(e["cost"] for e in r["designs"])


@pytest.mark.synth
def test_cell_costs_maps_once_and_gives_what_cell_cost_gives_per_stream(cell_tools, tmp_path):
    from hwsim.eval.resultdb import ResultDB
    from hwsim.eval.streams import operand_stream
    from hwsim.units import get_unit
    spec = get_unit("mitchell-mul")
    params = spec.params(width=5, signed=True)
    streams = [operand_stream(spec, params, kind, 2000, 3) for kind in ("uniform", "small")]
    alone = [stdcell.cell_cost(spec, params, target="osu018", stream=s) for s in streams]
    db = ResultDB(tmp_path / "cells.sqlite")
    try:
        both = stdcell.cell_costs(spec, params, target="osu018", streams=streams, db=db)
        again = [stdcell.cell_cost(spec, params, target="osu018", stream=s, db=db)
                 for s in streams]   # served from the entries cell_costs made
    finally:
        db.close()
    strip = [{k: v for k, v in r.to_dict().items() if k != "seconds"} for r in alone]
    assert [{k: v for k, v in r.to_dict().items() if k != "seconds"} for r in both] == strip
    assert [r.to_dict() for r in again] == [r.to_dict() for r in both]
    assert alone[0].energy_fj_per_op != alone[1].energy_fj_per_op
