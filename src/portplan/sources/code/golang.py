"""Go, read by patterns that are exact on the usual forms (comments left out):

- a helper with a default: `getEnv("HTTP_PORT", "8088")`, `envOr("ADDR", ":8080")`,
  `GetEnvOrDefault("PORT", "8080")` (any function with `env` in its name and two literal
  arguments), of a variable naming the program's own port or address;
- `os.Getenv` with a fallback: `port := os.Getenv("PORT")` then
  `if port == "" { port = "8080" }` (without one, the variable alone);
- a literal address a server listens on: `http.ListenAndServe(":8080", ...)`,
  `net.Listen("tcp", ":9000")`, `Addr: ":8080"`, gin's `r.Run(":8080")`, echo's
  `e.Start(":8080")`, fiber's `app.Listen(":3000")`;
- a flag's default: `flag.Int("port", 8080, ...)`, `flag.String("addr", ":8080", ...)`.
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

SOURCE: Final = "go"
_HELPER: Final = re.compile(
    r"\b\w*[Ee]nv\w*\(\s*\"(?P<var>\w+)\"\s*,\s*(?:\"(?P<text>[^\"\n]*)\"|(?P<int>\d{1,5}))\s*\)"
)
_GETENV: Final = re.compile(
    r"\b(?P<name>\w+)\s*:?=\s*os\.Getenv\(\s*\"(?P<var>\w+)\"\s*\)"
    r"|\b(?P<lname>\w+)\s*,\s*\w+\s*:?=\s*os\.LookupEnv\(\s*\"(?P<lvar>\w+)\"\s*\)"
)
_FALLBACK: Final = r"\{{\s*{name}\s*=\s*\"(?P<text>[^\"\n]*)\""
_LISTEN: Final = re.compile(
    r"\b(?:ListenAndServe(?:TLS)?|Listen|ListenPacket|Run|RunTLS|Start|StartTLS)\(\s*"
    r"(?:\"(?:tcp|udp)[46]?\"\s*,\s*)?\"(?P<address>[\w.\-\[\]:]*:\d{1,5})\""
    r"|\bAddr\s*:\s*\"(?P<addr>[\w.\-\[\]:]*:\d{1,5})\""
)
_FLAG: Final = re.compile(
    r"\bflag\.(?:Int|Uint|String)(?:Var)?\(\s*(?:&[\w.]+\s*,\s*)?\"(?P<flag>[\w-]+)\"\s*,\s*"
    r"(?:\"(?P<text>[^\"\n]*)\"|(?P<int>\d{1,5}))"
)


def read(path: str, text: str) -> list[Listen]:
    """The ports the Go file `text` (at `path`) listens on."""
    code = without_comments(text)
    lines = Lines(path, text)
    found = []
    if "nv(" in code:  # getEnv(, os.Getenv(, os.LookupEnv(: a quick "no" for most files
        found += [*_helpers(code, lines), *_getenvs(code, lines)]
    if any(word in code for word in _LISTENING):
        found += _listens(code, lines)
    return found


_LISTENING: Final = ("Listen", "Run", "Start", "Addr", "flag.")


def _helpers(code: str, lines: Lines) -> Iterator[Listen]:
    for match in _HELPER.finditer(code):
        variable = match.group("var")
        if match.group(0).startswith(("os.", "Getenv", "LookupEnv")) or not is_own_variable(
            variable
        ):
            continue
        number = port_number(match.group("text") or match.group("int"))
        if number is not None:
            yield Listen(number, lines.at(match.start()), SOURCE, variable)


def _getenvs(code: str, lines: Lines) -> Iterator[Listen]:
    for match in _GETENV.finditer(code):
        name = match.group("name") or match.group("lname")
        variable = match.group("var") or match.group("lvar")
        if not is_own_variable(variable):
            continue
        after = code[match.end() : match.end() + 400]
        fallback = re.search(_FALLBACK.format(name=re.escape(name)), after)
        number = port_number(fallback.group("text")) if fallback else None
        start = match.start("var") if match.group("var") else match.start("lvar")
        yield Listen(number, lines.at(code.rfind("os.", 0, start)), SOURCE, variable)


def _listens(code: str, lines: Lines) -> list[Listen]:
    return [*_literals(code, lines), *_flags(code, lines)]


def _literals(code: str, lines: Lines) -> Iterator[Listen]:
    for match in _LISTEN.finditer(code):
        group = "address" if match.group("address") else "addr"
        number = port_number(match.group(group))
        if number is not None:
            yield Listen(number, lines.at(match.start(group)), SOURCE)


def _flags(code: str, lines: Lines) -> Iterator[Listen]:
    for match in _FLAG.finditer(code):
        if not is_own_variable(match.group("flag").replace("-", "_")):
            continue
        group = "text" if match.group("text") is not None else "int"
        number = port_number(match.group(group))
        if number is not None:
            yield Listen(number, lines.at(match.start(group)), SOURCE)
