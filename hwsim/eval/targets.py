"""The cost targets: target name -> :class:`CostTarget` (what ``hwsim synth --target`` prices on).

A target is a registered thing, like a unit: the layers above read its traits here and never
branch on its name. Three kinds:

* an FPGA (``fpga=True``): iCE40 LUT4 / CARRY counts and nextpnr's Fmax
  (:func:`hwsim.eval.synth.synthesize`);
* a standard-cell library (``liberty``): yosys maps the unit onto the library's cells
  (``dfflibmap`` + ``abc -liberty``); area from ``stat -liberty``, delay and power from
  OpenSTA (:func:`hwsim.eval.stdcell.cell_cost`);
* yosys' library-free CMOS gates (``technology="cmos"``): ``abc -g cmos2`` and ``stat -tech
  cmos``, a transistor count and the logic depth (:func:`hwsim.eval.stdcell.cell_cost`).

Nothing is downloaded: a library is a file a Debian package installs; when it is not
installed, :meth:`CostTarget.library_path` says which package to install, in one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

QFLOW_TECH = Path("/usr/share/qflow/tech")


class TargetUnavailable(RuntimeError):
    """A target's library or tool is not installed (the message is one line with the
    install hint)."""


@dataclass(frozen=True)
class CostTarget:
    """One cost target.

    Attributes
    ----------
    name: the ``--target`` value.
    summary: one line for help texts.
    fpga: the iCE40 LUT4 / nextpnr flow.
    liberty: the library's Liberty file (standard-cell targets), ``None`` otherwise.
    package: the Debian package that installs ``liberty``.
    technology: ``"cmos"`` for yosys' library-free transistor count, else ``None``.
    process: a few words on the library (process node, supply), for reports.
    """

    name: str
    summary: str
    fpga: bool = False
    liberty: Path | None = None
    package: str | None = None
    technology: str | None = None
    process: str = ""

    @property
    def cells(self) -> bool:
        """Priced by a standard-cell library (area, delay, leakage and energy)."""
        return self.liberty is not None

    def library_path(self) -> Path:
        """The installed Liberty file; :class:`TargetUnavailable` (one line, the apt hint)
        when it is not there."""
        if self.liberty is None:
            raise ValueError(f"CostTarget.library_path: target {self.name} has no library")
        if not Path(self.liberty).is_file():
            raise TargetUnavailable(
                f"target {self.name}: the cell library {self.liberty} is not installed; "
                f"install it: apt-get install {self.package}")
        return Path(self.liberty)

    @property
    def json_keys(self) -> tuple[str, ...]:
        """The cost keys every ``--json`` row of this target has."""
        if self.fpga:
            return ("lut4", "fmax_mhz")
        if self.cells:
            return ("target", "area_um2", "delay_ns", "leakage_nw", "cells")
        return ("target", "transistors", "depth", "cells")


TARGETS: dict[str, CostTarget] = {t.name: t for t in [
    CostTarget("ice40", "Lattice iCE40 HX8K: LUT4 / CARRY counts, nextpnr Fmax", fpga=True),
    CostTarget("osu018", "OSU 0.18 um standard cells (TSMC 0.18 um rules, 1.8 V): area, delay, "
               "leakage, energy", liberty=QFLOW_TECH / "osu018" / "osu018_stdcells.lib",
               package="qflow-tech-osu018", process="0.18 um, 1.8 V"),
    CostTarget("osu035", "OSU 0.35 um standard cells (AMI 0.35 um rules, 3.3 V): area, delay, "
               "leakage, energy", liberty=QFLOW_TECH / "osu035" / "osu035_stdcells.lib",
               package="qflow-tech-osu035", process="0.35 um, 3.3 V"),
    CostTarget("osu050", "OSU 0.5 um standard cells (AMI 0.5 um rules, 5 V): area, delay, "
               "leakage, energy", liberty=QFLOW_TECH / "osu050" / "osu05_stdcells.lib",
               package="qflow-tech-osu050", process="0.5 um, 5 V"),
    CostTarget("cmos", "yosys' CMOS gates (abc -g cmos2, stat -tech cmos): transistor count "
               "and logic depth, no library", technology="cmos"),
]}

DEFAULT_TARGET = "ice40"


def get_target(name: str) -> CostTarget:
    """The registered target ``name``; one-line ``ValueError`` naming the targets otherwise."""
    try:
        return TARGETS[name]
    except (KeyError, TypeError):
        raise ValueError(f"--target must be one of {', '.join(TARGETS)}, not {name!r}") from None


def register_target(target: CostTarget) -> CostTarget:
    """Add a target (a plug-in or a test registers another library this way)."""
    if not isinstance(target, CostTarget):
        raise TypeError(f"register_target: target must be a CostTarget, not {target!r}")
    if target.name in TARGETS:
        raise ValueError(f"register_target: a target named {target.name!r} is registered already")
    TARGETS[target.name] = target
    return target


def unregister_target(name: str) -> None:
    get_target(name)
    del TARGETS[name]
