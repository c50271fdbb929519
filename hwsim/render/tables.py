"""Markdown tables for the command line, the demo and the reports: one formatter.

Plain functions of data (no models run here); every table hwsim prints goes through
:func:`markdown_table`.
"""

from __future__ import annotations

from typing import Iterable, Sequence

#: the error-metric columns of :func:`format_metrics_table`, in order
METRIC_COLUMNS = ["n", "mae", "wce", "mse", "bias", "ep", "mred", "max_red", "mae_pct", "wce_pct"]
#: their headers, names and units (``hwsim.metrics``): the ratios shown in %
METRIC_HEADERS = {"n": "inputs", "mae": "MAE", "wce": "WCE", "mse": "MSE", "bias": "bias",
                  "ep": "EP [%]", "mred": "MRED [%]", "max_red": "max RED [%]",
                  "mae_pct": "MAE [% of max]", "wce_pct": "WCE [% of max]"}
#: the metrics :func:`format_metrics_table` shows as percentages (fractions in the JSON)
PERCENT_METRICS = ("ep", "mred", "max_red")
#: what the table's numbers are, for the line above it
METRICS_CAPTION = ("errors against the exact result: MAE, WCE, bias in the output's units, MSE "
                   "in their square; EP (inputs with an error), MRED and max RED (of |exact|) "
                   "in %; MAE and WCE also in % of the largest |exact|")


def markdown_table(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    """A GitHub-flavoured Markdown table; cells are ``str()``-ed as given."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def format_metrics_table(rows: list[tuple[str, dict]]) -> str:
    """``(name, ErrorMetrics.to_dict())`` rows: n as an integer, the rest to 6 digits, the
    ratios (:data:`PERCENT_METRICS`) in %; headers with units (:data:`METRIC_HEADERS`). A
    metric with no value (MRED where every exact result is 0: NaN, or None) is ``-``."""
    def cell(m, c):
        v = m[c]
        if v is None or v != v:
            return "-"
        return f"{100 * v if c in PERCENT_METRICS else v:.6g}"
    return markdown_table(["config"] + [METRIC_HEADERS[c] for c in METRIC_COLUMNS],
                          [[name, f"{m['n']}"] + [cell(m, c) for c in METRIC_COLUMNS[1:]]
                           for name, m in rows])


def format_cost_table(results) -> str:
    """``hwsim.eval.synth.SynthResult`` rows: LUT4, CARRY, DFF, generic cells, Fmax."""
    return markdown_table(
        ["module", "LUT4", "CARRY", "DFF", "generic cells", "Fmax [MHz]"],
        [[r.top, r.lut4, r.carry, r.dff, r.generic_cells,
          f"{r.fmax_mhz:.1f}" if r.fmax_mhz is not None else "-"] for r in results])


def _table_start(lines: list[str]) -> int | None:
    return next((i for i, ln in enumerate(lines)
                 if ln.startswith("|") and i + 1 < len(lines) and lines[i + 1].startswith("|-")),
                None)


def caption(text: str) -> str:
    """A table's caption line in a report: what its numbers are (metric and unit)."""
    return f"*{text}*"


def caption_first_table(lines: list[str], text: str) -> list[str]:
    """``lines`` with :func:`caption` ``text`` (and a blank line) above the first table."""
    start = _table_start(lines)
    if start is None or not text:
        return list(lines)
    return lines[:start] + [caption(text), ""] + lines[start:]


def first_table(lines: list[str], max_rows: int = 20) -> list[str]:
    """The first Markdown table in ``lines`` (header, rule and up to ``max_rows`` rows), with
    the heading line above it when there is one and its caption (:func:`caption`) when it has
    one: a report's headline for the terminal."""
    start = _table_start(lines)
    if start is None:
        return []
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    heading = next((ln for ln in reversed(lines[:start]) if ln.startswith("#")), None)
    body = lines[start:end]
    if len(body) > max_rows + 2:
        body = body[:max_rows + 2] + [f"... {len(body) - max_rows - 2} more rows in the report"]
    above = [ln for ln in lines[max(0, start - 2):start] if ln.strip()]
    cap = ([above[-1].strip("*")] if above and above[-1].startswith("*")
           and above[-1].endswith("*") and not above[-1].startswith("**") else [])
    return ([heading.lstrip("# ").strip()] if heading else []) + cap + body
