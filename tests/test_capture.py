"""hwsim run --capture: the operand codes each product node's unit sees, as synth streams."""

import json

import numpy as np
import pytest

from rtl import require_module

require_module("onnx", "ml")
require_module("onnxruntime", "ml")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from hwsim.cli import main  # noqa: E402
from hwsim.eval.capture import OperandCapture, file_names  # noqa: E402
from hwsim.graph.assign import parse_assignment  # noqa: E402
from hwsim.graph.evaluate import run_model  # noqa: E402

N, K, M = 5, 7, 3
FA, FB = 4, 5


@pytest.fixture
def matmul_model(tmp_path):
    """y = x @ W with x and W exact multiples of 2**-FA, 2**-FB inside 8 bits: the codes a
    unit sees are those integers whatever the rounding."""
    rng = np.random.default_rng(3)
    xi = rng.integers(-120, 120, (N, K))
    wi = rng.integers(-120, 120, (K, M))
    w = numpy_helper.from_array(np.ldexp(wi, -FB).astype(np.float32), "W")
    g = helper.make_graph([helper.make_node("MatMul", ["x", "W"], ["y"], name="mm/0")], "g",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, K])],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, M])], [w])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    path = tmp_path / "mm.onnx"
    path.write_bytes(m.SerializeToString())
    data = tmp_path / "x.npz"
    np.savez(data, x=np.ldexp(xi, -FA).astype(np.float32))
    return path, data, xi, wi


def _assignment(unit):
    return parse_assignment({"assign": [{"op": "MatMul", "unit": unit, "width": 8}],
                             "formats": {"x": FA, "W": FB}})


@pytest.mark.parametrize("unit,magnitudes", [("exact-mul", False), ("drum-mul", True)])
def test_every_pair_is_the_codes_of_its_product(matmul_model, unit, magnitudes):
    path, data, xi, wi = matmul_model
    cap = OperandCapture(cap=10_000, seed=0)
    run_model(path, data, _assignment(unit), attribution=True, capture=cap)
    assert list(cap.nodes) == ["mm/0"]          # the attribution runs record nothing more
    z = cap.arrays("mm/0")
    assert int(z["operations"]) == N * M * K and z["a"].size == N * M * K
    # flat order (i, j, kk): a = x[i, kk], b = W[kk, j]
    i, j, kk = np.meshgrid(np.arange(N), np.arange(M), np.arange(K), indexing="ij")
    ea, eb = xi[i, kk].ravel(), wi[kk, j].ravel()
    if magnitudes:      # a sign-magnitude unit sees |a|, |b|
        ea, eb = np.abs(ea), np.abs(eb)
    assert np.array_equal(z["a"], ea) and np.array_equal(z["b"], eb)
    assert str(z["unit"]) == unit and json.loads(str(z["params"]))["width"] == 8


def test_subsample_is_seeded_and_drawn_from_the_pairs(matmul_model):
    path, data, xi, wi = matmul_model
    got = []
    for seed in (0, 0, 1):
        cap = OperandCapture(cap=40, seed=seed)
        run_model(path, data, _assignment("exact-mul"), attribution=False, capture=cap)
        got.append(cap.arrays("mm/0"))
    assert got[0]["a"].size == 40 and int(got[0]["operations"]) == N * M * K
    assert np.array_equal(got[0]["a"], got[1]["a"]) and np.array_equal(got[0]["b"], got[1]["b"])
    assert not (np.array_equal(got[0]["a"], got[2]["a"]) and np.array_equal(got[0]["b"], got[2]["b"]))
    pairs = {(int(xi[i, k]), int(wi[k, j])) for i in range(N) for j in range(M) for k in range(K)}
    assert set(zip(got[0]["a"].tolist(), got[0]["b"].tolist())) <= pairs


def test_file_names_are_distinct_and_safe():
    names = file_names(["a/b", "a_b", "../x", "a:b"])
    assert names == {"a/b": "a_b.npz", "a_b": "a_b-2.npz", "../x": "_x.npz",
                     "a:b": "a_b-3.npz"}


def test_cli_writes_a_stream_synth_reads(matmul_model, tmp_path, capsys):
    from hwsim.eval.streams import load
    from hwsim.units import get_unit
    path, data, xi, wi = matmul_model
    assign = tmp_path / "a.toml"
    assign.write_text('[[assign]]\nop = "MatMul"\nunit = "mitchell-mul"\nwidth = 8\n'
                      f'[formats]\nx = {FA}\nW = {FB}\n')
    out = tmp_path / "cap"
    assert main(["run", str(path), "--data", str(data), "--assign", str(assign), "--capture",
                 str(out), "--capture-ops", "50", "--no-attribution"]) == 0
    line = [ln for ln in capsys.readouterr().out.splitlines() if ln.startswith("captured")]
    assert line == [f"captured {out / 'mm_0.npz'}: 50 operand pairs, a seeded subsample (seed 0) "
                    f"of {N * M * K} products of node mm/0 on mitchell-mul"]
    spec = get_unit("mitchell-mul")
    ops = load(spec, spec.params_cls(width=8, signed=True), out / "mm_0.npz")
    assert ops["a"].size == 50 and set(ops) == {"a", "b"}


def test_cli_refusals(matmul_model, tmp_path, capsys):
    path, data, _, _ = matmul_model
    assert main(["run", str(path), "--data", str(data), "--capture-ops", "50"]) == 2
    assert "give --capture" in capsys.readouterr().err
    f = tmp_path / "file"
    f.write_text("x")
    assert main(["run", str(path), "--data", str(data), "--capture", str(f)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a directory" in err[0]
