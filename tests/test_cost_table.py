"""scripts/cost_table.py: the Must-show table of docs/cost.md (measured rows, rendered by
scripts/gen_docs.py's cost-table block)."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from hwsim.eval import stdcell, synth
from hwsim.eval.targets import TargetUnavailable, get_target
from hwsim.units import get_unit
from rtl import skip_unless_ci

ROOT = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("cost_table_script",
                                                  ROOT / "scripts" / "cost_table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _row(label, kind, e_uni, e_minilm, mred=0.01):
    return {"label": label, "kind": kind, "area_um2": 100.0, "delay_ns": 1.0,
            "energy_fj_per_op_uniform": e_uni, "energy_fj_per_op_minilm": e_minilm,
            "mred_uniform": mred, "mred_minilm": float("nan"), "library": "lib",
            "library_sha256": "0" * 64, "yosys": "Yosys x", "sta": "OpenSTA y"}


def test_render_says_where_energy_is_saved_from_the_numbers():
    ct = _script()
    doc = {"target": "osu018", "operations": 10, "stream_seed": 1, "mred_samples": 5,
           "clock_ns": 10.0, "toggles": "zero-delay toggles (no glitches)", "numpy": "2",
           "rows": [_row("exact 16x16", "fixed", 1000.0, 400.0, 0.0),
                    _row("Mitchell-16", "fixed", 500.0, 600.0)]}
    text = "\n".join(ct.render(doc))
    assert "| Mitchell-16 | 100 (1.00x) | 1.00 (1.00x) | 0.50 (0.50x) | 0.60 (1.50x) | 1.00 % | - |" in text
    assert ("Less energy per operation than the exact unit on uniform operands only: "
            "Mitchell-16 (0.50x uniform, 1.50x MiniLM).") in text
    assert "on both streams" not in text and "on neither" not in text
    assert "nan" not in text.lower()


def test_the_docs_block_is_the_committed_json_rendered():
    ct = _script()
    doc = json.loads((ROOT / "docs" / "cost_table.json").read_text())
    text = (ROOT / "docs" / "cost.md").read_text()
    assert "\n".join(ct.render(doc)) in text
    labels = [r["label"] for r in doc["rows"]]
    assert labels == [r[0] for r in ct.ROWS]


@pytest.mark.synth
def test_compute_rows_are_cell_cost_and_model_mred(tmp_path, monkeypatch):
    """Two 8-bit rows, 2000 operations: the energies are cell_cost's on the streams, the
    MiniLM MRED the model's on the same operands (the capture replaced by a seeded stream)."""
    try:
        synth.find_tool("yosys")
        stdcell.find_sta()
        get_target("osu018").library_path()
    except (synth.SynthToolNotFound, TargetUnavailable) as e:
        skip_unless_ci(str(e))
    ct = _script()
    rng = np.random.default_rng(4)
    a, b = rng.integers(0, 30, 2000), rng.integers(0, 200, 2000)

    def fake(spec, params, how, ops):
        return {"name": "minilm", "seed": 1, "operations": 99, "operands": {"a": a, "b": b}}
    monkeypatch.setattr(ct, "minilm_stream", fake)
    rows = [("exact 8x8", "exact-mul", {"width": 8}, "fixed"),
            ("Mitchell-8", "mitchell-mul", {"width": 8}, "fixed")]
    monkeypatch.setattr(ct, "EXACT_OF", {"fixed": "exact 8x8"})
    doc = ct.compute(rows, ops=2000, mred_samples=4000, log=lambda m: None)
    m = doc["rows"][1]
    spec = get_unit("mitchell-mul")
    p = spec.params_cls(width=8)
    ref = stdcell.cell_cost(spec, p, target="osu018",
                            stream={"name": "x", "seed": None, "operands": {"a": a, "b": b}})
    assert m["energy_fj_per_op_minilm"] == pytest.approx(ref.energy_fj_per_op, rel=1e-9)
    assert m["area_um2"] == ref.area_um2
    approx = np.asarray(next(iter(spec.model(p, {"a": a, "b": b}).values())), np.float64)
    nz = a * b != 0
    assert m["mred_minilm"] == pytest.approx(
        np.mean(np.abs(approx[nz] - (a * b)[nz]) / (a * b)[nz]), rel=1e-12)
    assert doc["rows"][0]["mred_uniform"] == 0.0 and m["minilm_products"] == 99
    text = "\n".join(ct.render(doc))
    ratio = m["energy_fj_per_op_uniform"] / doc["rows"][0]["energy_fj_per_op_uniform"]
    assert f"Mitchell-8 ({ratio:.2f}x uniform, " in text
