"""Caddyfiles as observations: the ports Caddy serves on and the services it proxies to.

A `Caddyfile` (also `Caddyfile.*`, `*.Caddyfile`, `*.caddy`). Read:

- a site address with a port (`:80 {`, `localhost:8080, example.com:8443 {`,
  `http://:8080 {`): a port of the owner itself, on the container side; an address without
  one (`example.com {`) is Caddy's automatic HTTPS, not read;
- `reverse_proxy [matcher] upstream...` and its block's `to upstream...`: each upstream
  (`api:8080`, `http://api:8080`, `api` on port 80) is a reference to the service it names;
  one holding a placeholder or variable (`{$APP_HOST}`, `${APP_HOST}`, `{http.request.host}`)
  states nothing.

A loopback upstream states nothing (see `_config_refs`). The file belongs to the compose service
that bind-mounts it or builds from the folder holding it (`portplan.sources.homes`), else
to "caddy".
"""

from __future__ import annotations

import re
from typing import Final

from portplan.model import Exposure, Location
from portplan.sources._config_refs import address_reference
from portplan.sources.base import (
    CONTAINER,
    PortObservation,
    SourceResult,
    read_text,
)

KIND: Final = "caddy"
OWNER: Final = "caddy"
_WORD: Final = re.compile(r"\"[^\"]*\"|\S+")
_SITE_PORT: Final = re.compile(r"^(?:[a-z]+://)?(?:\[[^\]]*\]|[^:/\s]*):(?P<port>\d{1,5})(?:/.*)?$")
_UPSTREAM_DIRECTIVES: Final = frozenset({"reverse_proxy", "to"})


def read_caddyfile(path: str) -> SourceResult:
    """The observations of the Caddyfile at `path`."""
    result = SourceResult(file=path, kind=KIND, owner=OWNER)
    text = read_text(path, result)
    if text is not None:
        parse_caddyfile(text, path, OWNER, result)
    return result


def parse_caddyfile(text: str, path: str, owner: str, result: SourceResult) -> None:
    """Add what the Caddyfile `text` says of `owner` to `result`."""
    depth = 0
    for number, line in enumerate(text.splitlines(), start=1):
        words = [
            (w.group().strip('"'), w.start() + 1 + (w.group()[:1] == '"'))
            for w in _WORD.finditer(line.split(" #", 1)[0])
            if not w.group().startswith("#")
        ]
        if not words:
            continue
        opens = words[-1][0] == "{"
        if depth == 0 and opens:
            _site(words[:-1], number, path, owner, result)
        elif words[0][0] in _UPSTREAM_DIRECTIVES:
            _upstreams(words[1:], number, line, path, owner, result)
        depth += sum(w.count("{") - w.count("}") for w, _ in words if w in ("{", "}"))
        depth = max(depth, 0)


def _site(
    words: list[tuple[str, int]], number: int, path: str, owner: str, result: SourceResult
) -> None:
    for word, column in words:
        found = _SITE_PORT.match(word.rstrip(","))
        if found is None or "{" in word:
            continue
        port = int(found.group("port"))
        if 0 < port <= 65535:
            result.ports.append(
                PortObservation(
                    owner,
                    port,
                    Location(path, number, column + found.start("port")),
                    KIND,
                    published=False,
                    target=port,
                    exposure=Exposure.INTERNAL,
                    side=CONTAINER,
                )
            )


def _upstreams(
    words: list[tuple[str, int]],
    number: int,
    line: str,
    path: str,
    owner: str,
    result: SourceResult,
) -> None:
    for word, column in words:
        if word == "{" or word.startswith(("@", "/", "*")):
            continue  # a block, a matcher
        if "{" in word:
            continue  # a placeholder: what it becomes is not written here
        at = Location(path, number, column)
        found = address_reference(owner, word, at, KIND, line=line, scheme="http")
        if found is not None:
            result.ports.append(found)
