"""hwsim front --target / --cost / --stream: the multiplier front on a standard-cell or CMOS
target, with the error (and energy) on an operand stream."""

import json

import numpy as np
import pytest

from hwsim.cli import main
from hwsim.eval import stdcell
from hwsim.units import get_unit



@pytest.mark.parametrize("args,message", [
    (["--cost", "energy", "--target", "osu018"], "--cost energy needs --stream"),
    (["--stream", "small"], "--stream needs a standard-cell or cmos target, not ice40"),
    (["--target", "osu018", "--cost", "lut4"], "--cost lut4: target osu018 prices area or energy"),
    (["--target", "cmos", "--cost", "area"], "--cost area: target cmos prices transistors"),
    (["--target", "nope"], "--target must be one of"),
    (["--target", "cmos", "--ops", "5"], "--ops and --stream-seed shape --stream"),
])
def test_refusals_are_one_line_before_any_work(args, message, capsys, tmp_path):
    assert main(["front", "-o", str(tmp_path), "--db", "none", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]
    assert not (tmp_path / "multiplier_front.png").exists()


@pytest.mark.synth
def test_energy_front_on_a_stream(cell_tools, tmp_path, monkeypatch, capsys):
    """Two families at 8 bits on osu018 with a stream file: the energy is cell_cost's on that
    stream, the data-weighted MRED is the model's MRED on it, the uniform one the exhaustive
    MRED; the plot is written."""
    import hwsim.reports.cost as cost
    import dataclasses
    mitchell, exact = get_unit("mitchell-mul"), get_unit("exact-mul")
    mitchell = dataclasses.replace(mitchell, front=dataclasses.replace(
        mitchell.front, variants=lambda w: [mitchell.params_cls(width=w)]))
    monkeypatch.setattr(cost, "front_units", lambda: [mitchell, exact])
    rng = np.random.default_rng(9)
    a = np.minimum(np.floor(np.exp2(rng.random(3000) * 8)), 255).astype(np.int64)
    b = rng.integers(0, 40, 3000)
    np.savez(tmp_path / "s.npz", a=a, b=b)
    out = tmp_path / "f.json"
    assert main(["front", "--target", "osu018", "--widths", "8", "--stream",
                 str(tmp_path / "s.npz"), "--cost", "energy", "--db", "none", "-o",
                 str(tmp_path), "--json", str(out)]) == 0
    pts = {p["unit"]: p for p in json.loads(out.read_text())}
    p = mitchell.params_cls(width=8)
    ref = stdcell.cell_cost(mitchell, p, target="osu018",
                            stream={"name": "s", "seed": None, "operands": {"a": a, "b": b}})
    m = pts["mitchell-mul"]
    assert m["energy_fj_per_op"] == pytest.approx(ref.energy_fj_per_op, rel=1e-9)
    assert m["area_um2"] == ref.area_um2 and m["lut4"] is None and m["target"] == "osu018"
    approx = mitchell.model(p, {"a": a, "b": b})
    approx = np.asarray(next(iter(approx.values())), dtype=np.float64)
    nz = a * b != 0
    assert m["mred_data"] == pytest.approx(
        np.mean(np.abs(approx[nz] - (a * b)[nz]) / (a * b)[nz]), rel=1e-12)
    x = np.arange(256)
    xa, xb = np.meshgrid(x, x)
    full = np.asarray(next(iter(mitchell.model(p, {"a": xa, "b": xb}).values())), np.float64)
    nzf = xa * xb != 0
    assert m["mred_uniform"] == m["mred"] == pytest.approx(
        np.mean(np.abs(full[nzf] - (xa * xb)[nzf]) / (xa * xb)[nzf]), rel=1e-12)
    assert pts["exact-mul"]["mred_data"] == 0.0 and pts["exact-mul"]["energy_fj_per_op"] > 0
    text = capsys.readouterr().out
    assert "zero-delay toggles (no glitches)" in text and "| MRED uniform | MRED " in text
    assert (tmp_path / "multiplier_front.png").stat().st_size > 0
