"""Host-machine addresses anywhere in a document, and whether Docker publishes them.

Every `localhost:8080`, `http://127.0.0.1:8080/x` and `0.0.0.0:8080` of a document (and the
Docker machine as a placeholder: `http://DOCKER_HOST:8080`, `http://<host-ip>:9090`) is read
(prose, inline code, list items, code blocks, shell commands such as `curl`, `wget`,
`wrk`), as a reference to a port of the host machine whose service the document does not
name: they go to `SourceResult.addresses` with `service` UNRESOLVED, and reconcile finds
who publishes the port (PP216, against the compose files of the document's folder).

After a `docker compose up` (or `docker-compose up`, in a code block or inline code), and in
a section whose heading names Docker Compose ("## Run with docker-compose"), an
address is on the published side until a heading above the command's section, or a command
that runs the program directly (`go run`, `npm start`, `./mvnw spring-boot:run`, `dotnet
run`, `./main`) or elsewhere (`kubectl apply`, `helm install`, `docker stack deploy`, a
`docker run -p 8999:8999` of its own container), or
that stops it (`docker compose down`); a
`docker compose up` that names only databases (`docker compose up demo-db`) starts none;
outside such a section its side is unknown (the program may run on the host), except in the
paragraph just before a code block that runs `docker compose up` ("run the command below and
open localhost:9001"), which says what it gives. A URL without
a port is one on the scheme's (`http://localhost/` port 80, `https://localhost` 443); prose
that says the program is "running on port N" (available, accessible, reachable, served
at...) gives an address on port N too. The host side of a port mapping
(`127.0.0.1:8100:8000`, `- "127.0.0.1:8100-8105:8000-8005"`, `docker run -p 127.0.0.1:80:80`)
is no address a reader opens: it is not read.
"""

from __future__ import annotations

import re
from typing import Final

from portplan.model import Location
from portplan.sources.base import PUBLISHED, UNKNOWN, PortObservation, SourceResult

SOURCE = "markdown-url"
UNRESOLVED = ""  # the service of an address the document does not name

_FENCE: Final = re.compile(r"^\s{0,3}(```|~~~)")
_HEADING: Final = re.compile(r"^\s{0,3}(#{1,6})\s")
_COMPOSE_HEADING: Final = re.compile(
    r"\b(?:run|running|start|starting|launch|deploy|deploying|with)\b[^\n]*\bdocker[\s-]?compose\b",
    re.IGNORECASE,
)
_WITHOUT: Final = re.compile(r"\b(?:without|no|not)\b", re.IGNORECASE)
_COMPOSE_UP: Final = re.compile(r"\bdocker(?:-compose|\s+compose)\b[^\n`]*?\bup\b")
_COMPOSE_DOWN: Final = re.compile(r"\bdocker(?:-compose|\s+compose)\b[^\n`]*?\b(?:down|stop)\b")
_DIRECT_RUN: Final = re.compile(
    r"(?:\bgo\s+run\b|\bnpm\b[^\n`]*?\b(?:start|run\s+(?:dev|start|serve))\b|\byarn\s+(?:start|dev)\b|"
    r"\bmvnw?\b[^\n`]*spring-boot:run|\bgradlew?\b[^\n`]*bootRun|\bdotnet\s+run\b|"
    r"(?:^|[\s`])\./main\b|\bflask\s+run\b|\buvicorn\b|\bpython3?\s+(?:app|main|server|manage)\.py\b|"
    # or elsewhere: on a cluster, a swarm
    r"\bkubectl\s+(?:apply|create|run|port-forward)\b|\bhelm\s+(?:install|upgrade)\b|"
    r"\bdocker\s+stack\s+deploy\b|"
    # or in a container of its own, on the ports its `-p` publishes
    r"\b(?:docker|podman)\s+(?:container\s+)?run\b[^\n`]*\s(?:-p\s?|--publish[=\s])[\"']?[\d\[])"
)
# The machine Docker runs on, as documents write it when they do not say localhost:
# `DOCKER_HOST`, `<host-ip>`, `<your-server-ip>`, `YOUR_IP`.
_PLACEHOLDER_HOST: Final = (
    r"<[\w -]*?(?:host|ip|server|address|domain)[\w -]*>|"
    r"(?:DOCKER_HOST|HOST_IP|SERVER_IP|DOCKER_HOST_IP|YOUR_(?:SERVER_|HOST_)?IP)(?![\w.-])|"
    r"(?:your-(?:server-|host-)?ip|server-ip|host-ip|docker-host)(?![\w.-])"
)
_ADDRESS: Final = re.compile(
    r"(?<![\w.-])(?:(?P<scheme>[a-z][\w+.-]*)://)?"
    rf"(?P<host>localhost|127\.0\.0\.1|0\.0\.0\.0|{_PLACEHOLDER_HOST})"
    r":(?P<port>\d{1,5})(?![\d])(?!(?:-\d{1,5})?:\d)"  # `127.0.0.1:8100:8000`: a mapping
)
# The reader's own proxy (`git config --global http.proxy socks5://127.0.0.1:1080`,
# `export HTTPS_PROXY=http://127.0.0.1:7890`, `curl -x ...`): no port of the project.
_PROXY: Final = re.compile(
    r"(?:\b(?:https?|all|no)[_.]proxy\b|--proxy\b|\bproxy(?:[_-]?server)?\s*[=:]|"
    r"\bcurl\b[^\n`]*\s-x\s*$)\s*[=\s]?\s*[\"']?$",
    re.IGNORECASE,
)
_PROXY_SCHEMES: Final = frozenset({"socks", "socks4", "socks4a", "socks5", "socks5h"})
# An ssh tunnel's forwards (`ssh -L 5173:127.0.0.1:5173 box`) are the reader's own ports.
_TUNNEL: Final = re.compile(r"\bssh\b[^\n`]*\s-[LRD]\s?\S")
_PORTLESS: Final = re.compile(
    r"(?<![\w.-])(?P<scheme>https?)://(?P<host>localhost|127\.0\.0\.1)(?=[/\s`)\]>\"'?#,]|\.(?:\s|$)|$)"
)
_SCHEME_PORTS: Final = {"http": 80, "https": 443}
# `docker compose up` output: `minecraft_1  | ... RCON running on 0.0.0.0:25575`
_LOG_LINE: Final = re.compile(r"^\s*[\w.-]+[-_]\d+\s+\|\s")
_PROSE_PORT: Final = re.compile(
    r"\b(?:running|runs|available|accessible|reachable|served|serving|up)\s+(?:on|at)\s+port\s+"
    r"(?P<port>\d{1,5})(?![\d.]\d)",
    re.IGNORECASE,
)
MAX_PORT: Final = 65535
# Words of the names of databases, caches and brokers (see `_storage_only`).
_STORES: Final = frozenset(
    {"db", "database", "postgres", "postgresql", "mysql", "mariadb", "mongo", "mongodb",
     "redis", "memcached", "cache", "elasticsearch", "opensearch", "rabbitmq", "kafka"}
)  # fmt: skip


class _Context:
    """Where a document stands: in a fence or not, and whether Docker publishes what it
    shows (the level of the section that ran `docker compose up`, or None)."""

    def __init__(self) -> None:
        self.fence: str | None = None
        self.level = 0  # the current section's heading level
        self.compose: int | None = None
        self.named = False  # the compose section is one a heading named, not a command

    def heading(self, level: int, text: str) -> None:
        self.level = level
        named = self.named and self.compose is not None and level <= self.compose
        if self.compose is not None and (level < self.compose or named):
            self.compose = None  # a heading above the section (or beside one its heading set)
        self.named = bool(_COMPOSE_HEADING.search(text)) and not _WITHOUT.search(text)
        if self.named:
            self.compose = level  # "## Run with docker-compose": its section runs it

    def command(self, line: str) -> None:
        found = _COMPOSE_UP.search(line)
        if found and not _storage_only(line[found.end() :]):
            self.compose, self.named = max(self.level, 1), False
        elif _DIRECT_RUN.search(line) or _COMPOSE_DOWN.search(line):
            self.compose = None


def _storage_only(rest: str) -> bool:
    """Whether the words after `docker compose up` name services, and only stores
    (`docker compose up demo-db`, `up -d postgres redis`): a database for a program run on
    the host, which then publishes none of the addresses the document gives after it."""
    words = re.split(r"[`;&|#)]", rest, maxsplit=1)[0].split()
    named = [word for word in words if not word.startswith("-")]
    return bool(named) and all(
        set(re.split(r"[^a-z0-9]+", word.lower())) & _STORES for word in named
    )


def _announcing(lines: list[str]) -> set[int]:
    """The line numbers of the paragraphs just before a code block that runs `docker compose
    up` ("Run the command below and open localhost:9001", then the block): they say what
    that command gives, so their addresses are on the published side too."""
    found: set[int] = set()
    fence: str | None = None
    opened = 0
    for number, line in enumerate(lines, start=1):
        mark = _FENCE.match(line)
        if mark is None:
            if fence is not None and _COMPOSE_UP.search(line) and opened:
                found.update(_paragraph_before(lines, opened))
                opened = 0
            continue
        if fence == mark.group(1):
            fence = None
        elif fence is None:
            fence, opened = mark.group(1), number
    return found


def _paragraph_before(lines: list[str], fence: int) -> range:
    """The line numbers of the paragraph that ends at most one blank line above the fence
    on line `fence` (1-based)."""
    end = fence - 1
    if end >= 1 and not lines[end - 1].strip():
        end -= 1
    start = end
    while start >= 1 and lines[start - 1].strip() and not _HEADING.match(lines[start - 1]):
        start -= 1
    return range(start + 1, end + 1)


def host_addresses(result: SourceResult, lines: list[str]) -> None:
    """Add every host-machine address of the document `lines` to `result` (see module)."""
    ctx = _Context()
    announcing = _announcing(lines)
    for number, line in enumerate(lines, start=1):
        fence = _FENCE.match(line)
        if fence is not None:
            mark = fence.group(1)
            ctx.fence = None if ctx.fence == mark else (ctx.fence or mark)
            continue
        heading = None if ctx.fence else _HEADING.match(line)
        if heading is not None:
            ctx.heading(len(heading.group(1)), line)
        ctx.command(line)
        if _LOG_LINE.match(line):
            continue  # a container's own output: addresses inside it, not on this machine
        side = PUBLISHED if ctx.compose is not None or number in announcing else UNKNOWN
        for found in _ADDRESS.finditer(line):
            port = int(found.group("port"))
            if 1 <= port <= MAX_PORT and not _proxy(line, found):
                at = Location(result.file, number, found.start("port") + 1)
                result.addresses.append(_address(port, at, found.group("host"), side))
        for found in _PORTLESS.finditer(line):
            at = Location(result.file, number, found.start("host") + 1)
            port = _SCHEME_PORTS[found.group("scheme").lower()]
            result.addresses.append(_address(port, at, found.group("host"), side))
        for found in [] if ctx.fence else _PROSE_PORT.finditer(line):
            port = int(found.group("port"))
            if 1 <= port <= MAX_PORT:
                at = Location(result.file, number, found.start("port") + 1)
                result.addresses.append(_address(port, at, "", side))


def _proxy(line: str, found: re.Match[str]) -> bool:
    """Whether the address `found` in `line` is a proxy the reader runs (see `_PROXY`)."""
    scheme = (found.group("scheme") or "").lower()
    if scheme in _PROXY_SCHEMES or _TUNNEL.search(line):
        return True
    return _PROXY.search(line, 0, found.start()) is not None


def _address(port: int, at: Location, host: str, side: str) -> PortObservation:
    return PortObservation(UNRESOLVED, port, at, SOURCE, reference=True, host=host, side=side)
