"""scripts/cost_table.py: the cost table of docs/cost.md (rows from the registry's
``cost_table`` traits, measured by the standard-cell flow, rendered by scripts/gen_docs.py's
cost-table block)."""

import ast
import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

from hwsim.eval import stdcell
from hwsim.units import REGISTRY, get_unit

ROOT = Path(__file__).resolve().parent.parent


def _script():
    spec = importlib.util.spec_from_file_location("cost_table_script",
                                                  ROOT / "scripts" / "cost_table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _row(label, e, ref=None, width=16, missing=None, mred=0.01):
    return {"label": label, "family": "f", "width": width, "ref": ref, "baseline": False,
            "area_um2": 100.0, "delay_ns": 1.0, "missing": missing or {},
            **{f"energy_fj_per_op_{s}": v for s, v in zip(("uniform", "small", "minilm"), e)
               if v is not None},
            "mred_uniform": mred, "mred_minilm": float("nan"), "library": "lib",
            "library_sha256": "0" * 64, "yosys": "Yosys x", "sta": "OpenSTA y"}


def test_the_script_names_no_unit():
    """Every row comes from the registry: no string in the script is a unit's name."""
    tree = ast.parse((ROOT / "scripts" / "cost_table.py").read_text())
    strings = {n.value for n in ast.walk(tree) if isinstance(n, ast.Constant)
               and isinstance(n.value, str)}
    assert not strings & set(REGISTRY), sorted(strings & set(REGISTRY))


def test_rows_are_the_registry_cost_points_with_their_exact_references():
    ct = _script()
    pts = ct.points()
    for spec in REGISTRY.values():
        for w in ct.WIDTHS:
            want = [] if spec.cost_table is None else [p.top_name for p in spec.cost_table(w)]
            got = [p["params"].top_name for p in pts if p["unit"] == spec.name
                   and p["width"] == w and not p["baseline"]]
            assert got == want, (spec.name, w)
    by = {p["label"]: p for p in pts}
    for p in pts:
        spec = get_unit(p["unit"])
        if p["exact"]:
            assert p["ref"] is None
        elif spec.front is not None:   # the exact family of the front at the same width
            ref = by[p["ref"]]
            assert get_unit(ref["unit"]).front.exact and ref["width"] == p["width"]
        elif spec.baseline is not None:
            ref = by[p["ref"]]
            assert ref["baseline"] and ref["unit"] == p["unit"] and ref["width"] == p["width"]
        else:
            assert p["ref"] is None
    assert {p["width"] for p in pts} == {8, 16}
    assert sum(p["baseline"] for p in pts) == 2 * sum(
        1 for s in REGISTRY.values() if s.cost_table and s.front is None and s.baseline)


def test_render_says_where_energy_is_saved_from_the_numbers():
    ct = _script()
    doc = {"target": "osu018", "operations": 10, "stream_seed": 1, "mred_samples": 5,
           "clock_ns": 10.0, "toggles": "zero-delay toggles (no glitches)", "numpy": "2",
           "library_package": "pkg 1", "notes": ct.NOTES,
           "rows": [_row("ex", (1000.0, 400.0, 400.0), mred=0.0),
                    _row("lg", (500.0, 600.0, 300.0), ref="ex"),
                    _row("sv", (500.0, 200.0, 100.0), ref="ex"),
                    _row("xp", (700.0, None, None), missing={"small": ct.NO_SMALL,
                                                             "minilm": ct.NO_MINILM}),
                    {**_row("big", (1, 1, 1), ref="ex"), "unpriced": "SynthError: timed out"}]}
    text = "\n".join(ct.render(doc))
    assert "| lg | f | 100 (1.00x) | 1.00 (1.00x) | 0.50 (0.50x) | 0.60 (1.50x) | 0.30 (0.75x) | 1.00 % | - |" in text
    assert "| xp | f | 100 | 1.00 | 0.70 | -<sup>b</sup> | -<sup>a</sup> | 1.00 % | - |" in text
    assert "| big | f | not priced: SynthError: timed out | - | - | - | - | - | - |" in text
    assert ("At 16 bits, less energy per operation than its exact row on every stream: sv "
            "(0.50x uniform, 0.50x small, 0.25x minilm). Less on some streams only: lg (0.50x "
            "uniform, 1.50x small, 0.75x minilm).") in text
    assert f"<sup>a</sup> {ct.NOTES['a']}." in text and "<sup>c</sup>" not in text
    assert "nan" not in text.lower() and "pkg 1" in text


def test_the_docs_block_is_the_committed_json_rendered():
    ct = _script()
    doc = json.loads((ROOT / "docs" / "cost_table.json").read_text())
    text = (ROOT / "docs" / "cost.md").read_text()
    assert "\n".join(ct.render(doc)) in text
    assert [r["label"] for r in doc["rows"]] == [p["label"] for p in ct.points()]


@pytest.mark.synth
def test_compute_rows_are_cell_cost_and_model_mred(tmp_path, monkeypatch, cell_tools):
    """Two 8-bit rows, 2000 operations: the energies are cell_cost's on the streams, the
    MiniLM MRED the model's on the same operands (the capture replaced by a seeded stream)."""
    ct = _script()
    rng = np.random.default_rng(4)
    a, b = rng.integers(0, 30, 2000), rng.integers(0, 200, 2000)

    def fake(spec, params, ops):
        return {"name": "minilm", "seed": 1, "operations": 99, "operands": {"a": a, "b": b}}
    monkeypatch.setattr(ct, "minilm_stream", fake)
    rows = [p for p in ct.points((8,)) if get_unit(p["unit"]).front is not None][:2]
    exact, other = rows
    assert get_unit(exact["unit"]).front.exact and other["ref"] == exact["label"]
    doc = ct.compute(rows, ops=2000, mred_samples=4000, log=lambda m: None)
    m = doc["rows"][1]
    spec = get_unit(other["unit"])
    p = other["params"]
    ref = stdcell.cell_cost(spec, p, target="osu018",
                            stream={"name": "x", "seed": None, "operands": {"a": a, "b": b}})
    assert m["energy_fj_per_op_minilm"] == pytest.approx(ref.energy_fj_per_op, rel=1e-9)
    assert m["area_um2"] == ref.area_um2
    approx = np.asarray(next(iter(spec.model(p, {"a": a, "b": b}).values())), np.float64)
    nz = a * b != 0
    assert m["mred_minilm"] == pytest.approx(
        np.mean(np.abs(approx[nz] - (a * b)[nz]) / (a * b)[nz]), rel=1e-12)
    assert doc["rows"][0]["mred_uniform"] == 0.0 and m["minilm_products"] == 99
    assert m["energy_fj_per_op_small"] > 0 and not m["missing"]
    text = "\n".join(ct.render(doc))
    ratio = m["energy_fj_per_op_uniform"] / doc["rows"][0]["energy_fj_per_op_uniform"]
    assert f"{m['label']} ({ratio:.2f}x uniform, " in text
