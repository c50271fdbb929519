"""Standard-cell cost of a unit: area, delay, leakage and energy per operation (OSU libraries
with yosys and OpenSTA), or a library-free CMOS transistor count.

``cell_cost(spec, params, target=...)`` exports the unit's Verilog and, for a standard-cell
target (:class:`hwsim.eval.targets.CostTarget` with a ``liberty`` file):

1. **Mapping** (yosys): ``synth -flatten``, ``dfflibmap`` + ``abc -liberty`` onto the
   library's cells, ``setundef -zero``, ``opt_clean -purge``, internal names enumerated; the
   netlist is written as Verilog (``mapped.v``) and JSON (``mapped.json``) from the same
   design. **Area** is what ``stat -liberty`` prints for it (µm², the library's ``area``),
   with the cell count by type.
2. **Delay** (OpenSTA ``report_checks``): the mapped unit behind a wrapper that registers
   every input and output (as the iCE40 flow does for Fmax; ``wrapped.v``), one clock on
   ``clk``; the reported delay is the shortest clock period the register-to-register paths
   through the unit meet (clock-to-Q + logic + setup: the period minus the worst slack). The
   OSU libraries have no wire-load model, so nets carry their pins' capacitance only.
3. **Leakage** (OpenSTA ``report_power`` on the mapped unit alone): the Total row's leakage.
4. **Energy per operation** on an operand stream (``stream=``): the mapped netlist is
   simulated on the stream by :mod:`hwsim.netlist` (bit-parallel, **zero-delay**: settled
   values only, no glitches), one operation per clock; every net's toggles per operation and
   fraction of ones go to OpenSTA as the activity and duty of the pin that drives it, and
   ``report_power`` on the registered wrapper gives internal, switching and leakage power at
   the stated clock (:data:`POWER_CLOCK_NS`); the unit's power is the **Combinational** row
   (the wrapper's registers are the Sequential row), energy per operation = that power x the
   clock period. OpenSTA 2019 (Debian's) overwrites the activity of every pin whose cell has
   a ``function`` with a probabilistic estimate propagated from the input ports (independent
   inputs), and its ``set_power_activity -pins`` is broken (an undefined ``get_pins_error``);
   so the power run reads a copy of the library without the combinational cells' ``timing``
   groups (each cell output is then a start point that keeps the activity it is given, set
   with ``sta::set_power_pin_activity``) and every pin gets the slew the timing run computed
   for it (``set_assigned_transition``), so internal power is read from the library's tables
   at the slews and loads of the real netlist. OpenSTA turns an activity per clock period
   into a rate only on a pin whose instance sees a clock; without arcs, no arrival reaches a
   cell inside the unit, and its pins would silently get the default input activity (0.1 per
   second: nothing). So the copy of the library gives every combinational cell one more
   input pin, :data:`POWER_CLOCK_PIN` (no capacitance, no power), and the power netlist
   (``power_wrapped.v``) ties it to ``clk``. The script is ``power.tcl`` in the work
   directory (``--keep DIR``): ``cd DIR/<module> && sta -no_splash -exit power.tcl``
   reproduces the numbers.

For ``target="cmos"`` (no library): ``synth -flatten``, ``abc -g cmos2``, ``stat -tech cmos``
(yosys' transistor estimate) and ``ltp -noff`` (the longest path in gates).

Results are cached in the results database by a hash of (unit, params, target, flow version,
tool versions, the library file's SHA-256, the Verilog text and, with a stream, the SHA-256
of its operands and the clock).
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from hwsim.eval.synth import (
    TOOL_TIMEOUT,
    SynthError,
    SynthToolNotFound,
    _run,
    find_tool,
    tool_version,
    wrapper,
)
from hwsim.eval.targets import CostTarget, TargetUnavailable, get_target

#: part of the cache key: bump when the scripts, the wrapper or the power method change
FLOW_VERSION = 3
#: the clock the energy is stated at: one operation per cycle of this period (ns)
POWER_CLOCK_NS = 10.0
#: the clock period of the timing run (ns); the delay is this minus the worst slack
TIMING_CLOCK_NS = 1000.0
#: operations simulated for ``stream="uniform"`` / ``"small"`` unless told
STREAM_OPS = 20_000
STA_HINT = "apt-get install opensta"
ZERO_DELAY = "zero-delay toggles (no glitches)"
#: the cells ``abc -g cmos2`` and ``dfflegalize`` leave, all counted by ``stat -tech cmos``
CMOS_COUNTED = {"$_NAND_", "$_NOR_", "$_NOT_", "$_DFF_P_"}


@dataclass(frozen=True)
class CellResult:
    """One module's standard-cell (or CMOS) cost. Energy fields are ``None`` without a
    stream."""

    top: str
    target: str
    cells: dict
    cell_count: int
    yosys: str
    seconds: float
    area_um2: float | None = None
    delay_ns: float | None = None
    leakage_nw: float | None = None
    library: str | None = None
    library_sha256: str | None = None
    sta: str | None = None
    transistors: int | None = None
    depth: int | None = None
    energy_fj_per_op: float | None = None
    #: with a stream: {"stream", "operations", "seed", "sha256", "clock_ns", "toggles",
    #: "internal_w", "switching_w", "leakage_w"}
    energy: dict | None = None
    #: where the tool files were kept (``work_dir``), for the printed sta command
    work: str | None = field(default=None, compare=False)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("work")
        return d


def find_sta() -> list[str]:
    path = shutil.which("sta")
    if not path:
        raise SynthToolNotFound(f"sta (OpenSTA) not found; install it: {STA_HINT}")
    return [path]


def sta_version(sta: list[str]) -> str:
    r = _run([*sta, "-version"], None, "sta version query", timeout=60)
    text = (r.stdout + r.stderr).strip().splitlines()
    return f"OpenSTA {text[0].strip()}" if text else "OpenSTA (unknown version)"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _cell_table(stat: str) -> dict[str, int]:
    """Cell type -> count from the last module of a yosys ``stat`` report."""
    block = stat.split("=== ")[-1]
    return {name: int(n) for name, n in re.findall(r"^\s+(\S+)\s+(\d+)\s*$", block, flags=re.M)
            if not name.startswith("Number")}


def parse_area(stat: str) -> float:
    """The chip area ``stat -liberty`` prints (the last module's)."""
    found = re.findall(r"Chip area for (?:top )?module '[^']*': ([0-9.eE+-]+)", stat)
    if not found:
        raise SynthError(f"yosys stat -liberty printed no chip area:\n{stat[-1000:]}")
    return float(found[-1])


# -- the library copy the power run reads ----------------------------------------------------

def _strip_groups(text: str, group: str) -> str:
    """``text`` without every ``group (...) { ... }`` (braces balanced)."""
    pat = re.compile(r"\b" + group + r"\s*\([^)]*\)\s*\{")
    out, i = [], 0
    while True:
        m = pat.search(text, i)
        if not m:
            out.append(text[i:])
            return "".join(out)
        out.append(text[i:m.start()])
        depth, j = 0, m.end() - 1
        while j < len(text):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        i = j + 1


#: the input pin the power run's copy of the library adds to every combinational cell, tied
#: to the clock: OpenSTA converts an activity per clock period to a rate only on a pin whose
#: instance sees a clock, which a cell without timing arcs otherwise never does
POWER_CLOCK_PIN = "HWSIM_CK"


def _combinational_cells(text: str) -> list[tuple[int, int, str]]:
    """(start, end, name) of every ``cell`` group without ``ff`` / ``latch``."""
    out = []
    starts = [m for m in re.finditer(r"(?m)^\s*cell\s*\(\s*\"?([\w$]+)\"?\s*\)", text)]
    for k, m in enumerate(starts):
        end = starts[k + 1].start() if k + 1 < len(starts) else len(text)
        if not re.search(r"^\s*(ff|latch)\s*\(", text[m.start():end], re.M):
            out.append((m.start(), end, m[1]))
    return out


def combinational_cell_names(text: str) -> set[str]:
    return {name for _, _, name in _combinational_cells(text)}


def power_liberty(text: str) -> str:
    """The Liberty text for the power run: its combinational cells (no ``ff`` / ``latch``)
    without their ``timing`` groups, so OpenSTA keeps the activity given to each cell output
    instead of propagating its own estimate, and with an input pin :data:`POWER_CLOCK_PIN`
    (no capacitance, no power) that the power netlist ties to the clock (see the module
    docstring). Areas, pin capacitances, internal and leakage power are untouched."""
    out, pos = [], 0
    for start, end, _ in _combinational_cells(text):
        cell = _strip_groups(text[start:end], "timing")
        brace = cell.index("{") + 1
        cell = (cell[:brace] + f"\n  pin({POWER_CLOCK_PIN}) {{\n    direction : input;\n"
                f"    capacitance : 0;\n  }}" + cell[brace:])
        out += [text[pos:start], cell]
        pos = end
    out.append(text[pos:])
    return "".join(out)


def power_netlist(wrapped: str, top: str, combinational: set[str]) -> str:
    """``wrapped.v`` (yosys' ``write_verilog`` of the wrapper and the mapped unit) with every
    combinational cell of the unit tied to the clock by :data:`POWER_CLOCK_PIN`, through a
    new unit port ``hwsim_ck`` that the wrapper drives with ``clk``."""
    head = re.search(rf"(?m)^module {re.escape(top)}\((.*?)\);", wrapped, re.S)
    if head is None:
        raise SynthError(f"power netlist: no module {top} in wrapped.v")
    end = wrapped.index("endmodule", head.end())
    body = re.sub(r"(?m)^(\s+)([\w$]+) (\S+) \(\n",
                  lambda m: (f"{m[1]}{m[2]} {m[3]} (\n{m[1]}  .{POWER_CLOCK_PIN}(hwsim_ck),\n"
                             if m[2] in combinational else m[0]),
                  wrapped[head.end():end])
    unit = f"module {top}({head[1]}, hwsim_ck);\n  input hwsim_ck;" + body
    text = wrapped[:head.start()] + unit + wrapped[end:]
    text, n = re.subn(rf"(?m)^(\s+){re.escape(top)} dut \(\n", r"\1" + top +
                      " dut (\n\\1  .hwsim_ck(clk),\n", text)
    if n != 1:
        raise SynthError(f"power netlist: no instance dut of {top} in wrapped.v")
    return text


# -- the flows -------------------------------------------------------------------------------

def _map_cells(name: str, work: Path, lib: Path, yosys, timeout) -> tuple[dict, float]:
    script = (f"read_verilog {name}.v; synth -flatten -top {name}; "
              f"dfflibmap -liberty {lib}; abc -liberty {lib}; setundef -zero; "
              f"opt_clean -purge; rename -hide c:*; rename -enumerate; "
              f"tee -q -o stat.txt stat -liberty {lib}; "
              f"write_verilog -noattr -noexpr mapped.v; write_json mapped.json")
    (work / "map.ys").write_text(script.replace("; ", "\n") + "\n")
    _run([*yosys, "-q", "map.ys"], work, f"yosys mapping of {name} to {lib.name}", timeout)
    stat = (work / "stat.txt").read_text()
    return _cell_table(stat), parse_area(stat)


def _wrap(name: str, work: Path, lib: Path, ports: dict, clocked: bool, yosys, timeout) -> None:
    (work / "wrapper.v").write_text(wrapper(name, ports, clocked))
    script = (f"read_liberty -lib {lib}; read_verilog mapped.v; read_verilog wrapper.v; "
              f"hierarchy -top hwsim_synth_top; proc; simplemap; "
              f"dfflibmap -liberty {lib}; opt_clean; write_verilog -noattr -noexpr wrapped.v")
    (work / "wrap.ys").write_text(script.replace("; ", "\n") + "\n")
    _run([*yosys, "-q", "wrap.ys"], work, f"yosys wrapper of {name}", timeout)


def _sta(sta, work: Path, script: str, file: str, what: str, timeout) -> str:
    (work / file).write_text(script)
    r = _run([*sta, "-no_splash", "-exit", file], work, what, timeout)
    out = r.stdout + r.stderr
    errors = [ln for ln in out.splitlines() if ln.startswith("Error")]
    if errors:
        raise SynthError(f"{what}: {errors[0]}")
    return out


def _power_rows(text: str) -> dict[str, tuple[float, float, float, float]]:
    """``report_power``'s group rows: name -> (internal, switching, leakage, total) in W."""
    rows = {}
    num = r"([-0-9.eE+]+)"
    for m in re.finditer(rf"^(Sequential|Combinational|Macro|Pad|Total)\s+{num}\s+{num}\s+"
                         rf"{num}\s+{num}", text, flags=re.M):
        rows[m[1]] = tuple(float(m[i]) for i in range(2, 6))
    if "Total" not in rows:
        raise SynthError(f"OpenSTA report_power printed no Total row:\n{text[-1000:]}")
    return rows


def _timing(name, work, lib, sta, timeout) -> tuple[float | None, dict]:
    """(delay in ns or None without register-to-register paths, {pin: (rise, fall)} slews
    of the unit's pins in the wrapper)."""
    script = "\n".join([
        f"read_liberty {lib}", "read_verilog wrapped.v", "link_design hwsim_synth_top",
        f"create_clock -name clk -period {TIMING_CLOCK_NS} [get_ports clk]",
        "report_checks -path_delay max -digits 4",
        "set sta_report_default_digits 6",
        "puts hwsim-slews",
        "foreach pin [get_pins dut/*/*] { report_slews $pin }", ""])
    out = _sta(sta, work, script, "timing.tcl", f"OpenSTA timing of {name}", timeout)
    report, _, slew_text = out.partition("hwsim-slews")
    (work / "timing.txt").write_text(report)
    slack = re.findall(r"^\s*([-0-9.]+)\s+slack \((?:MET|VIOLATED)\)", report, flags=re.M)
    delay = round(TIMING_CLOCK_NS - float(slack[0]), 4) if slack else None
    slews = {}
    for m in re.finditer(r"^dut/(\S+) \^ [-0-9.]+:([-0-9.]+) v [-0-9.]+:([-0-9.]+)",
                         slew_text, flags=re.M):
        slews[m[1]] = (float(m[2]), float(m[3]))
    return delay, slews


def _leakage(name, work, lib, sta, timeout) -> float:
    script = "\n".join([f"read_liberty {lib}", "read_verilog mapped.v", f"link_design {name}",
                        "report_power -digits 6", ""])
    out = _sta(sta, work, script, "leakage.tcl", f"OpenSTA leakage of {name}", timeout)
    return _power_rows(out)["Total"][2] * 1e9


def port_bit(port: str, bit: int, width: int) -> str:
    return f"{port}[{bit}]" if width > 1 else port


def power_script(lib_file: str, wrapper_ports: dict, net_activity, slews: dict,
                 clock_ns: float) -> str:
    """The OpenSTA script of the energy run (see the module docstring): ``net_activity`` is
    a list of ``(driver, activity, duty)`` with driver ``("pin", "inst/PIN")`` or
    ``("port", "a[3]")`` (an input port bit of the unit, driven by the wrapper's register,
    whose activity is set at the wrapper's pin)."""
    lines = [
        "# hwsim: energy per operation of the unit (the Combinational row of report_power)",
        f"# {ZERO_DELAY}; activity = toggles per operation, one operation per clock period",
        f"read_liberty {lib_file}", "read_verilog power_wrapped.v",
        "link_design hwsim_synth_top",
        f"create_clock -name clk -period {clock_ns} [get_ports clk]",
    ]
    for kind, obj, act, duty in net_activity:
        if kind == "port":   # the wrapper's input pin: its register copies the activity to Q
            lines.append(f"set_power_activity -input_ports [get_ports {{{obj}}}] "
                         f"-activity {act:.6g} -duty {duty:.6g}")
        else:
            lines.append(f"sta::set_power_pin_activity [get_pins {{dut/{obj}}}] {act:.6g} "
                         f"{duty:.6g}")
    for pin, (rise, fall) in sorted(slews.items()):
        lines.append(f"set_assigned_transition -rise {rise} [get_pins {{dut/{pin}}}]")
        lines.append(f"set_assigned_transition -fall {fall} [get_pins {{dut/{pin}}}]")
    lines += ["report_power -digits 6", ""]
    return "\n".join(lines)


def _energy(name, work, lib_text, lib_name, spec, params, operands, slews, sta, timeout,
            latency=0, model=None):
    from hwsim.netlist import CellLibrary, Netlist
    data = json.loads((work / "mapped.json").read_text())
    power_lib = f"{Path(lib_name).stem}_power.lib"
    (work / power_lib).write_text(power_liberty(lib_text))
    (work / "power_wrapped.v").write_text(power_netlist(
        (work / "wrapped.v").read_text(), name, combinational_cell_names(lib_text)))
    cells = CellLibrary.from_liberty(work / lib_name)
    ports = data["modules"][name]["ports"]
    per_op = 1.0  # clock cycles per operation
    taken = None
    from hwsim.eval.sequential import is_streamed, pipelined_toggles, streamed_toggles
    if latency and is_streamed(ports):  # rows through a ready/valid stream, closed loop
        (rows,) = operands.values()
        counts, cycles, taken = streamed_toggles(data, name, cells, rows, model and (
            lambda r: np.asarray(next(iter(model({next(iter(operands)): r}).values())))))
        per_op = cycles / taken
        net_inputs = {p: len(v["bits"]) for p, v in ports.items()}
    elif latency:  # a pipelined unit: its flip-flops step cycle by cycle
        counts, _ = pipelined_toggles(data, name, cells, operands, latency, model)
        net_inputs = {p: len(v["bits"]) for p, v in data["modules"][name]["ports"].items()}
    else:
        net = Netlist.from_yosys(data, name, cells)
        net_inputs = net.inputs
        inputs = {}
        for port, w in net.inputs.items():
            v = np.asarray(operands[port]).astype(np.int64)
            inputs[port] = ((v & ((1 << w) - 1)).astype(np.uint64) if w < 64
                            else v.astype(np.uint64))
        counts = net.toggles(inputs)
    seen, acts = set(), []
    for nt in counts.nets.values():
        if nt.driver is not None:
            key = ("pin", f"{nt.driver[0]}/{nt.driver[1]}")
        elif nt.input_port is not None:
            p, b = nt.input_port
            key = ("port", port_bit(f"{p}_pin", b, net_inputs[p]))
        else:
            continue
        if key in seen:
            continue
        seen.add(key)
        acts.append((*key, nt.toggles / (counts.operations - 1), nt.ones / counts.operations))
    script = power_script(power_lib, {}, acts, slews, POWER_CLOCK_NS)
    if latency:  # the unit's flip-flops are in the Sequential row with the wrapper's: its cells
        script = script.replace("report_power -digits 6\n", "report_power -digits 6\n"
                                "report_power -instances [get_cells dut/*] -digits 6\n")
    out = _sta(sta, work, script, "power.tcl", f"OpenSTA power of {name}", timeout)
    (work / "power.txt").write_text(out)
    rows = _power_rows(out)
    internal, switching, leakage, total = rows.get("Combinational", (0.0, 0.0, 0.0, 0.0))
    if latency:
        num = r"([-0-9.eE+]+)"
        cells = re.findall(rf"^\s*{num}\s+{num}\s+{num}\s+{num}\s+dut/\S+\s*$", out, flags=re.M)
        internal, switching, leakage, total = (sum(float(c[i]) for c in cells) for i in range(4))
    return {"energy_fj_per_op": total * POWER_CLOCK_NS * 1e6 * per_op,
            **({"cycles_per_op": round(per_op, 4)} if per_op != 1 else {}),
            "power": "instances" if latency else "Combinational",
            "internal_w": internal, "switching_w": switching, "leakage_w": leakage,
            "clock_ns": POWER_CLOCK_NS, "toggles": ZERO_DELAY,
            "operations": counts.operations if taken is None else taken}


def _cmos(name, work, yosys, timeout) -> dict:
    # flip-flops as plain $_DFF_P_ (16 transistors in yosys' table) plus gates for their
    # resets and enables: yosys has no transistor count for the other flip-flop cells
    script = (f"read_verilog {name}.v; synth -flatten -top {name}; "
              f"dfflegalize -cell $_DFF_P_ 01; abc -g cmos2; opt_clean; "
              f"tee -q -o stat.txt stat -tech cmos; tee -q -o ltp.txt ltp -noff")
    (work / "cmos.ys").write_text(script.replace("; ", "\n") + "\n")
    _run([*yosys, "-q", "cmos.ys"], work, f"yosys cmos mapping of {name}", timeout)
    stat = (work / "stat.txt").read_text()
    tr = re.findall(r"Estimated number of transistors:\s+(\d+)(\+?)", stat)
    depth = re.findall(r"\(length=(\d+)\)", (work / "ltp.txt").read_text())
    if not tr:
        raise SynthError(f"yosys stat -tech cmos printed no transistor count:\n{stat[-1000:]}")
    cells = _cell_table(stat)
    if tr[-1][1]:
        unknown = sorted(c for c in cells if c not in CMOS_COUNTED)
        raise SynthError(f"yosys stat -tech cmos has no transistor count for "
                         f"{', '.join(unknown) or 'some cells'} of {name}")
    return {"transistors": int(tr[-1][0]), "depth": int(depth[-1]) if depth else 0,
            "cells": cells, "cell_count": sum(cells.values())}


def cell_cost(spec, params, *, target: str | CostTarget, baseline: bool = False,
              stream: dict | None = None, db=None, work_dir: Path | str | None = None,
              timeout: float = TOOL_TIMEOUT) -> CellResult:
    """Standard-cell (or CMOS) cost of ``params``' unit, or of its exact baseline.

    ``target``: a standard-cell or CMOS :class:`CostTarget` (or its name). ``stream``:
    ``{"name": str, "seed": int | None, "operands": {port: int array}}`` for the energy per
    operation on those operands (standard-cell targets, combinational units). ``db``: a
    :class:`hwsim.eval.resultdb.ResultDB`. ``work_dir``: keep the tool files in
    ``work_dir/<module>``. Missing tools or library: :class:`SynthToolNotFound` /
    :class:`TargetUnavailable` (one line, the install hint).
    """
    return _cell_costs(spec, params, target, baseline, [stream], db, work_dir, timeout)[0]


def cell_costs(spec, params, *, target: str | CostTarget, streams: list, baseline: bool = False,
               db=None, timeout: float = TOOL_TIMEOUT) -> list[CellResult]:
    """:func:`cell_cost` on each of ``streams`` (a list of its ``stream`` dicts), the unit
    mapped, timed and its leakage read once for all of them: each result, and its cache
    entry, is the one ``cell_cost(..., stream=s)`` gives (the same key; ``seconds``: the
    shared flow's time plus the stream's own)."""
    return _cell_costs(spec, params, target, baseline, list(streams), db, None, timeout)


def _stream_info(stream: dict) -> dict:
    a = {p: np.ascontiguousarray(np.asarray(v, dtype=np.int64))
         for p, v in sorted(stream["operands"].items())}
    h = hashlib.sha256()
    for p, v in a.items():
        h.update(p.encode() + b"\0" + v.tobytes())
    n = len(next(iter(a.values())))
    return {"stream": stream["name"], "seed": stream.get("seed"), "operations": n,
            "sha256": h.hexdigest()}


def _cell_costs(spec, params, target, baseline: bool, streams: list, db, work_dir,
                timeout) -> list[CellResult]:
    if isinstance(target, str):
        target = get_target(target)
    if target.fpga:
        raise ValueError(f"cell_cost: target {target.name} is an FPGA; use "
                         f"hwsim.eval.synth.synthesize")
    if (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
            or not 0 < timeout < float("inf")):
        raise ValueError(f"cell_cost: timeout must be a positive number of seconds, "
                         f"not {timeout!r}")
    if baseline and spec.baseline is None:
        raise ValueError(f"cell_cost: {spec.name} has no exact baseline")
    from hwsim.hdl.export import ports as port_info
    from hwsim.hdl.export import to_verilog

    energy = any(s is not None for s in streams)
    if energy and not target.cells:
        raise ValueError(f"cell_cost: an operand stream needs a standard-cell target, not "
                         f"{target.name}")
    lib = target.library_path() if target.cells else None
    yosys = find_tool("yosys")
    sta = find_sta() if target.cells else None
    versions = {"yosys": tool_version(yosys), "sta": sta_version(sta) if sta else None}
    name = ("exact_" if baseline else "") + params.top_name
    component = spec.baseline_component(params) if baseline else spec.component(params)
    clocked = getattr(component, "latency", 0) > 0
    verilog = to_verilog(spec, params, component, name=name)
    lib_sha = file_sha256(lib) if lib else None
    base_key = {"kind": "synth-cells", "unit": spec.name, "baseline": baseline,
                "params": params.to_dict(), "target": target.name, "flow": FLOW_VERSION,
                **versions, "library_sha256": lib_sha,
                "verilog_sha256": hashlib.sha256(verilog.encode()).hexdigest()}
    infos = [None if s is None else _stream_info(s) for s in streams]
    keys = [base_key if i is None else
            base_key | {"stream_sha256": i["sha256"], "clock_ns": POWER_CLOCK_NS} for i in infos]
    results: list = [None] * len(streams)
    if db is not None and work_dir is None:
        for k, key in enumerate(keys):
            hit = db.get(key)
            if hit is not None:
                results[k] = CellResult(**hit)
    todo = [k for k, r in enumerate(results) if r is None]
    if not todo:
        return results
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hwsim-cells-") as tmp:
        work = Path(work_dir) / name if work_dir else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        (work / f"{name}.v").write_text(verilog)
        if lib is None:
            out = _cmos(name, work, yosys, timeout)
        else:
            lib_file = lib.name
            lib_text = lib.read_text()
            (work / lib_file).write_text(lib_text)  # scripts name it beside them
            cells, area = _map_cells(name, work, Path(lib_file), yosys, timeout)
            _wrap(name, work, Path(lib_file), port_info(component), clocked, yosys, timeout)
            delay, slews = _timing(name, work, lib_file, sta, timeout)
            leakage = _leakage(name, work, lib_file, sta, timeout)
            out = {"cells": cells, "cell_count": sum(cells.values()), "area_um2": area,
                   "delay_ns": delay, "leakage_nw": round(leakage, 6),
                   "library": str(lib), "library_sha256": lib_sha}
        shared = time.perf_counter() - t0
        for k in todo:
            t1 = time.perf_counter()
            mine = dict(out)
            if streams[k] is not None:
                e = _energy(name, work, lib_text, lib_file, spec, params,
                            streams[k]["operands"], slews, sta, timeout,
                            latency=component.latency if clocked else 0,
                            model=None if baseline else (lambda v: spec.model(params, v)))
                mine["energy_fj_per_op"] = e.pop("energy_fj_per_op")
                mine["energy"] = infos[k] | e
            results[k] = CellResult(
                top=name, target=target.name,
                seconds=round(shared + time.perf_counter() - t1, 2),
                yosys=versions["yosys"], sta=versions["sta"],
                work=str(work) if work_dir else None, **mine)
            if db is not None:
                db.put(keys[k], results[k].to_dict())
    return results


__all__ = ["CellResult", "TargetUnavailable", "cell_cost", "cell_costs", "power_liberty",
           "POWER_CLOCK_NS"]
