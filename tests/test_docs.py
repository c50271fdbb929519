"""The docs that restate the code are generated from it (scripts/gen_docs.py) and the command
transcripts in docs/ are rerun: a doc that drifts from the code fails here."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _gen_docs():
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_docs", mod)
    spec.loader.exec_module(mod)
    return mod


gen_docs = _gen_docs()


def _needs_ml():
    for name in ("onnx", "onnxruntime", "sklearn", "skl2onnx"):
        pytest.importorskip(name, reason="the transcripts need the ml extra: make setup")


def test_generated_blocks_are_current():
    problems = gen_docs.update_generated(ROOT / "docs", write=False)
    assert not problems, ("stale docs (run `make docs`):\n" + "\n".join(problems))


@pytest.mark.slow  # regenerates every block: 5 s
def test_check_fails_on_an_edited_block(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs)
    page = docs / "cli.md"
    text = page.read_text()
    assert "| `mitchell-mul` |" in text
    page.write_text(text.replace("| `mitchell-mul` |", "| `mitchell-mull` |", 1))
    assert gen_docs.main(["--check", "--docs", str(docs)]) == 1
    problems = gen_docs.update_generated(docs, write=True)
    assert [p for p in problems if "docs/cli.md" in p and "'units' is stale" in p]
    assert gen_docs.update_generated(docs, write=False) == []  # write mode repairs it


def test_check_names_an_undocumented_enum(tmp_path):
    docs = tmp_path / "docs"
    shutil.copytree(ROOT / "docs", docs)
    page = docs / "fixed.md"
    text = page.read_text()
    start = text.index("<!-- generated: enum hwsim.fixed.Overflow -->")
    end = text.index("<!-- end generated -->", start) + len("<!-- end generated -->")
    page.write_text(text[:start] + text[end:])
    problems = gen_docs.update_generated(docs, write=False)
    assert any("enum hwsim.fixed.Overflow has no" in p for p in problems)


def test_transcript_compare_names_the_numbers():
    old = ["| probabilities | 0.999238 | 0.2165 | 0.9924 | 0.63967 |"]
    new = ["| probabilities | 0.999238 | 0.2165 | 0.9924 | 0.78483 |"]
    assert gen_docs.compare(old, new) == "numbers changed: 0.63967 -> 0.78483"
    assert gen_docs.compare(old, old + [""]) is None
    assert gen_docs.compare(old, ["other"]).startswith("output line 1:")


def test_fast_transcripts():
    _needs_ml()
    problems = gen_docs.run_transcripts(ROOT / "docs", write=False, slow=False)
    assert not problems, ("stale transcripts (run `scripts/gen_docs.py --transcripts`):\n"
                          + "\n".join(problems))


@pytest.mark.slow
def test_slow_transcripts():
    _needs_ml()
    problems = gen_docs.run_transcripts(ROOT / "docs", write=False, slow=True)
    assert not problems, ("stale transcripts (run `scripts/gen_docs.py --transcripts "
                          "--slow`):\n" + "\n".join(problems))
