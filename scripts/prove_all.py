"""`make prove`: the wide formal proofs, timed, and their table in docs/verification.md.

Runs every proof in PROOFS one after the other (each with its own solver time limit), prints
one line per proof and rewrites the table between the ``<!-- proofs:begin -->`` and
``<!-- proofs:end -->`` markers of docs/verification.md (``--doc FILE`` for another file,
``--doc none`` to leave files alone). ``--only REGEX`` runs the proofs whose label matches
and replaces only their rows.
The unit tests (tests/test_formal.py) prove only widths that finish in seconds; the 24- and
32-bit proofs and the error bounds at growing widths live here.

Exit 0 when every equivalence proof is proved (a bound may end ``unknown`` at a time limit:
that is where multiplication gets hard for SAT, and the table says so), 1 otherwise.
"""

from __future__ import annotations

import argparse
import platform
import re
import sys
import time
from pathlib import Path

from hwsim.mitchell import MitchellDivParams, MitchellMulParams
from hwsim.units import get_unit

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- proofs:begin -->", "<!-- proofs:end -->"


def _proofs():
    """(unit name, params, property, time limit in s) for every proof of the table."""
    out = []
    for signed in (False, True):
        for w in (8, 16, 24, 32):
            out.append(("mitchell-mul", MitchellMulParams(width=w, signed=signed), "equivalence", 900))
        for keep in (0, 3, 8):
            out.append(("mitchell-mul", MitchellMulParams(width=32, signed=signed, keep_bits=keep),
                        "equivalence", 900))
        out.append(("mitchell-mul", MitchellMulParams(width=32, signed=signed, stages=2),
                    "equivalence", 900))
    for w, f in ((8, 8), (16, 8), (16, 16), (24, 12), (32, 0), (32, 16), (32, 32)):
        out.append(("mitchell-div", MitchellDivParams(width=w, frac_bits=f), "equivalence", 900))
    out.append(("mitchell-div", MitchellDivParams(width=32, frac_bits=16, keep_bits=4),
                "equivalence", 900))
    out.append(("mitchell-div", MitchellDivParams(width=32, frac_bits=16, stages=2),
                "equivalence", 900))
    for w in (6, 8, 10, 12, 16):
        out.append(("mitchell-mul", MitchellMulParams(width=w), "bounds", 300))
        out.append(("mitchell-mul", MitchellMulParams(width=w, signed=True), "bounds", 300))
    for w in (6, 8, 10, 12):
        out.append(("mitchell-div", MitchellDivParams(width=w, frac_bits=w), "bounds", 300))
    out.extend(_drum_proofs())
    out.extend(_realm_proofs())
    out.extend(_exp_proofs())
    return out


def _drum_proofs():
    """DRUM: k = 6 at 16 bits, k = 4 and 8 at the widest 24 bits (k = 8: minutes, the
    segment product is a k x k multiplier on both sides of the miter)."""
    from hwsim.drum import DrumMulParams
    return [("drum-mul", DrumMulParams(width=w, k=k), "equivalence", 900)
            for w, k in ((16, 6), (24, 4), (24, 8))]


def _realm_proofs():
    """REALM: the front's configurations at 16 bits, the widest grid and correction at the
    widest 24 bits."""
    from hwsim.realm import RealmMulParams
    return [("realm-mul", RealmMulParams(width=w, keep_bits=t, m=m, q=q), "equivalence", 900)
            for w, t, m, q in ((16, 3, 2, 2), (16, 4, 2, 2), (16, 5, 3, 3), (24, 8, 4, 8))]


def _exp_proofs():
    """Exp units: every method and base at the default formats, every method at its widest
    input, the widest table and output, two-stage pipelines."""
    from hwsim.sim.formal import proved_units
    if "exp" not in proved_units():
        return []
    from hwsim.exp import ExpBase, ExpMethod, ExpParams
    from hwsim.fixed import FixedFormat
    out = []
    for method in ExpMethod:
        for base in ExpBase:
            out.append(("exp", ExpParams(method=method, base=base), "equivalence", 900))
    uq = FixedFormat(12, 12, signed=False)
    for method in ExpMethod:   # the widest input each method takes (24 bits; Taylor 3.21)
        fmt = FixedFormat(3, 21) if method is ExpMethod.TAYLOR else FixedFormat(4, 20)
        out.append(("exp", ExpParams(method=method, in_fmt=fmt, out_fmt=uq), "equivalence", 900))
    out.append(("exp", ExpParams(method=ExpMethod.LUT, lut_bits=12, in_fmt=FixedFormat(8, 16),
                                 out_fmt=FixedFormat(16, 16, signed=False)), "equivalence", 900))
    out.append(("exp", ExpParams(method=ExpMethod.IBERT, in_fmt=FixedFormat(4, 20),
                                 out_fmt=FixedFormat(4, 28, signed=False)), "equivalence", 900))
    for method in (ExpMethod.MITCHELL, ExpMethod.TAYLOR, ExpMethod.IBERT):
        out.append(("exp", ExpParams(method=method, stages=2), "equivalence", 900))
    return out


def label(unit: str, params, prop: str) -> str:
    return f"{unit} {params.top_name}" + ("" if prop == "equivalence" else f" [{prop}]")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="run only the proofs whose label matches this regex")
    ap.add_argument("--doc", default=str(ROOT / "docs" / "verification.md"),
                    help="file whose proofs table is rewritten ('none': none)")
    args = ap.parse_args(argv)
    from hwsim.sim import formal

    rows, failed = [], 0
    proofs = [p for p in _proofs() if not args.only or re.search(args.only, label(p[0], p[1], p[2]))]
    if not proofs:
        print(f"prove_all: no proof label matches {args.only!r}", file=sys.stderr)
        return 2
    for unit, params, prop, limit in proofs:
        r = formal.prove(get_unit(unit), params, timeout_s=limit, property=prop)
        print(formal.format_result(r), flush=True)
        if not r.proved and (prop == "equivalence" or r.status == "counterexample"):
            failed += 1
        rows.append((unit, params, prop, r, limit))
    if args.doc != "none":
        _write_table(Path(args.doc), rows)
    return 1 if failed else 0


def _existing_rows(text: str) -> dict:
    """Rows of the current table, keyed by (unit, configuration, property) cells."""
    if BEGIN not in text or END not in text:
        return {}
    block = text[text.index(BEGIN):text.index(END)]
    rows = {}
    for line in block.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] not in ("unit", "---"):
            rows[tuple(cells[:3])] = cells
    return rows


def _write_table(path: Path, rows):
    """Rewrite the table: the proofs just run replace their rows, the others stay (so
    ``--only`` refreshes part of the table); rows follow the order of PROOFS."""
    from hwsim.tables import markdown_table
    import z3
    text = path.read_text()
    table = _existing_rows(text)
    for unit, params, prop, r, limit in rows:
        table[(unit, f"`{params.top_name}`", prop)] = [
            unit, f"`{params.top_name}`", prop,
            r.status if r.status != "unknown" else f"unknown at the {limit} s limit",
            f"{r.seconds:.1f}", r.size]
    order = {(u, f"`{p.top_name}`", prop): i for i, (u, p, prop, _) in enumerate(_proofs())}
    body = markdown_table(["unit", "configuration", "property", "result", "seconds", "problem"],
                          sorted(table.values(), key=lambda c: order.get(tuple(c[:3]), 1 << 30)))
    stamp = (f"Written by `make prove` (scripts/prove_all.py), last on {time.strftime('%Y-%m-%d')}: "
             f"z3 {z3.get_version_string()}, yosys `write_smt2`, Python "
             f"{platform.python_version()}, one proof at a time on this machine's 2 cores.")
    block = f"{BEGIN}\n{stamp}\n\n{body}\n{END}"
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + r".*?" + re.escape(END), lambda m: block, text,
                      flags=re.S)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
