"""The compose files a document's `docker compose -f FILE ...` commands name.

A document that runs `docker compose -f docker-compose.test.yml up` (in a code block or
inline code) describes the project of that file, not the default one of its folder; several
`-f`/`--file` options of one command are one project of those files merged. The names are
kept as written (relative to wherever the reader runs the command); reconcile resolves them
against the compose files it read (`portplan.reconcile.view`).
"""

from __future__ import annotations

import re
import shlex
from typing import Final

_COMMAND: Final = re.compile(r"\bdocker(?:-compose\b|\s+compose\b)(?P<args>[^\n`|;&]*)")
_FILE_OPTION: Final = re.compile(r"^(?:-f|--file)(?:=(?P<value>.+))?$")


def compose_files(text: str) -> list[list[str]]:
    """The files named by `-f`/`--file` in each `docker compose` command of `text` that
    names any, in order, each group once."""
    found: list[list[str]] = []
    for command in _COMMAND.finditer(text):
        named = _named(command.group("args"))
        if named and named not in found:
            found.append(named)
    return found


def _named(args: str) -> list[str]:
    try:
        words = shlex.split(args, comments=True)
    except ValueError:
        words = args.split()
    named: list[str] = []
    for i, word in enumerate(words):
        option = _FILE_OPTION.match(word)
        if option is None:
            continue
        value = option.group("value") or (words[i + 1] if i + 1 < len(words) else "")
        if value and not value.startswith("-") and "$" not in value:
            named.append(value)
    return named
