"""The round trip: hwsim's own exported Mitchell, DRUM and REALM Verilog, imported as a
circuit-mul, equals the native models bit for bit: every pair at 8 bits, corners and 10**6
seeded pairs at 16 bits."""

import numpy as np
import pytest

from hwsim.circuit_mul import CircuitMulParams, circuit_mul
from hwsim.drum import DrumMulParams
from hwsim.hdl.export import to_verilog
from hwsim.mitchell import MitchellMulParams
from hwsim.realm import RealmMulParams
from hwsim.units import spec_of
from hwsim.vectors import operand_pairs


def _import(native, tmp_path) -> CircuitMulParams:
    f = tmp_path / f"{native.top_name}.v"
    f.write_text(to_verilog(spec_of(native), native))
    return CircuitMulParams(verilog=str(f), width=native.width,
                            signed=getattr(native, "signed", False))


def _check(native, tmp_path, count):
    p = _import(native, tmp_path)
    assert p.top == native.top_name and p.port_names == ("a", "b", "p")
    a, b = operand_pairs(native.width, p.signed, count, seed=7)
    want = spec_of(native).model(native, {"a": a, "b": b})["p"]
    got = circuit_mul(a, b, p)
    assert got.shape == want.shape   # (values compared: DRUM returns int64, the circuit uint64)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, (f"{bad.size} of {a.size} pairs differ; first a={a[bad[0]]} "
                           f"b={b[bad[0]]}: {got[bad[0]]} != {want[bad[0]]}")
    return a.size


@pytest.mark.parametrize("native", [MitchellMulParams(width=8), MitchellMulParams(width=8, signed=True),
                                    DrumMulParams(width=8, k=4), RealmMulParams(width=8)],
                         ids=lambda p: p.top_name)
def test_hwsims_own_8_bit_verilog_as_a_circuit_equals_the_native_unit_on_every_pair(native,
                                                                                    tmp_path):
    assert _check(native, tmp_path, None) == 65_536


@pytest.mark.slow
@pytest.mark.parametrize("native", [MitchellMulParams(width=16), DrumMulParams(width=16, k=6),
                                    RealmMulParams(width=16)], ids=lambda p: p.top_name)
def test_hwsims_own_16_bit_verilog_as_a_circuit_equals_the_native_unit(native, tmp_path):
    assert _check(native, tmp_path, 1_000_000) >= 1_000_000
