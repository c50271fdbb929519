"""Files a careless or hostile user points the new CLI surfaces at: each is refused in one
line (exit 2), never a traceback. Each case here was a traceback or a misleading message."""

import zipfile

import numpy as np
import pytest

from hwsim.cli import main
from hwsim.eval import stdcell


def _synth_stream(path) -> list[str]:
    return ["synth", "mitchell-mul", "--width", "8", "--target", "osu018", "--db", "none",
            "--stream", str(path)]


def _members(path, **members):
    with zipfile.ZipFile(path, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)


@pytest.mark.parametrize("make, message", [
    # a .npy (one array) named .npz: np.load returns an array, not a context manager
    (lambda p: np.save(open(p, "wb"), np.arange(5)),
     "is a .npy file (one array); give a .npz file with arrays a, b"),
    # a zip whose members are not .npy arrays: np.load hands back their bytes
    (lambda p: _members(p, **{"a.npy": "garbage", "b.npy": "garbage"}),
     "member a is not a .npy array"),
    (lambda p: _members(p, a="x", b="y"),
     "member a is not a .npy array"),
    # not a zip at all: numpy's reason ('pickled (object) data') misleads
    (lambda p: open(p, "w").write("not a zip"), "not a .npz file (no zip archive)"),
    (lambda p: open(p, "wb").write(b""), "not a .npz file (no zip archive)"),
])
def test_stream_file_not_npz(tmp_path, capsys, monkeypatch, make, message):
    monkeypatch.setattr(stdcell, "cell_cost", lambda *a, **k: pytest.fail("no tool may run"))
    path = tmp_path / "s.npz"
    make(path)
    assert main(_synth_stream(path)) == 2
    err = capsys.readouterr().err
    assert err == f"hwsim: error: --stream {str(path)!r}: {message}\n"


def test_stream_empty_name(capsys, monkeypatch, tmp_path):
    """--stream '' is not the current directory."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(stdcell, "cell_cost", lambda *a, **k: pytest.fail("no tool may run"))
    assert main(_synth_stream("")) == 2
    assert capsys.readouterr().err == ("hwsim: error: --stream '': no such file (give uniform, "
                                       "small or a .npz file)\n")
