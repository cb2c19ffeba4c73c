"""Rust, read by patterns that are exact on the usual forms (comments left out):

- `env::var("PORT")` with its default in the same statement: `.unwrap_or("8088".into())`,
  `.unwrap_or_else(|_| "8088".to_string())`, `.ok().and_then(|p| p.parse().ok())
  .unwrap_or(8088)`; without one, the variable alone; of a variable naming the program's
  own port or address;
- a literal address it binds: `"0.0.0.0:8088".parse()`, `TcpListener::bind("0.0.0.0:8088")`,
  `.bind(("0.0.0.0", 8088))`, `SocketAddr::from(([0, 0, 0, 0], 8088))`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from portplan.sources.code.base import (
    Lines,
    Listen,
    is_own_variable,
    port_number,
    without_comments,
)

SOURCE: Final = "rust"
_VAR: Final = re.compile(r"\benv::var(?:_os)?\(\s*\"(?P<var>\w+)\"\s*\)")
_DEFAULT: Final = re.compile(
    r"\.unwrap_or(?:_else)?\(\s*(?:\|[^|]*\|\s*)?(?:\"(?P<text>[^\"\n]*)\"|(?P<int>\d{1,5})\b)"
)
_ADDRESS: Final = re.compile(
    r"\"(?P<address>(?:\d{1,3}(?:\.\d{1,3}){3}|localhost|\[::1?\])?:\d{1,5})\"\s*"
    r"(?:\.parse\b|\))"
)
_TUPLE: Final = re.compile(
    r"\bbind\(\s*\(\s*\"[^\"\n]*\"\s*,\s*(?P<a>\d{1,5})\s*\)"
    r"|SocketAddr(?:V[46])?::(?:from|new)\(\s*\(?\s*\[[\d,\s]+\]\s*,\s*(?P<b>\d{1,5})\s*\)"
)


def read(path: str, text: str) -> list[Listen]:
    """The ports the Rust file `text` (at `path`) listens on."""
    code = without_comments(text)
    lines = Lines(path, text)
    found = [*_vars(code, lines)] if "env::var" in code else []
    return [*found, *_addresses(code, lines)] if ":" in code else found


def _vars(code: str, lines: Lines) -> Iterator[Listen]:
    for match in _VAR.finditer(code):
        variable = match.group("var")
        if not is_own_variable(variable):
            continue
        end = code.find(";", match.end())
        statement = code[match.end() : end if end >= 0 else len(code)]
        default = _DEFAULT.search(statement)
        number = port_number(default.group("text") or default.group("int")) if default else None
        yield Listen(number, lines.at(match.start()), SOURCE, variable)


def _addresses(code: str, lines: Lines) -> Iterator[Listen]:
    for match in _ADDRESS.finditer(code):
        number = port_number(match.group("address"))
        if number is not None:
            yield Listen(number, lines.at(match.start("address")), SOURCE)
    for match in _TUPLE.finditer(code):
        group = "a" if match.group("a") else "b"
        number = port_number(match.group(group))
        if number is not None:
            yield Listen(number, lines.at(match.start(group)), SOURCE)
