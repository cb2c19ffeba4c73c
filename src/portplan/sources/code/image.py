"""What the image a compose service builds says of the port its program listens on: the
`ENV` settings of the built stage that name the program's own port or address (`ENV
PORT=8087`, `ENV HTTP_PORT 8087`: they replace a default in code) and the port flags of its
last `CMD` or `ENTRYPOINT` (`CMD ["uvicorn", "main:app", "--port", "8087"]`, read as
`commands.command_ports` reads a Procfile line).

The built stage is the compose build's `target:`, else the Dockerfile's last; it inherits
the `ENV` and the command line of the stages it is built `FROM` (`FROM base AS final`), its
own replacing theirs; a stage it only copies from (`COPY --from=build`) says nothing. The
Dockerfile itself is the `dockerfile` source's; these statements are a result of the kind
`image` for the same file, under the service that builds from it.
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
from portplan.sources.dockerfile import Instruction, Stage, built, stages

KIND: Final = "image"
SOURCE: Final = "dockerfile"
_PAIR: Final = re.compile(r"(\w+)=(\"[^\"]*\"|'[^']*'|\S*)")
Setting = tuple[str, str, Location]  # an ENV variable, its value, where it is set


def image_results(compose: Iterable[SourceResult]) -> list[SourceResult]:
    """One result per Dockerfile a compose service builds from, for each such service, and
    per service whose compose `command:`/`entrypoint:` replaces its image's command line."""
    found = []
    for result in compose:
        for service in result.services:
            stated = _read(service.build, service.build_target) if service.build else None
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


def _read(path: str, target: str | None) -> tuple[list[Listen], list[Setting]] | None:
    if not os.path.isfile(path):
        return None
    try:
        text = safe_read(path).decode("utf-8")
    except (UnreadableFile, UnicodeDecodeError):
        return None
    chain = built(stages(text, path), target)
    settings: dict[str, Setting] = {}
    for stage in reversed(chain):  # the nearest stage's ENV last: it wins
        for instruction in stage.instructions:
            if instruction.keyword == "ENV":
                settings.update((s[0], s) for s in _env(path, instruction))
    command = next((c[-1] for c in map(_commands, chain) if c), None)
    return (list(_command(path, command)) if command else []), list(settings.values())


def _commands(stage: Stage) -> list[Instruction]:
    return [i for i in stage.instructions if i.keyword in ("CMD", "ENTRYPOINT")]


def _env(path: str, instruction: Instruction) -> Iterator[Setting]:
    """`ENV NAME=value ...` or `ENV NAME value` of the program's own port or address."""
    body = instruction.arguments
    pairs = [(m.group(1), m.group(2).strip("\"'"), m.start(1)) for m in _PAIR.finditer(body)]
    if not pairs:
        words = body.split(None, 1)
        pairs = [(words[0], words[1].strip(), 0)] if len(words) == 2 else []
    for name, value, at in pairs:
        if is_own_variable(name):
            yield name, value, instruction.line.at(path, instruction.start + at)


def _command(path: str, instruction: Instruction) -> Iterator[Listen]:
    body = instruction.arguments.rstrip()
    at = instruction.line.at(path, instruction.start)
    if body.startswith("["):
        try:
            words = json.loads(body)
        except ValueError:
            return
        if isinstance(words, list) and all(isinstance(word, str) for word in words):
            # columns inside an exec form are the line's start
            yield from command_ports(" ".join(words), at, SOURCE, shift=False)
            return
    yield from command_ports(body, at, SOURCE)
