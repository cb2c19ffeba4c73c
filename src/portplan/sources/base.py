"""Observations: what one file says about services, ports, dependencies and policies.

Every source module turns a file into a `SourceResult`; `reconcile` compares them.
An observation names a service as the source wrote it ("Token Engine", "TOKEN_ENGINE");
matching names across sources is reconcile's job, not the source's.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Final, Protocol, TypeVar

from portplan.errors import PortplanError
from portplan.files import UnreadableFile, safe_read
from portplan.findings import Level
from portplan.model import WILDCARD_ADDRESSES, Exposure, Location, PortRange
from portplan.secretscan.text import mask_names

# The words that state who may reach a port, for every source: a table's Exposure cell
# ("local"), a qualifier ("(local only)", "(public)"), a heading ("Internal Network").
EXPOSURE_WORDS: Final[dict[Exposure, tuple[str, ...]]] = {
    Exposure.LOCAL: ("local", "localhost", "loopback", "host-only"),
    Exposure.PUBLIC: ("public", "publicly", "external", "externally", "internet"),
    Exposure.INTERNAL: ("internal", "private", "cluster", "isolated"),
}
_EXPOSURE_PATTERNS: Final = tuple(
    (exposure, re.compile(r"\b(?:" + "|".join(map(re.escape, words)) + r")\b", re.IGNORECASE))
    for exposure, words in EXPOSURE_WORDS.items()
)


def exposure_word(text: str) -> Exposure | None:
    """The exposure a phrase states by a word of EXPOSURE_WORDS ("local", "Public API",
    "internal network only"); of several, the first in the table's order (local, public,
    internal: "public (internal via VPN)" is public)."""
    for exposure, pattern in _EXPOSURE_PATTERNS:
        if pattern.search(text):
            return exposure
    return None


# The side of a port a statement is about (PortObservation.side). A mapping `H:C` is two
# statements of one port: H on the published side, C on the container side.
CONTAINER: Final = "container"  # on the container/cluster network, or listened on inside it
PUBLISHED: Final = "published"  # a host port: a mapping, hostPort, nodePort, `docker ps`, a
# host-machine URL in a Docker context (after `docker compose up`)
LOCAL: Final = "local"  # the program run directly on the host (launchSettings, `go run`)
UNKNOWN: Final = "unknown"  # the source does not say: agrees with either side
SIDES: Final = (CONTAINER, PUBLISHED, LOCAL, UNKNOWN)


@dataclass(frozen=True, slots=True)
class PortObservation:
    """'file F, line L says service S, port K = P / protocol / address / exposure'."""

    service: str
    number: int
    location: Location
    source: str  # compose, dotenv, kubernetes, markdown-table, markdown-code, mermaid, prose, ...
    port_name: str | None = None  # http, grpc, ws, metrics... when the source says so
    protocol: str = "tcp"
    address: str | None = None  # host address the port is bound/published on, when stated
    published: bool | None = None  # compose/k8s: published on the host (True) or not (False)
    target: int | None = None  # the container port behind a published one
    # compose: published on a random host port (`"80"`, `":80"`, an unset host port
    # variable): `number` is the container port, and `published` False, as no host port
    # is fixed; `exposure` says who reaches the random one.
    random_host: bool = False
    exposure: Exposure | None = None
    variable: str | None = None  # the variable that carries it (HTTP_PORT, TOKEN_ENGINE_URL)
    # compose: the variable a mapping takes its host port from (`${WEB_PORT:-8080}:80`):
    # whoever sets it (a `.env` file) sets this port, whatever its name says
    published_variable: str | None = None
    range_end: int | None = None  # compose: a published range (8000-8010) ends here
    node_port: int | None = None  # Kubernetes: the nodePort of a Service port (on every node)
    template: bool = False  # stated by an example/template file (.env.example): see TEMPLATE
    side: str = UNKNOWN  # CONTAINER, PUBLISHED, LOCAL or UNKNOWN: which side `number` is on
    # A URL or host:port *to* `service` (env URL, healthcheck, proxy/scrape target, a doc's
    # `curl` line), as opposed to a statement by the service's own configuration (a mapping,
    # EXPOSE, a listener setting). The reference rule checks it against the target's ports.
    reference: bool = False
    owner: str | None = None  # reference: the service whose configuration makes it, if any
    host: str | None = None  # reference: the host as written (`db`, `localhost`, `10.0.0.5`)


@dataclass(frozen=True, slots=True)
class DependencyObservation:
    """'S depends on T', and how the source says it (depends_on, env-url, mermaid-edge, tree)."""

    service: str
    target: str
    location: Location
    source: str
    via: str
    required: bool = True  # compose `depends_on: {x: {required: false}}`: may be absent
    project: str | None = None  # depends_on: the compose project (or block) stating it
    template: bool = False


@dataclass(frozen=True, slots=True)
class VariableObservation:
    """'S reads (or sets) variable V'; the value is never shown when `secret`."""

    service: str | None
    name: str
    location: Location
    source: str
    value: str | None = None
    secret: bool = False
    credential: bool = False  # the secret has a real credential's shape (not a demo default)
    sets: bool = True  # False: the service reads it (e.g. ${VAR} in compose) but nothing set it
    template: bool = False


@dataclass(frozen=True, slots=True)
class RangeObservation:
    """A range the source states: a policy ('8011-8016: AI/ML') or a reservation."""

    ports: PortRange
    location: Location
    source: str
    label: str = ""
    reserved: bool = False
    future: bool = False
    exposure: Exposure | None = None  # "8001-8019: internal only", "9001-9004 (local only)"
    template: bool = False


@dataclass(frozen=True, slots=True)
class ServiceObservation:
    """'S exists' (with whatever the source says of it: status, purpose, exposure...)."""

    service: str
    location: Location
    source: str
    status: str | None = None
    purpose: str | None = None
    technology: str | None = None
    exposure: Exposure | None = None
    networks: tuple[str, ...] = ()
    health_path: str | None = None  # what its health check calls (compose, httpGet probe)
    health_expect: str | None = None
    health_port: int | None = None  # the port the health check calls, when stated
    phase: str | None = None  # "Phase 2", "Post-Launch"
    aliases: tuple[str, ...] = ()  # other names the source gives it ("Data Bridge -> data-bridge")
    project: str | None = None  # compose: the project (or Markdown block) that defines it
    project_name: str | None = None  # compose: the project's top-level `name:`, when set
    namespace: str | None = None  # Kubernetes: the namespace that defines it (None: default)
    # compose `network_mode: host`, Kubernetes `hostNetwork: true`: its ports are the host's
    host_network: bool = False
    # compose `network_mode: service:X`: it shares X's network, and listens on X's ports
    network_of: str | None = None
    image: str | None = None  # compose `image:`, a Kubernetes workload's (first) container's
    profiles: tuple[str, ...] = ()  # compose `profiles:` (none: it always runs)
    build: str | None = None  # compose `build:`: the Dockerfile it builds from (its path)
    build_target: str | None = None  # compose `build: {target:}`: the stage it builds
    mounts: tuple[str, ...] = ()  # compose `volumes:`: the host files and folders bind-mounted
    # compose `entrypoint:` and `command:` joined (they replace the image's), and where
    command: str | None = None
    command_at: Location | None = None
    template: bool = False


@dataclass(frozen=True, slots=True)
class Mismatch:
    """A reference a source makes that what it refers to does not satisfy: a Kubernetes
    Service's targetPort no container of the pods it selects declares, a probe on a port
    its pod does not declare, an Ingress backend port its Service does not have. `others`
    are the places of what was referred to (the ports that are declared); `level` None is
    the rule's own (an error)."""

    service: str
    location: Location
    source: str
    message: str
    others: tuple[Location, ...] = ()
    level: Level | None = None


@dataclass(frozen=True, slots=True)
class SourceError:
    """A file that could not be read or parsed: one finding, and the rest goes on.

    The message never quotes the file's content (it may hold a secret): it says what is
    wrong and where. `level` is None for an error; Level.INFO for a file left unread on
    purpose (the templates of a Helm chart: see `template_note`)."""

    location: Location
    message: str
    level: Level | None = None

    def __post_init__(self) -> None:
        # The last guard: a secret inside a name a message shows (a service key
        # `postgres://u:pw@h/d` in `services.<name>.ports`) is masked.
        object.__setattr__(self, "message", mask_names(self.message))


def unread(location: Location, why: str) -> SourceError:
    """The error "could not read FILE:LINE:COL: why" for a file that failed at `location`."""
    return SourceError(location, f"could not read {location}: {why}")


_GO_TEMPLATE: Final = re.compile(r"\{\{-?\s*[^{}\n]*?-?\}\}")


def template_note(path: str, text: str, line: int = 0) -> SourceError | None:
    """The note "not read FILE:L:C: a Go template" for YAML that failed to parse (at `line`)
    and holds a `{{ ... }}` action (Helm, gomplate): read as YAML it says nothing true,
    rendered it could be read. At the first action on `line`, else the first of the text;
    None when `text` holds no action (the YAML is simply broken)."""
    actions = list(_GO_TEMPLATE.finditer(text))
    if not actions:
        return None
    found = next((a for a in actions if text.count("\n", 0, a.start()) + 1 == line), actions[0])
    at = at_offset(path, text, found.start())
    why = "a Go template ({{ }}), not YAML; render it (helm template) to reconcile it"
    return SourceError(at, f"not read {at}: {why}", Level.INFO)


# The words in a file name (`.env.example`, `compose.sample.yml`, `app.example.yaml`) that
# make it an example or template: it shows defaults, the real file says what runs.
TEMPLATE_WORDS: Final = frozenset(
    {"example", "examples", "sample", "template", "tmpl", "tpl", "dist"}
)


def is_template_name(path: str) -> bool:
    """Whether the file at `path` is an example/template by its name (`.env.example`,
    `.env.sample`, `.env.template`, `.env.dist`, `example.env`, `*.example.yaml`,
    `compose.sample.yml`)."""
    words = os.path.basename(path).lower().split(".")
    return any(word in TEMPLATE_WORDS for word in words)


def as_template(result: SourceResult) -> SourceResult:
    """`result` with every observation marked `template=True` (in place; returned)."""
    result.services[:] = [replace(o, template=True) for o in result.services]
    result.ports[:] = [replace(o, template=True) for o in result.ports]
    result.dependencies[:] = [replace(o, template=True) for o in result.dependencies]
    result.variables[:] = [replace(o, template=True) for o in result.variables]
    result.ranges[:] = [replace(o, template=True) for o in result.ranges]
    return result


class _Stated(Protocol):
    @property
    def template(self) -> bool: ...
    @property
    def location(self) -> Location: ...


_T = TypeVar("_T", bound=_Stated)


def real_counterparts(path: str) -> tuple[str, ...]:
    """The files an example/template file at `path` stands for: in its directory, its name
    without the template words (`.env.example` -> `.env`, `example.env` -> `.env`,
    `compose.sample.yml` -> `compose.yml` or `compose.yaml`); () when `path` is no
    template by its name."""
    folder, name = os.path.split(path)
    words = name.split(".")
    kept = [word for word in words if word.lower() not in TEMPLATE_WORDS]
    if len(kept) == len(words) or not "".join(kept):
        return ()
    names = [".".join(kept)]
    if (words[0].lower() in TEMPLATE_WORDS and kept[0]) or names == ["env"]:
        names.append("." + names[0])  # example.env, env.example -> .env
    suffixes = {"yaml": "yml", "yml": "yaml"}
    names += [
        f"{n[: -len(s)]}{suffixes[s]}" for n in list(names) for s in suffixes if n.endswith(f".{s}")
    ]
    return tuple(os.path.join(folder, n) for n in dict.fromkeys(names))


def without_templates(results: Sequence[SourceResult]) -> list[SourceResult]:
    """`results` without the observations of example/template files (`template=True`)
    whose real counterpart (`real_counterparts`) is among the files read: the real file
    says what runs, the example only shows defaults. A template with no real counterpart
    counts like any other file."""
    files = {os.path.normpath(result.file) for result in results}

    def superseded(at: Location, result: SourceResult) -> bool:
        path = at.file if is_template_name(at.file) else result.file
        return any(os.path.normpath(real) in files for real in real_counterparts(path))

    kept: list[SourceResult] = []
    for result in results:
        if not any(o.template for o in _observations(result)):
            kept.append(result)  # itself, not a copy: a second reading of it can tell it is
            continue

        def real(found: list[_T], result: SourceResult = result) -> list[_T]:
            return [o for o in found if not (o.template and superseded(o.location, result))]

        kept.append(
            replace(
                result,
                services=real(result.services),
                ports=real(result.ports),
                dependencies=real(result.dependencies),
                variables=real(result.variables),
                ranges=real(result.ranges),
            )
        )
    return kept


def _observations(result: SourceResult) -> Iterator[_Stated]:
    yield from result.services
    yield from result.ports
    yield from result.dependencies
    yield from result.variables
    yield from result.ranges


def read_text(path: str, result: SourceResult) -> str | None:
    """The UTF-8 text of the file at `path`; None, with the reason added to `result`'s
    errors, when it cannot be read or is not UTF-8."""
    try:
        return safe_read(path).decode("utf-8")
    except (UnreadableFile, UnicodeDecodeError) as exc:
        result.errors.append(unread(failed_at(path, exc), reason(exc)))
        return None


def failed_at(path: str, exc: BaseException) -> Location:
    """Where reading `path` failed: the line and column of the first byte that could not
    be decoded, else the file itself."""
    if isinstance(exc, UnicodeDecodeError) and isinstance(exc.object, bytes):
        data, start = exc.object, exc.start
        line_start = data.rfind(b"\n", 0, start) + 1
        column = len(data[line_start:start].decode(exc.encoding, "replace")) + 1
        return Location(path, data.count(b"\n", 0, start) + 1, column)
    return Location(path)


def reason(exc: BaseException) -> str:
    """Why reading failed, in words that quote nothing of the file: an OS error's text,
    where bytes are not UTF-8, a portplan parser's own message (which quotes no value);
    of any other error only its kind (its message may quote what it failed on)."""
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    if isinstance(exc, UnicodeDecodeError):
        return f"not {exc.encoding.upper()} text"
    if isinstance(exc, RecursionError):
        return "too deeply nested"
    if isinstance(exc, PortplanError):
        what = getattr(exc, "what", None)
        return what if isinstance(what, str) else str(exc)
    return f"unexpected {type(exc).__name__}"


def at_offset(path: str, text: str, offset: int) -> Location:
    """Where `text[offset]` is in the file `path` (line and column from 1; for many offsets
    of one text, `portplan.sources.code.base.Lines`)."""
    line_start = text.rfind("\n", 0, offset) + 1
    return Location(path, text.count("\n", 0, offset) + 1, offset - line_start + 1)


def inside(at: Location, text: str | None, value: str, offset: int) -> Location:
    """Where `value[offset]` is, for a value written at `at` on the line `text` (quoted or
    not): when the line spells the value up to `offset` there, or ends with the rest of it
    from `offset` on (`redis://:${PASSWORD}@redis:6379/0`); else `at` itself (the value was
    escaped or folded, so no column inside it can be trusted)."""
    if text is None or not at.column:
        return at
    start = at.column - 1
    if text[start : start + 1] in ('"', "'"):
        start += 1
    if text[start : start + offset] == value[:offset]:
        return Location(at.file, at.line, start + offset + 1)
    rest, line = value[offset:], text.rstrip().rstrip("\"'")
    if rest and line.endswith(rest) and len(line) - len(rest) >= start:
        return Location(at.file, at.line, len(line) - len(rest) + 1)
    return at


def published_exposure(address: str | None) -> Exposure:
    """Who reaches a port published on the host at `address`: all interfaces -> public, a
    loopback address -> local, a private one -> internal, any other -> public."""
    if address is None or address in WILDCARD_ADDRESSES:
        return Exposure.PUBLIC
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return Exposure.PUBLIC
    if ip.is_loopback:
        return Exposure.LOCAL
    return Exposure.INTERNAL if ip.is_private else Exposure.PUBLIC


@dataclass(slots=True)
class SourceResult:
    """Everything one file says."""

    file: str
    kind: str
    services: list[ServiceObservation] = field(default_factory=list)
    ports: list[PortObservation] = field(default_factory=list)
    dependencies: list[DependencyObservation] = field(default_factory=list)
    variables: list[VariableObservation] = field(default_factory=list)
    ranges: list[RangeObservation] = field(default_factory=list)
    errors: list[SourceError] = field(default_factory=list)
    mismatches: list[Mismatch] = field(default_factory=list)
    includes: list[str] = field(default_factory=list)  # compose: the files `include:` read
    # Addresses on the host machine whose service the file does not name (a README's
    # `curl localhost:8080`): references reconcile resolves by who publishes the port.
    addresses: list[PortObservation] = field(default_factory=list)
    # compose: example file -> the missing file it stands in for (`env.example` for `.env`)
    stand_ins: dict[str, str] = field(default_factory=dict)
    merged: list[str] = field(default_factory=list)  # compose: the project's other files
    # A document: the compose files its first `docker compose -f FILE` command names, as
    # written (`portplan.sources.compose_cli`): the project it describes.
    compose_files: list[str] = field(default_factory=list)
    # A file that belongs to one service (a Dockerfile, a proxy or monitoring config): the
    # service its observations name until the compose file that builds or mounts it says
    # which one it is (`portplan.sources.homes`): its folder's name.
    owner: str | None = None
    # A Dockerfile whose image runs several programs under a process supervisor
    # (supervisord, s6-overlay): an all-in-one image, a deployment of its own.
    all_in_one: bool = False

    def extend(self, other: SourceResult) -> None:
        self.services.extend(other.services)
        self.ports.extend(other.ports)
        self.dependencies.extend(other.dependencies)
        self.variables.extend(other.variables)
        self.ranges.extend(other.ranges)
        self.errors.extend(other.errors)
        self.mismatches.extend(other.mismatches)
        self.addresses.extend(other.addresses)
