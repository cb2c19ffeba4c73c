"""Block YAML for generated files, byte for byte what PyYAML's `safe_dump` writes.

The generated documents are plain data (mappings with string keys, lists, strings, ints,
booleans, None, `Quoted`), so they are written here directly: PyYAML spends most of its
time in its Python representer, and this is several times faster. Every scalar whose
spelling is not obviously plain is written by PyYAML itself (once, then cached), and a
document with anything else (a float, a long key, a multi-line string) is handed to PyYAML
whole, so the output is always PyYAML's.
"""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import yaml

_MAX_KEY: Final = 128  # PyYAML writes longer keys in the `? key` form
_MAX_PLAIN: Final = 1000  # PyYAML folds plain scalars wider than its width
# Plain for PyYAML in block context: no indicator or `...` first, no `: ` or ` #`, no
# leading or trailing space, printable ASCII (whether it reads back as a string, not as
# 8080 or true, is asked separately).
_PLAIN: Final = re.compile(
    r"(?!\.\.\.)[A-Za-z0-9_./][\w./=+@%|&-]*(?:[ :][\w./=+@%|&-]+)*", re.ASCII
)
_DOUBLE: Final = re.compile(r"[ -!#-\[\]-~]*")  # printable ASCII but " and \
# PyYAML reads a plain scalar as something else than a string only when it starts with
# one of these (numbers, dates, `~`, `<<`, `=`) or is one of YAML 1.1's booleans or nulls;
# its resolver is asked about those.
_NOT_TEXT_FIRST: Final = frozenset("-+0123456789.<~=")
_WORDS: Final = frozenset(
    f(word)
    for word in ("yes", "no", "true", "false", "on", "off", "null")
    for f in (str.lower, str.capitalize, str.upper)
)
_STR: Final = "tag:yaml.org,2002:str"


class Quoted(str):
    """A string written in double quotes ("8080:8080"), as the compose docs advise."""

    __slots__ = ()


class _Unsupported(Exception):
    """A value this emitter does not write; PyYAML writes the whole document."""


@cache
def _dumper() -> type[yaml.SafeDumper]:
    """PyYAML's safe dumper (libyaml's when there), writing Quoted in double quotes and
    no anchors or aliases: a shared value is written out again. Imported when first
    needed: most generated files never need PyYAML."""
    import yaml

    class Dumper(getattr(yaml, "CSafeDumper", yaml.SafeDumper)):  # type: ignore[misc]
        def ignore_aliases(self, data: object) -> bool:
            return True

    def quoted(dumper: yaml.SafeDumper, value: Quoted) -> yaml.Node:
        return dumper.represent_scalar(_STR, str(value), style='"')

    Dumper.add_representer(Quoted, quoted)
    dumper: type[yaml.SafeDumper] = Dumper
    return dumper


def pyyaml_dump(data: object) -> str:
    """PyYAML's block YAML: keys in the order given, no line folding, no aliases."""
    import yaml

    text: str = yaml.dump(
        data,
        Dumper=_dumper(),
        sort_keys=False,
        default_flow_style=False,
        width=10_000,
        allow_unicode=True,
    )
    return text


def dump_yaml(data: object) -> str:
    """`data` as deterministic block YAML (keys in the order given, no line folding, no
    aliases), identical to `pyyaml_dump(data)`."""
    out: list[str] = []
    try:
        if isinstance(data, dict) and data:
            _mapping(data, 0, "", out)
        elif isinstance(data, list) and data:
            _sequence(data, 0, "", out)
        else:
            raise _Unsupported
    except _Unsupported:
        return pyyaml_dump(data)
    return "".join(out)


def _mapping(data: dict[Any, Any], indent: int, first: str, out: list[str]) -> None:
    """The items of a mapping, the first after `first` (a `- ` already on the line)."""
    pad = " " * indent
    prefix = first
    for key, value in data.items():
        if type(key) is not str:
            raise _Unsupported
        head = f"{prefix}{_key_text(key)}:"
        kind = type(value)
        if kind is str:
            out.append(f"{head} {_text(value)}\n")
        elif kind is int:
            out.append(f"{head} {value}\n")
        elif kind is dict and value:
            out.append(f"{head}\n")
            _mapping(value, indent + 2, pad + "  ", out)
        elif kind is list and value:
            out.append(f"{head}\n")
            _sequence(value, indent, pad, out)  # PyYAML does not indent these
        else:
            out.append(f"{head} {_scalar(value)}\n")
        prefix = pad


def _sequence(items: list[Any], indent: int, first: str, out: list[str]) -> None:
    pad = " " * indent
    prefix = first
    for item in items:
        kind = type(item)
        if kind is str:
            out.append(f"{prefix}- {_text(item)}\n")
        elif kind is dict and item:
            _mapping(item, indent + 2, f"{prefix}- ", out)
        elif kind is list and item:
            _sequence(item, indent + 2, f"{prefix}- ", out)
        else:
            out.append(f"{prefix}- {_scalar(item)}\n")
        prefix = pad


def _scalar(value: object) -> str:
    kind = type(value)
    if kind is str:
        return _text(value)
    if kind is int:
        return str(value)
    if kind is Quoted:
        return _quoted(value)
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    if kind is dict or kind is list:  # empty: the others were written as blocks
        return "{}" if kind is dict else "[]"
    raise _Unsupported


@lru_cache(maxsize=65_536)
def _text(value: str) -> str:
    if len(value) < _MAX_PLAIN and _PLAIN.fullmatch(value) and _is_str(value):
        return value
    return _by_pyyaml(value)


@lru_cache(maxsize=65_536)
def _quoted(value: Quoted) -> str:
    if len(value) < _MAX_PLAIN and _DOUBLE.fullmatch(value):
        return f'"{value}"'
    return _by_pyyaml(value)


@lru_cache(maxsize=65_536)
def _key_text(key: str) -> str:
    if len(key) >= _MAX_KEY:
        raise _Unsupported
    if _PLAIN.fullmatch(key) and _is_str(key):
        return key
    text = pyyaml_dump({key: 0})
    if not text.endswith(": 0\n") or "\n" in text[:-1] or text.startswith("? "):
        raise _Unsupported
    return text[: -len(": 0\n")]


def _is_str(value: str) -> bool:
    """A plain `value` reads back as a string (not 8080, true, null or a date)."""
    if value[0] not in _NOT_TEXT_FIRST and value not in _WORDS:
        return True
    return _resolved(value) == _STR


def _resolved(value: str) -> object:
    import yaml

    return _resolver().resolve(yaml.ScalarNode, value, (True, False))  # type: ignore[no-untyped-call]


@cache
def _resolver() -> yaml.resolver.Resolver:
    import yaml

    return yaml.resolver.Resolver()


def _by_pyyaml(value: str) -> str:
    """How PyYAML writes `value` as a mapping's value or a list item."""
    text = pyyaml_dump({"k": value})
    if text.count("\n") != 1:
        raise _Unsupported
    return text[len("k: ") : -1]
