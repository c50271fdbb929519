"""The ONNX project's node test suite through hwsim's float path: a coverage check.

    python scripts/onnx_node_suite.py [--modules averagepool,split] [--skip REGEX]
                                      [--json FILE] [--write docs/onnx.md] [--max-seconds S]
    python scripts/onnx_node_suite.py --from-json A.json B.json --write docs/onnx.md

The cases come from the installed ``onnx`` wheel (``onnx.backend.test.case.node``, which no
longer ships them as files): every exporter module, or only the named ones (``--modules``:
module names under ``onnx/backend/test/case/node``, e.g. ``averagepool``). Each case's
model is loaded as ``hwsim run`` loads it (:class:`hwsim.graph.model.Graph`, its ONNX
Runtime session built up front) and run on each of its data sets twice: the float path as
``hwsim run`` runs it without an assignment, and cut apart with every node (up to 8 of a
larger graph) alone in its own session, the rest in segments between them (the path the
nodes between assigned ones take). Both are compared with a separate
ONNX Runtime session of the model and with the outputs the ONNX suite expects (the case's
rtol/atol). A case is

* ``passed``: both runs equal onnxruntime (bit for bit: same kernels; a float16 output of
  the cut path within the case's tolerance, listed: onnxruntime computes runs of float16
  nodes in float32, a cut rounds the tensor to its declared float16) and the expected
  outputs;
* ``refused``: the model cannot run (onnxruntime has no kernel or type for it), one line;
* ``refused when cut``: the whole model runs (``hwsim run`` without an assignment), but a
  cut around one of its nodes makes a sub-model onnxruntime refuses, in one line (a Scan
  whose body's state shapes onnxruntime infers only inside the whole graph);
* ``onnxruntime differs from onnx``: hwsim equals onnxruntime, and both differ from the
  suite's expected outputs (random ops such as Dropout in training mode, or onnxruntime's
  own deviations): listed, never silent;
* ``differing``: hwsim's output is not onnxruntime's (the goal: none);
* ``traceback``: anything but a one-line refusal (the goal: none).

``--write FILE`` replaces the table between ``<!-- node-suite -->`` and ``<!-- end
node-suite -->`` in FILE (docs/onnx.md); ``make onnx-suite`` runs every case, in
16 parts of the exporter modules (each a few minutes on a loaded machine), and merges them
with ``--from-json``.
Cases whose hwsim runs took longer than ``--max-seconds`` are counted as slow in the JSON
(the test runs a fast subset).
"""

from __future__ import annotations

import argparse
import importlib
import json
import re
import sys
import time
import traceback
import warnings
from collections import Counter
from pathlib import Path

import numpy as np

START, END = "<!-- node-suite -->", "<!-- end node-suite -->"
STATUSES = ("passed", "refused", "refused when cut", "onnxruntime differs from onnx",
            "differing", "traceback")


def cases(modules: list[str] | None = None) -> list:
    """The node test cases (all, or those the named exporter modules write)."""
    import onnx.backend.test.case.node as node
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if not modules:
            return list(node.collect_testcases())
        for m in modules:
            mod = importlib.import_module(f"onnx.backend.test.case.node.{m}")
            if hasattr(mod, "__path__"):          # ai_onnx_ml: a package of exporters
                from onnx.backend.test.case.utils import import_recursive
                import_recursive(mod)
    return list(node._NodeTestCases)


def modules(part: str | None = None) -> list[str]:
    """The exporter modules, or the K-th of N equal parts of them (``part`` = ``"K/N"``)."""
    import pkgutil

    import onnx.backend.test.case.node as node
    names = sorted(m.name for m in pkgutil.iter_modules(node.__path__) if not m.name.startswith("_"))
    if not part:
        return names
    k, n = (int(x) for x in part.split("/"))
    if not 1 <= k <= n:
        raise SystemExit(f"onnx_node_suite: --part must be K/N with 1 <= K <= N, not {part}")
    return names[(k - 1) * len(names) // n:k * len(names) // n]


def _same(a, b, rtol=0.0, atol=0.0) -> bool:
    """Equal values (NaN equal to NaN); ``rtol``/``atol`` as numpy.testing.assert_allclose."""
    if isinstance(a, list) or isinstance(b, list):
        return (isinstance(a, list) and isinstance(b, list) and len(a) == len(b)
                and all(_same(x, y, rtol, atol) for x, y in zip(a, b)))
    if isinstance(a, dict) or isinstance(b, dict):
        return (isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys()
                and all(_same(a[k], b[k], rtol, atol) for k in a))
    if a is None or b is None:
        return a is None and b is None
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.dtype.kind in "OUS" or b.dtype.kind in "OUS" or a.dtype.kind == "b":
        return bool(np.array_equal(a.astype(object), b.astype(object)))
    if a.dtype != b.dtype and {a.dtype.kind, b.dtype.kind} - {"f", "i", "u", "c"}:
        return False
    try:
        x, y = a.astype(np.float64), b.astype(np.float64)
    except (TypeError, ValueError):          # float8 & co. as ml_dtypes: compare the bits
        return bool(np.array_equal(a.view(np.uint8), b.view(np.uint8)))
    nan = np.isnan(x) | np.isnan(y)
    if not np.array_equal(np.isnan(x), np.isnan(y)):
        return False
    x, y = np.where(nan, 0, x), np.where(nan, 0, y)
    if rtol == 0 and atol == 0:
        return bool(np.array_equal(x, y))
    with np.errstate(invalid="ignore"):     # inf - inf: equal infinities are equal
        return bool(np.all((x == y) | (np.abs(x - y) <= atol + rtol * np.abs(y))))


def _feeds(model, inputs: list) -> dict:
    inits = {t.name for t in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in inits]
    # numpy scalars (a Dropout ratio) as 0-d arrays, as an .npz file holds them; tensors
    # the suite stores as TensorProto (Cast's) as numpy arrays
    from onnx import TensorProto, numpy_helper
    return {k: np.asarray(v) if isinstance(v, np.generic) else
            numpy_helper.to_array(v) if isinstance(v, TensorProto) else v
            for k, v in zip(names, inputs)}


def _reason(msg: str) -> str:
    """A refusal's reason, short enough for a table row (no node names, no paths)."""
    msg = re.sub(r"^onnxruntime cannot run \S+?( around node \S+ \(\w+\)| node \S+ \(\w+\))?: ",
                 "", msg)
    if re.search(r"Numpy_type \d+ can't be converted to MLDataType", msg):
        return ("an input of a type onnxruntime's Python API takes no numpy array of "
                "(bfloat16, float8, 2- and 4-bit integers)")
    if "No corresponding Numpy type for Tensor Type" in msg:
        return ("an output of a type onnxruntime's Python API returns no numpy array of "
                "(bfloat16, float8, 2- and 4-bit integers)")
    m = re.search(r"([\w.]+:\w+)\((-?\d+)\) is not a registered function/op", msg)
    if m:
        return f"onnxruntime has no op {m.group(1)}"
    m = re.search(r"(?:Could not find an implementation|Failed to find kernel) for (\w+)\((\d+)\)",
                  msg)
    if m:
        return f"onnxruntime has no kernel for {m.group(1)}({m.group(2)}) with these types"
    m = re.search(r"(Type Error|type) .*?\b(tensor\(\w+\))", msg)
    if m and "Type Error" in msg:
        return f"onnxruntime's type check: {m.group(2)} not accepted"
    m = re.search(r"(ONNX Runtime only \*guarantees\*|Opset \d+ is under development)", msg)
    if m:
        return "an opset newer than onnxruntime's"
    msg = re.sub(r"\[ONNXRuntimeError\] : \d+ : \w+ : ", "", msg)
    msg = re.sub(r"Node \([^)]*\)|node [\w./-]+ |Name:'[^']*'", "", msg)
    msg = re.sub(r"\s+", " ", msg)
    return msg[:110]


MAX_CUT = 8


def cut_nodes(g) -> list[str]:
    """The nodes run alone on the cut path: all of them, or ``MAX_CUT`` evenly spaced ones
    of a larger graph (a function-expanded case has dozens; the rest then run in level
    segments between them, which the cut also exercises)."""
    names = [n.name for n in g.nodes]
    if len(names) <= MAX_CUT:
        return names
    return [names[i * len(names) // MAX_CUT] for i in range(MAX_CUT)]


def run_case(case) -> dict:
    """``{"name", "op", "status", "reason", "seconds"}`` for one case."""
    from onnx import TensorProto, numpy_helper

    from hwsim.graph.model import Graph, ModelError, _session
    op = case.model.graph.node[0].op_type if case.model.graph.node else "?"
    out = {"name": case.name, "op": op, "status": "passed", "reason": "", "seconds": 0.0}
    t0 = time.perf_counter()
    try:
        g = Graph(case.model, source=case.name)
        g.session()
        ort_sess = _session(case.model.SerializeToString())   # an independent session
        names = [o.name for o in case.model.graph.output]
        onnx_differs = False
        for inputs, expected in case.data_sets:
            feeds = _feeds(case.model, inputs)
            got = g.run(feeds)
            ref = dict(zip(names, ort_sess.run(names, feeds)))
            try:
                cut = g.run(feeds, cut=cut_nodes(g))
            except ModelError as e:
                out.update(status="refused when cut", reason=str(e)[:400])
                return out
            for k, want in zip(names, expected):
                if isinstance(want, TensorProto):
                    want = numpy_helper.to_array(want)
                for how, v in (("float path", got[k]), ("cut path", cut[k])):
                    if _same(v, ref[k]):
                        continue
                    if (how == "cut path" and np.asarray(v).dtype == np.float16
                            and _same(v, ref[k], case.rtol, case.atol)):
                        # onnxruntime's CPU provider computes a run of float16 nodes in
                        # float32 between casts it inserts; a cut hands the tensor on in
                        # its declared float16, rounded: within the case's tolerance
                        out["note"] = "float16 rounded at the cut"
                        continue
                    out.update(status="differing",
                               reason=f"{how}: output {k} is not onnxruntime's")
                    return out
                if not _same(ref[k], want, case.rtol, case.atol):
                    onnx_differs = True
        if onnx_differs:
            out["status"] = "onnxruntime differs from onnx"
            out["reason"] = "outputs not the suite's expected ones (hwsim = onnxruntime)"
    except ModelError as e:
        msg = str(e)
        out.update(status="refused" if "\n" not in msg else "traceback", reason=msg[:400])
    except Exception as e:  # noqa: BLE001 - the suite counts these
        out.update(status="traceback", reason=f"{type(e).__name__}: {str(e)[:100]}",
                   trace=traceback.format_exc(limit=3))
    finally:
        out["seconds"] = time.perf_counter() - t0
    return out


def table(results: list[dict]) -> str:
    """The markdown block between the markers: counts, refusals by reason, the rest by name."""
    import onnx
    import onnxruntime
    count = Counter(r["status"] for r in results)
    lines = [f"{len(results)} cases of onnx {onnx.__version__}'s node suite, onnxruntime "
             f"{onnxruntime.__version__} (`make onnx-suite`):", "",
             "| status | cases |", "|---|---|"]
    lines += [f"| {s} | {count.get(s, 0)} |" for s in STATUSES]
    refused = Counter(_reason(r["reason"]) for r in results if r["status"] == "refused")
    if refused:
        lines += ["", "Refused, by reason (one line each, before any work):", "",
                  "| reason | cases | e.g. |", "|---|---|---|"]
        for reason, n in refused.most_common():
            first = next(r["name"] for r in results if r["status"] == "refused"
                         and _reason(r["reason"]) == reason)
            lines.append(f"| {reason.replace('|', '/')} | {n} | `{first}` |")
    noted = [r for r in results if r.get("note") and r["status"] == "passed"]
    if noted:
        lines += ["", "Passed with the cut path's float16 tensors rounded where onnxruntime's "
                  "whole run keeps float32 between its own casts (within the case's "
                  "tolerance of onnxruntime, not bit for bit): "
                  + ", ".join(f"`{r['name']}`" for r in noted) + "."]
    for status in ("refused when cut", "onnxruntime differs from onnx", "differing", "traceback"):
        rows = [r for r in results if r["status"] == status]
        if rows:
            lines += ["", f"*{status}*: " + ", ".join(f"`{r['name']}`" for r in rows) + "."]
    return "\n".join(lines)


def write_table(path: Path, text: str) -> None:
    doc = path.read_text()
    i, j = doc.find(START), doc.find(END)
    if i < 0 or j < i:
        raise SystemExit(f"onnx_node_suite: {path} has no {START} ... {END} block")
    path.write_text(doc[:i + len(START)] + "\n" + text + "\n" + doc[j:])


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modules", help="comma-separated exporter modules (default: all)")
    ap.add_argument("--part", metavar="K/N", help="only the K-th of N parts of the modules")
    ap.add_argument("--skip", metavar="REGEX", help="leave out the cases whose name matches")
    ap.add_argument("--from-json", metavar="FILE", nargs="+",
                    help="make the table from earlier --json files instead of running")
    ap.add_argument("--write", metavar="FILE", help="replace the node-suite table in FILE")
    ap.add_argument("--json", metavar="FILE", help="write every case's result as JSON")
    ap.add_argument("--max-seconds", type=float, default=1.0,
                    help="cases slower than this are counted as slow")
    args = ap.parse_args(argv)
    mods = [m for m in (args.modules or "").split(",") if m] or (
        modules(args.part) if args.part else [])
    results = []
    for f in args.from_json or ():
        results += json.loads(Path(f).read_text())
    for case in ([] if args.from_json else cases(mods)):
        if args.skip and re.search(args.skip, case.name):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            results.append(run_case(case))
        r = results[-1]
        print(f"{r['name']}: {r['status']} ({r['seconds']:.2f} s)", file=sys.stderr, flush=True)
        if args.json and len(results) % 25 == 0:     # partial results survive an interrupt
            Path(args.json).write_text(json.dumps(results, indent=1))
    text = table(results)
    print(text)
    slow = sum(r["seconds"] > args.max_seconds for r in results)
    print(f"\n{slow} case(s) took longer than {args.max_seconds} s", file=sys.stderr)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))
    if args.write:
        write_table(Path(args.write), text)
    bad = sum(r["status"] in ("differing", "traceback") for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
