"""`make prove`: the wide formal proofs, timed, and their table in docs/verification.md.

Runs every proof of the registry's ``formal.wide`` lists one after the other (each with its own solver time limit), prints
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

from hwsim.units import REGISTRY, get_unit

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "<!-- proofs:begin -->", "<!-- proofs:end -->"


def _proofs():
    """(unit name, params, property, time limit in s) for every proof of the table: each
    registered unit's ``formal.wide`` list, in registry order."""
    return [(name, params, prop, limit) for name, spec in REGISTRY.items()
            if spec.formal is not None for params, prop, limit in spec.formal.wide()]


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
    from hwsim.render.tables import markdown_table
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
