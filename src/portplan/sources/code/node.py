"""JavaScript and TypeScript, read by patterns that are exact on the usual forms
(comments left out):

- `process.env.PORT || 3000`, `process.env.PORT ?? 3000`, `process.env["PORT"] || "3000"`,
  `parseInt(process.env.PORT, 10) || 3000`, `const { PORT = 3000 } = process.env`, and a
  variable read alone (`process.env.PORT`), of a variable naming the program's own port;
- a server's literal port: `app.listen(3000)`, `server.listen(PORT)` of a constant
  `const PORT = 3000`, or of `const port = process.env.SVC_PORT || 3000`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Final

from portplan.sources.code.base import Lines, Listen, is_own_variable, without_comments

SOURCE: Final = "node"
_ENV: Final = re.compile(
    r"\bprocess\.env(?:\.(?P<var>[A-Za-z_]\w*)|\[\s*['\"](?P<item>\w+)['\"]\s*\])"
)
_DEFAULT: Final = re.compile(
    r"\s*(?:,\s*10\s*)?\)?\s*(?:\|\||\?\?)\s*(?:(?:Number|parseInt)\()?"
    r"\s*['\"`]?(?P<number>\d{1,5})\b"
)
_DESTRUCTURED: Final = re.compile(r"\{(?P<names>[^{}]*)\}\s*=\s*process\.env\b")
_NAMED_DEFAULT: Final = re.compile(r"\b(?P<var>[A-Za-z_]\w*)\s*=\s*['\"]?(?P<number>\d{1,5})\b")
_LISTEN: Final = re.compile(
    r"\.listen\(\s*(?:(?P<number>\d{1,5})\b|(?P<name>[A-Za-z_$][\w$]*)\s*[,)])"
)
_CONSTANT: Final = r"\b(?:const|let|var)\s+{name}\s*(?::\s*\w+\s*)?=\s*"


def read(path: str, text: str) -> list[Listen]:
    """The ports the JavaScript/TypeScript file `text` (at `path`) listens on."""
    if "process.env" not in text and ".listen(" not in text:
        return []
    code = without_comments(text)
    lines = Lines(path, text)
    found: dict[int, Listen] = {}  # by offset: a read both listened on and own is one
    for listen, offset in (*_listens(code, lines), *_reads(code, lines)):
        found.setdefault(offset, listen)
    return list(found.values())


def _reads(code: str, lines: Lines) -> Iterator[tuple[Listen, int]]:
    for match in _ENV.finditer(code):
        variable = match.group("var") or match.group("item")
        if is_own_variable(variable):
            yield _env(code, lines, match), match.start()
    for match in _DESTRUCTURED.finditer(code):
        for named in _NAMED_DEFAULT.finditer(match.group("names")):
            if is_own_variable(named.group("var")):
                offset = match.start("names") + named.start()
                number = int(named.group("number"))
                yield Listen(number, lines.at(offset), SOURCE, named.group("var")), offset


def _env(code: str, lines: Lines, match: re.Match[str]) -> Listen:
    variable = match.group("var") or match.group("item")
    default = _DEFAULT.match(code, match.end())
    number = int(default.group("number")) if default else None
    if number is not None and not 0 < number < 65536:
        number = None
    return Listen(number, lines.at(match.start()), SOURCE, variable)


def _listens(code: str, lines: Lines) -> Iterator[tuple[Listen, int]]:
    for match in _LISTEN.finditer(code):
        if match.group("number"):
            number = int(match.group("number"))
            if 0 < number < 65536:
                yield Listen(number, lines.at(match.start("number")), SOURCE), match.start()
            continue
        name = re.escape(match.group("name"))
        constant = re.compile(_CONSTANT.format(name=name)).search(code)
        if constant is None:
            continue
        env = _ENV.match(code, constant.end())
        if env is not None:
            yield _env(code, lines, env), env.start()
            continue
        literal = re.compile(r"['\"]?(\d{1,5})\b").match(code, constant.end())
        if literal is not None and 0 < int(literal.group(1)) < 65536:
            number = int(literal.group(1))
            yield Listen(number, lines.at(literal.start(1)), SOURCE), literal.start(1)
