"""Command-line options of a unit, generated from its Params dataclass.

Every Params field becomes one option (``keep_bits`` -> ``--keep-bits``) with the field's own
default and the help text of its entry in the class docstring's ``Parameters`` section, so
``hwsim verify softmax --help`` shows softmax's options and softmax's defaults. Options are
parsed into the type of the field's default (integer, bool flag, ``FixedFormat``, enum, text); the
Params class then validates the values and its message is the one the user sees.
"""

from __future__ import annotations

import argparse
import dataclasses
import enum
import re

from hwsim.fixed import FixedFormat


def option_name(field: str) -> str:
    return "--" + field.replace("_", "-")


def param_docs(cls) -> dict[str, str]:
    """Field name -> its help text from the numpydoc ``Parameters`` section of ``cls``'s
    docstring (``name:`` or ``a, b:`` lines followed by indented text), whitespace-folded."""
    doc = cls.__doc__ or ""
    m = re.search(r"Parameters\s*\n\s*-+\s*\n(.*)", doc, re.S)
    if not m:
        return {}
    out: dict[str, str] = {}
    names: list[str] = []
    text: list[str] = []

    def flush():
        for n in names:
            out[n] = " ".join(" ".join(text).split())

    for line in m.group(1).splitlines():
        head = re.match(r"^\s{0,4}([a-z_][a-z_0-9]*(?:\s*,\s*[a-z_][a-z_0-9]*)*)\s*:\s*$", line)
        if head:
            flush()
            names, text = [n.strip() for n in head.group(1).split(",")], []
        elif line.strip() and not re.match(r"^\s{5,}", line) and names:
            flush()  # an unindented line ends the section (e.g. "Derived: ...")
            names, text = [], []
        elif names:
            text.append(line.strip())
    flush()
    return {k: v.replace(":class:", "").replace("`", "") for k, v in out.items()}


_QUALIFIED = re.compile(r"\b([A-Z][A-Za-z0-9]*)\.([A-Z][A-Z_0-9]*)\b")


def _hwsim_enums() -> dict[str, type]:
    import sys
    return {name: cls for n, m in list(sys.modules.items()) if n.startswith("hwsim.") and m
            for name, cls in list(vars(m).items())
            if isinstance(cls, type) and issubclass(cls, enum.Enum)}


def _cli_spelling(text: str, own: type | None) -> str:
    """Enum members named as the CLI spells them: ``ExpMethod.TAYLOR`` (any enum of hwsim's
    unit modules a docstring names) and the field's own enum's bare member names (``LUT``,
    ``TWO_PASS``; one-letter names stay) as their values (``taylor``, ``two_pass``)."""
    if _QUALIFIED.search(text):  # (the modules are scanned only for a text that needs it)
        classes = _hwsim_enums()

        def spell(m):
            cls = classes.get(m.group(1))
            member = cls.__members__.get(m.group(2)) if cls is not None else None
            return m.group(0) if member is None else str(member.value)
        text = _QUALIFIED.sub(spell, text)
    if own is not None:
        for v in own:
            if len(v.name) > 1:
                text = re.sub(rf"\b{v.name}\b", str(v.value), text)
    return text


def _default_text(d) -> str:
    if isinstance(d, enum.Enum):
        return str(d.value)
    return "none" if d is None else str(d)


def _parse_format(text: str) -> FixedFormat:
    try:
        return FixedFormat.parse(text)
    except (TypeError, ValueError) as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _enum_parser(cls):
    def parse(text: str):
        try:
            return cls(text)
        except ValueError:
            pass
        for v in cls:  # also accept the member name, any case (e.g. TWO_PASS)
            if v.name.lower() == text.lower():
                return v
        raise argparse.ArgumentTypeError(
            f"must be one of {', '.join(str(v.value) for v in cls)}, not {text!r}")
    return parse


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer, not {text!r}") from None


def _int_or_none(text: str):
    if text.lower() == "none":
        return None
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer or none, not {text!r}") from None


def describe_option(field: dataclasses.Field, doc: str) -> tuple[str, str]:
    """(metavar, help) of the option for ``field``."""
    d = field.default
    if isinstance(d, FixedFormat):
        meta, kind = "FMT", "format Q<int>.<frac> or UQ<int>.<frac>"
    elif isinstance(d, enum.Enum):
        meta, kind = "|".join(str(v.value) for v in type(d)), ""
    elif isinstance(d, bool):
        meta, kind = None, ""
    elif isinstance(d, str):
        meta, kind = field.metadata.get("metavar", field.name.upper()), "text"
    else:
        meta, kind = "N", "integer" + (" or none" if d is None else "")
    text = doc.rstrip(".") or kind or field.name
    text = re.sub(r"\s*\(default [^)]*\)", "", text)   # ours below, in the CLI's spelling
    text = _cli_spelling(text, type(d) if isinstance(d, enum.Enum) else None)
    if re.search(r"\bDefault\b", text):                 # the docstring states it already
        return meta, text.replace("%", "%%")
    default = "empty" if d == "" else _default_text(d)
    return meta, f"{text} (default {default})".replace("%", "%%")


def add_unit_options(parser: argparse.ArgumentParser, params_cls) -> None:
    """One option per field of ``params_cls``; values land in ``args.param_<field>``
    (``None`` when not given, so the Params class applies its own default)."""
    docs = param_docs(params_cls)
    # a unit's own parameter wins over a command option of the same name in its sub-parser
    # (circuit-mul's --verilog FILE, the circuit, over hwsim prove's --verilog, a file to
    # prove instead of the export: for that unit the two are one file); the command's option
    # then reads None. The action is shared with the other units' sub-parsers: it is dropped
    # from this one, never changed.
    taken = {option_name(f.name) for f in dataclasses.fields(params_cls)}
    shadowed = list({id(a): a for opt, a in parser._option_string_actions.items()
                     if opt in taken}.values())
    for action in shadowed:
        for opt in action.option_strings:
            parser._option_string_actions.pop(opt, None)
        parser._actions.remove(action)
        for group in parser._action_groups:
            if action in group._group_actions:
                group._group_actions.remove(action)
    parser.set_defaults(**{a.dest: None for a in shadowed})
    g = parser.add_argument_group(f"{params_cls.__name__} (unit parameters)")
    for f in dataclasses.fields(params_cls):
        meta, text = describe_option(f, docs.get(f.name, ""))
        dest = f"param_{f.name}"
        d = f.default
        if isinstance(d, bool):
            g.add_argument(option_name(f.name), dest=dest, default=None, help=text,
                           action=argparse.BooleanOptionalAction)
        elif isinstance(d, FixedFormat):
            g.add_argument(option_name(f.name), dest=dest, default=None, metavar=meta,
                           help=text, type=_parse_format)
        elif isinstance(d, enum.Enum):
            g.add_argument(option_name(f.name), dest=dest, default=None, metavar=meta,
                           help=text, type=_enum_parser(type(d)))
        elif isinstance(d, str):
            g.add_argument(option_name(f.name), dest=dest, default=None, metavar=meta,
                           help=text)
        else:
            g.add_argument(option_name(f.name), dest=dest, default=None, metavar=meta,
                           help=text, type=_int_or_none if d is None else _int)


def params_from_args(params_cls, args: argparse.Namespace):
    """The Params built from the options given (the class validates; its TypeError or
    ValueError propagates)."""
    given = {f.name: getattr(args, f"param_{f.name}") for f in dataclasses.fields(params_cls)
             if getattr(args, f"param_{f.name}", None) is not None}
    try:
        return params_cls(**given)
    except (TypeError, ValueError) as e:
        # a refusal of a value the user never gave names it as the default
        m = re.match(rf"^{params_cls.__name__}\.(\w+) ", str(e))
        names = {f.name for f in dataclasses.fields(params_cls)}
        if m and m.group(1) in names and m.group(1) not in given:
            raise type(e)(f"{e} (the default; give {option_name(m.group(1))})") from None
        raise


def unit_summary_lines(params_cls) -> list[str]:
    """``--option  help`` lines for ``hwsim units``."""
    docs = param_docs(params_cls)
    out = []
    for f in dataclasses.fields(params_cls):
        meta, text = describe_option(f, docs.get(f.name, ""))
        opt = option_name(f.name) if meta is None else f"{option_name(f.name)} {meta}"
        out.append(f"    {opt:28} {text.replace('%%', '%')}")
    return out
