#!/usr/bin/env python3
"""Keep the parts of docs/*.md that restate the code generated from it, and the command
transcripts in docs/ rerun against the commands.

Generated blocks are written between two markers and rewritten whole::

    <!-- generated: KIND [ARGUMENT] -->
    ...
    <!-- end generated -->

KIND is one of:

* ``units``: every unit of ``hwsim.units.REGISTRY`` with its summary and Params fields;
* ``studies``: every study of ``hwsim.studies.STUDIES`` with its summary and write-up;
* ``cli-commands``: the ``hwsim`` subcommands and their help (``hwsim.cli.build_parser()``);
* ``cli-options COMMAND``: one subcommand's synopsis and options (flags, default, help);
* ``cli-files``: what each subcommand reads and writes (its ``files(args)`` declaration, which
  ``hwsim.cli.main`` checks before the command runs);
* ``layers``: the import-linter contracts of ``pyproject.toml`` (layers, forbidden imports);
* ``enum MODULE.CLASS``: an enum's members, values and member docstrings or comments;
* ``cost-table FILE.json``: the cost table ``scripts/cost_table.py`` measured (its JSON
  beside the document), rendered by that script.

Transcripts are ``console`` blocks between ``<!-- transcript -->`` (or
``<!-- transcript slow -->`` for commands that take more than ~20 s, ``<!-- transcript
manual -->`` for minutes-long ones the tests never run: ``--manual`` reruns them) and
``<!-- end transcript -->``. Each ``$ COMMAND`` line runs in a scratch directory with the
repository's ``examples/`` and ``scripts/`` linked in; the transcripts of one document share
that directory and run in order, so a later one can use a file an earlier one wrote. The lines
after a command are its expected standard output (none: the output is not compared, the
command must still succeed).

Usage::

    python scripts/gen_docs.py                      # rewrite the generated blocks
    python scripts/gen_docs.py --check              # exit 1 naming each stale block
    python scripts/gen_docs.py --transcripts        # also rerun the fast transcripts, rewrite
    python scripts/gen_docs.py --check --transcripts --slow   # check every transcript
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import enum
import importlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import tokenize
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
SCRATCH_LINKS = ("examples", "scripts")  # linked into a transcript's scratch directory

GENERATED = re.compile(r"^<!-- generated: (?P<spec>[^>\n]*?) -->\n(?P<body>.*?)"
                       r"^<!-- end generated -->$", re.M | re.S)
TRANSCRIPT = re.compile(r"^<!-- transcript(?P<opts>[^>\n]*?) -->\n(?P<body>.*?)"
                        r"^<!-- end transcript -->$", re.M | re.S)
NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


# ---------------------------------------------------------------------------------------------
# small helpers

def _cell(text) -> str:
    """Text for one Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|").replace("<", "\\<")


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return out


def _value_text(v) -> str:
    if isinstance(v, enum.Enum):
        return str(v.value)
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "none"
    return str(v)


def _first_sentence(doc: str | None) -> str:
    """The first sentence of a docstring's first paragraph, whitespace-folded."""
    if not doc:
        return ""
    para = " ".join(doc.strip().split("\n\n")[0].split())
    depth, end = 0, len(para)
    for i, ch in enumerate(para):
        depth += (ch == "(") - (ch == ")")
        if depth == 0 and ch in ".:" and (i + 1 == len(para) or para[i + 1] == " "):
            end = i
            break
    return para[:end].replace("``", "`").replace(":mod:", "").replace(":func:", "")


def _module_doc(module: str) -> str:
    """First sentence of a module's docstring, read from its source (nothing imported)."""
    rel = Path(*module.split("."))
    for path in (ROOT / rel.with_suffix(".py"), ROOT / rel / "__init__.py"):
        if path.exists():
            return _first_sentence(ast.get_docstring(ast.parse(path.read_text())))
    return ""


# ---------------------------------------------------------------------------------------------
# generators: each returns the block's lines

def gen_units(arg: str, doc: Path, docs_dir: Path) -> list[str]:
    from hwsim.units import REGISTRY
    rows = []
    for spec in REGISTRY.values():
        params = []
        for f in dataclasses.fields(spec.params_cls):
            if f.default is not dataclasses.MISSING:
                params.append(f"`{f.name}` {_value_text(f.default)}")
            elif f.default_factory is not dataclasses.MISSING:
                params.append(f"`{f.name}` {_value_text(f.default_factory())}")
            else:
                params.append(f"`{f.name}` (required)")
        rows.append([f"`{spec.name}`", spec.summary, ", ".join(params)])
    return _table(["unit", "what", "parameters (defaults)"], rows)


def gen_roles(arg: str, doc: Path, docs_dir: Path) -> list[str]:
    """What each unit is to the layers above it (its registry traits)."""
    from hwsim.units import REGISTRY
    rows = []
    for spec in REGISTRY.values():
        g = spec.graph
        if g is None:
            graph = "-"
        else:
            graph = "/".join(g.ops)
            if getattr(g, "sign_magnitude", False):
                graph += " (sign-magnitude)"
        unpriced = getattr(g, "unpriced", None)
        explore = "-" if g is None else ("no: " + unpriced if unpriced else "yes")
        front = "-" if spec.front is None else spec.front.family
        f = spec.formal
        if f is None:
            formal = "- (simulation)"
        elif f.subblocks:
            formal = "equivalence, by sub-block"
        else:
            formal = ", ".join(f.properties)
        rows.append([f"`{spec.name}`", graph, explore, front, formal])
    return _table(["unit", "runs in a model (ONNX ops)", "explore prices it", "front family",
                   "`hwsim prove`"], rows)


#: write-ups of studies that have no docs/studies/<name>.md
STUDY_WRITEUPS = {
    "unit-error": "(used by sweeps)",
    "onnx": "[onnx.md](onnx.md#sweeps-over-a-model-study--onnx)",
    "onnx-design": "(the designs `hwsim explore` evaluates: [explore.md](explore.md))",
}


def gen_studies(arg: str, doc: Path, docs_dir: Path) -> list[str]:
    from hwsim.studies import STUDIES
    rows = []
    for study in STUDIES.values():
        page = docs_dir / "studies" / f"{study.name}.md"
        if study.name in STUDY_WRITEUPS:
            writeup = STUDY_WRITEUPS[study.name]
        elif page.exists():
            rel = os.path.relpath(page, doc.parent)
            writeup = f"[{rel}]({rel})"
        else:
            writeup = "-"
        rows.append([f"`{study.name}`", study.summary, study.headline, writeup])
    return _table(["study", "what", "its numbers", "write-up"], rows)


def _subparsers(parser: argparse.ArgumentParser):
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def _parser():
    from hwsim.cli import build_parser
    return build_parser()


def gen_cli_commands(arg: str, doc: Path, docs_dir: Path) -> list[str]:
    sub = _subparsers(_parser())
    rows = [[f"[`hwsim {a.dest}`](#hwsim-{a.dest})", a.help or ""] for a in sub._choices_actions]
    return _table(["command", "what"], rows)


def gen_cli_files(arg: str, doc: Path, docs_dir: Path) -> list[str]:
    def declaration(parser):  # a command's own, or its first sub-command's (one per study)
        if parser.get_default("files") is not None:
            return parser.get_default("files")
        sub = _subparsers(parser)
        return declaration(next(iter(sub.choices.values()))) if sub else None
    sub = _subparsers(_parser())
    rows = [[f"`hwsim {name}`", " ".join((declaration(p).__doc__ or "").split())]
            for name, p in sub.choices.items()]
    return _table(["command", "reads; writes"], rows)


def _metavar(action) -> str:
    if action.metavar is not None:
        return action.metavar
    if action.choices is not None:
        return "|".join(str(c) for c in action.choices)
    return action.dest.upper()


def _flags(action) -> str:
    if not action.option_strings:
        return f"`{_metavar(action)}`"
    if isinstance(action, argparse.BooleanOptionalAction):
        return ", ".join(f"`{o}`" for o in action.option_strings)
    takes = action.nargs != 0
    opts = [f"`{o}`" for o in action.option_strings]
    if takes:
        opts[-1] = f"`{action.option_strings[-1]} {_metavar(action)}`"
    return ", ".join(opts)


def _default(action) -> str:
    d = action.default
    if d is None or d is argparse.SUPPRESS:
        return ""
    if isinstance(action, (argparse._StoreTrueAction, argparse.BooleanOptionalAction)):
        return "on" if d else "off"
    return f"`{_value_text(d)}`"


def _synopsis_part(action) -> str:
    if not action.option_strings:
        return _metavar(action)
    if isinstance(action, argparse.BooleanOptionalAction):
        text = "/".join(action.option_strings)
    elif action.nargs == 0:
        text = action.option_strings[0]
    else:
        text = f"{action.option_strings[0]} {_metavar(action)}"
    return text if action.required else f"[{text}]"


def _options(parser) -> list:
    return [a for a in parser._actions
            if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))
            and a.help is not argparse.SUPPRESS and not a.dest.startswith("param_")]


def gen_cli_options(arg: str, doc: Path, docs_dir: Path) -> list[str]:
    """``hwsim COMMAND``'s synopsis and option table. For a command with one sub-parser per
    unit or study, the options those share (unit parameters left out: ``hwsim units``)."""
    if not arg:
        raise ValueError("cli-options needs a command name")
    sub = _subparsers(_parser())
    if arg not in sub.choices:
        raise ValueError(f"hwsim has no command {arg!r} (commands: {', '.join(sub.choices)})")
    cmd = sub.choices[arg]
    own = _options(cmd)
    inner = _subparsers(cmd)
    shared: list = []
    only: dict[str, list[str]] = {}
    lead = []
    first = None
    if inner is not None:
        kind = inner.metavar or inner.dest.upper()
        children = inner.choices
        first = next(iter(children))
        seen: dict[tuple, object] = {}
        where: dict[tuple, list[str]] = {}
        for name, child in children.items():
            for a in _options(child):
                key = tuple(a.option_strings) or (a.dest,)
                seen.setdefault(key, a)
                where.setdefault(key, []).append(name)
        for key, a in seen.items():
            shared.append(a)
            if len(where[key]) < len(children):
                only[a.dest] = where[key]
        unit_params = any(a.dest.startswith("param_") for child in children.values()
                          for a in child._actions)
        head = " ".join([f"{kind} [unit parameters]" if unit_params else kind]
                        + [_synopsis_part(a) for a in shared])
        lead = [head if inner.required else f"[{head}]"]
    parts = [_synopsis_part(a) for a in own if not a.option_strings]
    parts += [_synopsis_part(a) for a in own if a.option_strings] + lead
    lines = [f"`hwsim {arg} {' '.join(parts)}`".replace(" `", "`").replace("  ", " "), ""]
    rows = []
    for a in own + shared:
        text = (a.help or "").replace("%%", "%")
        if first is not None and a in shared:  # per-unit / per-study help: name the kind
            text = text.replace(first, kind)
        if a.dest in only:
            text += f" (only {', '.join(only[a.dest])})"
        rows.append([_flags(a), _default(a), text])
    if not rows:
        return lines[:1]
    return lines + _table(["option", "default", "meaning"], rows)


def gen_layers(arg: str, doc: Path, docs_dir: Path) -> list[str]:
    """The import-linter contracts of pyproject.toml as a table and a list."""
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    lines: list[str] = []
    for contract in cfg.get("contracts", []):
        if contract["type"] == "layers":
            containers = contract.get("containers", [])
            prefix = containers[0] + "." if len(containers) == 1 else ""
            lines += [f"Contract \"{contract['name']}\" (layers, top first):", ""]
            rows = []
            for i, layer in enumerate(contract["layers"], 1):
                sep = "|" if "|" in layer else ":"
                mods = [m.strip() for m in layer.split(sep)]
                for j, mod in enumerate(mods):
                    note = ""
                    if len(mods) > 1:
                        note = ("independent of its layer's other modules" if sep == "|"
                                else "may import its layer's other modules")
                    rows.append([str(i) if j == 0 else "", f"`{prefix}{mod}`",
                                 _module_doc(prefix + mod), note])
            lines += _table(["layer", "module", "what", "within the layer"], rows)
            extra = []
            if contract.get("exhaustive"):
                ignored = ", ".join(f"`{prefix}{m}`" for m in contract.get("exhaustive_ignores", []))
                extra.append("Exhaustive: every module of the container must be in a layer"
                             + (f" (not checked for {ignored})." if ignored else "."))
            lines += [""] + extra if extra else []
            lines.append("")
        elif contract["type"] == "forbidden":
            src = ", ".join(f"`{m}`" for m in contract["source_modules"])
            bad = ", ".join(f"`{m}`" for m in contract["forbidden_modules"])
            lines += [f"Contract \"{contract['name']}\" (forbidden): {src} never import {bad}.",
                      ""]
        else:
            lines += [f"Contract \"{contract['name']}\" ({contract['type']}): see "
                      f"`pyproject.toml`.", ""]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _member_docs(cls) -> dict[str, str]:
    """Member name -> its attribute docstring (the string after it), else its trailing or
    preceding comment, read from the class's source."""
    module = sys.modules[cls.__module__]
    source = Path(module.__file__).read_text()
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    tree = ast.parse(source)
    node = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == cls.__name__)
    docs: dict[str, str] = {}
    body = node.body
    for i, stmt in enumerate(body):
        if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)):
            continue
        name = stmt.targets[0].id
        nxt = body[i + 1] if i + 1 < len(body) else None
        if (isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str)):
            docs[name] = " ".join(nxt.value.value.split())
        elif stmt.lineno in comments:
            docs[name] = comments[stmt.lineno]
        else:
            above, line = [], stmt.lineno - 1
            while line in comments:
                above.insert(0, comments[line])
                line -= 1
            if above:
                docs[name] = " ".join(above)
    return docs


def gen_enum(arg: str, doc: Path, docs_dir: Path) -> list[str]:
    module, _, name = arg.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    if not (isinstance(cls, type) and issubclass(cls, enum.Enum)):
        raise ValueError(f"{arg} is not an enum")
    docs = _member_docs(cls)
    head = f"`{name}` (`{module}`)"
    what = _first_sentence(cls.__doc__) if cls.__doc__ != enum.Enum.__doc__ else ""
    lines = [f"{head}: {what}." if what else f"{head}:", ""]
    rows = [[f"`{m.name}`", f"`{m.value}`", docs.get(m.name, "").replace("``", "`")]
            for m in cls]
    return lines + _table(["member", "value", "meaning"], rows)


def gen_cost_table(arg: str, doc: Path, docs_dir: Path) -> list[str]:
    """The Must-show cost table from the JSON ``scripts/cost_table.py`` wrote (``arg``,
    beside the document): rendered by that script's ``render``, so the numbers are the
    measured ones and the sentence about them follows them."""
    import importlib.util
    import json
    if not arg:
        raise ValueError("cost-table needs the JSON file's name (beside the document)")
    spec = importlib.util.spec_from_file_location("cost_table",
                                                  Path(__file__).resolve().parent / "cost_table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.render(json.loads((doc.parent / arg).read_text()))


GENERATORS = {
    "cost-table": gen_cost_table,
    "units": gen_units,
    "roles": gen_roles,
    "studies": gen_studies,
    "cli-commands": gen_cli_commands,
    "cli-options": gen_cli_options,
    "cli-files": gen_cli_files,
    "layers": gen_layers,
    "enum": gen_enum,
}


def public_enums() -> list[str]:
    """``module.Class`` of every enum defined in a top-level ``hwsim/*.py`` module."""
    out = []
    for path in sorted((ROOT / "hwsim").glob("*.py")):
        if path.name.startswith("_"):
            continue
        for node in ast.parse(path.read_text()).body:
            if (isinstance(node, ast.ClassDef) and not node.name.startswith("_")
                    and any("Enum" in ast.unparse(b) for b in node.bases)):
                out.append(f"hwsim.{path.stem}.{node.name}")
    return out


# ---------------------------------------------------------------------------------------------
# generated blocks

def _docs(docs_dir: Path) -> list[Path]:
    return sorted(docs_dir.rglob("*.md"))


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def _summary(old: list[str], new: list[str]) -> str:
    gone = [x for x in old if x not in new]
    came = [x for x in new if x not in old]
    first = ""
    if gone or came:
        a = gone[0] if gone else "(nothing)"
        b = came[0] if came else "(nothing)"
        first = f"; first: {a[:70]!r} -> {b[:70]!r}"
    return f"+{len(came)} -{len(gone)} lines{first}"


def update_generated(docs_dir: Path, write: bool) -> list[str]:
    """Regenerate every generated block; returns one line per stale block (and per public
    enum documented nowhere). With ``write`` the stale blocks are rewritten."""
    problems: list[str] = []
    documented: set[str] = set()
    for path in _docs(docs_dir):
        text = path.read_text()
        out, pos, changed = [], 0, False
        for m in GENERATED.finditer(text):
            kind, _, arg = m.group("spec").strip().partition(" ")
            where = f"{path.relative_to(docs_dir.parent)}:{_line_of(text, m.start())}"
            if kind not in GENERATORS:
                problems.append(f"{where}: unknown generated block {kind!r} "
                                f"(kinds: {', '.join(GENERATORS)})")
                continue
            if kind == "enum":
                documented.add(arg.strip())
            try:
                new = GENERATORS[kind](arg.strip(), path, docs_dir)
            except Exception as e:  # a block naming something that is gone is stale too
                problems.append(f"{where}: generated block '{m.group('spec').strip()}' "
                                f"cannot be generated: {type(e).__name__}: {e}")
                continue
            body = "\n".join(new) + "\n"
            if body != m.group("body"):
                problems.append(f"{where}: generated block '{m.group('spec').strip()}' is "
                                f"stale ({_summary(m.group('body').splitlines(), new)})")
                out += [text[pos:m.start("body")], body]
                pos = m.end("body")
                changed = True
        if changed and write:
            path.write_text("".join(out) + text[pos:])
    for name in public_enums():
        if name not in documented:
            problems.append(f"docs: enum {name} has no '<!-- generated: enum {name} -->' block")
    return problems


# ---------------------------------------------------------------------------------------------
# transcripts

@dataclasses.dataclass
class Command:
    line: str  # the command as written after "$ "
    expected: list[str]


def parse_transcript(body: str) -> tuple[str, list[Command], str]:
    """(text before the first command, commands, text after the fence) of a console block."""
    m = re.search(r"^```console\n(.*?)^```\s*$", body, re.M | re.S)
    if not m:
        raise ValueError("a transcript holds one ```console block")
    commands: list[Command] = []
    pending = None
    for line in m.group(1).splitlines():
        if pending is not None:
            pending.line += "\n" + line
            if not line.endswith("\\"):
                pending = None
            continue
        if line.startswith("$ "):
            commands.append(Command(line[2:], []))
            if line.endswith("\\"):
                pending = commands[-1]
        elif commands:
            commands[-1].expected.append(line)
        elif line.strip():
            raise ValueError(f"output before the first command: {line!r}")
    return body[:m.start(1)], commands, body[m.end(1):]


def render_transcript(head: str, commands: list[Command], tail: str) -> str:
    lines = []
    for c in commands:
        lines.append("$ " + c.line)
        lines += c.expected
    return head + "\n".join(lines) + "\n" + tail


def _skeleton(line: str) -> str:
    return NUMBER.sub("#", line)


def compare(expected: list[str], actual: list[str]) -> str | None:
    """None when equal, else a one-line summary: the numbers that changed, or the first
    line whose text changed."""
    exp = [x.rstrip() for x in expected]
    act = [x.rstrip() for x in actual]
    while act and not act[-1]:
        act.pop()
    while exp and not exp[-1]:
        exp.pop()
    if exp == act:
        return None
    if len(exp) == len(act) and all(_skeleton(a) == _skeleton(b) for a, b in zip(exp, act)):
        changes = []
        for a, b in zip(exp, act):
            changes += [f"{x} -> {y}" for x, y in zip(NUMBER.findall(a), NUMBER.findall(b))
                        if x != y]
        more = f" (+{len(changes) - 6} more)" if len(changes) > 6 else ""
        return "numbers changed: " + ", ".join(changes[:6]) + more
    for i in range(max(len(exp), len(act))):
        a = exp[i] if i < len(exp) else "(end)"
        b = act[i] if i < len(act) else "(end)"
        if a != b:
            return f"output line {i + 1}: {a[:60]!r} -> {b[:60]!r}"
    return "output differs"


def _scratch(tmp: Path) -> dict[str, str]:
    for name in SCRATCH_LINKS:
        (tmp / name).symlink_to(ROOT / name)
    env = dict(os.environ)
    # the thread pools as the user has them (the test suite limits its workers' pools and
    # keeps the user's values here): some printed float errors depend on the BLAS threads
    user = json.loads(env.pop("HWSIM_USER_THREAD_ENV", "null"))
    for k, v in (user or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("CI", None)
    env["COLUMNS"] = "100"
    return env


def run_transcripts(docs_dir: Path, write: bool, slow: bool, only: str | None = None,
                    log=None, fill: bool = False, manual: bool = False) -> list[str]:
    """Rerun the transcripts (the slow ones only with ``slow``, the manual ones, minutes
    each and never run by the tests, only with ``manual``, which implies ``slow``); returns
    one line per stale command. With ``write`` the expected outputs are replaced by the new
    ones."""
    slow = slow or manual

    def skipped(opts: list) -> bool:
        return ("slow" in opts and not slow) or ("manual" in opts and not manual)

    problems: list[str] = []
    for path in _docs(docs_dir):
        text = path.read_text()
        blocks = list(TRANSCRIPT.finditer(text))
        if only and only not in str(path):
            continue
        if not blocks or all(skipped(b.group("opts").split()) for b in blocks):
            continue
        out, pos, changed = [], 0, False
        with tempfile.TemporaryDirectory(prefix="hwsim-docs-") as tmp:
            env = _scratch(Path(tmp))
            for m in blocks:
                where = f"{path.relative_to(docs_dir.parent)}:{_line_of(text, m.start())}"
                if skipped(m.group("opts").split()):
                    continue
                try:
                    head, commands, tail = parse_transcript(m.group("body"))
                except ValueError as e:
                    problems.append(f"{where}: {e}")
                    continue
                block_changed = False
                for c in commands:
                    t0 = time.monotonic()
                    r = subprocess.run(["bash", "-c", c.line.replace("\\\n", " ")], cwd=tmp,
                                       env=env, capture_output=True, text=True, timeout=3600)
                    if log:
                        log(f"{where}: $ {c.line[:70]} ({time.monotonic() - t0:.1f} s)")
                    if r.returncode != 0:
                        err = (r.stderr.strip().splitlines() or ["(no message)"])[-1]
                        problems.append(f"{where}: `{c.line[:60]}` exited {r.returncode}: "
                                        f"{err[:120]}")
                        continue
                    if not c.expected:
                        if fill and r.stdout.strip():
                            c.expected = [x.rstrip() for x in r.stdout.splitlines()]
                            block_changed = True
                        continue
                    actual = r.stdout.splitlines()
                    diff = compare(c.expected, actual)
                    if diff is not None:
                        problems.append(f"{where}: transcript `{c.line[:60]}` is stale: {diff}")
                        c.expected = [x.rstrip() for x in actual]
                        block_changed = True
                if block_changed:
                    out += [text[pos:m.start("body")], render_transcript(head, commands, tail)]
                    pos = m.end("body")
                    changed = True
        if changed and write:
            path.write_text("".join(out) + text[pos:])
    return problems


# ---------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--check", action="store_true",
                   help="change nothing; exit 1 with one line per stale block")
    p.add_argument("--transcripts", action="store_true",
                   help="also rerun the transcripts (the fast ones; --slow adds the others)")
    p.add_argument("--slow", action="store_true", help="with --transcripts: the slow ones too")
    p.add_argument("--manual", action="store_true",
                   help="with --transcripts: the manual ones too (minutes each; the tests "
                        "never run them), and the slow ones")
    p.add_argument("--only", metavar="TEXT",
                   help="with --transcripts: only documents whose path contains TEXT")
    p.add_argument("--fill", action="store_true",
                   help="with --transcripts: also write the output of commands that have none "
                        "yet (from then on it is compared)")
    p.add_argument("--docs", type=Path, default=DOCS, help="the docs directory (default docs/)")
    args = p.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    problems = update_generated(args.docs, write=not args.check)
    if args.transcripts:
        problems += run_transcripts(args.docs, write=not args.check, slow=args.slow,
                                    only=args.only, fill=args.fill, manual=args.manual,
                                    log=lambda s: print(s, file=sys.stderr, flush=True))
    for line in problems:
        print(line)
    if args.check:
        return 1 if problems else 0
    if problems:
        print(f"updated: {len(problems)} block(s)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
