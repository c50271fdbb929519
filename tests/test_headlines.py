"""Headlines say what their numbers are: every study names the metric and unit of its
headline (the registry's ``headline``), ``hwsim study`` prints it above the first table and
the report captions that table with it; the other commands' headline tables name theirs."""

import re

import pytest

from hwsim.cli import main
from hwsim.render.tables import caption_first_table, first_table
from hwsim.studies import STUDIES, get_study
from rtl import require_module

#: a metric name with a unit, or a dimensionless metric named as such
NAMED = re.compile(r"\[%\]|fraction|cosine|Spearman|LUT4|MRED|percentage points")


@pytest.mark.parametrize("name", list(STUDIES))
def test_every_study_names_its_headline_metric_and_unit(name):
    headline = STUDIES[name].headline
    assert headline.strip() and NAMED.search(headline), (name, headline)
    assert "*" not in headline and not headline.startswith("|")  # a one-line Markdown caption
    assert "\n" not in headline


def test_the_caption_goes_above_the_first_table_and_into_the_terminal_headline():
    lines = ["## s: a study", "", "Some text.", "", "| a | b |", "|---|---|", "| 1 | 2 |", "",
             "| c |", "|---|", "| 3 |"]
    captioned = caption_first_table(lines, "test accuracy [%], mean ± std over seeds")
    assert captioned[3:7] == ["", "*test accuracy [%], mean ± std over seeds*", "", "| a | b |"]
    assert first_table(captioned) == ["s: a study", "test accuracy [%], mean ± std over seeds",
                                      "| a | b |", "|---|---|", "| 1 | 2 |"]
    assert first_table(lines) == ["s: a study", "| a | b |", "|---|---|", "| 1 | 2 |"]
    assert caption_first_table(["no table"], "x") == ["no table"]
    # a bold paragraph right above a table is not a caption
    assert first_table(["**Bold.**", "| a |", "|---|"]) == ["| a |", "|---|"]


def test_hwsim_study_prints_and_writes_its_headline(tmp_path, capsys):
    require_module("sklearn", "ml")
    study = get_study("digits-mlp")
    assert main(["study", "digits-mlp", "--quick", "-o", str(tmp_path), "--jobs", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    i = out.index(study.headline)
    assert out[i - 1] == "digits-mlp: a digits MLP through hwsim multipliers"
    assert out[i + 1].startswith("| multiplier | 4 bits |")
    report = (tmp_path / "report.md").read_text().splitlines()
    j = report.index(f"*{study.headline}*")
    assert report[j + 1] == "" and report[j + 2].startswith("| multiplier |")


def test_characterize_names_its_metrics_and_units(capsys):
    assert main(["characterize", "mitchell-mul", "--width", "6"]) == 0
    out = capsys.readouterr().out.splitlines()
    header = next(ln for ln in out if ln.startswith("| config |"))
    for name in ("MAE", "WCE", "EP [%]", "MRED [%]", "max RED [%]"):
        assert f"| {name} |" in header, header
    row = out[out.index(header) + 2].split(" | ")
    assert float(row[header.split(" | ").index("max RED [%]")]) == pytest.approx(100 / 9)
