"""The layering of docs/contributing.md: import-linter's contracts hold, and importing every
module of the numeric side of hwsim loads neither Amaranth nor cocotb."""

import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import hwsim
from rtl import skip_unless_ci

ROOT = Path(__file__).resolve().parent.parent


def test_import_linter_contracts_hold():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    if not Path(exe).exists():
        skip_unless_ci("import-linter is missing: pip install 'hwsim[dev]'")
    r = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-2000:]
    assert "0 broken" in r.stdout


def test_numeric_side_loads_no_hdl_or_simulator():
    mods = sorted(m.name for m in pkgutil.walk_packages(hwsim.__path__, "hwsim.")
                  if not m.name.startswith(("hwsim.hdl", "hwsim.sim"))
                  and not m.name.endswith(".__main__"))   # a __main__ runs the command
    assert "hwsim.units" in mods and "hwsim.cli" in mods and len(mods) > 20
    code = ("import sys, importlib\n"
            f"for m in {mods!r}:\n"
            "    importlib.import_module(m)\n"
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
            "('amaranth', 'cocotb', 'cocotb_tools') or m.startswith(('hwsim.hdl', 'hwsim.sim')))\n"
            "print(bad)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr[-2000:]
    assert r.stdout.strip() == "[]", r.stdout


def test_ruff_clean():
    exe = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    if not Path(exe).exists():
        skip_unless_ci("ruff is missing: pip install 'hwsim[dev]'")
    r = subprocess.run([exe, "check", "hwsim", "hdl", "sim", "tests", "benchmarks", "scripts"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:]
