"""Sequential gate netlists: flip-flops that hold state from one clock cycle to the next, one
input vector per cycle, simulated bit-parallel over independent *lanes*.

:mod:`hwsim.netlist` simulates combinational netlists, 64 operations per ``uint64`` word.
A netlist with flip-flops cannot be split that way: cycle t needs the state cycle t - 1
left. So :class:`SequentialNetlist` runs ``lanes`` (a multiple of 64) independent copies of
the circuit, one per bit of a word: the cycle stream is cut into ``lanes`` contiguous slices
of ``T`` cycles, and every copy steps through its own slice cycle by cycle. Toggles are
counted per lane between consecutive cycles and summed. Nothing assumes a feed-forward
pipeline: hold multiplexers, counters and iterative units are stepped like any other state.

**What is counted.** A lane starts from all flip-flops at 0, ``warmup + 1`` cycles before its
slice, fed the stream's cycles that precede the slice (lane 0: cycle 0 repeated). With
``warmup`` >= the depth of a feed-forward pipeline (its latency), the state when the slice
starts is exactly what one circuit running the whole stream from the start would hold, so
the counts are those of that single run (a test compares with Icarus): per net, the 0->1 and
1->0 changes into the cycles ``warmup + 1 .. n - 1`` and the ones in cycles ``warmup .. n -
1`` (``operations = n - warmup`` cycles: the cycles once the pipeline is full; ``warmup =
0`` is the combinational definition of :meth:`hwsim.netlist.Netlist.toggles`). A unit with
feedback (state older than ``warmup`` cycles) gets each lane's slice run from the reset-free
state the warm-up leaves: a stated approximation, the lanes' boundaries are ``lanes`` of
``n`` cycles. Energy per operation = energy per cycle x cycles / operations (one operation
per cycle for a stall-free pipeline, more cycles for an iterative unit).

**How.** The flip-flops are cut out of yosys' netlist: each flip-flop's output becomes an
input port of a combinational core and its D input an output port; :class:`hwsim.netlist.Netlist`
orders and lowers the core; the kernel here runs the core once per cycle over ``lanes / 64``
words, copying each D output to its flip-flop's state after the cycle. Flip-flops simulated:
the library's ``ff`` groups clocked on the rising edge of the clock port (``next_state`` a
pin, ``clear`` / ``preset`` tied inactive) and yosys' ``$_DFF_P_``; a falling-edge or gated
clock, a clear or preset driven by logic, a latch: refused in one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numba
import numpy as np

from hwsim.netlist import (
    CellLibrary, Netlist, NetToggles, ToggleCounts, _bit_names, _lib_group, _lib_tokens,
    _pack, _popcount, _unpack, _unquote, parse_function,
)

_STATE_PORT = "hwsim_state_q"
_NEXT_PORT = "hwsim_state_d"


@dataclass(frozen=True)
class FlipFlop:
    """A library flip-flop: ``state`` (the ``ff`` group's first variable, which the output
    pins' functions name; ``state_n`` the second), ``next_state``, ``clocked_on``, ``clear``
    and ``preset`` as function trees (:func:`hwsim.netlist.parse_function`; None: absent)."""

    state: str
    state_n: str | None
    next_state: tuple
    clocked_on: tuple
    clear: tuple | None = None
    preset: tuple | None = None


#: yosys' own rising-edge flip-flop (``map_to_cells`` without a library leaves it)
YOSYS_FLIP_FLOPS = {"$_DFF_P_": FlipFlop("IQ", None, ("var", "D"), ("var", "C"))}
_YOSYS_DFF_PINS = {"$_DFF_P_": (("C", "D"), {"Q": ("var", "IQ")})}


def flip_flops(liberty) -> dict[str, FlipFlop]:
    """Every cell of the Liberty file with an ``ff`` group, by name."""
    p = Path(liberty)
    toks = _lib_tokens(p.read_text(errors="replace"))
    j = toks.index("{")
    body, _ = _lib_group(toks, j + 1, str(p))
    out = {}
    for name, args, group in body:
        if name != "cell" or group is None:
            continue
        for key, val, sub in group:
            if key == "ff" and sub is not None:
                attrs = {k: v for k, v, s in sub if s is None and isinstance(v, str)}
                where = f"{p.name}: cell {args[0]} ff"

                def fn(attr, attrs=attrs, where=where):
                    return parse_function(_unquote(attrs[attr]), f"{where} {attr}") \
                        if attr in attrs else None
                out[args[0]] = FlipFlop(val[0], val[1] if len(val) > 1 else None,
                                        fn("next_state"), fn("clocked_on"), fn("clear"),
                                        fn("preset"))
    return out


def _const_value(tree, pins: dict):
    """``tree``'s value when every pin it reads is tied to a constant, else None."""
    kind = tree[0]
    if kind == "const":
        return tree[1]
    if kind == "var":
        bit = pins.get(tree[1])
        return int(bit) if bit in ("0", "1") else None
    vals = [_const_value(t, pins) for t in tree[1:]]
    if any(v is None for v in vals):
        return None
    if kind == "not":
        return 1 - vals[0]
    return {"and": vals[0] & vals[1], "or": vals[0] | vals[1], "xor": vals[0] ^ vals[1]}[kind]


class SequentialNetlist:
    """A gate netlist with rising-edge flip-flops on one clock port (see the module
    docstring). ``inputs`` / ``outputs``: port -> width, without the clock; ``flip_flops``:
    the state bits; ``core``: the combinational :class:`~hwsim.netlist.Netlist` between them;
    ``cell_counts`` and ``area`` include the flip-flops."""

    def __init__(self):
        raise TypeError("SequentialNetlist: build one with SequentialNetlist.from_yosys(...)")

    @classmethod
    def from_yosys(cls, data: dict, top: str, cells: CellLibrary, *, clock: str = "clk",
                   flops: dict[str, FlipFlop] | None = None) -> "SequentialNetlist":
        """Module ``top`` of yosys' JSON ``data`` (:func:`hwsim.netlist.map_to_cells`):
        flip-flop cells are those of ``flops`` (from :func:`flip_flops` on the library's
        file; default: read from ``cells.source``) and yosys' ``$_DFF_P_``; everything else
        is the combinational core, checked by :meth:`hwsim.netlist.Netlist.from_yosys`."""
        self = object.__new__(cls)
        owner = f"SequentialNetlist.from_yosys: module {top!r}"
        modules = data.get("modules", {}) if isinstance(data, dict) else {}
        if top not in modules:
            raise ValueError(f"{owner} is not in the netlist "
                             f"(modules: {', '.join(sorted(modules)) or 'none'})")
        if flops is None:
            flops = flip_flops(cells.source) if cells.source else {}
        flops = {**YOSYS_FLIP_FLOPS, **flops}
        mod = modules[top]
        ports = dict(mod.get("ports", {}))
        if clock not in ports or ports[clock].get("direction") != "input" \
                or len(ports[clock]["bits"]) != 1:
            raise ValueError(f"{owner}: clock {clock!r} is not a one-bit input port")
        clk_bit = ports.pop(clock)["bits"][0]
        core_cells, state_bits, next_bits, ff_cells = {}, [], [], []
        counts: dict[str, int] = {}
        area = 0.0
        for inst, c in mod.get("cells", {}).items():
            ctype = c["type"]
            conns = c.get("connections", {})
            if ctype not in flops:
                if any(clk_bit in bits for bits in conns.values()):
                    raise ValueError(f"{owner}: the clock {clock} drives cell {inst!r} "
                                     f"({ctype}), not a flip-flop (a gated clock or clock "
                                     f"logic is not simulated)")
                core_cells[inst] = c
                continue
            ff = flops[ctype]
            ct = cells.cells.get(ctype)
            pins_in, outs = (_YOSYS_DFF_PINS[ctype] if ct is None
                             else (ct.inputs, ct.outputs))
            pins = {p: conns[p][0] for p in pins_in if p in conns and len(conns[p]) == 1}
            clocked = ff.clocked_on
            if clocked[0] == "not" and clocked[1][0] == "var":
                edge = "the falling edge"
            elif clocked[0] == "var" and pins.get(clocked[1]) != clk_bit:
                edge = f"a net other than the clock port {clock}"
            elif clocked[0] != "var":
                edge = f"the function {clocked!r}"
            else:
                edge = None
            if edge is not None:
                raise ValueError(f"{owner}: flip-flop {inst!r} ({ctype}) is clocked on {edge}; "
                                 f"only flip-flops on the rising edge of {clock} are simulated")
            for what in ("clear", "preset"):
                tree = getattr(ff, what)
                if tree is not None and _const_value(tree, pins) != 0:
                    raise ValueError(f"{owner}: flip-flop {inst!r} ({ctype}) has its "
                                     f"asynchronous {what} driven by logic; only flip-flops "
                                     f"with {what} tied inactive are simulated")
            if ff.next_state[0] != "var" or ff.next_state[1] not in pins:
                raise ValueError(f"{owner}: flip-flop {inst!r} ({ctype}) has next_state "
                                 f"{ff.next_state!r}; only a pin is simulated")
            q = None
            for pin, tree in outs.items():
                bits = conns.get(pin) or []
                if not bits or isinstance(bits[0], str):
                    continue
                if tree != ("var", ff.state):
                    raise ValueError(f"{owner}: flip-flop {inst!r} ({ctype}) output {pin} is "
                                     f"not its state (an inverted output is not simulated)")
                if q is not None:
                    raise ValueError(f"{owner}: flip-flop {inst!r} ({ctype}) drives two nets")
                q = (pin, bits[0])
            counts[ctype] = counts.get(ctype, 0) + 1
            area = None if area is None or ct is None or ct.area is None else area + ct.area
            if q is None:  # an unread flip-flop: no state anyone sees
                continue
            state_bits.append(q[1])
            next_bits.append(pins[ff.next_state[1]])
            ff_cells.append((inst, q[0]))
        core_ports = dict(ports)
        core_ports[_STATE_PORT] = {"direction": "input", "bits": state_bits}
        core_ports[_NEXT_PORT] = {"direction": "output", "bits": next_bits}
        core_mod = {**mod, "ports": core_ports, "cells": core_cells}
        try:
            core = Netlist.from_yosys({"modules": {top: core_mod}}, top, cells)
        except ValueError as e:
            raise ValueError(str(e).replace("Netlist.from_yosys:", "SequentialNetlist.from_yosys:")
                             .replace(_STATE_PORT, "the flip-flops' outputs")
                             .replace(_NEXT_PORT, "the flip-flops' inputs")) from None
        self.top = top
        self.clock = clock
        self.core = core
        self.library = cells.name
        self.inputs = {p: w for p, w in core.inputs.items() if p != _STATE_PORT}
        self.outputs = {p: w for p, w in core.outputs.items() if p != _NEXT_PORT}
        self.flip_flops = len(ff_cells)
        self.cell_counts = dict(sorted({**{k: v for k, v in core.cell_counts.items()},
                                        **{k: core.cell_counts.get(k, 0) + v
                                           for k, v in counts.items()}}.items()))
        self.area = None if core.area is None or area is None else core.area + area
        self.instances = core.instances + sum(counts.values())
        # the counted nets: the flip-flops' outputs are driven by their cells, not by a port
        names = _bit_names(mod)
        q_of = {bit: ff_cells[i] for i, bit in enumerate(state_bits)}
        self._counted = {}
        for name, (idx, drv, port) in core._counted.items():
            if port is not None and port[0] == _STATE_PORT:
                bit = state_bits[port[1]]
                self._counted[names.get(bit, name)] = (idx, q_of[bit], None)
            else:
                self._counted[name] = (idx, drv, port)
        self._state_nets = (core._in_nets[_STATE_PORT] if state_bits
                            else np.zeros(0, np.int32))
        self._next_nets = (core._out_nets[_NEXT_PORT] if state_bits
                           else np.zeros(0, np.int32))
        return self

    def __repr__(self) -> str:
        return (f"SequentialNetlist({self.top!r}, {self.library}, {self.instances} cells, "
                f"{self.flip_flops} flip-flops, inputs {self.inputs}, outputs {self.outputs})")

    def cycles(self, inputs: dict, *, warmup: int = 0, lanes: int | None = None,
               period: int = 1, reset: dict | None = None
               ) -> tuple[dict[str, np.ndarray], ToggleCounts]:
        """Run the stream ``inputs`` (port -> 1-D integer array, one entry per clock cycle,
        every input port but the clock) and return ``(outputs, toggles)``: every output
        port's value in each cycle (``np.uint64``; cycle t's output is what the flip-flops
        and cycle t's inputs give, before the clock edge that ends it) and the zero-delay
        toggle counts over the cycles once ``warmup`` cycles have passed (module
        docstring). ``lanes``: a multiple of 64 (default: chosen so each lane runs at
        least 64 cycles of its own slice past its warm-up). ``reset``: port -> value for
        one cycle before each lane's first (a synchronous reset; the cycle is not counted
        and is not one of the stream's). ``period``: every lane starts at a multiple of
        ``period`` cycles of the stream (a unit whose phase counter cycles with that
        period starts each lane in phase); ``warmup + 1`` must then be a multiple of it."""
        owner = f"SequentialNetlist({self.top}).cycles"
        if isinstance(warmup, bool) or not isinstance(warmup, (int, np.integer)) or warmup < 0:
            raise ValueError(f"{owner}: warmup must be an integer >= 0, not {warmup!r}")
        if not isinstance(inputs, dict):
            raise TypeError(f"{owner}: inputs must be a dict of port -> array, not "
                            f"{type(inputs).__name__}")
        bad = sorted(set(inputs) ^ set(self.inputs))
        if bad:
            raise ValueError(f"{owner}: inputs must be exactly the ports "
                             f"{', '.join(self.inputs) or '(none)'} (the clock {self.clock} "
                             f"is not one); not {', '.join(map(str, bad))}")
        arrays = {p: np.asarray(v) for p, v in inputs.items()}
        sizes = {a.size for a in arrays.values()}
        if len(sizes) > 1:
            raise ValueError(f"{owner}: inputs must have one length, not {sorted(sizes)}")
        n = sizes.pop() if sizes else 0
        if n <= warmup:
            raise ValueError(f"{owner}: the stream has {n} cycles; it needs more than "
                             f"warmup = {warmup}")
        if isinstance(period, bool) or not isinstance(period, (int, np.integer)) or period < 1:
            raise ValueError(f"{owner}: period must be an integer >= 1, not {period!r}")
        if (warmup + 1) % period:
            raise ValueError(f"{owner}: warmup + 1 must be a multiple of period = {period}, "
                             f"not {warmup + 1}")
        reset = dict(reset or {})
        if set(reset) - set(self.inputs):
            raise ValueError(f"{owner}: reset names ports that are not inputs: "
                             f"{', '.join(sorted(map(str, set(reset) - set(self.inputs))))}")
        if lanes is None:
            words = max(1, min(64, n // (64 * max(64, 8 * (warmup + 1)))))
            lanes = 64 * words
        if isinstance(lanes, bool) or not isinstance(lanes, (int, np.integer)) \
                or lanes < 64 or lanes % 64:
            raise ValueError(f"{owner}: lanes must be a positive multiple of 64, not {lanes!r}")
        L = lanes // 64
        T = -(-n // lanes)
        T = -(-T // period) * period
        R = 1 if reset else 0
        C = T + warmup + 1 + R
        # cycle c of lane l is the stream's cycle g = l T + c - warmup - 1 - R (clipped: lane
        # 0 repeats cycle 0 before it, the last lanes repeat cycle n - 1 past the end); with
        # a reset, c = 0 is the reset cycle
        g = (np.arange(lanes)[None, :] * T + np.arange(C)[:, None] - warmup - 1 - R)
        idx = np.clip(g, 0, n - 1)
        lane_lo = np.arange(lanes)[None, :] * T
        own = (g >= lane_lo) & (g < np.minimum(lane_lo + T, n))
        tmask = _words(own & (g >= warmup + 1))
        omask = _words(own & (g >= warmup))
        core = self.core
        nin = sum(core.inputs.values())
        planes = np.zeros((nin, C * L), dtype=np.uint64)
        nets = np.zeros(nin, dtype=np.int32)
        row = 0
        for p, w in core.inputs.items():
            if p == _STATE_PORT:
                nets[row:row + w] = core._in_nets[p]
                row += w  # planes stay 0: the kernel writes the state
                continue
            a = arrays[p]
            if a.dtype.kind not in "iub":
                raise TypeError(f"{owner}: input {p} must be an integer array, not {a.dtype}")
            a = a.astype(np.int64).ravel()
            if w < 64 and n and (a.min() < 0 or a.max() >> w):
                first = a[(a < 0) | (a >> w != 0)][0]
                raise ValueError(f"{owner}: {p} has values outside [0, {1 << w}) for width "
                                 f"{w} (first: {int(first)})")
            if w:
                vals = a[idx]
                if p in reset:
                    vals[0] = reset[p]
                vals = np.ascontiguousarray(vals.ravel()).view(np.uint64)
                _pack(vals, w, planes[row:row + w], 0, C * L)
                nets[row:row + w] = core._in_nets[p]
            row += w
        out_nets = np.concatenate([core._out_nets[p] for p in self.outputs] or
                                  [np.zeros(0, np.int32)]).astype(np.int32)
        out_planes = np.zeros((out_nets.size, C * L), dtype=np.uint64)
        count = np.array([v[0] for v in self._counted.values()], dtype=np.int32)
        toggles = np.zeros(count.size, dtype=np.int64)
        ones = np.zeros(count.size, dtype=np.int64)
        _cycles(core._ops, core._nnets, nets, planes, self._state_nets, self._next_nets,
                out_nets, out_planes, count, tmask, omask, L, toggles, ones)
        outputs = {}
        row = 0
        flat_own = own.ravel()
        order = g.ravel()[flat_own]
        for p, w in self.outputs.items():
            v = np.zeros(C * lanes, dtype=np.uint64)
            if w:
                _unpack(out_planes[row:row + w], C * lanes, v, 0, C * L)
            res = np.zeros(n, dtype=np.uint64)
            res[order] = v[flat_own]
            outputs[p] = res
            row += w
        nets_out = {}
        for k, (name, (idx_, drv, port)) in enumerate(self._counted.items()):
            const = idx_ if idx_ in (0, 1) and drv is None and port is None else None
            nets_out[name] = NetToggles(int(toggles[k]), int(ones[k]), drv, port, const)
        return outputs, ToggleCounts(n - warmup, nets_out)

    def stream(self, rows: np.ndarray, *, payload: str, valid: str, ready: str,
               held: dict | None = None, reset: dict | None = None, lanes: int = 64,
               warmup_rows: int = 1, max_cycles_per_element: int = 64) -> dict:
        """A streamed unit fed ``rows`` (``(n, R)`` integers, ``n`` a multiple of ``lanes``;
        each lane takes ``n / lanes`` consecutive rows) through its input stream: in every
        cycle a lane offers its next element on ``payload`` with ``valid`` high (low once
        its rows are all taken), and the element is taken in a cycle whose ``ready`` output
        is high (closed loop: the lane waits while the unit applies backpressure). Every
        other input is held at ``held`` (``reset``: one cycle before the first, as
        :meth:`cycles`). Counted: the cycles in which a lane has taken at least
        ``warmup_rows`` rows and not yet all of its rows (the steady state; the toggles into
        those cycles and their ones). Returns ``{"toggles": ToggleCounts`` (``operations``:
        the counted cycles + 1, so ``activity`` is toggles per counted cycle),
        ``"cycles"``: counted cycles, ``"rows"``: rows taken in them, ``"outputs"``: port ->
        ``(cycles, lanes)`` values of every cycle run``}``."""
        owner = f"SequentialNetlist({self.top}).stream"
        rows = np.asarray(rows)
        if rows.ndim != 2 or rows.dtype.kind not in "iu" or not rows.size:
            raise ValueError(f"{owner}: rows must be a non-empty 2-D integer array, not "
                             f"{rows.dtype} {rows.shape}")
        if isinstance(lanes, bool) or not isinstance(lanes, int) or lanes < 64 or lanes % 64:
            raise ValueError(f"{owner}: lanes must be a positive multiple of 64, not {lanes!r}")
        n, R = rows.shape
        if n % lanes or n // lanes <= warmup_rows:
            raise ValueError(f"{owner}: {n} rows do not split into {lanes} lanes of more than "
                             f"warmup_rows = {warmup_rows} rows each")
        held = dict(held or {})
        for port, what in ((payload, "payload"), (valid, "valid")):
            if port not in self.inputs:
                raise ValueError(f"{owner}: {what} port {port!r} is not an input")
        if ready not in self.outputs or self.outputs[ready] != 1:
            raise ValueError(f"{owner}: ready port {ready!r} is not a one-bit output")
        rest = set(self.inputs) - {payload, valid} - set(held)
        if rest:
            raise ValueError(f"{owner}: no value held for input {', '.join(sorted(rest))}")
        w = self.inputs[payload]
        elems = (rows.astype(np.int64) & ((1 << w) - 1)).reshape(lanes, -1)
        E = elems.shape[1]
        C = max_cycles_per_element * E + 64
        core = self.core
        held_nets, held_vals, reset_vals = [], [], []
        for port, v in held.items():
            for b, net in enumerate(core._in_nets[port]):
                held_nets.append(net)
                held_vals.append((int(v) >> b) & 1)
                r = (reset or {}).get(port, v)
                reset_vals.append((int(r) >> b) & 1)
        out_nets = np.concatenate([core._out_nets[p] for p in self.outputs]).astype(np.int32)
        out_planes = np.zeros((out_nets.size, C * (lanes // 64)), dtype=np.uint64)
        count = np.array([v[0] for v in self._counted.values()], dtype=np.int32)
        toggles = np.zeros(count.size, dtype=np.int64)
        ones = np.zeros(count.size, dtype=np.int64)
        stats = np.zeros(3, dtype=np.int64)  # counted lane-cycles, elements taken, cycles run
        _stream_cycles(core._ops, core._nnets, np.array(held_nets, np.int32),
                       np.array(held_vals, np.uint8), np.array(reset_vals, np.uint8),
                       bool(reset), core._in_nets[payload].astype(np.int32),
                       int(core._in_nets[valid][0]), int(core._out_nets[ready][0]),
                       elems, warmup_rows * R, self._state_nets, self._next_nets, out_nets,
                       out_planes, count, toggles, ones, stats)
        if stats[1] != (E - warmup_rows * R) * lanes:
            raise ValueError(f"{owner}: the unit took {stats[1]} of "
                             f"{(E - warmup_rows * R) * lanes} elements in {C} cycles (it "
                             f"stopped taking input)")
        ran = int(stats[2])
        outputs = {}
        row = 0
        for p, wp in self.outputs.items():
            v = np.zeros(ran * lanes, dtype=np.uint64)
            if wp:
                _unpack(out_planes[row:row + wp], ran * lanes, v, 0, ran * (lanes // 64))
            outputs[p] = v.reshape(ran, lanes)
            row += wp
        nets_out = {}
        for k, (name, (idx_, drv, port)) in enumerate(self._counted.items()):
            const = idx_ if idx_ in (0, 1) and drv is None and port is None else None
            nets_out[name] = NetToggles(int(toggles[k]), int(ones[k]), drv, port, const)
        return {"toggles": ToggleCounts(int(stats[0]) + 1, nets_out), "cycles": int(stats[0]),
                "rows": int(stats[1]) // R, "outputs": outputs}


def _words(mask: np.ndarray) -> np.ndarray:
    """A (C, lanes) boolean array as (C, lanes / 64) words, lane 64 j + k in bit k of word j."""
    C, lanes = mask.shape
    return np.packbits(mask.reshape(C, lanes // 64, 64), axis=-1,
                       bitorder="little").view("<u8").reshape(C, lanes // 64).astype(np.uint64)


@numba.njit(nogil=True, cache=True)
def _eval_words(ops, buf):
    """The lowered operations over every word of ``buf`` (codes of :mod:`hwsim.netlist`)."""
    L = buf.shape[1]
    for k in range(ops.shape[0]):
        code = ops[k, 0]
        z = buf[ops[k, 1]]
        x = buf[ops[k, 2]]
        y = buf[ops[k, 3]]
        s = buf[ops[k, 4]]
        for j in range(L):
            if code == 0:
                z[j] = x[j]
            elif code == 1:
                z[j] = ~x[j]
            elif code == 2:
                z[j] = x[j] & y[j]
            elif code == 3:
                z[j] = x[j] | y[j]
            elif code == 4:
                z[j] = x[j] ^ y[j]
            elif code == 5:
                z[j] = ~(x[j] & y[j])
            elif code == 6:
                z[j] = ~(x[j] | y[j])
            elif code == 7:
                z[j] = ~(x[j] ^ y[j])
            elif code == 8:
                z[j] = x[j] & ~y[j]
            elif code == 9:
                z[j] = x[j] | ~y[j]
            elif code == 10:
                z[j] = (y[j] & s[j]) | (x[j] & ~s[j])
            else:
                z[j] = ~((y[j] & s[j]) | (x[j] & ~s[j]))


@numba.njit(nogil=True, cache=True)
def _cycles(ops, nnets, in_nets, in_planes, state_nets, next_nets, out_nets, out_planes,
            count_nets, tmask, omask, L, toggles, ones):
    """Cycle by cycle over ``L`` words of lanes: inputs and state in, the core evaluated,
    outputs out, toggles against the previous cycle (under ``tmask``) and ones (under
    ``omask``) counted, each D copied to its state."""
    C = tmask.shape[0]
    buf = np.zeros((nnets, L), dtype=np.uint64)
    for j in range(L):
        buf[1, j] = ~np.uint64(0)
    state = np.zeros((state_nets.size, L), dtype=np.uint64)
    prev = np.zeros((count_nets.size, L), dtype=np.uint64)
    for c in range(C):
        for i in range(in_nets.size):
            r = in_nets[i]
            for j in range(L):
                buf[r, j] = in_planes[i, c * L + j]
        for s in range(state_nets.size):
            r = state_nets[s]
            for j in range(L):
                buf[r, j] = state[s, j]
        _eval_words(ops, buf)
        for o in range(out_nets.size):
            r = out_nets[o]
            for j in range(L):
                out_planes[o, c * L + j] = buf[r, j]
        for m in range(count_nets.size):
            r = count_nets[m]
            t = np.uint64(0)
            on = np.uint64(0)
            for j in range(L):
                w = buf[r, j]
                t += _popcount((w ^ prev[m, j]) & tmask[c, j])
                on += _popcount(w & omask[c, j])
                prev[m, j] = w
            toggles[m] += np.int64(t)
            ones[m] += np.int64(on)
        for s in range(next_nets.size):
            r = next_nets[s]
            for j in range(L):
                state[s, j] = buf[r, j]


@numba.njit(nogil=True, cache=True)
def _stream_cycles(ops, nnets, held_nets, held_vals, reset_vals, do_reset, pay_nets, valid_net,
                   ready_net, elems, warm, state_nets, next_nets, out_nets, out_planes,
                   count_nets, toggles, ones, stats):
    """:meth:`SequentialNetlist.stream`'s loop: lane 64 j + k is bit k of word j; a lane's
    element pointer advances in each cycle its valid and the unit's ready are both high."""
    lanes, E = elems.shape
    L = lanes // 64
    C = out_planes.shape[1] // L
    buf = np.zeros((nnets, L), dtype=np.uint64)
    for j in range(L):
        buf[1, j] = ~np.uint64(0)
    state = np.zeros((state_nets.size, L), dtype=np.uint64)
    prev = np.zeros((count_nets.size, L), dtype=np.uint64)
    ptr = np.zeros(lanes, dtype=np.int64)
    one = np.uint64(1)
    for c in range(-1 if do_reset else 0, C):
        for i in range(held_nets.size):
            v = reset_vals[i] if c < 0 else held_vals[i]
            for j in range(L):
                buf[held_nets[i], j] = ~np.uint64(0) if v else np.uint64(0)
        mask = np.zeros(L, dtype=np.uint64)
        live = 0
        for j in range(L):
            vw = np.uint64(0)
            for k in range(64):
                lane = 64 * j + k
                if ptr[lane] < E:
                    live += 1
                    vw |= one << np.uint64(k)
                    if ptr[lane] >= warm and c >= 0:
                        mask[j] |= one << np.uint64(k)
            buf[valid_net, j] = vw if c >= 0 else np.uint64(0)
        if live == 0 and c >= 0:
            stats[2] = c
            return
        for b in range(pay_nets.size):
            for j in range(L):
                pw = np.uint64(0)
                for k in range(64):
                    lane = 64 * j + k
                    e = elems[lane, min(ptr[lane], E - 1)]
                    pw |= np.uint64((e >> b) & 1) << np.uint64(k)
                buf[pay_nets[b], j] = pw
        for s in range(state_nets.size):
            for j in range(L):
                buf[state_nets[s], j] = state[s, j]
        _eval_words(ops, buf)
        if c >= 0:
            for o in range(out_nets.size):
                for j in range(L):
                    out_planes[o, c * L + j] = buf[out_nets[o], j]
        for m in range(count_nets.size):
            r = count_nets[m]
            t = np.uint64(0)
            on = np.uint64(0)
            for j in range(L):
                w = buf[r, j]
                t += _popcount((w ^ prev[m, j]) & mask[j])
                on += _popcount(w & mask[j])
                prev[m, j] = w
            toggles[m] += np.int64(t)
            ones[m] += np.int64(on)
        for j in range(L):
            stats[0] += np.int64(_popcount(mask[j]))
            take = buf[ready_net, j] & buf[valid_net, j]
            stats[1] += np.int64(_popcount(take & mask[j]))
            for k in range(64):
                if (take >> np.uint64(k)) & one:
                    ptr[64 * j + k] += 1
        for s in range(next_nets.size):
            for j in range(L):
                state[s, j] = buf[next_nets[s], j]
    stats[2] = C


#: the reset port of a unit's clocked netlist (Amaranth's ``sync`` domain: ``rst``)
RESET_PORT = "rst"


def pipelined_toggles(data: dict, top: str, cells: CellLibrary, operands: dict, latency: int,
                      model=None) -> tuple[ToggleCounts, int]:
    """Toggles of a pipelined unit's mapped netlist on its operand stream, stall-free: one
    operation enters per clock, every other one-bit input held (:data:`RESET_PORT` at 0,
    after one reset cycle per lane; ``in_valid`` and any other handshake input at 1), counted
    once the pipeline is full (``warmup = latency``). ``model``: ``operands -> {output port:
    values}``; the netlist's outputs ``latency`` cycles later must equal it (a
    ``ValueError`` otherwise). Returns the counts and the cycles per operation (1)."""
    net = SequentialNetlist.from_yosys(data, top, cells)
    n = len(next(iter(operands.values())))
    inputs = {}
    for port, w in net.inputs.items():
        if port in operands:
            v = np.asarray(operands[port]).astype(np.int64)
            inputs[port] = v & ((1 << w) - 1) if w < 64 else v
        elif w == 1:
            inputs[port] = np.full(n, 0 if port == RESET_PORT else 1, dtype=np.int64)
        else:
            raise ValueError(f"pipelined_toggles: {top}: input port {port} ({w} bits) is "
                             f"neither an operand nor a one-bit handshake or reset")
    reset = {RESET_PORT: 1} if RESET_PORT in net.inputs else None
    out, counts = net.cycles(inputs, warmup=latency, reset=reset)
    if model is not None:
        for port, want in model(operands).items():
            if port in out:
                w = net.outputs[port]
                got = out[port][latency:].astype(np.int64)
                want = np.asarray(want).astype(np.int64)[:n - latency]
                if w < 64:
                    want = want & ((1 << w) - 1)
                    got = got & ((1 << w) - 1)
                if not np.array_equal(got, want):
                    bad = int(np.flatnonzero(got != want)[0])
                    raise ValueError(f"pipelined_toggles: {top}: output {port} of operation "
                                     f"{bad} is {int(got[bad])} after {latency} cycles, the "
                                     f"model's {int(want[bad])}")
    return counts, 1


#: the stream ports of a streamed unit (``amaranth.lib.stream`` members ``i_stream`` /
#: ``o_stream`` as Amaranth names their Verilog ports)
STREAM_PORTS = {"payload": "i_stream__payload", "valid": "i_stream__valid",
                "ready": "i_stream__ready", "out_ready": "o_stream__ready",
                "out_valid": "o_stream__valid", "out_payload": "o_stream__payload"}


def is_streamed(ports) -> bool:
    """Whether a netlist's ports (names) are a streamed unit's (:data:`STREAM_PORTS`)."""
    return all(p in ports for p in STREAM_PORTS.values())


def streamed_toggles(data: dict, top: str, cells: CellLibrary, rows: np.ndarray,
                     model=None, lanes: int = 64) -> tuple[ToggleCounts, int, int]:
    """Toggles of a streamed unit's mapped netlist fed ``rows`` (each row one operation:
    its elements in order through ``i_stream``, valid held high while a lane has rows left,
    ``o_stream.ready`` held high, ``rst`` low after one reset cycle), stall-free apart from
    the unit's own backpressure, counted in steady state (:meth:`SequentialNetlist.stream`,
    one row of warm-up per lane). ``rows`` are cut to a multiple of ``lanes``. ``model``:
    ``rows -> flat outputs per row``; each lane's ``o_stream`` payloads must be a prefix of
    the model's outputs of its rows, at least half of them (a ``ValueError`` otherwise).
    Returns ``(counts, counted cycles, rows taken in them)``."""
    net = SequentialNetlist.from_yosys(data, top, cells)
    rows = np.asarray(rows)
    rows = rows[:len(rows) // lanes * lanes]
    held = {STREAM_PORTS["out_ready"]: 1}
    if RESET_PORT in net.inputs:
        held[RESET_PORT] = 0
    got = net.stream(rows, payload=STREAM_PORTS["payload"], valid=STREAM_PORTS["valid"],
                     ready=STREAM_PORTS["ready"], held=held,
                     reset={RESET_PORT: 1} if RESET_PORT in net.inputs else None, lanes=lanes)
    if model is not None:
        w = net.outputs[STREAM_PORTS["out_payload"]]
        want = (np.asarray(model(rows)).astype(np.int64) & ((1 << w) - 1)).reshape(lanes, -1)
        ov, op = got["outputs"][STREAM_PORTS["out_valid"]], got["outputs"][STREAM_PORTS["out_payload"]]
        for lane in range(lanes):
            out = op[ov[:, lane] == 1, lane].astype(np.int64)
            if len(out) < want.shape[1] // 2 or not np.array_equal(out, want[lane, :len(out)]):
                raise ValueError(f"streamed_toggles: {top}: lane {lane}'s {len(out)} outputs are "
                                 f"not the model's outputs of its rows")
    return got["toggles"], got["cycles"], got["rows"]


__all__ = ["FlipFlop", "RESET_PORT", "STREAM_PORTS", "SequentialNetlist", "YOSYS_FLIP_FLOPS",
           "flip_flops", "is_streamed", "pipelined_toggles", "streamed_toggles"]
