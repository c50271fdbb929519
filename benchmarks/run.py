"""hwsim benchmarks: every number is a ratio against a baseline measured in the same run.

Writes benchmarks/results.md. Run with `make bench`.
"""

from __future__ import annotations

import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from hwsim import MitchellMulParams, mitchell_mul
from hwsim.eval.characterize import characterize
from hwsim.metrics import accumulate, empty_stats
from hwsim.units import get_unit


def best_of(fn, repeat=3):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"numpy {np.__version__}")


def bench_minilm(sentences: int = 300) -> list[tuple]:
    """MiniLM encode of built-in corpus sentences: float vs hardware-unit hooks (goal <= 3x)."""
    try:
        from hwsim.studies import STUDIES, minilm_units
        from hwsim.studies.minilm_eval import model
        from hwsim.studies.sentences import builtin_corpus
        m = model(64)
    except (ImportError, RuntimeError) as e:
        print(f"skipping the MiniLM benchmark: {e}", file=sys.stderr)
        return []
    texts = builtin_corpus()[:sentences]
    m.encode(texts[:8])  # warm up (first BLAS call, tokenizer)
    t_float = best_of(lambda: m.encode(texts))
    out = []
    for label, params in [
            ("softmax unit two-pass, LUT exp, exact divider, 16-bit", {}),
            ("softmax unit online, LUT exp, Mitchell divider, 8-bit",
             {"softmax": "online", "normalizer": "mitchell_div", "out_bits": 8}),
            ("softmax unit + Mitchell-8 Q.K^T and P.V products", {"products": "mitchell"})]:
        arith = minilm_units.arithmetic({**STUDIES["minilm-units"].params, **params})
        m.encode(texts[:8], arith)
        t = best_of(lambda arith=arith: m.encode(texts, arith))
        out.append((f"MiniLM encode, {sentences} sentences, {label}", f"{t:.2f} s",
                    "float numpy MiniLM", f"{t_float:.2f} s", f"{t / t_float:.2f}x (goal <= 3x)"))
    return out


def bench_minilm_products(sentences: int = 60, exact: bool = True) -> list[tuple]:
    """MiniLM with every matrix product (six dense layers and Q.K^T, P.V per layer) on an
    8-bit unit, block floating point: against the float numpy forward (goal <= 5x for
    Mitchell) and against onnxruntime's float run of the ONNX export (same length groups);
    a circuit-mul (hwsim's truncated 8x8 as a user's file) against Mitchell-8 in the same
    run. ``exact=False`` leaves out the exact 8-bit unit (``--only minilm-circuit``)."""
    try:
        from hwsim.eval.hooks import fixed_matmul
        from hwsim.studies import minilm_onnx
        from hwsim.studies.minilm import Arithmetic
        from hwsim.studies.minilm_eval import model
        from hwsim.studies.sentences import builtin_corpus
        import onnxruntime as ort
        m = model(64)
    except (ImportError, RuntimeError) as e:
        print(f"skipping the MiniLM products benchmark: {e}", file=sys.stderr)
        return []
    texts = builtin_corpus()[:sentences]
    m.encode(texts[:8])
    t_float = best_of(lambda: m.encode(texts))
    # onnxruntime on the same length groups as the numpy encoder (no padding)
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(minilm_onnx.build(m).SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])
    groups = {}
    for s in texts:
        groups.setdefault(len(m.tokenize([s])[0]), []).append(s)
    feeds = [minilm_onnx.feeds(m, g) for g in groups.values()]
    t_ort = best_of(lambda: [sess.run(["sentence_embedding"], f) for f in feeds])
    out = [(f"MiniLM float forward, {sentences} sentences: numpy (hwsim's float path)",
            f"{t_float:.2f} s", "onnxruntime float, same sentences", f"{t_ort:.2f} s",
            f"{t_float / t_ort:.2f}x")]
    from hwsim.circuit_mul import reference_params
    from hwsim.circuits import Circuit
    trunc = reference_params(Circuit("truncated", 8, t=6))   # a user's circuit: its netlist
    times = {}
    units = [("exact 8-bit", fixed_matmul("exact-mul", 8))] if exact else []
    for label, mm in units + [("Mitchell-8", fixed_matmul("mitchell-mul", 8)),
                              ("circuit-mul (hwsim's truncated 8x8, t=6)",
                               fixed_matmul("circuit-mul", 8, verilog=trunc.verilog))]:
        arith = Arithmetic(linear=mm, attention_products=mm)
        m.encode(texts[:8], arith)
        t = times[label] = best_of(lambda arith=arith: m.encode(texts, arith))
        goal = " (goal <= 5x)" if "Mitchell" in label else ""
        out.append((f"MiniLM, {sentences} sentences, every product {label} (block FP)",
                    f"{t:.2f} s", "float numpy MiniLM", f"{t_float:.2f} s",
                    f"{t / t_float:.2f}x{goal}; {t / t_ort:.1f}x onnxruntime"))
    label = "circuit-mul (hwsim's truncated 8x8, t=6)"
    out.append((f"MiniLM, {sentences} sentences, every product {label}", f"{times[label]:.2f} s",
                "the same with Mitchell-8", f"{times['Mitchell-8']:.2f} s",
                f"{times[label] / times['Mitchell-8']:.2f}x"))
    return out


def bench_onnx_minilm(sentences: int = 60) -> list[tuple]:
    """``hwsim run``'s path on the MiniLM ONNX export (hwsim.studies.minilm_onnx, the model
    scripts/make_minilm_onnx.py writes), the built-in sentences padded to the longest:
    every MatMul (36 dense, 12 attention products) on Mitchell-8 with static calibration
    (the default of an assignment) and hwsim's float path, against onnxruntime's float run
    of the same model and feeds (default session options), all in this process (issue 27
    item 7: float path <= 1.2x, Mitchell-8 <= 8x)."""
    try:
        import onnxruntime as ort
        from hwsim.graph.assign import build_impl, parse_assignment
        from hwsim.graph.evaluate import run_model
        from hwsim.graph.model import Graph
        from hwsim.studies import minilm_onnx
        from hwsim.studies.minilm_eval import model
        from hwsim.studies.sentences import builtin_corpus
        m = model(64)
    except (ImportError, RuntimeError) as e:
        print(f"skipping the ONNX MiniLM benchmark: {e}", file=sys.stderr)
        return []
    proto = minilm_onnx.build(m)
    feeds = minilm_onnx.feeds(m, builtin_corpus()[:sentences])
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    sess = ort.InferenceSession(proto.SerializeToString(), opts, providers=["CPUExecutionProvider"])
    sess.run(None, feeds)
    t_ort = best_of(lambda: sess.run(None, feeds))
    graph = Graph(proto, source="minilm.onnx")
    feeds = graph.check_feeds(feeds)
    graph.run(feeds)
    t_float = best_of(lambda: graph.run(feeds))
    assignment = parse_assignment({"assign": [{"op": "MatMul", "unit": "mitchell-mul", "width": 8}]})
    impl, nodes, _ = build_impl(graph, assignment, feeds)
    graph.run(feeds, impl)
    t_mitchell = best_of(lambda: graph.run(feeds, impl))
    t_all = best_of(lambda: run_model(graph, feeds, assignment, attribution=False), repeat=1)
    what = f"MiniLM ONNX, {sentences} sentences x {feeds['input_ids'].shape[1]} tokens"
    base = "onnxruntime float, same model and feeds"
    return [(f"{what}: hwsim's float path (`Graph.run`)", f"{t_float:.2f} s", base,
             f"{t_ort:.3f} s", f"{t_float / t_ort:.2f}x (goal <= 1.2x)"),
            (f"{what}: every MatMul ({len(nodes)}) on Mitchell-8, static formats, one forward",
             f"{t_mitchell:.2f} s", base, f"{t_ort:.3f} s",
             f"{t_mitchell / t_ort:.1f}x (goal <= 8x)"),
            (f"{what}: `hwsim run`'s work without attribution (reference, calibration, "
             f"Mitchell-8 forward, metrics)", f"{t_all:.2f} s", base, f"{t_ort:.3f} s",
             f"{t_all / t_ort:.1f}x")]


def bench_startup(repeat: int = 5) -> list[tuple]:
    """Wall time of the ``hwsim`` console script, best of ``repeat`` (issue 27 item 7: <= 1 s):
    ``hwsim run --help`` and a small model's float run (the digits MLP that
    scripts/make_digits_onnx.py writes, 397 rows), against a bare ``python -c "import numpy"``
    (the floor a numpy program pays); and ``import onnx`` alone, which imports ml_dtypes."""
    import subprocess
    exe = Path(sys.executable).with_name("hwsim")
    if not exe.is_file():
        print(f"skipping the start-up benchmark: no {exe} (pip install -e .)", file=sys.stderr)
        return []

    def wall(cmd):
        def run():
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        run()    # warm the file cache (and numba's, if anything compiles)
        return best_of(run, repeat)
    with tempfile.TemporaryDirectory() as d:
        try:
            subprocess.run([sys.executable, str(Path(__file__).parents[1] / "scripts" /
                                                "make_digits_onnx.py"), d], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        except subprocess.CalledProcessError as e:
            print(f"skipping the start-up benchmark: make_digits_onnx.py failed ({e})",
                  file=sys.stderr)
            return []
        t_floor = wall([sys.executable, "-c", "import numpy"])
        t_help = wall([str(exe), "run", "--help"])
        t_run = wall([str(exe), "run", f"{d}/mlp.onnx", "--data", f"{d}/digits.npz"])
        t_onnx = wall([sys.executable, "-c", "import onnx"])
    import importlib.metadata as md
    base = 'python -c "import numpy"'
    return [(f"start-up: `hwsim run --help`, best of {repeat}", f"{t_help:.2f} s", base,
             f"{t_floor:.2f} s", f"{t_help / t_floor:.1f}x (goal <= 1 s)"),
            (f"start-up: `hwsim run mlp.onnx --data digits.npz` (digits MLP, float, 397 rows), "
             f"best of {repeat}", f"{t_run:.2f} s", base, f"{t_floor:.2f} s",
             f"{t_run / t_floor:.1f}x (goal <= 1 s)"),
            (f"start-up: `python -c \"import onnx\"`, best of {repeat}",
             f"{t_onnx:.2f} s (ml_dtypes {md.version('ml_dtypes')})", base, f"{t_floor:.2f} s",
             f"{t_onnx / t_floor:.1f}x")]


def bench_circuit(pairs: int = 4_000_000) -> list[tuple]:
    """circuit-mul's compiled model (hwsim.circuit_mul.circuit_mul, int64 operands) on hwsim's
    reference circuits, against numpy's a*b on the same pairs: the 8x8 broken-array circuit
    through its product table, the 16x16 exact array, truncated and broken-array circuits
    through the netlist in one pass per block (issue 29: >= 10^7 pairs/s for 16x16 on 2
    cores); and the 16x16 exact model against the engine's general Netlist.evaluate on the
    same pairs. Each value names the load average when it was measured."""
    import numba

    from hwsim.circuit_mul import circuit_mul, reference_params
    from hwsim.circuits import Circuit
    from hwsim.netlist import CellLibrary, Netlist, ToolNotFound, map_to_cells
    out = []
    rng = np.random.default_rng(0)
    threads = numba.get_num_threads()
    for c in (Circuit("broken-array", 8, hbl=2, vbl=8), Circuit("exact", 16),
              Circuit("truncated", 16, t=8), Circuit("broken-array", 16, hbl=4, vbl=16)):
        try:
            p = reference_params(c)
        except ToolNotFound as e:
            print(f"skipping the circuit-mul benchmark: {e}", file=sys.stderr)
            return out
        w = c.width
        a = rng.integers(0, 1 << w, pairs)
        b = rng.integers(0, 1 << w, pairs)
        circuit_mul(a, b, p)   # table / compile / threads
        t = best_of(lambda p=p, a=a, b=b: circuit_mul(a, b, p))
        load = os.getloadavg()[0]
        t_numpy = best_of(lambda a=a, b=b: a * b)
        how = "product table" if 2 * w <= 16 else "netlist, one pass"
        goal = " (goal >= 10^7)" if w == 16 else ""
        out.append((f"circuit-mul model, {c.name} ({how}), {pairs:,} pairs, {threads} threads",
                    f"{pairs / t / 1e6:.1f} M pairs/s{goal}, load {load:.1f}", "numpy exact a*b",
                    f"{pairs / t_numpy / 1e6:.0f} M pairs/s", f"{t / t_numpy:.0f}x"))
        if c.kind == "exact":
            nl = Netlist.from_yosys(map_to_cells(c.verilog(), c.name), c.name,
                                    CellLibrary.yosys_gates())
            ua, ub = a.astype(np.uint64), b.astype(np.uint64)
            assert np.array_equal(nl.evaluate({"A": ua, "B": ub})["O"], circuit_mul(a, b, p))
            t_eval = best_of(lambda nl=nl, ua=ua, ub=ub: nl.evaluate({"A": ua, "B": ub}))
            out.append((f"circuit-mul model, {c.name}, {pairs:,} pairs, one pass per block",
                        f"{pairs / t / 1e6:.1f} M pairs/s",
                        "Netlist.evaluate, same netlist and pairs (pack, gates, unpack: "
                        "three passes)", f"{pairs / t_eval / 1e6:.1f} M pairs/s",
                        f"{t_eval / t:.1f}x faster"))
    return out


def bench_netlist(pairs: int = 4_000_000) -> list[tuple]:
    """The gate-netlist engine (hwsim.netlist) on an exact 16x16 multiplier mapped by yosys to
    osu018 cells and to yosys' gates: evaluate (goal >= 10^7 pairs/s in gates, >= 10^6 on
    osu018) and zero-delay toggles, against numpy's a*b on the same pairs."""
    from hwsim.netlist import CellLibrary, Netlist, ToolNotFound, map_to_cells
    lib = Path("/usr/share/qflow/tech/osu018/osu018_stdcells.lib")
    src = ("module mul16(input [15:0] a, input [15:0] b, output [31:0] o);\n"
           "  assign o = a * b;\nendmodule\n")
    rng = np.random.default_rng(0)
    a = rng.integers(0, 1 << 16, pairs, dtype=np.uint64)
    b = rng.integers(0, 1 << 16, pairs, dtype=np.uint64)
    t_numpy = best_of(lambda: a * b)
    out = []
    for name, liberty, cells in [("yosys gates", None, CellLibrary.yosys_gates),
                                 ("osu018 cells", lib, lambda: CellLibrary.from_liberty(lib))]:
        try:
            if liberty is not None and not liberty.is_file():
                raise ToolNotFound(f"{liberty} is missing (apt-get install qflow-tech-osu018)")
            nl = Netlist.from_yosys(map_to_cells(src, "mul16", liberty), "mul16", cells())
        except ToolNotFound as e:
            print(f"skipping the netlist benchmark on {name}: {e}", file=sys.stderr)
            continue
        ops = {"a": a, "b": b}
        assert np.array_equal(nl.evaluate({"a": a[:4096], "b": b[:4096]})["o"], a[:4096] * b[:4096])
        nl.toggles({"a": a[:4096], "b": b[:4096]})  # compile
        t_eval = best_of(lambda nl=nl, ops=ops: nl.evaluate(ops))
        t_tog = best_of(lambda nl=nl, ops=ops: nl.toggles(ops))
        goal = "10^7" if liberty is None else "10^6"
        out.append((f"netlist engine, exact 16x16 in {name} ({nl.instances} cells), evaluate "
                    f"{pairs:,} pairs", f"{pairs / t_eval / 1e6:.1f} M pairs/s (goal >= {goal})",
                    "numpy exact a*b", f"{pairs / t_numpy / 1e6:.0f} M pairs/s",
                    f"{t_eval / t_numpy:.0f}x"))
        out.append((f"netlist engine, exact 16x16 in {name}, zero-delay toggles of every net",
                    f"{pairs / t_tog / 1e6:.1f} M ops/s",
                    "the same netlist's evaluate", f"{pairs / t_eval / 1e6:.1f} M pairs/s",
                    f"{t_tog / t_eval:.2f}x"))
    return out


#: the entries ``--only`` can name (the others need the whole run)
SECTIONS = {"minilm": lambda: bench_minilm(), "minilm-products": lambda: bench_minilm_products(),
            "onnx-minilm": lambda: bench_onnx_minilm(), "netlist": lambda: bench_netlist(),
            "circuit": lambda: bench_circuit(), "startup": lambda: bench_startup(),
            "minilm-circuit": lambda: bench_minilm_products(exact=False)}


def write_rows(rows: list[tuple], only: list[str] | None = None) -> None:
    """The table into results.md: the whole table, or with ``only`` the rows of those
    sections replaced (rows of the same measurement) or added, the rest kept as measured."""
    out = Path(__file__).with_name("results.md")
    head = ["# Benchmark results", "", f"Machine: {machine()}.", f"Run: `{' '.join(sys.argv)}`.", ""]
    table = ["| measurement | value | baseline | baseline value | ratio |", "|---|---|---|---|---|"]
    new = [f"| {m} | {v} | {bn} | {bv} | {r} |" for m, v, bn, bv, r in rows]
    if only and out.is_file():
        old = out.read_text().splitlines()
        keep = [ln for ln in old[old.index(table[1]) + 1:] if ln.startswith("| ")]
        names = {ln.split(" | ")[0] for ln in new}
        kept = [ln for ln in keep if ln.split(" | ")[0] not in names]
        runs = [ln for ln in old if ln.startswith("Run: ")]
        run = (runs[0] if runs else "Run: (unknown).").replace(" Each ratio is within one run.", "")
        # an earlier partial run of the same sections is replaced, not listed again
        run = re.sub(r" Rows of ([\w, -]+): `[^`]*` \(\d{4}-\d{2}-\d{2}\)\.",
                     lambda m: "" if set(m.group(1).split(", ")) <= set(only) else m.group(0),
                     run)
        head[3] = (f"{run} Rows of {', '.join(only)}: `{' '.join(sys.argv)}` "
                   f"({time.strftime('%Y-%m-%d')}). Each ratio is within one run.")
        new = kept + new
    out.write_text("\n".join(head + table + new) + "\n")
    print("\n".join(head + table + new))


def main() -> int:
    if "--only" in sys.argv:
        i = sys.argv.index("--only")
        only = sys.argv[i + 1].split(",") if i + 1 < len(sys.argv) else []
        bad = [x for x in only if x not in SECTIONS]
        if not only or bad:
            print(f"benchmarks/run.py: --only takes sections from {', '.join(SECTIONS)}, "
                  f"not {','.join(bad) or 'nothing'}", file=sys.stderr)
            return 2
        rows = [r for x in only for r in SECTIONS[x]()]
        write_rows(rows, only)
        return 0
    rows = []
    spec = get_unit("mitchell-mul")
    p16 = MitchellMulParams(width=16)

    # 1. model throughput vs numpy's exact multiply, 10**7 pairs
    rng = np.random.default_rng(0)
    a = rng.integers(0, 1 << 16, 10 ** 7)
    b = rng.integers(0, 1 << 16, 10 ** 7)
    from hwsim.mitchell import mitchell_mul_numpy
    mitchell_mul(a[:1 << 16], b[:1 << 16], p16)  # compile the fast path (cached on disk)
    t_exact = best_of(lambda: a * b)
    t_model = best_of(lambda: mitchell_mul(a, b, p16))
    t_numpy = best_of(lambda: mitchell_mul_numpy(a, b, p16), repeat=1)
    rows.append(("Mitchell-16 model `mitchell_mul` (fused loop), 10^7 pairs", f"{t_model:.3f} s",
                 "numpy exact a*b", f"{t_exact:.3f} s", f"{t_model / t_exact:.1f}x (goal <= 4x)"))
    rows.append(("Mitchell-16 numpy implementation `mitchell_mul_numpy`, 10^7 pairs",
                 f"{t_numpy:.3f} s", "numpy exact a*b", f"{t_exact:.3f} s",
                 f"{t_numpy / t_exact:.1f}x"))
    try:
        import apytypes as apy
        fa = apy.APyFixedArray.from_float(a[:10 ** 6] / 2 ** 8, int_bits=9, frac_bits=8)
        fb = apy.APyFixedArray.from_float(b[:10 ** 6] / 2 ** 8, int_bits=9, frac_bits=8)
        t_apy = best_of(lambda: fa * fb) * 10
        rows.append(("Mitchell-16 model, 10^7 pairs", f"{t_model:.3f} s",
                     "APyTypes fixed-point multiply (10^6 x 10)", f"{t_apy:.3f} s",
                     f"{t_model / t_apy:.2f}x"))
    except ImportError:
        pass

    # 2. exhaustive characterisation: compiled kernel vs numpy model path, per pair
    rows_a = np.arange(1000, 1064)
    stats, hist = empty_stats()
    from hwsim.eval import characterize_kernels
    characterize_kernels.mul_exhaustive(p16, rows_a[:1], stats, hist, 2)  # compile
    t_kernel = best_of(lambda: characterize_kernels.mul_exhaustive(p16, rows_a, stats, hist, 2))

    def numpy_path():
        aa, bb = np.meshgrid(rows_a, np.arange(1 << 16), indexing="ij")
        s, h = empty_stats()
        accumulate(s, h, *spec.real(p16, {"a": aa.ravel(), "b": bb.ravel()}))
    t_numpy = best_of(numpy_path, repeat=1)
    pairs = rows_a.size << 16
    rows.append(("exhaustive kernel (numba, 2 threads), per pair", f"{1e9 * t_kernel / pairs:.1f} ns",
                 "numpy model + metrics, per pair", f"{1e9 * t_numpy / pairs:.1f} ns",
                 f"{t_numpy / t_kernel:.1f}x faster"))
    t_full = characterize(spec, p16, jobs=2).seconds
    rows.append(("exhaustive 16x16 characterisation (2^32 pairs, 2 threads)", f"{t_full:.1f} s",
                 "goal", "60 s", f"{t_full / 60:.2f} of goal"))

    # 3. RTL vectors/s: cocotb per-cycle vs batched testbench, Icarus vs Verilator
    from hwsim.sim.batched import run_batched
    from hwsim.sim.runner import available_simulators, run_bench
    sims = available_simulators()
    with tempfile.TemporaryDirectory() as tmp:
        rates = {}
        for sim in sims:
            r = run_bench(spec, p16, sim=sim, vectors=100_000, build_root=tmp)
            assert r.mismatches == 0
            rates[sim] = r.rate
            rb = run_batched(spec, p16, sim=sim, vectors=1_000_000, build_root=tmp)
            assert rb.mismatches == 0
            rows.append((f"batched testbench, {sim}, mitchell_mul_u16, 10^6 vectors",
                         f"{rb.rate:,.0f} vectors/s", f"cocotb per-cycle, {sim}",
                         f"{r.rate:,.0f} vectors/s", f"{rb.rate / r.rate:.1f}x"))
        if "icarus" in rates:
            for sim, rate in rates.items():
                rows.append((f"cocotb per-cycle bench, {sim}, mitchell_mul_u16", f"{rate:,.0f} vectors/s",
                             "Icarus", f"{rates['icarus']:,.0f} vectors/s",
                             f"{rate / rates['icarus']:.2f}x"))

    # 4. softmax stream unit: cocotb per-cycle bench vs batched stream testbench (Verilator)
    from hwsim.softmax import SoftmaxParams
    sm = get_unit("softmax")
    if "verilator" in sims:
        with tempfile.TemporaryDirectory() as tmp:
            r = run_bench(sm, SoftmaxParams(), sim="verilator", vectors=5_000, build_root=tmp)
            rb = run_batched(sm, SoftmaxParams(), sim="verilator", vectors=100_000, build_root=tmp)
            assert r.mismatches == 0 and rb.mismatches == 0
            rows.append(("batched stream testbench, verilator, softmax L=8, 10^5 vectors",
                         f"{rb.rate:,.0f} vectors/s", "cocotb stream bench, verilator",
                         f"{r.rate:,.0f} vectors/s", f"{rb.rate / r.rate:.1f}x"))

    # 5. MiniLM forward with emulated hardware units vs the float numpy forward
    rows += bench_minilm()
    rows += bench_minilm_products()
    rows += bench_onnx_minilm()

    # 5b. the gate-netlist engine (issue 28's toggles, issue 29's circuit models)
    rows += bench_netlist()
    rows += bench_circuit()
    rows += bench_startup()

    # 6. hwsim demo wall time (fresh synthesis cache, so the cost section synthesizes)
    import os
    import subprocess
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "hwsim.cli", "demo", "-o", f"{tmp}/out"], check=True,
                       capture_output=True, env=os.environ | {"XDG_CACHE_HOME": f"{tmp}/cache"})
        t_demo = time.perf_counter() - t
    rows.append(("`hwsim demo` wall time (empty caches)", f"{t_demo:.0f} s", "goal", "180 s",
                 f"{t_demo / 180:.2f} of goal"))

    write_rows(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
