"""``hwsim demo``: the report answers the flagship question, with sane numbers.

The numbers are checked for what they must be (finite, in range, consistent with each other:
the best design meets its floor and costs less than the exact baseline, the float path
matches onnxruntime, every proof proves), never against stored values.
"""

import math
import re

import pytest

from hwsim.cli import main
from hwsim.eval.synth import SynthToolNotFound, find_tool
from hwsim.units import front_units
from rtl import require_sim


def _table(report: str, header_start: str) -> list[list[str]]:
    """The rows (cells) of the Markdown table whose header line starts with header_start."""
    lines = report.splitlines()
    i = next(i for i, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[i + 2:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in line.strip("|").split("|")])
    return rows


def _pct(cell: str) -> float:
    v = float(cell.rstrip(" %"))
    assert math.isfinite(v) and 0 <= v <= 100, cell
    return v


def _have(tool: str) -> bool:
    try:
        find_tool(tool)
    except SynthToolNotFound:
        return False
    return True


def _have_z3() -> bool:
    try:
        import z3  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.hdl
def test_demo_report(tmp_path, capsys, monkeypatch):
    require_sim("icarus")
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "-o", "out", "--sim", "icarus"]) == 0
    check_report(tmp_path / "out", yosys=_have("yosys"), z3=_have_z3())


def check_report(out, yosys: bool, z3: bool) -> None:
    """The assertions on a demo's output directory ``out``."""
    report = (out / "report.md").read_text()
    lines = report.splitlines()

    # the first screen says what was found: one bullet per section
    head = "\n".join(lines[:12])
    for key in ["**Accuracy**", "**Proofs**"] + (["**Cheapest design**", "**Unit cost**"]
                                                  if yosys else []):
        assert f"- {key}" in head, key
    if not yosys:
        assert head.count(": skipped (") >= 2  # explore and the front
    for n in range(1, 5):
        assert sum(line.startswith(f"## {n}. ") for line in lines) == 1, n

    # 1. the model on hwsim units, against onnxruntime
    err = float(re.search(r"float path matches it to ([0-9.e+-]+)", report).group(1))
    assert 0 <= err < 1e-5
    rows = {r[0]: r for r in _table(report, "| products on |")}
    assert len(rows) == 4
    fl = _pct(rows.pop("float (onnxruntime)")[1])
    assert fl > 80  # the digits MLP is a working classifier
    for name, (_, acc, drop, cos, agree) in rows.items():
        assert math.isclose(fl - _pct(acc), float(drop), abs_tol=0.016), name
        assert 0.95 < float(cos) <= 1 and 0.9 < float(agree) <= 1, name
    exact8 = rows["exact 8-bit (quantisation only)"]
    assert abs(float(exact8[2])) < 2  # 8-bit operands alone barely move the accuracy
    assert float(exact8[3]) >= float(rows["Mitchell 8-bit"][3])  # Mitchell adds error
    assert (out / "explore/workload/mlp.onnx").stat().st_size > 1000

    # 2. explore: the best design meets the floor and is cheaper than exact 8-bit
    if yosys:
        floor = _pct(re.search(r"= ([0-9.]+ %)\. Area", report).group(1))
        designs = {r[0]: r for r in _table(report, "| | design | area (LUT4) | accuracy |")}
        best, exact = designs["best found"], designs["all exact 8-bit"]
        area = {k: float(r[2].replace(",", "")) for k, r in designs.items()}
        assert 0 < area["best found"] < area["all exact 8-bit"]
        assert all(area["best found"] <= a for a in area.values())
        assert _pct(best[3]) >= floor - 1e-9 and floor <= fl
        assert _pct(exact[3]) >= floor  # exact 8-bit meets the floor
        saved = int(re.search(r"(\d+) % less than all exact 8-bit", report).group(1))
        assert saved == round(100 * (1 - area["best found"] / area["all exact 8-bit"]))
        for f in ("explore/front.png", "explore/search.png"):
            assert (out / f).stat().st_size > 10_000
        assert "[[assign]]" in (out / "explore/best.toml").read_text()
        assert "fmax = false" in (out / "explore.toml").read_text()
    else:
        assert "Skipped: yosys" in report

    # 3. the front: every family of the registry, costs and errors in range
    if yosys:
        front = _table(report, "| unit | width |")
        assert {r[0] for r in front} == {s.name for s in front_units()}
        for unit, width, _, lut4, _, mred, _ in front:
            assert width == "8" and int(lut4) > 0
            assert (_pct(mred) == 0) == (unit == "exact-mul"), unit
        lut = {r[0]: int(r[3]) for r in front if r[2] == "-"}  # the full-precision points
        assert lut["mitchell-mul"] < lut["exact-mul"]
        assert any(r[-1] == "yes" for r in front)
        assert (out / "multiplier_front.png").stat().st_size > 10_000

    # 4. proofs and the exhaustive simulation
    if yosys and z3:
        proofs = _table(report, "| unit | property | result |")
        assert len(proofs) >= 3 and {r[1] for r in proofs} == {"equivalence", "bounds"}
        for _, _, result, t, solver, _ in proofs:
            assert result == "proved"
            # (each rounded as printed: the solver's time to 0.01 s, the total to 0.1 s)
            assert 0 <= float(solver.rstrip(" s")) <= float(t.rstrip(" s")) + 0.05 < 120
        assert f"{len(proofs)} of {len(proofs)} proved" in head
    else:
        assert "Proofs skipped:" in report
    assert "65,536 vectors, 0 mismatches" in report
    seconds = int(re.search(r"Generated by `hwsim demo` in (\d+) s", report).group(1))
    assert seconds > 0


def test_demo_refuses_outputs_in_the_way(tmp_path, capsys):
    """A directory where the report goes, or a file where a directory goes: one line,
    exit 2 (bad usage), before any work (nothing else written)."""
    (tmp_path / "out" / "report.md").mkdir(parents=True)
    assert main(["demo", "-o", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "report.md" in err and "is a directory" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["report.md"]
    (tmp_path / "out2").mkdir()
    (tmp_path / "out2" / "explore").write_text("mine")
    assert main(["demo", "-o", str(tmp_path / "out2")]) == 2
    assert "is not a directory" in capsys.readouterr().err
    assert (tmp_path / "out2" / "explore").read_text() == "mine"
