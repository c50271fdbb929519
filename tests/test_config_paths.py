"""A file a unit reads (a circuit's ``verilog``) named in a TOML file is relative to that
file's directory, as explore's workload paths are, not to the current directory."""

import os

from hwsim.circuits import Circuit
from hwsim.explore.config import parse_config
from hwsim.graph.assign import parse_assignment


def _circuit(d):
    d.mkdir()
    (d / "c.v").write_text(Circuit("truncated", 8, t=6).verilog())
    return d


def test_an_assignment_reads_a_circuit_next_to_it(tmp_path, monkeypatch):
    conf = _circuit(tmp_path / "conf")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # no c.v here
    doc = {"assign": [{"op": "MatMul", "unit": "circuit-mul", "verilog": "c.v", "width": 8}]}
    p = parse_assignment(doc, "--assign conf/a.toml", base=conf).rules[0].params
    q = parse_assignment({"assign": [{**doc["assign"][0], "verilog": str(conf / "c.v")}]}).rules[0].params
    assert os.path.samefile(p.verilog, conf / "c.v") and p.sha256 == q.sha256
    absolute = str(conf / "c.v")  # an absolute path is kept as it is
    r = parse_assignment({"assign": [{**doc["assign"][0], "verilog": absolute}]},
                         base=tmp_path / "elsewhere").rules[0].params
    assert r.verilog == absolute


def test_an_explore_group_reads_a_circuit_next_to_its_configuration(tmp_path, monkeypatch):
    conf = _circuit(tmp_path / "conf")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    doc = {"workload": {"builtin": "digits"},
           "group": [{"name": "all", "op": "MatMul", "instances": 1,
                      "choice": [{"unit": "circuit-mul", "verilog": "c.v", "width": 8}]}],
           "constraint": {"metric": "accuracy", "max_drop": 1.0}}
    cfg = parse_config(doc, str(conf / "e.toml"))
    (choice,) = cfg.groups[0].choices
    assert os.path.samefile(dict(choice.fields)["verilog"], conf / "c.v")
