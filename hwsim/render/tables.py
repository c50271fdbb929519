"""Markdown tables for the command line, the demo and the reports: one formatter.

Plain functions of data (no models run here); every table hwsim prints goes through
:func:`markdown_table`.
"""

from __future__ import annotations

from typing import Iterable, Sequence

#: the error-metric columns of :func:`format_metrics_table`, in order
METRIC_COLUMNS = ["n", "mae", "wce", "mse", "bias", "ep", "mred", "max_red", "mae_pct", "wce_pct"]


def markdown_table(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A GitHub-flavoured Markdown table; cells are ``str()``-ed as given."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def format_metrics_table(rows: list[tuple[str, dict]]) -> str:
    """``(name, ErrorMetrics.to_dict())`` rows: n as an integer, the rest to 6 digits."""
    return markdown_table(["config"] + METRIC_COLUMNS,
                          [[name, f"{m['n']}"] + [f"{m[c]:.6g}" for c in METRIC_COLUMNS[1:]]
                           for name, m in rows])


def format_cost_table(results) -> str:
    """``hwsim.eval.synth.SynthResult`` rows: LUT4, CARRY, DFF, generic cells, Fmax."""
    return markdown_table(
        ["module", "LUT4", "CARRY", "DFF", "generic cells", "Fmax [MHz]"],
        [[r.top, r.lut4, r.carry, r.dff, r.generic_cells,
          f"{r.fmax_mhz:.1f}" if r.fmax_mhz is not None else "-"] for r in results])


def first_table(lines: list[str], max_rows: int = 20) -> list[str]:
    """The first Markdown table in ``lines`` (header, rule and up to ``max_rows`` rows), with
    the heading line above it when there is one: a report's headline for the terminal."""
    start = next((i for i, ln in enumerate(lines)
                  if ln.startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|-")),
                 None)
    if start is None:
        return []
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    heading = next((ln for ln in reversed(lines[:start]) if ln.startswith("#")), None)
    body = lines[start:end]
    if len(body) > max_rows + 2:
        body = body[:max_rows + 2] + [f"... {len(body) - max_rows - 2} more rows in the report"]
    return ([heading.lstrip("# ").strip()] if heading else []) + body
