"""Any multiplier circuit a user brings as Verilog, as a unit (``circuit-mul``).

``CircuitMulParams(verilog=FILE, top="", width=N, signed=False, ports="")`` names a Verilog
file and its top module; yosys reads it, flattens the hierarchy and maps it to gates
(:mod:`hwsim.netlist`), and the gate netlist *is* the model: :func:`circuit_mul` evaluates
it bit-parallel (an exhaustive product table, cached per file, when both operands together
have at most 16 bits). What the Verilog computes is, by definition, what the unit computes;
``hwsim verify circuit-mul`` runs the user's own file in Icarus and Verilator against it.

Bit semantics: operands ``a, b`` are N-bit patterns driven on the circuit's two operand
ports, unsigned ``[0, 2**N)`` or, with ``signed``, two's complement ``[-2**(N-1), 2**(N-1))``;
the output port has 2N bits and is read unsigned, or as two's complement with ``signed``.
The circuit must be combinational: latches, flip-flops, combinational loops, outputs left
undriven or driven by X, ports of other widths and any further input are refused, each in one
line naming the file.

``verilog=""`` is hwsim's own reference circuit, the exact N x N multiplier
(:class:`hwsim.circuits.Circuit` ``"exact"``); its identity is (width, signed). For a file,
the Params store the file's SHA-256 (``sha256``), its top module and its operand / output
ports once detected, so every key made from ``to_dict()`` (sweep cache, explore, results
database, the top-module name) changes when the file does; a Params whose ``sha256`` no
longer matches the file is refused. Relative paths are stored absolute (benches run in
their build directory).

In a model graph (``hwsim run`` / explore, MatMul / Gemm / Conv) the operands are signed: a
signed circuit takes them as they are; an unsigned circuit runs in sign-magnitude form,
``sgn(a) sgn(b) C(|a|, |b|)`` (``|-2**(N-1)| = 2**(N-1)`` fits N unsigned bits), and is priced
by explore without that sign handling.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from hwsim._check import broadcast, check_bool, check_instance, check_int, int_operand
from hwsim.circuits import Circuit
from hwsim.params import MultiplierParams

__all__ = ["CircuitMulParams", "circuit_mul", "circuit_products", "circuit_source",
           "TABLE_BITS"]

#: an exhaustive product table is built when both operands together have at most this many bits
TABLE_BITS = 16

_OWNER = "CircuitMulParams"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


@dataclass(frozen=True)
class _Circuit:
    """What the checks found: the text, the top module and the (a, b, p) port names."""

    text: str
    top: str
    ports: tuple[str, str, str]
    where: str


#: sha256 (of the text) -> text, for every file a Params has read in this process
_TEXTS: dict[str, str] = {}


@dataclass(frozen=True)
class CircuitMulParams(MultiplierParams):
    """A user's multiplier circuit.

    Parameters
    ----------
    verilog:
        Path of the Verilog file holding the circuit (empty: hwsim's exact reference circuit).
    top:
        Its top module (empty: the file's only module).
    width:
        Operand width N, 2..32. The output port has 2N bits.
    signed:
        Two's complement operands and output.
    ports:
        Operand and output ports as A,B,O (empty: detected when the module has exactly two
        N-bit inputs and one output; the operands in alphabetical order of their names).
    sha256:
        SHA-256 of the file (empty: computed; given: the file must still match it).
    """

    verilog: str = field(default="", metadata={"metavar": "FILE"})
    top: str = field(default="", metadata={"metavar": "NAME"})
    width: int = 8
    signed: bool = False
    ports: str = field(default="", metadata={"metavar": "A,B,O"})
    sha256: str = field(default="", metadata={"metavar": "HEX"})

    stem = "circuit_mul"

    def __post_init__(self):
        for name in ("verilog", "top", "ports", "sha256"):
            if not isinstance(getattr(self, name), str):
                raise TypeError(f"{_OWNER}.{name} must be a string, not "
                                f"{getattr(self, name)!r}")
        check_int(_OWNER, "width", self.width, 2, 32)
        check_bool(_OWNER, "signed", self.signed)
        if not self.verilog:
            for name in ("top", "ports", "sha256"):
                if getattr(self, name):
                    raise ValueError(f"{_OWNER}.{name} must be empty without a verilog file "
                                     f"(hwsim's reference circuit), not {getattr(self, name)!r}")
            _checked(self)
            return
        if self.sha256 and not re.fullmatch(r"[0-9a-fA-F]{64}", self.sha256):
            raise ValueError(f"{_OWNER}.sha256 must be 64 hexadecimal digits (the file's "
                             f"SHA-256, as sha256sum prints it), not {self.sha256!r}")
        object.__setattr__(self, "sha256", self.sha256.lower())
        path = os.path.abspath(self.verilog)
        from hwsim.paths import check_input_file, read_text_file
        check_input_file(path, f"{_OWNER}.verilog")
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO would block, a pipe read once
            raise ValueError(f"{_OWNER}.verilog {path!r} must be a regular file (hwsim reads "
                             f"it again for each tool), not a pipe")
        text = read_text_file(path, f"{_OWNER}.verilog")
        digest = hashlib.sha256(text.encode()).hexdigest()
        if self.sha256 and self.sha256 != digest:
            raise ValueError(f"{_OWNER}.sha256 must be the SHA-256 of {path!r} ({digest[:12]}...),"
                             f" not {self.sha256[:12]}...: the file has changed")
        _TEXTS[digest] = text
        object.__setattr__(self, "verilog", path)
        object.__setattr__(self, "sha256", digest)
        c = _checked(self)
        object.__setattr__(self, "top", c.top)
        object.__setattr__(self, "ports", ",".join(c.ports))

    @property
    def stages(self) -> int:
        """``0``: a circuit-mul is combinational (the exact baseline reads this)."""
        return 0

    @property
    def text(self) -> str:
        """The circuit's Verilog text (the file as read when the Params were made)."""
        return _checked(self).text

    @property
    def module(self) -> str:
        """The circuit's top module."""
        return _checked(self).top

    @property
    def port_names(self) -> tuple[str, str, str]:
        """The circuit's (a, b, p) ports."""
        return _checked(self).ports

    @property
    def top_name(self) -> str:
        """The wrapper module's name: ``circuit_mul_<12 hex digits>_<u|s><N>``, the digits a
        hash of the file's SHA-256, top module and ports (or of the reference circuit)."""
        key = f"{self.sha256}:{self.top}:{self.ports}" if self.verilog else "reference"
        h = hashlib.sha256(key.encode()).hexdigest()[:12]
        return f"circuit_mul_{h}_{'s' if self.signed else 'u'}{self.width}"


def _reference(params) -> Circuit:
    return Circuit("exact", params.width, signed=params.signed)


def _checked(params) -> _Circuit:
    key = (params.verilog, params.sha256, params.top, params.ports, params.width, params.signed)
    return _check_circuit(key)


@lru_cache(maxsize=64)
def _check_circuit(key) -> _Circuit:
    verilog, sha, top, ports, width, signed = key
    if not verilog:
        ref = Circuit("exact", width, signed=signed)
        c = _Circuit(ref.verilog(), ref.name, ("A", "B", "O"), "hwsim's reference circuit")
        _netlist(c, width)
        return c
    text = _TEXTS[sha]
    where = f"{_OWNER}.verilog {verilog!r}"
    modules = _module_names(text)
    if not modules:
        raise ValueError(f"{where} must hold a Verilog module, not none")
    if not top:
        if len(modules) != 1:
            raise ValueError(f"{_OWNER}.top must name the circuit's module in {verilog!r} "
                             f"({', '.join(modules[:8])}), not empty (the file has "
                             f"{len(modules)} modules)")
        top = modules[0]
    elif top not in modules:
        raise ValueError(f"{_OWNER}.top must be a module of {verilog!r} "
                         f"({', '.join(modules[:8])}), not {top!r}")
    wrapper = None
    for name in modules:
        if name.startswith("circuit_mul_"):
            wrapper = name
    if wrapper is not None:
        raise ValueError(f"{where} must not define modules named circuit_mul_* (hwsim's "
                         f"wrappers), not {wrapper!r}")
    net = _netlist(_Circuit(text, top, ("", "", ""), where), width)
    ins, outs = dict(net.inputs), dict(net.outputs)
    if ports:
        names = [s.strip() for s in ports.split(",")]
        if len(names) != 3 or not all(_NAME.match(n) for n in names):
            raise ValueError(f"{_OWNER}.ports must be three port names A,B,O, not {ports!r}")
        a, b, p = names
        for n, kind in ((a, ins), (b, ins)):
            if n not in kind:
                raise ValueError(f"{_OWNER}.ports must name inputs of {top} "
                                 f"({', '.join(ins) or 'none'}) first, not {n!r}")
        if p not in outs:
            raise ValueError(f"{_OWNER}.ports must name an output of {top} "
                             f"({', '.join(outs) or 'none'}) last, not {p!r}")
        if a == b:
            raise ValueError(f"{_OWNER}.ports must name two different operand ports, not {ports!r}")
    else:
        fit = [n for n, w in ins.items() if w == width]
        if len(ins) != 2 or len(fit) != 2 or len(outs) != 1:
            shown = ", ".join(f"{n}[{w}]" for n, w in ins.items())
            raise ValueError(f"{_OWNER}.ports cannot be detected: {top} in {verilog!r} must have "
                             f"two {width}-bit inputs and one output (inputs: {shown or 'none'}; "
                             f"outputs: {len(outs)}); give ports=A,B,O")
        (a, b), p = sorted(fit, key=lambda n: (n.lower(), n)), next(iter(outs))
    extra = sorted(set(ins) - {a, b})
    if extra:
        raise ValueError(f"{_OWNER}.ports: {top} in {verilog!r} has inputs besides the operands "
                         f"({', '.join(extra)}); a circuit-mul is a combinational A x B -> O")
    for n in (a, b):
        if ins[n] != width:
            raise ValueError(f"{_OWNER}.width: input {n} of {top} in {verilog!r} has {ins[n]} "
                             f"bits, not width {width}")
    if outs[p] != 2 * width:
        raise ValueError(f"{_OWNER}.width: output {p} of {top} in {verilog!r} has {outs[p]} bits, "
                         f"not 2 x width = {2 * width}")
    return _Circuit(text, top, (a, b, p), where)


def _module_names(text: str) -> list[str]:
    """The modules a Verilog text declares (comments and strings left out)."""
    body = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    body = re.sub(r"//[^\n]*", " ", body)
    body = re.sub(r'"(?:\\.|[^"\\])*"', '""', body)
    return re.findall(r"(?:^|[\s;])(?:macro)?module\s+([A-Za-z_][A-Za-z0-9_$]*)", body)


_NETLISTS: dict[tuple[str, str], object] = {}


def _netlist(c: _Circuit, width: int):
    """The compiled gate netlist of ``c`` (one per text and top, kept for the process)."""
    key = (hashlib.sha256(c.text.encode()).hexdigest(), c.top)
    net = _NETLISTS.get(key)
    if net is None:
        from hwsim import netlist
        try:
            data = netlist.map_to_cells(c.text, c.top)
            net = netlist.Netlist.from_yosys(data, c.top, netlist.CellLibrary.yosys_gates())
        except ValueError as e:   # yosys read the text from a file of its own: name none
            msg = re.sub(r"\S*hwsim-netlist-[^/\s]*/design\.v:?", "line ", str(e))
            raise ValueError(f"{c.where}: {msg}") from None
        _NETLISTS[key] = net
    return net


def _evaluate(params, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The circuit's output on operand patterns (the 2N-bit pattern as uint64)."""
    c = _checked(params)
    net = _netlist(c, params.width)
    mask = (1 << params.width) - 1
    a = np.asarray(a, dtype=np.int64) & mask
    b = np.asarray(b, dtype=np.int64) & mask
    return net.evaluate_pairs(a.ravel(), b.ravel(), c.ports).reshape(a.shape)


def _pairs(params, a: np.ndarray, b: np.ndarray) -> np.ndarray | None:
    """The products of 1-D int64 operands checked and computed in one compiled pass (the
    table's look-up or the netlist's fused evaluation), or None when a value is out of range
    (:func:`circuit_mul` then says which, as for any other input)."""
    lo, hi = params.in_range
    if params.input_bits <= TABLE_BITS:
        from hwsim.circuit_kernels import table_pairs
        return table_pairs(_table(params), a, b, params.width, lo, hi)
    c = _checked(params)
    try:
        return _netlist(c, params.width).evaluate_pairs(a, b, c.ports, params.signed)
    except ValueError:
        return None


def _to_value(pattern: np.ndarray, params) -> np.ndarray:
    """The output pattern as the unit's value: uint64, or int64 two's complement."""
    if not params.signed:
        return pattern
    o = 2 * params.width
    x = pattern.astype(np.int64) if o < 64 else pattern.view(np.int64)
    return np.where(x >= (1 << (o - 1)), x - (1 << o), x) if o < 64 else x


@lru_cache(maxsize=8)
def _table(params) -> np.ndarray:
    """Every product, ``T[a_pattern, b_pattern]`` (read-only)."""
    n = 1 << params.width
    x = np.arange(n, dtype=np.uint64)
    a, b = np.meshgrid(x, x, indexing="ij")
    t = _to_value(_evaluate(params, a.ravel(), b.ravel()), params).reshape(n, n)
    t.setflags(write=False)
    return t


def circuit_mul(a, b, params: CircuitMulParams) -> np.ndarray:
    """The circuit's product of raw operands (module docstring): uint64 for an unsigned
    circuit, int64 for a signed one. ``a`` and ``b`` broadcast against each other."""
    if not isinstance(params, CircuitMulParams):
        raise TypeError(f"circuit_mul: params must be a CircuitMulParams, not {params!r}")
    if (type(a) is np.ndarray and type(b) is np.ndarray and a.dtype == np.int64
            and b.dtype == np.int64 and a.shape == b.shape and a.ndim):
        out = _pairs(params, a.ravel(), b.ravel())   # the common case: one compiled pass
        if out is not None:
            return out.reshape(a.shape)
    lo, hi = params.in_range
    what = f"for {'signed ' if params.signed else ''}width {params.width}"
    a = int_operand("circuit_mul", "a", a, lo, hi, what)
    b = int_operand("circuit_mul", "b", b, lo, hi, what)
    a, b = broadcast("circuit_mul", a=a, b=b)
    mask = (1 << params.width) - 1
    if params.input_bits <= TABLE_BITS:
        return _table(params).ravel()[((a & mask) << params.width) | (b & mask)]
    return _to_value(_evaluate(params, a & mask, b & mask), params)


def circuit_products(params: CircuitMulParams, qa: np.ndarray, qb: np.ndarray) -> np.ndarray:
    """``(G, n, m)`` int64 sums over k of the circuit's products of raw signed operands
    ``qa`` ``(G, n, k)`` and ``qb`` ``(G, k, m)`` (the graph's product kernel): a signed
    circuit on the operands, an unsigned one as ``sgn(a) sgn(b) C(|a|, |b|)``. Up to
    :data:`TABLE_BITS` input bits a compiled loop over the product table
    (:mod:`hwsim.circuit_kernels`), wider the netlist on every pair, one k at a time."""
    check_instance("circuit_products", "params", params, CircuitMulParams)
    lo, hi = params.in_range if params.signed else (1 - (1 << params.width), 1 << params.width)
    what = f"for {'signed ' if params.signed else 'sign-magnitude '}width {params.width}"
    qa = _stack("qa", qa, lo, hi, what)
    qb = _stack("qb", qb, lo, hi, what)
    if qa.ndim != 3 or qb.ndim != 3 or qa.shape[2] != qb.shape[1] or qa.shape[0] != qb.shape[0]:
        raise ValueError(f"circuit_products: qa and qb must have shapes (G, n, k) and (G, k, m), "
                         f"not {qa.shape} and {qb.shape}")
    if params.input_bits <= TABLE_BITS:
        from hwsim.circuit_kernels import table_matmul
        return table_matmul(_operand_table(params), lo, qa, qb)
    out = np.zeros((qa.shape[0], qa.shape[1], qb.shape[2]), dtype=np.int64)
    mask = (1 << params.width) - 1
    for kk in range(qa.shape[2]):
        a, b = np.broadcast_arrays(qa[:, :, kk, None], qb[:, None, kk, :])
        x, y = (a, b) if params.signed else (np.abs(a), np.abs(b))
        p = _to_value(_evaluate(params, x & mask, y & mask), params).astype(np.int64)
        out += p if params.signed else np.where((a < 0) != (b < 0), -p, p)
    return out


def _stack(name: str, x, lo: int, hi: int, what: str) -> np.ndarray:
    """``x`` checked as :func:`int_operand` does; a stack broadcast along its first axis
    (``np.broadcast_to``: one weight matrix for every stack) is checked and kept as one."""
    if isinstance(x, np.ndarray) and x.ndim == 3 and x.shape[0] > 1 and x.strides[0] == 0:
        return np.broadcast_to(int_operand("circuit_products", name, x[:1], lo, hi, what),
                               x.shape)
    return int_operand("circuit_products", name, x, lo, hi, what)


@lru_cache(maxsize=8)
def _operand_table(params) -> np.ndarray:
    """``st[x - lo, y - lo]``: the product of the graph's signed operands ``x``, ``y`` (int32,
    read-only): a signed circuit's over ``[-2**(N-1), 2**(N-1))``, an unsigned one's in
    sign-magnitude form over ``(-2**N, 2**N)``."""
    t = _table(params)
    mask = (1 << params.width) - 1
    if params.signed:
        x = np.arange(*params.in_range) & mask
        st = t[x[:, None], x[None, :]]
    else:
        x = np.arange(1 - (1 << params.width), 1 << params.width)
        mag = t[np.abs(x)[:, None], np.abs(x)[None, :]].astype(np.int64)
        st = np.where((x[:, None] < 0) != (x[None, :] < 0), -mag, mag)
    st = np.ascontiguousarray(st, dtype=np.int32)   # a 2N <= 16-bit output fits
    st.setflags(write=False)
    return st


def circuit_source(params: CircuitMulParams) -> str:
    """The Verilog text the unit's component instantiates: the user's file as it is (or the
    reference circuit's text)."""
    check_instance("circuit_source", "params", params, CircuitMulParams)
    return _checked(params).text


def reference_params(circuit: Circuit, directory=None) -> CircuitMulParams:
    """A :class:`CircuitMulParams` for a reference circuit of :mod:`hwsim.circuits`, its text
    written to ``directory/<module>.v`` (default: ``circuits/`` in hwsim's cache directory;
    a file holding other text is never replaced: hwsim refuses)."""
    from pathlib import Path

    from hwsim.paths import cache_dir, replace_text
    d = Path(directory) if directory is not None else cache_dir() / "circuits"
    d.mkdir(parents=True, exist_ok=True)
    path = d / f"{circuit.name}.v"
    text = circuit.verilog()
    if path.exists() or path.is_symlink():
        if not path.is_file() or path.read_text(errors="replace") != text:
            raise ValueError(f"reference_params: {str(path)!r} exists and holds something "
                             f"else; hwsim does not replace it")
    else:
        replace_text(path, text)
    return CircuitMulParams(verilog=str(path), width=circuit.width, signed=circuit.signed)


def front_circuits(width: int, truncated=(), broken_array=()) -> list[CircuitMulParams]:
    """The reference circuits on the multiplier front at ``width``: a truncated circuit per
    fraction ``f`` in ``truncated`` (``t = round(f width)``), a broken-array circuit per
    ``(h, v)`` in ``broken_array`` (``hbl = round(h width)``, ``vbl = round(v width)``)."""
    out = [Circuit("truncated", width, t=round(f * width)) for f in truncated]
    out += [Circuit("broken-array", width, hbl=round(h * width), vbl=round(v * width))
            for h, v in broken_array]
    return [reference_params(c) for c in out]
