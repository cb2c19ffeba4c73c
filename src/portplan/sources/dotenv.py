"""`.env` files (compose dialect) as observations.

Values are read with `portplan.compose.parse_dotenv` (quotes, escapes, `export`, comments,
multi-line values, interpolation from the file's own keys). Then each variable is
interpreted by its name and value, the way the Markdown env blocks are
(`portplan.sources.markdown.env`):

- `<PREFIX>_PORT=8081` is a port of the service the prefix names (`TOKEN_ENGINE_PORT` ->
  "TOKEN_ENGINE"; `TOKEN_ENGINE_GRPC_PORT` -> "TOKEN_ENGINE", port "grpc"; a bare
  `HTTP_PORT` belongs to the file's owner, if it has one);
- an URL in any value (`scheme://host:port/...`) is a port of the service it reaches (by
  host when it names a service known where the file is read: a compose project's service,
  a cluster's Service; else by scheme for databases, else by host when it is a name, else
  by the variable's prefix) and, when the file has an owner, a dependency on it;
- `<PREFIX>_ADDR` / `_ADDRESS` / `_HOST` / `_ENDPOINT`... holding `host:port` are read the
  same way.

A variable is located at its name, a port at its digits, a dependency at the value. The
observations of an example file (`.env.example`, `.env.sample`, `.env.template`,
`.env.dist`, `example.env`) are marked `template`: it shows defaults, not what runs.
Secret-named variables and URLs holding a password become `secret=True` observations
whose value is never kept. `interpret` is shared with the compose (`environment:`) and
Kubernetes (`env:`) sources.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from typing import Final

from portplan.compose import DotenvError, parse_dotenv
from portplan.files import BINARY, UnreadableFile, nul_position, safe_read
from portplan.model import Location, normalize_name
from portplan.names import (
    LOCAL_HOSTS,
    SCHEME_SERVICES,
    URL,
    Url,
    is_address_variable,
    is_bind_address,
    is_caller_list,
    is_host_machine,
    is_local_host,
    on_host_machine,
    parse_url,
    prefix_service,
    reference_side,
    url_service,
    variable_protocol,
)
from portplan.sources.base import (
    DependencyObservation,
    PortObservation,
    SourceError,
    SourceResult,
    VariableObservation,
    as_template,
    failed_at,
    inside,
    is_template_name,
    reason,
    unread,
)
from portplan.sources.markdown.env import is_secret, port_owner, secret_in
from portplan.sources.markdown.text import PORT_KINDS, url_port_name

KIND = "dotenv"
ENV_URL = "env-url"
MAX_PORT: Final = 65535
_PORT_VAR: Final = re.compile(r"^(?:(?P<prefix>[\w.-]*?)_+)?PORT$", re.IGNORECASE)
_ADDRESS_VAR: Final = re.compile(
    r"(?:^|_)(?:URL|URI|ADDR|ADDRESS|ENDPOINTS?|HOSTS?|DSN|BROKERS?|SERVERS?)$", re.IGNORECASE
)
_HOST_PORT: Final = re.compile(
    r"(?<![\w.:/@-])(?P<host>\[[0-9A-Fa-f:.]*\]|[\w.-]*):(?P<port>\d{1,5})(?![\w.:])"
)
# An URL of a value as written whose port is a variable: `://${HOST}:${COLLECTOR_PORT_GRPC}`.
_TEMPLATE_URL_PORT: Final = re.compile(r"://[^/\s\"'@]*?:\$\{?(\w+)")
_EXPORT: Final = re.compile(r"[ \t]*(?:export[ \t]+)?")
_SEPARATOR: Final = re.compile(r"[ \t]*[=:][ \t]*")


@dataclass(frozen=True, slots=True)
class Setting:
    """One variable: who sets it, its name and value, and where they are written.

    `location` is the value's (the name's when there is no value); `name_location` the
    name's when it differs. `text` is the line the value starts on, so that a port can be
    pointed at inside it; `template` the value as written, before interpolation (a
    reference such as `${JWT_SECRET}` is not a secret, whatever it resolves to).
    `services` are the names of the services known where it is read (its compose
    project's, its cluster's Services), as `known_names` keys them: an URL whose host is
    one of them reaches it. `shared`: other services read the same file (a stack's common
    `env_file`), so a port variable that does not name its owner (`HTTP_PORT`, `APP_PORT`)
    is no port of the owner: it is a setting of the stack (often the proxy's published port).
    """

    owner: str | None
    name: str
    value: str | None
    location: Location
    source: str
    name_location: Location | None = None
    text: str | None = None
    template: str | None = None
    services: frozenset[str] = frozenset()
    shared: bool = False

    def at(self, offset: int) -> Location:
        """The location of `value[offset]` (the value's own when it cannot be told)."""
        return inside(self.location, self.text, self.value or "", offset)


def read_dotenv(path: str, owner: str | None = None) -> SourceResult:
    """The observations of the `.env` file at `path`; unreadable files give a SourceError."""
    try:
        text = safe_read(path).decode("utf-8")
    except (UnreadableFile, UnicodeDecodeError) as exc:
        return _failed(path, exc)
    nul = nul_position(text)
    if nul is not None:
        result = SourceResult(file=path, kind=KIND)
        result.errors.append(unread(Location(path, *nul), BINARY))
        return result
    result = parse_dotenv_source(text, path, owner)
    if result.errors and not _dotenv_by_name(path):
        # `permanent_data.env` with `LIST[((i++))]=...`: a shell script an image sources,
        # not compose's `.env` (compose reports an `env_file:` it cannot read itself)
        return SourceResult(file=path, kind=KIND)
    if _for_tests(path):
        # `.test.env`, `.env.e2e`: the addresses a test run uses (its own ports, often
        # moved off the running stack's), not what the system runs
        result.ports.clear()
        result.dependencies.clear()
    return result


# Words of an env file's name that make it a test run's (`.test.env`, `.env.test`,
# `.e2e.env`, `.test.ci.env`, `test.env`).
_TEST_WORDS: Final = frozenset({"test", "tests", "testing", "e2e", "integration", "ci"})


def _dotenv_by_name(path: str) -> bool:
    """Whether the file is compose's `.env` or a variant of it by its name (`.env`,
    `.env.local`), not only a file whose name ends in `.env`."""
    name = os.path.basename(path).lower()
    return name == ".env" or name.startswith(".env.")


def _for_tests(path: str) -> bool:
    """Whether an env file is a test run's by its name (see `_TEST_WORDS`)."""
    name = os.path.basename(path).lower()
    return bool(_TEST_WORDS.intersection(re.split(r"[._-]", name)))


def _failed(path: str, exc: Exception) -> SourceResult:
    result = SourceResult(file=path, kind=KIND)
    result.errors.append(unread(failed_at(path, exc), reason(exc)))
    return result


def parse_dotenv_source(
    text: str,
    file: str,
    owner: str | None = None,
    services: frozenset[str] = frozenset(),
    *,
    shared: bool = False,
) -> SourceResult:
    """The observations of `.env` text; interpolation uses only the file's own keys.
    `services` are the names known where it is read (see `Setting`); `shared`, that other
    services read the file too (see `Setting`)."""
    result = SourceResult(file=file, kind=KIND)
    try:
        parsed = parse_dotenv(text)
        written = parse_dotenv(text, expand=False).values
    except DotenvError as exc:
        result.errors.append(unread(Location(file, exc.line, exc.column), exc.what))
        return result
    lines = text.removeprefix("\ufeff").split("\n")
    for name, value in parsed.values.items():
        number = parsed.lines.get(name, 0)
        line = lines[number - 1] if 0 < number <= len(lines) else ""
        name_at, value_at = _columns(line, name)
        setting = Setting(
            owner,
            name,
            value,
            Location(file, number, value_at),
            KIND,
            name_location=Location(file, number, name_at),
            text=line,
            template=written.get(name),
            services=services,
            shared=shared,
        )
        interpret(setting, result)
    return as_template(result) if is_template_name(file) else result


def _columns(line: str, name: str) -> tuple[int, int]:
    """1-based columns of `name` and of the value after it in a `[export] NAME=value` line."""
    lead = _EXPORT.match(line)
    start = lead.end() if lead else 0
    if not line.startswith(name, start):
        start = max(line.find(name), 0)
    separator = _SEPARATOR.match(line, start + len(name))
    return start + 1, (separator.end() if separator else start + len(name)) + 1


def interpret(setting: Setting, result: SourceResult) -> None:
    """Add what one variable says (variable, ports, dependencies) to `result`."""
    written = setting.value if setting.template is None else setting.template
    found = secret_in(setting.name, written)
    secret = found is not None
    hidden = secret or (written != setting.value and is_secret(setting.name, setting.value))
    result.variables.append(
        VariableObservation(
            setting.owner,
            setting.name,
            setting.name_location or setting.location,
            setting.source,
            value=None if hidden else setting.value,
            secret=secret,
            credential=found is not None and found.credential,
        )
    )
    if setting.value is None:
        return
    _port_variable(setting, setting.value, result)
    _addresses(setting, setting.value, result)
    _agent_ports(setting, setting.value, result)
    _pair(setting, result)


# A JVM agent that serves metrics on a port of the program it is loaded into:
# `-javaagent:/opt/jmx_prometheus_javaagent-0.15.0.jar=1234:/etc/exporter.yml` ([host:]port:config).
_METRICS_AGENT: Final = re.compile(
    r"-javaagent:\S*?(?:jmx|prometheus|exporter)\S*?\.jar=(?:[\w.-]+:)?(?P<port>\d{1,5}):",
    re.IGNORECASE,
)


def _agent_ports(setting: Setting, value: str, result: SourceResult) -> None:
    """The port a metrics agent named in a service's JVM options listens on (its own)."""
    if setting.owner is None:
        return
    for found in _METRICS_AGENT.finditer(value):
        _port(
            setting, setting.owner, int(found.group("port")), "metrics", found.start("port"), result
        )


_HOST_VARIABLE: Final = re.compile(
    r"^(?P<prefix>[A-Za-z0-9_]+?)_+(?:HOST|HOSTNAME|ADDRESS|ADDR|SERVER)$", re.IGNORECASE
)
_PLAIN_HOST: Final = re.compile(r"[A-Za-z0-9](?:[\w.-]*[A-Za-z0-9])?")


def _pair(setting: Setting, result: SourceResult) -> None:
    """`<P>_HOST=db` and `<P>_PORT=3306` of one owner are one reference, `db:3306`, not a
    port of a service named P: the port is rewritten when the second of the two is read
    (in either order)."""
    name, value = setting.name, (setting.value or "").strip()
    host_of = _HOST_VARIABLE.match(name)
    if host_of is not None and _PLAIN_HOST.fullmatch(value):
        stem = name[: host_of.end("prefix")]
        _rewrite(result, setting, stem, value)
    elif (port_of := _PORT_VAR.match(name)) is not None and port_of.group("prefix"):
        stem = name[: port_of.end("prefix")]
        host = _paired_host(result, setting.owner, stem)
        if host is not None:
            _rewrite(result, setting, stem, host)


def _paired_host(result: SourceResult, owner: str | None, stem: str) -> str | None:
    for variable in reversed(result.variables):
        found = _HOST_VARIABLE.match(variable.name)
        same = found is not None and variable.name[: found.end("prefix")] == stem
        if same and variable.service == owner and _PLAIN_HOST.fullmatch(variable.value or ""):
            return variable.value
    return None


def _rewrite(result: SourceResult, setting: Setting, stem: str, host: str) -> None:
    """The port `<stem>_PORT` read in `setting`'s file as a reference to `host`; a bind
    address (`ENVOY_ADDR=0.0.0.0` beside `ENVOY_PORT=8080`) is where the port listens: it
    stays a port of its own, no reference."""
    if is_bind_address(host):
        return
    for index, port in enumerate(result.ports):
        found = _PORT_VAR.match(port.variable or "")
        if found is None or port.reference or port.location.file != setting.location.file:
            continue
        if (port.variable or "")[: found.end("prefix")] != stem:
            continue
        own = setting.owner is not None and port.service == setting.owner
        if own and is_host_machine(host):
            return  # KAFKA_JMX_HOSTNAME=localhost beside the owner's own KAFKA_JMX_PORT
        target = host if not is_host_machine(host) else port.service
        result.ports[index] = replace(
            port,
            service=target,
            port_name=None,
            reference=True,
            owner=setting.owner,
            host=host,
            side=reference_side(host),
        )
        if not _on_host(setting, host):
            _depends(setting, target, 0, result)
        return


def _port_variable(setting: Setting, value: str, result: SourceResult) -> None:
    found = _PORT_VAR.match(setting.name)
    digits = value.strip()
    if found is None or not digits.isdigit():
        return
    prefix = found.group("prefix") or ""
    service, port_name = port_owner(prefix, setting.owner)
    if setting.shared and service == setting.owner and not _names_owner(prefix, service):
        return
    if service is not None:
        offset = len(value) - len(value.lstrip())
        _port(setting, service, int(digits), port_name, offset, result)


def _names_owner(prefix: str, owner: str | None) -> bool:
    """Whether the prefix of a port variable starts with its owner's first word
    (`CSMM_PORT` of csmm-web, not `HTTP_PORT` of django)."""
    words = re.findall(r"[a-z0-9]+", (owner or "").lower())
    return bool(words) and prefix.lower().split("_")[0] == words[0]


def _port(
    setting: Setting,
    service: str,
    number: int,
    port_name: str | None,
    offset: int,
    result: SourceResult,
    host: str | None = None,
) -> None:
    """A port of `service` set by `setting`; with `host`, a reference to it (a URL or
    `host:port` written at `host`) that `setting.owner` makes."""
    location = setting.at(offset)
    if not 1 <= number <= MAX_PORT:
        message = f"{setting.name}: expected a port 1-{MAX_PORT}, got a number out of that range"
        result.errors.append(SourceError(location, message))
        return
    observation = PortObservation(
        service,
        number,
        location,
        setting.source,
        port_name=port_name,
        protocol=variable_protocol(setting.name),
        variable=setting.name,
    )
    own = (
        host is not None
        and setting.owner is not None
        and normalize_name(host) == normalize_name(setting.owner)
    )
    if host is not None and not is_bind_address(host) and not own:
        observation = replace(
            observation, reference=True, owner=setting.owner, host=host, side=reference_side(host)
        )
    result.ports.append(observation)


def _addresses(setting: Setting, value: str, result: SourceResult) -> None:
    if is_caller_list(setting.name):
        return  # `CORS_ALLOWED_ORIGINS=http://localhost:3000`: where callers are
    urls = list(_urls(value))
    kinds = _port_variable_kinds(setting.template or "", len(urls))
    for (start, url), by_variable in zip(urls, kinds, strict=True):
        target, kind = _url_target(url, setting)
        if target is not None and url.port is not None:
            offset = start + url.port_offset
            name = by_variable or url_port_name(url) or kind
            _port(setting, target, url.port, name, offset, result, url.host or "")
        if not _on_host(setting, url.host):
            _depends(setting, target, start, result)
    if urls or not (_ADDRESS_VAR.search(setting.name) or is_address_variable(setting.name)):
        return
    for match in _HOST_PORT.finditer(value):
        host = match.group("host").strip("[]")
        target, kind = (host, None) if host and not is_local_host(host) else _local(setting)
        if is_bind_address(host) and target != setting.owner:
            # SITE_ADDRESS=:80: where whoever reads it listens (the owner, when its prefix
            # names the owner or only a kind: METRICS_ADDR=:9464), never a service SITE
            continue
        if target is not None:
            port, offset = int(match.group("port")), match.start("port")
            _port(setting, target, port, kind, offset, result, host)
        if not _on_host(setting, host):
            _depends(setting, target, match.start(), result)


def _on_host(setting: Setting, host: str | None) -> bool:
    """Whether an address reaches the host machine rather than another service:
    `host.docker.internal`, a bind address, and in a container's environment (compose,
    Kubernetes, an `env_file` a compose project reads: one with `services` known) also
    `localhost` or an IP address (the container itself, or a URL given to a browser): no
    dependency."""
    if on_host_machine(host) or is_bind_address(host):
        return True
    in_container = setting.source != KIND or bool(setting.services)
    return in_container and is_host_machine(host)


def _port_variable_kinds(template: str, count: int) -> list[str | None]:
    """The kind of port each of the `count` URLs of a value is, by the variable its
    template takes the port from, when that names one: the gRPC port of
    `http://${COLLECTOR_HOST}:${COLLECTOR_PORT_GRPC}` (OTLP over gRPC is written http://)
    whatever the scheme says; None where it names none or the URLs cannot be told apart."""
    found = _TEMPLATE_URL_PORT.findall(template)
    if len(found) != count:
        return [None] * count
    return [_variable_kind(name) for name in found]


def _variable_kind(name: str) -> str | None:
    """`X_PORT_GRPC`, `X_GRPC_PORT` -> grpc: the word beside PORT, if it is a port kind."""
    words = name.upper().split("_")
    if "PORT" not in words:
        return None
    at = words.index("PORT")
    beside = [words[i] for i in (at + 1, at - 1) if 0 <= i < len(words)]
    return next((PORT_KINDS[w.lower()] for w in beside if w.lower() in PORT_KINDS), None)


def _urls(value: str) -> Iterator[tuple[int, Url]]:
    """Every URL in `value`, with the index it starts at."""
    for match in URL.finditer(value):
        url = parse_url(match.group())
        if url is not None:
            yield match.start(), url


def _url_target(url: Url, setting: Setting) -> tuple[str | None, str | None]:
    """(service, port name) an URL reaches: the service its host names when that is one
    known where it is read (`postgres://app@db:5432` in a compose project with a service
    `db`: db, not the product of the scheme); else by scheme (postgresql -> postgres),
    else by host when it is a name, else as a local address."""
    if is_bind_address(url.host):  # ASPNETCORE_URLS=http://+:80: where the owner listens
        return setting.owner, None
    known = _known(url.host, setting.services)
    if known is not None:
        return known, None
    if url.scheme.split("+")[0] in SCHEME_SERVICES or not is_local_host(url.host):
        return url_service(url, setting.name), None
    return _local(setting)


def known_names(names: Iterable[str]) -> frozenset[str]:
    """The keys of service names as `Setting.services` holds them (letter case and
    separators aside)."""
    return frozenset(normalize_name(name) for name in names)


def _known(host: str | None, services: frozenset[str]) -> str | None:
    """The host as written, when it names one of `services` (`known_names`); never a
    local address."""
    if not services or host is None or is_local_host(host):
        return None
    return host if normalize_name(host) in services else None


def _local(setting: Setting) -> tuple[str | None, str | None]:
    """(service, port name) of a local address held by a variable: the service its prefix
    names (`TOKEN_ENGINE_URL` -> TOKEN_ENGINE, `DATABASE_URL` -> postgres), or the
    owner's own port when the prefix only names a kind (`METRICS_ADDR=:9464`) or nothing."""
    prefix = prefix_service(setting.name)
    if prefix is None:
        return setting.owner, None
    return port_owner(prefix, setting.owner)


def _depends(setting: Setting, target: str | None, offset: int, result: SourceResult) -> None:
    owner = setting.owner
    if target is None or not owner or normalize_name(owner) == normalize_name(target):
        return
    result.dependencies.append(
        DependencyObservation(owner, target, setting.at(offset), setting.source, via=ENV_URL)
    )


def address_of(name: str, value: str) -> tuple[str, int | None, str | None] | None:
    """(service, port, port name) the first address in the value of `name` reaches, or None."""
    probe = SourceResult(file="", kind=KIND)
    _addresses(Setting(None, name, value, Location(""), KIND), value, probe)
    if probe.ports:
        port = probe.ports[0]
        return port.service, port.number, port.port_name
    match = URL.search(value)
    url = parse_url(match.group()) if match else None
    target = url_service(url, name) if url else None
    return (target, None, url_port_name(url)) if url and target else None


_GENERIC_STEMS: Final = frozenset(
    {"", "env", "local", "dev", "development", "prod", "production", "test", "staging",
     "example", "sample", "defaults", "default", "common", "shared", "base", "ports",
     "service-ports", "services", "config", "docker", "compose", "template", "variables",
     "vars", "stack", "settings", "global", "globals"}
)  # fmt: skip


def owner_of(path: str) -> str | None:
    """The service a `<name>.env` file belongs to (`token-engine.env`), else None."""
    base = os.path.basename(path)
    if base.startswith(".env") or not base.endswith(".env"):
        return None
    stem = base[: -len(".env")]
    return None if stem.lower() in _GENERIC_STEMS else stem


__all__ = [
    "KIND",
    "LOCAL_HOSTS",
    "PORT_KINDS",
    "SCHEME_SERVICES",
    "Setting",
    "address_of",
    "interpret",
    "known_names",
    "owner_of",
    "parse_dotenv_source",
    "port_owner",
    "read_dotenv",
]
