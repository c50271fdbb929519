"""The model-making scripts of the docs' walkthroughs replace nothing a user has: each refuses,
in one line and with exit code 2, a directory that already holds one of the files it writes
(a link to nothing included), before any work."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPTS = Path(__file__).resolve().parents[1] / "scripts"
WRITES = {
    "make_digits_onnx.py": ("mlp.onnx", "mlp_qdq.onnx", "digits.npz"),
    "make_minilm_onnx.py": ("minilm.onnx", "minilm_qdq.onnx", "minilm.npz"),
    "make_cnn_onnx.py": ("cnn.onnx", "cnn_qop.onnx", "cnn_digits.npz"),
    "make_sklearn_onnx.py": ("pipeline.onnx", "pipeline_digits.npz"),
}


@pytest.mark.parametrize("script", sorted(WRITES))
def test_a_script_refuses_a_directory_holding_one_of_its_files(script, tmp_path):
    names = WRITES[script]
    (tmp_path / names[0]).write_text("mine")
    os.symlink(tmp_path / "nowhere", tmp_path / names[-1])
    r = subprocess.run([sys.executable, str(SCRIPTS / script), str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert r.stderr == (f"{script}: {tmp_path / names[0]} exists; give a directory without "
                        f"{', '.join(names)}\n")
    assert (tmp_path / names[0]).read_text() == "mine"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([names[0], names[-1]])
