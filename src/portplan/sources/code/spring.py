"""Spring Boot's `application.yml` / `application.properties` (and the profile files
`application-<profile>.yml`): `server.port` (and `management.server.port`), a literal or a
placeholder `${PORT:8080}` (the variable and its default). A literal is read from the
variable Spring binds to it (`SERVER_PORT`), which overrides it when set.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

from portplan.model import Location
from portplan.sources.code.base import Listen, port_number
from portplan.yamlio.load import YAMLInputError, YMap, load_all

SOURCE: Final = "spring"
# property -> (the variable Spring binds to it, the port's name)
PROPERTIES: Final = {
    "server.port": ("SERVER_PORT", None),
    "management.server.port": ("MANAGEMENT_SERVER_PORT", "management"),
}
_PLACEHOLDER: Final = re.compile(r"\$\{(?P<var>[\w.\-]+)(?::(?P<default>[^}]*))?\}")
_PROPERTY_LINE: Final = re.compile(
    r"^[ \t]*(?P<key>[\w.\-]+)[ \t]*[=:][ \t]*(?P<value>[^\n]*?)[ \t]*$", re.MULTILINE
)


def read(path: str, text: str) -> list[Listen]:
    """The ports a Spring configuration file sets."""
    if path.endswith(".properties"):
        return list(_properties(path, text))
    try:
        documents = load_all(text, path)
    except YAMLInputError:
        return []
    return [
        listen for document in documents if isinstance(document, YMap)
        for listen in _yaml(path, document)
    ]  # fmt: skip


def _properties(path: str, text: str) -> Iterator[Listen]:
    for match in _PROPERTY_LINE.finditer(text):
        if match.group("key") in PROPERTIES:
            line = text.count("\n", 0, match.start()) + 1
            column = match.start("value") - (text.rfind("\n", 0, match.start("value")) + 1) + 1
            at = Location(path, line, column)
            listen = _listen(match.group("key"), match.group("value"), at)
            if listen is not None:
                yield listen


def _yaml(path: str, document: YMap) -> Iterator[Listen]:
    """`server: {port: 8080}`, `server.port: 8080`, `management: {server: {port: 9090}}`."""
    for key in PROPERTIES:
        found = _lookup(document, key.split("."))
        if found is None:
            continue
        value, mark = found
        listen = _listen(key, "" if value is None else str(value), Location(path, *mark))
        if listen is not None:
            yield listen


def _lookup(node: YMap, words: list[str]) -> tuple[Any, tuple[int, int]] | None:
    """The value of a dotted property in nested and/or dotted keys, with its place."""
    for size in range(len(words), 0, -1):
        key = ".".join(words[:size])
        if key not in node:
            continue
        if size == len(words):
            mark = node.value_marks.get(key) or node.key_marks[key]
            return node[key], (mark.line, mark.column)
        child = node[key]
        if isinstance(child, YMap):
            found = _lookup(child, words[size:])
            if found is not None:
                return found
    return None


def _listen(key: str, value: str, at: Location) -> Listen | None:
    variable, name = PROPERTIES[key]
    placeholder = _PLACEHOLDER.fullmatch(value.strip().strip("\"'"))
    if placeholder is not None:
        default = placeholder.group("default")
        number = port_number(default) if default else None
        return Listen(number, at, SOURCE, placeholder.group("var"), name=name)
    number = port_number(value)
    return Listen(number, at, SOURCE, variable, name=name) if number is not None else None
