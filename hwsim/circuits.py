"""Reference multiplier circuits written by hwsim as Verilog text: the ``circuit-mul`` unit's
built-in circuit and a small family of approximate ones to study beside the user's own.

Every circuit is an unsigned ``width`` x ``width`` -> ``2 width`` multiplier (ports ``A``,
``B``, ``O``; the exact reference is also available signed), written as the sum of the
partial-product bits it keeps, ``O = sum a_i b_j 2**(i+j)`` over the kept ``(i, j)``, plus a
constant, modulo ``2**(2 width)``:

* ``exact``: every bit (``assign O = A * B``; signed: ``$signed(A) * $signed(B)``);
* ``broken-array`` (BAM, Mahdiani et al. 2010): the carry-save array multiplier with its cells
  left out below a vertical break level ``vbl`` (every bit of a column ``i + j < vbl``) and
  above a horizontal break level ``hbl`` (every bit of a row ``j < hbl``, the rows of ``B``'s
  low bits); the adders of the array sum exactly what they are given, so the product is the
  sum of the kept bits;
* ``truncated``: the columns ``i + j < t`` left out and a constant correction added: their
  expected sum for uniform operands (each bit is 1 with probability 1/4),
  ``sum_{c < t} n_c 2**c / 4``, rounded to the nearest multiple of ``2**t`` (ties up), so the
  ``t`` low output bits are 0.

:func:`reference` is the same function in numpy, the oracle the tests hold the netlist model
of the written text against. ``python -m hwsim.circuits KIND --width N ... -o FILE`` writes
one circuit (``--help`` lists the options); an existing file is never replaced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hwsim._check import check_bool, check_int

__all__ = ["Circuit", "KINDS", "reference", "main"]

KINDS = ("exact", "broken-array", "truncated")


@dataclass(frozen=True)
class Circuit:
    """One reference circuit: ``kind`` (:data:`KINDS`), operand ``width`` (2..32), and the
    kind's knobs: ``hbl`` / ``vbl`` (broken-array, ``0..width`` / ``0..2 width - 1``), ``t``
    (truncated, ``0..width``), ``signed`` (exact only)."""

    kind: str
    width: int = 8
    hbl: int = 0
    vbl: int = 0
    t: int = 0
    signed: bool = False

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"Circuit.kind must be one of {', '.join(KINDS)}, not {self.kind!r}")
        w = check_int("Circuit", "width", self.width, 2, 32)
        check_int("Circuit", "hbl", self.hbl, 0, w)
        check_int("Circuit", "vbl", self.vbl, 0, 2 * w - 1)
        check_int("Circuit", "t", self.t, 0, w)
        check_bool("Circuit", "signed", self.signed)
        if self.signed and self.kind != "exact":
            raise ValueError(f"Circuit.signed must be False for a {self.kind} circuit "
                             f"(unsigned only), not True")
        for knob, kinds in (("hbl", ("broken-array",)), ("vbl", ("broken-array",)),
                            ("t", ("truncated",))):
            if getattr(self, knob) and self.kind not in kinds:
                raise ValueError(f"Circuit.{knob} must be 0 for a {self.kind} circuit, not "
                                 f"{getattr(self, knob)}")

    @property
    def name(self) -> str:
        """The module name: ``mul<N><u|s>_exact``, ``mul<N>u_bam_h<hbl>_v<vbl>``,
        ``mul<N>u_trunc<t>``."""
        base = f"mul{self.width}{'s' if self.signed else 'u'}"
        if self.kind == "exact":
            return f"{base}_exact"
        if self.kind == "broken-array":
            return f"{base}_bam_h{self.hbl}_v{self.vbl}"
        return f"{base}_trunc{self.t}"

    def kept(self) -> list[tuple[int, int]]:
        """The partial-product bits ``(i, j)`` (``a_i b_j``) the circuit sums."""
        n = self.width
        if self.kind == "broken-array":
            return [(i, j) for j in range(self.hbl, n) for i in range(n) if i + j >= self.vbl]
        if self.kind == "truncated":
            return [(i, j) for j in range(n) for i in range(n) if i + j >= self.t]
        return [(i, j) for j in range(n) for i in range(n)]

    @property
    def correction(self) -> int:
        """The constant added (truncated: module docstring; else 0)."""
        if self.kind != "truncated" or self.t == 0:
            return 0
        n, t = self.width, self.t
        # expected dropped sum, in quarters: sum_c n_c 2**c; rounded to a multiple of 2**t
        quarters = sum(min(c + 1, n, 2 * n - 1 - c) << c for c in range(t))
        unit = 4 << t
        return ((quarters + unit // 2) // unit) << t

    def verilog(self) -> str:
        """The module's Verilog text (Verilog-2005, one module, ports ``A``, ``B``, ``O``)."""
        n, o = self.width, 2 * self.width
        head = [f"// {self.name}: {self.describe()}", "// written by hwsim.circuits",
                f"module {self.name} (A, B, O);"]
        if self.kind == "exact":
            s = "signed " if self.signed else ""
            return "\n".join(head + [f"  input {s}[{n - 1}:0] A;", f"  input {s}[{n - 1}:0] B;",
                                     f"  output {s}[{o - 1}:0] O;", "  assign O = A * B;",
                                     "endmodule", ""])
        body = [f"  input [{n - 1}:0] A;", f"  input [{n - 1}:0] B;", f"  output [{o - 1}:0] O;"]
        rows = []
        for j in range(n):
            cols = [i for i, jj in self.kept() if jj == j]
            if not cols:
                continue
            mask = sum(1 << i for i in cols)
            body.append(f"  wire [{o - 1}:0] r{j} = {{{{{n}{{1'b0}}}}, A & {n}'d{mask} & "
                        f"{{{n}{{B[{j}]}}}}}} << {j};")
            rows.append(f"r{j}")
        terms = rows + ([f"{o}'d{self.correction}"] if self.correction else [])
        zero = f"{o}'d0"
        body.append(f"  assign O = {' + '.join(terms or [zero])};")
        return "\n".join(head + body + ["endmodule", ""])

    def describe(self) -> str:
        if self.kind == "exact":
            return f"exact {'signed' if self.signed else 'unsigned'} {self.width}x{self.width}"
        if self.kind == "broken-array":
            return (f"broken-array {self.width}x{self.width}, rows j < {self.hbl} and columns "
                    f"i + j < {self.vbl} left out")
        return (f"truncated {self.width}x{self.width}, columns i + j < {self.t} left out, "
                f"{self.correction} added")


def reference(circuit: Circuit, a, b) -> np.ndarray:
    """What ``circuit.verilog()`` computes, in numpy (uint64; int64 for the signed exact):
    the kept partial-product bits summed, plus the correction, modulo ``2**(2 width)``."""
    a, b = np.asarray(a, dtype=np.int64), np.asarray(b, dtype=np.int64)
    if circuit.kind == "exact":
        return a * b if circuit.signed else a.astype(np.uint64) * b.astype(np.uint64)
    a, b = a.astype(np.uint64), b.astype(np.uint64)
    out = np.zeros(np.broadcast_shapes(a.shape, b.shape), dtype=np.uint64)
    for i, j in circuit.kept():
        out += (((a >> np.uint64(i)) & (b >> np.uint64(j))) & np.uint64(1)) << np.uint64(i + j)
    out += np.uint64(circuit.correction)
    if 2 * circuit.width < 64:
        out &= np.uint64((1 << (2 * circuit.width)) - 1)
    return out


def main(argv=None) -> int:
    """``python -m hwsim.circuits KIND --width N [--hbl H --vbl V | --t T | --signed] -o FILE``."""
    import argparse
    import sys

    from hwsim.paths import check_output_file, replace_text
    class Parser(argparse.ArgumentParser):  # one line, exit 2 (argparse adds its usage)
        def error(self, message):
            print(f"{self.prog}: error: {message}", file=sys.stderr)
            raise SystemExit(2)

    p = Parser(prog="python -m hwsim.circuits",
               description="Write a reference multiplier circuit as Verilog.")
    p.add_argument("kind", choices=KINDS)
    p.add_argument("--width", type=int, default=8, help="operand width (default 8)")
    p.add_argument("--hbl", type=int, default=0, help="broken-array: rows of B left out")
    p.add_argument("--vbl", type=int, default=0, help="broken-array: columns left out")
    p.add_argument("--t", type=int, default=0, help="truncated: columns left out")
    p.add_argument("--signed", action="store_true", help="exact: two's complement")
    p.add_argument("-o", "--output", required=True, metavar="FILE",
                   help="the .v file to write (an existing file is not replaced)")
    args = p.parse_args(argv)
    try:
        c = Circuit(args.kind, args.width, args.hbl, args.vbl, args.t, args.signed)
        if not args.output:
            raise ValueError("-o/--output must be a file name, not ''")
        out = check_output_file(args.output, "-o/--output")
        if out.exists() or out.is_symlink():
            raise ValueError(f"-o/--output {str(out)!r} exists; hwsim does not replace it")
        replace_text(out, c.verilog())
    except (TypeError, ValueError) as e:
        print(f"python -m hwsim.circuits: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # the write itself failed (a full disk, a file system that refuses)
        print(f"python -m hwsim.circuits: error: -o/--output {args.output!r} cannot be "
              f"written ({e.strerror or e})", file=sys.stderr)
        return 1
    print(f"wrote {out}: module {c.name} ({c.describe()})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
