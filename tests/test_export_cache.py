"""The Verilog export's memoised Yosys step (hwsim.hdl.export._convert): the same text as
Amaranth's own ``verilog.convert``, one cache file per distinct design, reused."""

import pytest
from amaranth.back import verilog

from hwsim import MitchellMulParams
from hwsim.hdl.export import to_verilog
from hwsim.units import get_unit

MUL = get_unit("mitchell-mul")
# slow: Amaranth's Verilog export with its Yosys step uncached on purpose (~9 s of CPU each)
pytestmark = pytest.mark.slow


def _files(root):
    return sorted((root / "hwsim" / "verilog").rglob("*.v"))


def test_cached_export_equals_amaranths_and_is_reused(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    p, q = MitchellMulParams(width=6, signed=True, stages=1), MitchellMulParams(width=6)
    first = to_verilog(MUL, p)
    assert first.endswith(verilog.convert(MUL.component(p), name=p.top_name, emit_src=False))
    assert len(_files(tmp_path)) == 1
    # the second export reads the file: what it holds is what to_verilog returns
    cached, = _files(tmp_path)
    cached.write_text(cached.read_text().replace("module ", "module  ", 1))
    assert to_verilog(MUL, p) != first and "module  " in to_verilog(MUL, p)
    to_verilog(MUL, q)  # another design, another entry
    assert len(_files(tmp_path)) == 2


def test_an_unwritable_cache_still_exports(tmp_path, monkeypatch):
    (tmp_path / "hwsim").mkdir()
    (tmp_path / "hwsim" / "verilog").write_text("not a directory")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    p = MitchellMulParams(width=4)
    assert to_verilog(MUL, p).endswith(
        verilog.convert(MUL.component(p), name=p.top_name, emit_src=False))
