"""Verilog export: ``<top>.v`` plus a ``<top>.json`` sidecar describing the module."""

from __future__ import annotations

import json
from pathlib import Path

from amaranth.back import verilog
from amaranth.hdl import Shape
from amaranth.lib.wiring import Flow

import hwsim
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


#: Verilator -Wall rules that flag the coding style of Amaranth's Verilog back end rather
#: than the design: operands widened implicitly (``sum = a + b`` into a wider ``sum``),
#: intermediate ``$n`` wires of which only a slice is used, registers whose reset value is
#: written as a declaration initialiser, and (hierarchical units such as the attention head,
#: which reuse the multiplier and softmax components) several modules in one file.
#: Every other -Wall rule stays enforced.
LINT_WAIVERS = ("WIDTHEXPAND", "UNUSEDSIGNAL", "PROCASSINIT", "DECLFILENAME")


def to_verilog(spec: UnitSpec, params, component=None, name: str | None = None) -> str:
    """Verilog text of the unit's top module, named ``name`` (default ``params.top_name``)."""
    component = component if component is not None else spec.component(params)
    name = name or params.top_name
    body = verilog.convert(component, name=name, emit_src=False)
    header = [f"// {name}: hwsim {spec.name} {params.to_json()}",
              "// Waived Verilator -Wall rules (Amaranth back-end style, see hwsim.hdl.export):"]
    header += [f"/* verilator lint_off {rule} */" for rule in LINT_WAIVERS]
    return "\n".join(header) + "\n" + body


def write_verilog(spec: UnitSpec, params, out_dir) -> tuple[Path, Path]:
    """Write ``out_dir/<top>.v`` and ``out_dir/<top>.json``; returns both paths."""
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
        "hwsim_version": hwsim.__version__,
    }
    v_path, j_path = out_dir / f"{params.top_name}.v", out_dir / f"{params.top_name}.json"
    _atomic_write(v_path, text)
    _atomic_write(j_path, json.dumps(sidecar, indent=2) + "\n")
    return v_path, j_path


def _atomic_write(path: Path, text: str):
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
