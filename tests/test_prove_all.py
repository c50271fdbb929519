"""scripts/prove_all.py (`make prove`): runs the selected proofs and rewrites the table."""

import importlib.util
from pathlib import Path

import pytest

from rtl import require_prover

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "prove_all.py"


@pytest.fixture
def prove_all():
    require_prover()
    spec = importlib.util.spec_from_file_location("prove_all", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_table_lists_the_32_bit_proofs(prove_all):
    labels = [prove_all.label(u, p, prop) for u, p, prop, _ in prove_all._proofs()]
    for must in ("mitchell-mul mitchell_mul_u32", "mitchell-mul mitchell_mul_s32",
                 "mitchell-div mitchell_div_u32_f16"):
        assert must in labels


def test_rewrites_the_table_between_the_markers(prove_all, tmp_path, capsys):
    doc = tmp_path / "v.md"
    doc.write_text("# title\n\ntext\n")
    assert prove_all.main(["--only", r"mitchell_mul_u8$|mitchell_mul_u6 \[bounds", "--doc", str(doc)]) == 0
    first = doc.read_text()
    assert first.startswith("# title\n\ntext\n\n<!-- proofs:begin -->\n")
    rows = [ln for ln in first.splitlines() if ln.startswith("| mitchell-mul")]
    assert len(rows) == 2 and all("| proved |" in r for r in rows), rows
    assert "proved [bounds]: mitchell-mul mitchell_mul_u6 within its error bounds" in capsys.readouterr().out
    doc.write_text(first.replace("| proved | ", "| stale | ", 1))
    assert prove_all.main(["--only", r"mitchell_mul_u8$", "--doc", str(doc)]) == 0
    second = doc.read_text()
    # one row refreshed, the other kept, still one table
    assert second.count("<!-- proofs:begin -->") == 1 and second.count("| mitchell-mul") == 2
    assert "stale" not in second
    assert prove_all.main(["--only", "no such proof", "--doc", "none"]) == 2
