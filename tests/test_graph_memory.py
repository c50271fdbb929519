"""hwsim run's memory does not grow with the rows it keeps nothing of: the ONNX Runtime
sessions Graph caches (two per node in the per-node attribution) hold no tensors between
runs (no memory arena, no preallocated memory pattern)."""

import ctypes

import numpy as np

from rtl import require_module, skip_unless_ci

require_module("onnx", "ml")
require_module("onnxruntime", "ml")

from onnx import TensorProto, helper, numpy_helper  # noqa: E402

from hwsim.graph.assign import parse_assignment  # noqa: E402
from hwsim.graph.evaluate import run_model  # noqa: E402
from hwsim.graph.model import Graph  # noqa: E402

D, LAYERS = 16, 4


class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost".split()]


def _heap_in_use():
    """Bytes malloc has handed out and not got back (glibc's mallinfo2 over every arena:
    in-use chunks plus mmapped ones), or None without glibc >= 2.33. Live allocations, not
    the resident size, so that memory the allocator merely keeps cached does not count."""
    try:
        f = ctypes.CDLL(None).mallinfo2
    except (OSError, AttributeError):
        return None
    f.restype = _MallInfo2
    m = f()
    return m.uordblks + m.hblkhd


def _chain(seed=0) -> Graph:
    """x -> (MatMul, Tanh) x LAYERS, [n, D] float32 throughout."""
    rng = np.random.default_rng(seed)
    nodes, inits, prev = [], [], "x"
    for i in range(LAYERS):
        w = (rng.standard_normal((D, D)) / 8).astype(np.float32)
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        nodes += [helper.make_node("MatMul", [prev, f"w{i}"], [f"m{i}"], name=f"mm{i}"),
                  helper.make_node("Tanh", [f"m{i}"], [f"t{i}"], name=f"th{i}")]
        prev = f"t{i}"
    g = helper.make_graph(nodes, "chain", [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", D])],
                          [helper.make_tensor_value_info(prev, TensorProto.FLOAT, ["n", D])], inits)
    return Graph(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), "chain")


def _held_after_run(rows: int) -> int:
    """Heap bytes still in use after a per-node attribution run of ``rows`` rows, while the
    graph (and every session it cached) is alive."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((rows, D)).astype(np.float32)
    labels = rng.integers(0, D, rows)    # an accuracy headline: no pairwise metric of rows
    graph = _chain()
    a = parse_assignment({"assign": [{"op": "MatMul", "unit": "mitchell-mul", "width": 8}]})
    run_model(graph, {"x": x[:1], "labels": labels[:1]}, a)      # imports, kernels and tables: not the rows' share
    before = _heap_in_use()
    r = run_model(graph, {"x": x, "labels": labels}, a)
    assert len(r["attribution"]["nodes"]) == LAYERS
    held = _heap_in_use() - before
    assert len(graph._sessions) > 2 * LAYERS   # the sessions are still cached
    return held


def test_attribution_memory_does_not_grow_with_the_rows():
    if _heap_in_use() is None:
        # CI's Debian has it: there a missing one fails
        skip_unless_ci("needs glibc's mallinfo2 (Linux, glibc >= 2.33) to count heap bytes")
    small, large = 2000, 8000
    _held_after_run(small)    # the process's first run of this size keeps one-off state
    held_small, held_large = _held_after_run(small), _held_after_run(large)
    # 4x the rows may not keep even one more [rows, D] float32 tensor alive: with a memory
    # arena per cached session every one of them kept its largest run (~6 MB more here)
    one_tensor = (large - small) * D * 4
    assert held_large - held_small < one_tensor, (held_small, held_large)



def test_calibration_keeps_only_the_operands_it_reads(monkeypatch):
    """Static calibration of one MatMul reads one activation: the float run it does hands
    back that tensor, not every intermediate of the model (run(keep=True) held all
    2 x LAYERS at once), and finds the format the full run gives."""
    import onnxruntime as ort

    from hwsim.eval.hooks import frac_for_peak
    from hwsim.graph.assign import assigned_nodes, calibrate
    rows = 4000
    x = np.random.default_rng(2).standard_normal((rows, D)).astype(np.float32)
    graph = _chain()
    last = f"mm{LAYERS - 1}"
    a = parse_assignment({"assign": [{"node": last, "unit": "mitchell-mul", "width": 8}]})
    nodes = assigned_nodes(graph, a)
    handed = []
    run = ort.InferenceSession.run

    def counted(self, *args, **kw):
        outs = run(self, *args, **kw)
        handed.extend(o.nbytes for o in outs if isinstance(o, np.ndarray))
        return outs
    monkeypatch.setattr(ort.InferenceSession, "run", counted)
    fracs = calibrate(graph, a, {"x": x}, nodes)
    monkeypatch.undo()
    operand = f"t{LAYERS - 2}"
    assert set(fracs) == {operand}
    assert sum(handed) == rows * D * 4, handed        # the operand alone
    env = graph.run({"x": x}, keep=True)
    assert fracs[operand] == int(frac_for_peak(np.abs(env[operand].astype(np.float64)).max(), 8))
