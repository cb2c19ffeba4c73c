"""Fenced code blocks, read by what they hold as much as by their info string.

- Mermaid flowcharts (info `mermaid`, or a first line `graph TD` / `flowchart LR`);
- `docker ps` output (a `CONTAINER ID ... PORTS ... NAMES` header), in any block;
- compose files and fragments (info `yaml`, or an untagged block with `ports:` lines);
  YAML that holds no service is read as text;
- env and shell blocks: `X=..`, `export X=..`, `set X=..` (see markdown.env) and
  `name: scheme://host:port/...` lines; other commands say nothing;
- untagged and text blocks: assignments, every line as prose, dependency trees
  (`api-gateway (8000) ← ...` over `├── database-service (8008)` lines) and indented
  descriptions (`Feature Engineering Service (Port 8011)` over `Purpose: ...`,
  `Technology: ...`, `Dependencies: A, B`);
- anything else (JavaScript, Python, JSON...) says nothing.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Callable
from typing import Final

from portplan.sources.base import PUBLISHED, PortObservation, ServiceObservation
from portplan.sources.markdown.blocks import Fence
from portplan.sources.markdown.compose import compose_block
from portplan.sources.markdown.context import MAX_PORT, Collector
from portplan.sources.markdown.env import parse_assignment, record
from portplan.sources.markdown.mermaid import GRAPH, mermaid_block
from portplan.sources.markdown.prose import Hit, scan_line, scan_url_line
from portplan.sources.markdown.text import clean_text, first_nonblank, valid_name

SOURCE = "markdown-code"
DOCKER_PS = "docker-ps"

SHELL: Final = frozenset(
    {"bash", "sh", "shell", "zsh", "fish", "console", "shell-session", "terminal", "powershell"}
    | {"ps1", "pwsh", "cmd", "bat", "batch", "env", "dotenv", "ini", "properties", "conf"}
)
YAML: Final = frozenset({"yaml", "yml", "docker-compose", "compose"})
TEXT: Final = frozenset({"", "text", "txt", "plain", "plaintext", "ascii", "none", "tree"})

_COMPOSE_KEY: Final = re.compile(
    r"^\s*(?:ports|expose|depends_on|networks|environment|image|build)\s*:"
)
_PS_HEADER: Final = re.compile(r"^\s*CONTAINER ID\s{2,}")


def fence(ctx: Collector, block: Fence) -> None:
    """Record what a fenced code block states."""
    _READERS[_kind(block)](ctx, block)


def _kind(block: Fence) -> str:
    first = next((line for line in block.lines if line.strip()), "")
    if block.info == "mermaid" or GRAPH.match(first):
        return "mermaid"
    if any(_PS_HEADER.match(line) for line in block.lines):
        return "docker-ps"
    if block.info in YAML:
        return "yaml"
    if block.info in SHELL:
        return "shell"
    if block.info in TEXT:
        return "yaml" if any(_COMPOSE_KEY.match(line) for line in block.lines) else "text"
    return "other"


def _yaml(ctx: Collector, block: Fence) -> None:
    compose = any(_COMPOSE_KEY.match(line) for line in block.lines)
    if not (compose and compose_block(ctx, block)):
        _text(ctx, block)


def _shell(ctx: Collector, block: Fence) -> None:
    owner = ctx.heading_service
    for offset, raw in enumerate(block.lines):
        number = block.start + offset
        assignment = parse_assignment(raw, number)
        if assignment is not None:
            record(ctx, owner, assignment, SOURCE)
        else:
            scan_url_line(ctx, number, raw, SOURCE)


def _text(ctx: Collector, block: Fence) -> None:
    owner = ctx.heading_service
    scanned: list[tuple[str, list[Hit]]] = []
    for offset, raw in enumerate(block.lines):
        number = block.start + offset
        assignment = parse_assignment(raw, number)
        if assignment is not None:
            record(ctx, owner, assignment, SOURCE)
            scanned.append((raw, []))
        else:
            scanned.append(scan_line(ctx, number, raw, SOURCE, prose=False))
    _tree(ctx, block.start, scanned)
    _descriptions(ctx, block, scanned)


def _other(ctx: Collector, block: Fence) -> None:
    """Program source and data formats portplan does not read."""


# --- dependency trees -----------------------------------------------------------------

_BRANCH: Final = re.compile(r"^[ \t│|]*(?:├|└|\+|`|\\)[─━\-—]*[ \t]*")
TREE = "tree"


def _tree(ctx: Collector, start: int, scanned: list[tuple[str, list[Hit]]]) -> None:
    """`api-gateway (8000) ← Client requests` over `├── database-service (8008)`: the
    root depends on each child, a child on its own children (by indentation)."""
    stack: list[tuple[int, str]] = []
    for offset, (line, hits) in enumerate(scanned):
        first = hits[0] if hits and hits[0].port is not None else None
        branch = _BRANCH.match(line)
        if branch is None:
            root = first is not None and first.index == first_nonblank(line)
            stack = [(first.index, first.name)] if first is not None and root else []
            continue
        if first is None or first.index != branch.end() or not stack:
            continue
        while stack and stack[-1][0] >= first.index:
            stack.pop()
        if stack:
            ctx.dependency(stack[-1][1], first.name, start + offset, first.index, SOURCE, TREE)
        stack.append((first.index, first.name))


# --- indented descriptions ------------------------------------------------------------

_ATTRIBUTE: Final = re.compile(
    r"^\s*(?:-\s+)?(?P<key>[A-Za-z][A-Za-z _]{1,24}?)\s*:\s*(?P<value>.*?)\s*$"
)
_FIELDS: Final = {
    "purpose": "purpose",
    "description": "purpose",
    "technology": "technology",
    "tech": "technology",
    "stack": "technology",
    "status": "status",
    "phase": "phase",
    "dependencies": "depends",
    "depends on": "depends",
    "depends_on": "depends",
}
_LIST_ITEM: Final = re.compile(r"[^,]+")
DEPENDENCIES = "dependencies"


def _descriptions(ctx: Collector, block: Fence, scanned: list[tuple[str, list[Hit]]]) -> None:
    for offset, (line, hits) in enumerate(scanned):
        if hits and hits[0].port is not None and hits[0].index == first_nonblank(line):
            _describe(ctx, block, offset, hits[0].name, hits[0].index)


def _describe(ctx: Collector, block: Fence, offset: int, service: str, indent: int) -> None:
    fields: dict[str, str] = {}
    for below in range(offset + 1, len(block.lines)):
        raw = block.lines[below]
        if not raw.strip():
            continue
        if first_nonblank(raw) <= indent:
            break
        found = _ATTRIBUTE.match(raw)
        key = _FIELDS.get(found.group("key").lower().strip()) if found else None
        if found is None or key is None or not found.group("value"):
            continue
        if key == "depends":
            _depends(ctx, service, block.start + below, raw, found.start("value"))
        else:
            fields.setdefault(key, clean_text(found.group("value")))
    if fields:
        location = ctx.at(block.start + offset, indent)
        observation = ServiceObservation(
            service, location, SOURCE,
            status=fields.get("status"), purpose=fields.get("purpose"),
            technology=fields.get("technology"), phase=fields.get("phase"),
        )  # fmt: skip
        ctx.result.services.append(observation)


def _depends(ctx: Collector, service: str, number: int, raw: str, start: int) -> None:
    """`Dependencies: Database Service, Data Bridge` (not `Independent - deploy first`)."""
    for item in _LIST_ITEM.finditer(raw, start):
        text = item.group()
        name = clean_text(re.sub(r"\([^()]*\)", "", text))
        if " - " in text or len(name.split()) > 4 or not valid_name(name):
            continue
        index = item.start() + len(text) - len(text.lstrip())
        ctx.dependency(service, name, number, index, SOURCE, DEPENDENCIES)


# --- docker ps ------------------------------------------------------------------------

_PUBLISHED: Final = re.compile(
    r"^(?:(?P<address>.*):)?(?P<host>\d+)(?:-(?P<host_end>\d+))?"
    r"->(?P<target>\d+)(?:-\d+)?/(?P<proto>tcp|udp|sctp)$"
)
_EXPOSED: Final = re.compile(r"^(?P<target>\d+)(?:-(?P<target_end>\d+))?/(?P<proto>tcp|udp|sctp)$")
_PORT_ITEM: Final = re.compile(r"[^,\s][^,]*")


def _docker_ps(ctx: Collector, block: Fence) -> None:
    """`docker ps` output: the PORTS column of each container, under the header's offsets.
    A line of one cell is the end of a row the terminal wrapped, and a name several rows
    share was cut short (`nginx-golang-mysq` + `l_proxy_1`): those rows name no container."""
    columns: tuple[int, int] | None = None
    rows: list[tuple[int, str, tuple[int, int]]] = []
    for offset, line in enumerate(block.lines):
        if _PS_HEADER.match(line):
            columns = (line.find("PORTS"), line.find("NAMES"))
        elif not line.strip() or line.lstrip().startswith(("$", "#", ">")):
            columns = None
        elif columns is not None and min(columns) >= 0 and len(_FIELD.findall(line)) > 1:
            rows.append((block.start + offset, line, _fitted(line, *columns)))
    names = Counter(line[at[1] :].strip() for _, line, at in rows)
    for number, line, at in rows:
        if names[line[at[1] :].strip()] == 1:
            _container(ctx, number, line, *at)


_FIELD: Final = re.compile(r"\S+(?: \S+)*")


def _fitted(line: str, ports_at: int, names_at: int) -> tuple[int, int]:
    """Where the PORTS and NAMES cells of a row start: under the header's offsets when the
    row fits them, else (a README that re-indented or trimmed the output) the cells split
    on runs of two or more spaces: NAMES is the last, PORTS the one of port items."""
    before = names_at == 0 or line[names_at - 1 : names_at] == " "
    if before and line[names_at : names_at + 1] not in ("", " "):
        return ports_at, names_at
    cells = list(_FIELD.finditer(line))
    if len(cells) < 2:
        return ports_at, names_at
    ports = [c for c in cells[:-1] if "->" in c.group() or re.search(r"\d/(?:tcp|udp)", c.group())]
    start = ports[-1].start() if ports else cells[-1].start()
    return start, cells[-1].start()


def _container(ctx: Collector, number: int, line: str, ports_at: int, names_at: int) -> None:
    name = _of_this_project(line[names_at:].strip().strip("`"), ctx.file)
    if not name:
        return
    location = ctx.at(number, names_at + len(line[names_at:]) - len(line[names_at:].lstrip()))
    aliases = compose_service_names(name)
    ctx.result.services.append(ServiceObservation(name, location, DOCKER_PS, aliases=aliases))
    for item in _PORT_ITEM.finditer(line, ports_at, names_at):
        text = item.group().strip()
        published = _PUBLISHED.match(text)
        if published:
            _published(ctx, number, name, published, item.start())
            continue
        exposed = _EXPOSED.match(text)
        if exposed:
            first = int(exposed.group("target"))
            for port in _ports(first, int(exposed.group("target_end") or first)):
                location = ctx.at(number, item.start())
                ctx.port(
                    PortObservation(
                        name, port, location, DOCKER_PS, protocol=exposed.group("proto"),
                        published=False, target=port,
                    )
                )  # fmt: skip


_REPLICA: Final = re.compile(r"[-_]\d+$")


def _of_this_project(container: str, document: str) -> str:
    """A container name of the compose project of the document's folder (compose names
    the project after it: `aspnet-mssql_web_1` in aspnet-mssql/README.md) as its service
    (`web`); any other name as it is."""
    stem = _REPLICA.sub("", container)
    folder = os.path.basename(os.path.dirname(os.path.abspath(document)))
    project = re.sub(r"[^a-z0-9_-]", "", folder.lower())
    for separator in "_-":
        lead = project + separator
        if stem != container and project and stem.lower().startswith(lead) and stem[len(lead) :]:
            return stem[len(lead) :]
    return container


def compose_service_names(container: str) -> tuple[str, ...]:
    """The compose services a container name may be of: compose names a container
    `<project>-<service>-<replica>` (v1: with `_`), and a project name may hold dashes, so
    every tail of the name without its replica number ("deltran-gateway-1": "gateway")."""
    stem = _REPLICA.sub("", container)
    if stem == container:
        return ()
    parts = re.split(r"[-_]", stem)
    return tuple("-".join(parts[i:]) for i in range(1, len(parts)))


def _published(ctx: Collector, number: int, name: str, found: re.Match[str], at: int) -> None:
    host = int(found.group("host"))
    target = int(found.group("target"))
    address = (found.group("address") or "").strip("[]") or None
    location = ctx.at(number, at + found.start("host"))
    last = int(found.group("host_end") or host)
    for step in range(len(_ports(host, last))):
        if not 1 <= target + step <= MAX_PORT:
            break
        ctx.port(
            PortObservation(
                name, host + step, location, DOCKER_PS, protocol=found.group("proto"),
                address=address, published=True, target=target + step, side=PUBLISHED,
            )
        )  # fmt: skip


def _ports(first: int, last: int) -> range:
    """The ports first..last, empty unless 1 <= first <= last <= 65535."""
    return range(first, last + 1) if 1 <= first <= last <= MAX_PORT else range(0)


_READERS: Final[dict[str, Callable[[Collector, Fence], None]]] = {
    "mermaid": mermaid_block,
    "docker-ps": _docker_ps,
    "yaml": _yaml,
    "shell": _shell,
    "text": _text,
    "other": _other,
}
