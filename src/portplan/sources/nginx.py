"""nginx configuration as observations: the ports nginx listens on and the services it
proxies to.

Recognised by content (`server {`, `upstream name {`, `http {` with `listen`, `proxy_pass`
or `server_name` inside) in `*.conf`, `*.conf.template` (the nginx image's envsubst
templates; also `.conf.envsubst`, `.conf.tmpl`, `.conf.j2`, `.conf.in`), `nginx*` and
extension-less `conf` files. Read:

- `listen 8080;`, `listen 127.0.0.1:8443 ssl;`, `listen [::]:80;`: a port of the owner
  itself, on the container side (a unix socket listens on no port);
- `upstream api { server api:8080; server api-2:8080 backup; }`: each server is a reference
  to the service it names;
- `proxy_pass`, `grpc_pass`, `fastcgi_pass`, `uwsgi_pass`, `scgi_pass`: a URL or
  `host:port` (without a port, its scheme's default: `http://web` is web's port 80) is a
  reference; one naming an `upstream` of the file reaches its servers (already read); one
  holding a variable (`$upstream`, `http://$upstream`) is resolved through the `set $var
  value;` of the file before it, else states nothing (what `$PENPOT_BACKEND_URI` becomes is
  not written there).

A loopback address states nothing (see `_config_refs`). The file belongs to the compose service that
bind-mounts it or builds from the folder holding it (`portplan.sources.homes`), else to
"nginx".
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Final

from portplan.model import Exposure, Location
from portplan.sources._config_refs import address_reference
from portplan.sources.base import (
    CONTAINER,
    PortObservation,
    SourceResult,
    read_text,
)

KIND: Final = "nginx"
OWNER: Final = "nginx"
_VARIABLE: Final = re.compile(r"\$\w+")
_PASS: Final = frozenset({"proxy_pass", "grpc_pass", "fastcgi_pass", "uwsgi_pass", "scgi_pass"})
_PASS_SCHEMES: Final = {"grpc_pass": "grpc"}
_TOKEN: Final = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'|#[^\n]*|[{};]|[^\s{};\"'#]+")
_LISTEN: Final = re.compile(r"^(?:(?P<host>\[[^\]]*\]|[^:\[\]]+):)?(?P<port>\d{1,5})$")


@dataclass(frozen=True)
class _Word:
    text: str
    at: Location
    line: str


@dataclass(frozen=True)
class _Directive:
    name: str
    args: tuple[_Word, ...]
    block: tuple[str, ...]  # the names of the blocks around it (`http`, `server`, `upstream`)
    label: str | None  # the first argument of the innermost block (`upstream api` -> api)


def read_nginx(path: str) -> SourceResult:
    """The observations of the nginx configuration at `path`."""
    result = SourceResult(file=path, kind=KIND, owner=OWNER)
    text = read_text(path, result)
    if text is not None:
        parse_nginx(text, path, OWNER, result)
    return result


def parse_nginx(text: str, path: str, owner: str, result: SourceResult) -> None:
    """Add what the nginx configuration `text` says of `owner` to `result`."""
    directives = list(_directives(text, path))
    upstreams = {d.args[0].text for d in directives if d.name == "upstream" and d.args}
    variables: dict[str, str] = {}  # the value each `set` gave last, in file order
    seen: set[int] = set()
    for directive in directives:
        if directive.name == "set" and len(directive.args) >= 2:
            variables[directive.args[0].text] = directive.args[1].text.strip("\"'")
        elif directive.name == "listen" and directive.args:
            _listen(directive.args[0], owner, path, seen, result)
        elif directive.name == "server" and "upstream" in directive.block and directive.args:
            _reference(directive.args[0], owner, None, result)
        elif directive.name in _PASS and directive.args:
            word = directive.args[0]
            if "$" in word.text:
                target = _VARIABLE.sub(lambda m: variables.get(m.group(0), m.group(0)), word.text)
                if "$" in target:
                    continue  # what `$PENPOT_BACKEND_URI` becomes is not written here
                word = _Word(target, word.at, "")
            if _upstream_name(word.text) in upstreams:
                continue  # its servers are read where the upstream lists them
            _reference(word, owner, _PASS_SCHEMES.get(directive.name), result)


def _listen(word: _Word, owner: str, path: str, seen: set[int], result: SourceResult) -> None:
    """A port nginx listens on; once per file (`listen 80;` and `listen [::]:80;` are one)."""
    found = _LISTEN.match(word.text)
    if found is None:
        return  # unix:/run/nginx.sock, a variable
    number, host = int(found.group("port")), (found.group("host") or "").strip("[]")
    if not 0 < number <= 65535 or number in seen:
        return
    seen.add(number)
    offset = found.start("port")
    result.ports.append(
        PortObservation(
            owner,
            number,
            Location(path, word.at.line, word.at.column + offset),
            KIND,
            address=host or None,
            published=False,
            target=number,
            exposure=Exposure.INTERNAL,
            side=CONTAINER,
        )
    )


def _reference(word: _Word, owner: str, scheme: str | None, result: SourceResult) -> None:
    found = address_reference(
        owner, word.text, word.at, KIND, line=word.line or None, scheme=scheme
    )
    if found is not None:
        result.ports.append(found)


def _upstream_name(target: str) -> str:
    """`http://api/v1` -> api: the host part, which may name an `upstream` block."""
    rest = target.split("://", 1)[-1]
    return re.split(r"[/:?]", rest, maxsplit=1)[0]


def _directives(text: str, path: str) -> Iterator[_Directive]:
    """The directives of an nginx configuration, each with the blocks around it."""
    lines = text.splitlines()
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line) + 1)
    blocks: list[tuple[str, str | None]] = []
    current: list[_Word] = []
    row = 0
    for found in _TOKEN.finditer(text):
        token = found.group()
        if token.startswith("#"):
            continue
        while row + 1 < len(starts) and starts[row + 1] <= found.start():
            row += 1
        if token == "{":
            name = current[0].text if current else ""
            blocks.append((name, current[1].text if len(current) > 1 else None))
            yield _Directive(name, tuple(current[1:]), tuple(b for b, _ in blocks[:-1]), None)
            current = []
        elif token == "}":
            blocks = blocks[:-1]
            current = []
        elif token == ";":
            if current:
                label = blocks[-1][1] if blocks else None
                names = tuple(b for b, _ in blocks)
                yield _Directive(current[0].text, tuple(current[1:]), names, label)
            current = []
        else:
            column = found.start() - starts[row] + 1
            line = lines[row] if row < len(lines) else ""
            current.append(_Word(token.strip("\"'"), Location(path, row + 1, column), line))
