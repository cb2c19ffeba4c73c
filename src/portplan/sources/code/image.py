"""What the image a compose service builds says of the port its program listens on: the
`ENV` settings of its Dockerfile's final stage that name the program's own port or address
(`ENV PORT=8087`, `ENV HTTP_PORT 8087`: they replace a default in code) and the port flags
of its last `CMD` or `ENTRYPOINT` (`CMD ["uvicorn", "main:app", "--port", "8087"]`, read
as `commands.command_ports` reads a Procfile line).

The Dockerfile itself is the `dockerfile` source's; these statements are a result of the
kind `image` for the same file, under the service that builds from it. Stages the final
one is built `FROM` are not followed (their `ENV` is inherited, but not read here).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from typing import Final

from portplan.files import UnreadableFile, safe_read
from portplan.model import Location
from portplan.sources.base import SourceResult, VariableObservation
from portplan.sources.code.base import Listen, is_own_variable
from portplan.sources.code.commands import command_ports
from portplan.sources.code.observe import observations

KIND: Final = "image"
SOURCE: Final = "dockerfile"
_INSTRUCTION: Final = re.compile(r"^[ \t]*(FROM|ENV|CMD|ENTRYPOINT)[ \t]+(.*)$", re.I | re.M)
_PAIR: Final = re.compile(r"(\w+)=(\"[^\"]*\"|'[^']*'|\S*)")


def image_results(compose: Iterable[SourceResult]) -> list[SourceResult]:
    """One result per Dockerfile a compose service builds from, for each such service, and
    per service whose compose `command:`/`entrypoint:` replaces its image's command line."""
    found = []
    for result in compose:
        for service in result.services:
            stated = _read(service.build) if service.build is not None else None
            listens, settings = stated if stated is not None else ([], [])
            if service.command is not None and service.command_at is not None:
                # compose's command replaces the image's CMD: its port flags, or none
                listens = list(
                    command_ports(service.command, service.command_at, "compose", shift=False)
                )
            if stated is None and service.command is None:
                continue
            path = service.build if service.build is not None else result.file
            image = observations(path, listens, service.service, KIND)
            image.variables.extend(
                VariableObservation(service.service, name, at, SOURCE, value)
                for name, value, at in settings
            )
            if image.ports or image.variables:
                found.append(image)
    return found


def _read(path: str) -> tuple[list[Listen], list[tuple[str, str, Location]]] | None:
    if not os.path.isfile(path):
        return None
    try:
        text = safe_read(path).decode("utf-8")
    except (UnreadableFile, UnicodeDecodeError):
        return None
    final = [m for m in _INSTRUCTION.finditer(text) if m.group(1).upper() == "FROM"]
    start = final[-1].end() if final else 0
    settings: list[tuple[str, str, Location]] = []
    command: re.Match[str] | None = None
    for match in _INSTRUCTION.finditer(text, start):
        keyword = match.group(1).upper()
        if keyword == "ENV":
            settings.extend(_env(path, text, match))
        elif keyword in ("CMD", "ENTRYPOINT"):
            command = match
    return (list(_command(path, text, command)) if command else []), settings


def _env(path: str, text: str, match: re.Match[str]) -> Iterator[tuple[str, str, Location]]:
    """`ENV NAME=value ...` or `ENV NAME value` of the program's own port or address."""
    body, offset = match.group(2), match.start(2)
    pairs = [(m.group(1), m.group(2).strip("\"'"), m.start(1)) for m in _PAIR.finditer(body)]
    if not pairs:
        words = body.split(None, 1)
        pairs = [(words[0], words[1].strip(), 0)] if len(words) == 2 else []
    for name, value, at in pairs:
        if is_own_variable(name):
            yield name, value, _place(path, text, offset + at)


def _command(path: str, text: str, match: re.Match[str]) -> Iterator[Listen]:
    body, offset = match.group(2).rstrip(), match.start(2)
    if body.startswith("["):
        try:
            words = json.loads(body)
        except ValueError:
            return
        if isinstance(words, list) and all(isinstance(word, str) for word in words):
            body = " ".join(words)  # columns inside an exec form are the line's start
            offset = match.start(2)
            yield from command_ports(body, _place(path, text, offset), SOURCE, shift=False)
            return
    yield from command_ports(body, _place(path, text, offset), SOURCE)


def _place(path: str, text: str, offset: int) -> Location:
    line_start = text.rfind("\n", 0, offset) + 1
    return Location(path, text.count("\n", 0, offset) + 1, offset - line_start + 1)
