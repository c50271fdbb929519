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


# -- the other commands' headlines: explore, run, synth, front ------------------------------------

def _explore_result(metric_key="accuracy", objective="area", metric=0.9194):
    design = {"hidden": "exact4", "output": "exact5"}
    entry = {"cost": 1772.0, "metric": metric, "feasible": True, "design": design,
             "area": 1772, "lut_ops": 93_440.0, "fmax_mhz": None}
    uni = {**entry, "label": "mitchell7 keep_bits=4", "cost": 5334.0, "metric": 0.921914}
    return {"evaluations": 231, "computed": 231, "constraint": "accuracy >= float - 0.5 points",
            "floor": 0.916914, "float_value": 0.921914, "metric_key": metric_key,
            "objective": objective, "budget": 30, "seeds": [0],
            "workload": {"model": "m.onnx", "data": "d.npz"},
            "best": entry, "uniform_best": uni, "uniform": [uni], "front": [entry],
            "groups": [{"name": "hidden", "nodes": ["MatMul"], "ops_per_row": 2048.0,
                        "instances": 32,
                        "choices": [{"unit": "exact4", "priced": True, "top": "t", "lut4": 36,
                                     "dff": 0, "fmax_mhz": None},
                                    {"unit": "exact5", "priced": False, "top": None,
                                     "lut4": None, "dff": None, "fmax_mhz": None}]}],
            "comparison": {"random": {"runs": 1, "feasible_runs": 1, "mean_best_cost": 1772.0,
                                      "min_best_cost": 1772.0, "max_best_cost": 1772.0,
                                      "std_best_cost": 0.0, "mean_evaluations": 30.0}}}


def test_explore_headline_gives_costs_their_unit_and_accuracy_in_percent():
    from hwsim.explore.run import format_summary
    out = format_summary(_explore_result()).splitlines()
    assert out[0].endswith("floor: accuracy >= float - 0.5 points = 91.691 %")
    assert out[1] == "best: area 1772 LUT4, accuracy 91.940 %: hidden: exact4, output: exact5"
    assert out[2].startswith("cheapest uniform meeting the floor: mitchell7 keep_bits=4, area "
                             "5334 LUT4, accuracy 92.191 %; best / uniform = 0.332")
    assert out[3].startswith("  random    best area [LUT4] over 1 seed(s): mean 1772,")
    lut_ops = format_summary(_explore_result("out.cosine", "lut-ops", 0.9987654)).splitlines()
    assert "best: lut-ops 1772 LUT4 x ops/row, out.cosine 0.998765: " in lut_ops[1]
    assert "floor: accuracy >= float - 0.5 points = 0.916914" in lut_ops[0]
    # an undefined metric (a Spearman of equal rows) is never printed as a number
    nan = format_summary(_explore_result("out.spearman", metric=float("nan")))
    assert "out.spearman undefined:" in nan and "nan" not in nan.lower()


def test_explore_report_tables_name_metric_and_unit():
    from hwsim.explore.run import format_report

    class Cfg:
        source = "e.toml"
    lines = format_report(_explore_result(), Cfg()).splitlines()
    assert "| unit | area [LUT4] | accuracy [%] | feasible |" in lines
    assert "| mitchell7 keep_bits=4 | 5334 | 92.191 | True |" in lines
    assert any(ln.startswith("| area [LUT4] | accuracy [%] | Fmax MHz | hidden |")
               for ln in lines)
    assert any(ln.startswith("| method | runs | feasible | mean best area [LUT4] |")
               for ln in lines)
    # a unit no search needed: not priced, a dash, never "None"
    assert "|  | | |  | exact5 | - | - | - |" in lines and "None" not in "\n".join(lines)


def test_run_headline_names_accuracy_in_percent_and_its_metrics():
    from hwsim.graph.evaluate import format_summary
    r = {"model": "m.onnx", "assigned": {"MatMul": {}}, "rows": 397, "float_path_error": 1e-7,
         "accuracy": 0.9194, "float_accuracy": 0.9219,
         "outputs": {"probabilities": {"cosine": 0.999, "max_abs_error": 0.01,
                                       "argmax_agreement": 0.98}}}
    out = format_summary(r).splitlines()
    assert out[1] == "accuracy 91.94 % (float 92.19 %)"
    assert out[2] == "| output | cosine | max abs error | argmax agreement | spearman (pairs) |"


def test_synth_and_front_tables_name_their_units():
    from hwsim.eval.synth import SynthResult
    from hwsim.render.tables import format_cost_table
    from hwsim.reports.cost import front_table
    r = SynthResult(top="m", target="ice40", seconds=1.0, yosys="y", nextpnr=None, lut4=36,
                    carry=0, dff=0, ram=0, generic_cells=1, fmax_mhz=None)
    assert format_cost_table([r]).splitlines()[0] == (
        "| module | LUT4 | CARRY | DFF | generic cells | Fmax [MHz] |")
    head, _, row = front_table([{"unit": "exact-mul", "params": {"width": 8}, "lut4": 90,
                                 "fmax_mhz": None, "mred": 0.0123}])
    assert "| LUT4 | Fmax [MHz] | MRED |" in head and row.endswith("| 90 | - | 1.23 % | yes |")
