"""docker compose files as observations, merged the way compose merges a project.

A project is one or more files (`compose.yaml` + `compose.override.yaml`, `-f a -f b`),
merged as the compose specification says, with each service's `extends` and each file's
`include` followed (`portplan.sources._compose_project`): `ports` and `expose` of later
files are added (an entry equal to one of an earlier file is the same entry), `env_file`
is appended; `environment`, `depends_on`, `networks` (lists or maps) and `healthcheck` are
merged key by key, the later file winning; `network_mode` and `image` are replaced.
`!reset` removes what the earlier files said, `!override` replaces it. Values are
interpolated as compose does, from the process environment first and then from the
project's `.env` (`portplan.compose.load_environment`; an included project's from its own
env_file under those); a `${VAR}` nothing sets becomes a `VariableObservation(sets=False)`.
An example file (`compose.example.yml`) marks its observations `template`.

Every port form of the compose specification is read by `portplan.compose.parse_ports`.
Each becomes a `PortObservation` at the column of its number (the published one when
there is one): published ports carry the host address, protocol, target, `range_end` (for
`8000-8010:80`) and an exposure (all interfaces: public; loopback: local; a private
address: internal); `expose` ports are unpublished and internal. A port with no host port
(`"80"`, `":80"`, `"127.0.0.1::80"`, `0:80`, long syntax without `published`) is published
on a random host port: `random_host`, at its container port, unpublished (no host port is
fixed) and exposed as its address says (all interfaces: public). With
`network_mode: host` compose discards `ports` mappings: the container's own port is the
one used on the host. A long-syntax port without `name` is named by its `app_protocol`
(`http`, `grpc`...). A healthcheck that calls `http://localhost:8080/...` states port 8080
of its service, and its path and port are the service's health check. `image` is recorded.
The names compose gives a service on its networks (each network's `aliases`,
`container_name`, the alias of another service's `links: [svc:alias]`) are its aliases, and
an URL in an environment naming one reaches that service.

No error quotes the file: each says what is wrong and where (the text may hold a secret).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any, Final

from portplan.compose import (
    InterpolationError,
    MissingRequiredError,
    PortConfig,
    PortSyntaxError,
    parse_ports,
    substitute,
)
from portplan.compose.ports import number_offset, published_range
from portplan.files import UnreadableFile, safe_read
from portplan.findings import Level
from portplan.model import Exposure, Location
from portplan.sources._compose_project import (
    Entry,
    Project,
    Service,
    at_mark,
    load_project,
    parse_project,
    stand_in,
)
from portplan.sources.base import (
    CONTAINER,
    DependencyObservation,
    PortObservation,
    ServiceObservation,
    SourceError,
    SourceResult,
    VariableObservation,
    as_template,
    is_template_name,
    published_exposure,
    reason,
)
from portplan.sources.dotenv import Setting, interpret, known_names, parse_dotenv_source
from portplan.sources.markdown.text import app_protocol_name
from portplan.yamlio.load import YMap, YSeq

KIND = "compose"
HEALTH_URL: Final = re.compile(
    r"\b(?:https?|grpc)://(?P<host>localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])"
    r"(?::(?P<port>\d{1,5}))?(?P<path>/[^\s'\"|;&]*)?"
)


def read_compose(
    paths: Sequence[str],
    environ: Mapping[str, str] | None = None,
    env_file: str | None = None,
) -> SourceResult:
    """The observations of a compose project made of `paths`, merged in order.

    `environ` defaults to the process environment; `env_file` to the `.env` beside the
    first file (when it exists).
    """
    result = SourceResult(file=paths[0], kind=KIND, merged=list(paths[1:]))
    base = dict(os.environ if environ is None else environ)
    _observe_all(load_project(paths, result, base, env_file))
    return as_template(result) if is_template_name(paths[0]) else result


def parse_compose(text: str, file: str, environ: Mapping[str, str] | None = None) -> SourceResult:
    """The observations of one compose file's text (no `.env`; `env_file`, `extends` and
    `include` are read from disk, relative to the file)."""
    result = SourceResult(file=file, kind=KIND)
    _observe_all(parse_project(text, file, dict(environ or {}), result))
    return result


# --- observations -------------------------------------------------------------------------


def _observe_all(project: Project) -> None:
    aliases = _aliases(project)
    # What an URL in an environment may name: the services, by name or alias.
    known = project.known() | known_names(a for names in aliases.values() for a in names)
    project.shared_env = _shared_env_files(project)
    for service in project.services.values():
        _observe(service, project, aliases[service.name], known)
    _missing_env_files(project)


def _aliases(project: Project) -> dict[str, tuple[str, ...]]:
    """service -> the other names compose gives it on its networks: its `container_name`,
    its `hostname`, its `aliases` on each network, then the alias of another service's `links:
    [svc:alias]` (interpolated; its own name left out)."""
    found: dict[str, list[str | None]] = {}
    for service in project.services.values():
        own = found[service.name] = [
            _single(service, "container_name", project),
            _single(service, "hostname", project),
        ]
        for entry in service.keyed.get("networks", {}).values():
            options = entry.value if isinstance(entry.value, Mapping) else {}
            names = options.get("aliases")
            for alias in names if isinstance(names, list) else ():
                own.append(_text(alias, entry, service.name, project))
    for service in project.services.values():
        for entry in service.lists.get("links", ()):
            link = _text(entry.value, entry, service.name, project) or ""
            target, _, alias = link.partition(":")
            if alias and target in found:
                found[target].append(alias)
    return {
        name: tuple(dict.fromkeys(a for a in names if a and a != name))
        for name, names in found.items()
    }


def _observe(
    service: Service, project: Project, aliases: tuple[str, ...], known: frozenset[str]
) -> None:
    networks = tuple(service.keyed.get("networks", {}))
    health_path, health_port = _healthcheck(service, project)
    command, command_at = _command(service, project)
    project.result.services.append(
        ServiceObservation(
            service.name,
            service.location,
            KIND,
            networks=networks,
            aliases=aliases,
            health_path=health_path,
            health_port=health_port,
            project=project.files[0],
            project_name=project.name,
            host_network=_network_mode(service, project) == "host",
            network_of=_network_of(_network_mode(service, project)),
            image=_single(service, "image", project),
            profiles=_profiles(service, project),
            build=_build_file(service, project),
            build_target=_build_target(service, project),
            mounts=_mounts(service, project),
            command=command,
            command_at=command_at,
        )
    )
    for key, reader in _READERS.items():
        if key in service.lists or key in service.keyed:
            reader(service, project)
    if "environment" in service.keyed:
        _service_environment(service, project, known)
    if "env_file" in service.lists:
        _env_files(service, project, known)
    if any(label.startswith("traefik.") for label in service.keyed.get("labels", {})):
        _traefik(service, project)


def _profiles(service: Service, project: Project) -> tuple[str, ...]:
    """The profiles a service runs in (`profiles: [debug]`); () when it always runs."""
    found = (_text(e.value, e, service.name, project) for e in service.lists.get("profiles", ()))
    return tuple(dict.fromkeys(name for name in found if name))


def _text(value: Any, entry: Entry, service: str, project: Project) -> str | None:
    """`value` (of `entry`) as interpolated text, with the variables of the file it is
    written in; None (and a SourceError) when interpolation fails."""
    location = entry.location
    if value is None:
        return None
    if not isinstance(value, str):
        return _scalar(value)

    def unset(name: str) -> None:
        project.unset += 1
        found = re.search(rf"\$\{{?{re.escape(name)}\b", value)
        where = project.at(location, value, found.start() if found else 0)
        project.result.variables.append(VariableObservation(service, name, where, KIND, sets=False))

    try:
        return substitute(value, _environ(entry, project).get, on_unset=unset)
    except MissingRequiredError as exc:
        # `${VAR?message}` unset: compose would refuse to start; the value is left out and
        # the variable is one unset-variable finding (PP207), the rest of the file is read.
        unset(exc.variable)
        return None
    except InterpolationError as exc:
        project.error(project.at(location, value, exc.offset), str(exc))
        return None


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _environ(entry: Entry, project: Project) -> Mapping[str, str]:
    return project.environ if entry.context is None else entry.context.environ


def _interpolated(value: Any, entry: Entry, service: str, project: Project) -> Any:
    if isinstance(value, Mapping):
        return {k: _interpolated(v, entry, service, project) for k, v in value.items()}
    if isinstance(value, str):
        return _text(value, entry, service, project)
    return value


def _ports(service: Service, project: Project) -> None:
    host_mode = _network_mode(service, project) == "host"
    seen: dict[tuple[object, ...], str] = {}
    for entry in service.lists.get("ports", ()):
        unset = project.unset
        value = _interpolated(entry.value, entry, service.name, project)
        if value is None:
            continue
        try:
            configs = parse_ports(value)
            for config in configs:
                published_range(config)
        except PortSyntaxError as exc:
            if project.unset == unset:  # else: the unset variable is the finding (PP207)
                project.error(entry.location, f"services.{service.name}.ports: {exc}")
            continue
        location = _port_location(entry, project, host_mode)
        if any(config.target == 0 for config in configs):  # compose reads it; no port is 0
            project.error(entry.location, f"services.{service.name}.ports: container port 0")
            continue
        configs = _as_range(configs)
        for config in configs:
            key = (config.host_ip, config.published, config.target, config.protocol)
            if seen.setdefault(key, location.file) != location.file:
                continue  # the same entry in a later file of the project
            port = mapped_port(service.name, config, location, host_network=host_mode)
            if port.published and not host_mode:
                port = replace(port, published_variable=published_variable(entry.value))
            project.result.ports.append(port)


WIDE_RANGE: Final = 256  # ports of one `ports` entry read one by one, at most


def _as_range(configs: list[PortConfig]) -> list[PortConfig]:
    """A wide range mapped port to port (`1-65535:1-65535`: compose makes 65,535 ports of
    it) as one port publishing the host range to its first target: the host side is what
    clashes, and 65,535 observations would slow every later stage for nothing."""
    if len(configs) <= WIDE_RANGE or any(c.published is None for c in configs):
        return configs
    ordered = sorted(configs, key=lambda c: c.target)
    first, last = ordered[0], ordered[-1]
    if len({(c.host_ip, c.protocol) for c in configs}) != 1 or not (
        str(first.published).isdigit() and str(last.published).isdigit()
    ):
        return configs
    return [replace(first, published=f"{first.published}-{last.published}")]


_ONE_VARIABLE: Final = re.compile(r"\$(?:(\w+)|\{(\w+)(?:[:?-][^{}$]*)?\})")
_TOP_COLON: Final = re.compile(r"\$\{[^}]*\}|(:)")


def published_variable(raw: Any) -> str | None:
    """The variable a `ports` entry takes its host port from, when that is exactly one
    variable: `$WEB_PORT:80`, `"${WEB_PORT:-8080}:80"`, `127.0.0.1:${WEB_PORT}:80`, long
    syntax `published: ${WEB_PORT}`; None for a number or a mix (`80${N}`)."""
    if isinstance(raw, YMap):
        raw = raw.get("published")
        text = raw if isinstance(raw, str) else None
    elif isinstance(raw, str):
        start = raw.find("]") + 1 if raw.startswith("[") else 0  # [::1]:${WEB_PORT}:80
        colons = [m.start() for m in _TOP_COLON.finditer(raw, start) if m.group(1)]
        first = colons[-2] + 1 if len(colons) > 1 else 0
        text = raw[first : colons[-1]] if colons else None
    else:
        text = None
    found = _ONE_VARIABLE.fullmatch(text.strip()) if text else None
    return (found.group(1) or found.group(2)) if found else None


def _port_location(entry: Entry, project: Project, host_mode: bool) -> Location:
    """Where the port's number is: the published one, or the target when nothing is
    published or the service uses the host's network."""
    raw = entry.value
    if isinstance(raw, YMap) and host_mode and "target" in raw.value_marks:
        return project.at(at_mark(entry.location.file, raw.value_marks["target"]), "")
    if not isinstance(raw, str) or "$" in raw:
        return project.at(entry.location, raw if isinstance(raw, str) else "")
    offset = raw.rfind(":") + 1 if host_mode else number_offset(raw)
    return project.at(entry.location, raw, offset)


def mapped_port(
    service: str,
    config: PortConfig,
    location: Location,
    *,
    source: str = KIND,
    host_network: bool = False,
) -> PortObservation:
    """The observation of a `ports` entry (`portplan.compose.parse_ports`), for compose
    files and the compose blocks of documents alike: published on its host port, or on a
    random one when it names none (`random_host_port`); with `host_network`, compose
    discards the mapping and the container's port is the host's."""
    name = config.name or app_protocol_name(config.app_protocol)
    common: dict[str, Any] = {"port_name": name, "protocol": config.protocol}
    if host_network:
        return PortObservation(
            service, config.target, location, source, published=True, target=config.target,
            **common,
        )  # fmt: skip
    if config.published is None or published_range(config) == (0, 0):  # 0: any free port
        return random_host_port(service, config.target, location, config.host_ip, source, **common)
    start, end = published_range(config) or (0, 0)
    return PortObservation(
        service,
        start,
        location,
        source,
        address=config.host_ip,
        published=True,
        target=config.target,
        exposure=published_exposure(config.host_ip),
        range_end=end if end != start else None,
        **common,
    )


def random_host_port(
    service: str,
    target: int,
    location: Location,
    address: str | None,
    source: str = KIND,
    **common: Any,
) -> PortObservation:
    """A container port compose publishes on a random host port (`"80"`, `":80"`,
    `"127.0.0.1::80"`, `"0:80"`, long syntax without `published`): reachable from the host
    on `address` (all interfaces when None), on no host port anyone can name."""
    return PortObservation(
        service,
        target,
        location,
        source,
        address=address,
        published=False,
        target=target,
        exposure=published_exposure(address),
        random_host=True,
        **common,
    )


def _expose(service: Service, project: Project) -> None:
    host_mode = _network_mode(service, project) == "host"
    seen: set[str] = set()
    for entry in service.lists.get("expose", ()):
        text = _text(entry.value, entry, service.name, project)
        if text is None or text in seen:
            continue
        seen.add(text)
        number, _, protocol = text.partition("/")
        start, dash, end = number.partition("-")
        if not _port_text(start) or (dash and not _port_text(end)):
            what = "expected a port 1-65535 or a range such as 8000-8010, then /tcp or /udp"
            project.error(entry.location, f"services.{service.name}.expose: {what}")
            continue
        project.result.ports.append(
            PortObservation(
                service.name,
                int(start),
                project.at(entry.location, text if isinstance(entry.value, str) else ""),
                KIND,
                protocol=protocol or "tcp",
                published=host_mode,
                target=int(start),
                exposure=None if host_mode else Exposure.INTERNAL,
                range_end=int(end) if end.isdigit() and int(end) != int(start) else None,
            )
        )


def _port_text(text: str) -> bool:
    return text.isascii() and text.isdigit() and 0 < int(text) <= 65535


def _network_of(mode: str | None) -> str | None:
    """The service whose network a `network_mode: service:X` (or `container:X`) joins."""
    if mode is None:
        return None
    kind, _, name = mode.partition(":")
    return name or None if kind in ("service", "container") else None


def _network_mode(service: Service, project: Project) -> str | None:
    return _single(service, "network_mode", project)


def _single(service: Service, key: str, project: Project) -> str | None:
    """The interpolated text of a key that holds one string (network_mode, image)."""
    entry = service.single.get(key)
    return None if entry is None else _text(entry.value, entry, service.name, project)


def _depends_on(service: Service, project: Project) -> None:
    for name, entry in service.keyed.get("depends_on", {}).items():
        options = entry.value if isinstance(entry.value, Mapping) else {}
        required = options.get("required", True) is not False
        where = entry.key_location or entry.location
        project.result.dependencies.append(
            DependencyObservation(
                service.name,
                name,
                project.at(where, name),
                KIND,
                "depends_on",
                required,
                project.files[0],
            )
        )


def _service_environment(service: Service, project: Project, known: frozenset[str]) -> None:
    for name, entry in service.keyed.get("environment", {}).items():
        template = None if entry.value is None else _scalar(entry.value)
        value = _text(entry.value, entry, service.name, project)
        if entry.value is None:
            environ = _environ(entry, project)
            value = environ.get(name)
            if environ is project.environ and name in project.written:
                template = project.written[name]  # `- OTLP_ENDPOINT` from the `.env`'s value
        name_at = project.at(entry.key_location or entry.location, name)
        value_at = entry.location
        if entry.value_offset:  # `KEY=value` in a list: the value follows the name
            value_at = Location(name_at.file, name_at.line, name_at.column + entry.value_offset)
        setting = Setting(
            service.name,
            name,
            value,
            value_at,
            KIND,
            name_location=name_at,
            text=project.text(value_at),
            template=template,
            services=known,
        )
        interpret(setting, project.result)


def _env_file_paths(service: Service, project: Project) -> Iterator[tuple[Entry, str, str, bool]]:
    """Each env_file of `service` once: its entry, the path as written, the path from the
    scan's folder, and whether it is required."""
    seen: set[str] = set()
    for entry in service.lists.get("env_file", ()):
        path, required = _env_file_spec(entry.value)
        text = _text(path, entry, service.name, project)
        base = project.directory if entry.context is None else entry.context.directory
        full = joined_path(base, text or "")
        if text and full not in seen:
            seen.add(full)
            yield entry, text, full, required


def _shared_env_files(project: Project) -> frozenset[str]:
    """The env_files that services running different programs (images or builds) read: a
    stack's common settings, whose `HTTP_PORT` is no port of each reader (it is often the
    one the proxy publishes). A web and a worker of one image share their program's."""
    programs: dict[str, set[str | None]] = {}
    for service in project.services.values():
        program = _single(service, "image", project) or _build_file(service, project)
        for _, _, full, _ in _env_file_paths(service, project):
            programs.setdefault(full, set()).add(program)
    return frozenset(full for full, found in programs.items() if len(found) > 1)


def _env_files(service: Service, project: Project, known: frozenset[str]) -> None:
    for entry, text, full, required in _env_file_paths(service, project):
        shared = full in project.shared_env
        if not os.path.exists(full):
            full = stand_in(full, project.result) or full
        try:
            content = safe_read(full).decode("utf-8")
        except (UnreadableFile, UnicodeDecodeError) as exc:
            if required:
                where = project.at(entry.location, text)
                found = project.missing.setdefault(full, (where, text, reason(exc), []))
                found[3].append(service.name)
            continue
        read = parse_dotenv_source(content, full, service.name, known, shared=shared)
        project.result.extend(read)


def _missing_env_files(project: Project) -> None:
    """One warning per env_file that cannot be read, naming every service that reads it:
    the rest of the project is read (the file is often one each user writes: `stack.env`)."""
    for where, text, why, services in project.missing.values():
        readers = ", ".join(dict.fromkeys(services))
        message = f"env_file {text} of {readers}: {why}; read without it"
        project.result.errors.append(SourceError(where, message, Level.WARNING))


def joined_path(base: str, path: str) -> str:
    """`path` relative to the folder `base`, spelled as a scan of `base` spells its files:
    normalized (`./common.env` under `.` is `./common.env`, not `././common.env`), so that
    one file read twice is one place."""
    found = os.path.normpath(os.path.join(base, path))
    dotted = base == os.curdir or base.startswith(os.curdir + os.sep)
    if dotted and not os.path.isabs(found) and not found.startswith(os.pardir):
        return os.curdir + os.sep + found
    return found


def _env_file_spec(value: Any) -> tuple[Any, bool]:
    if isinstance(value, Mapping):
        return value.get("path"), value.get("required", True) is not False
    return value, True


def _healthcheck(service: Service, project: Project) -> tuple[str | None, int | None]:
    """The path and port a healthcheck's URL calls; the port also becomes an observation
    of the service."""
    health = service.keyed.get("healthcheck", {})
    test, disable = health.get("test"), health.get("disable")
    if test is None or (disable is not None and disable.value is True):
        return None, None
    node = test.node if isinstance(test.node, YSeq) else None
    words = zip(node, node.item_marks, strict=False) if node is not None else [(test.value, None)]
    found: tuple[str | None, int | None] = (None, None)
    for word, mark in words:
        where = at_mark(test.location.file, mark) if mark else test.location
        url = _health_url(service.name, _scalar(word), where, project)
        found = found if found[0] else url
    return found


def _health_url(
    service: str, word: str, where: Location, project: Project
) -> tuple[str | None, int | None]:
    found = HEALTH_URL.search(word)
    if found is None:
        return None, None
    port = int(found.group("port")) if found.group("port") else None
    if port is not None and 0 < port <= 65535:
        location = project.at(where, word, found.start("port"))
        project.result.ports.append(
            PortObservation(
                service,
                port,
                location,
                KIND,
                published=False,
                target=port,
                reference=True,
                owner=service,
                host=found.group("host"),
                side=CONTAINER,
            )
        )
    else:
        port = None
    return found.group("path") or "/", port


def _build_file(service: Service, project: Project) -> str | None:
    """The Dockerfile `build:` builds the service from: `dockerfile` (default `Dockerfile`)
    in the `context` folder; None without a build, for a remote context or an inline one."""
    entry = service.single.get("build")
    if entry is None:
        return None
    spec = entry.value if isinstance(entry.value, Mapping) else {"context": entry.value}
    if "dockerfile_inline" in spec:
        return None
    context = _quiet(str(spec.get("context") or "."), entry, project)
    dockerfile = _quiet(str(spec.get("dockerfile") or "Dockerfile"), entry, project)
    if not context or not dockerfile or _REMOTE.match(context):
        return None
    base = project.directory if entry.context is None else entry.context.directory
    return joined_path(joined_path(base, context), dockerfile)


def _build_target(service: Service, project: Project) -> str | None:
    """The stage `build: {target: X}` builds (None: the Dockerfile's last)."""
    entry = service.single.get("build")
    spec = entry.value if entry is not None else None
    target = spec.get("target") if isinstance(spec, Mapping) else None
    return _quiet(str(target), entry, project) or None if entry and target else None


_REMOTE: Final = re.compile(r"^[a-z][a-z0-9+.-]*://|^git@", re.IGNORECASE)


def _command(service: Service, project: Project) -> tuple[str | None, Location | None]:
    """`entrypoint:` and `command:` as one command line (they replace the image's), with the
    place of the first; a part that cannot be interpolated makes it unknown (None)."""
    words: list[str] = []
    at: Location | None = None
    for key in ("entrypoint", "command"):
        entry = service.single.get(key)
        if entry is None or entry.value is None:
            continue
        at = at or entry.location
        value = entry.value
        parts = [value] if isinstance(value, str) else [str(item) for item in value]
        for part in parts:
            text = _quiet(part, entry, project)
            if text is None:
                return None, None
            words.append(text)
    return (" ".join(words), at) if words else (None, None)


def _mounts(service: Service, project: Project) -> tuple[str, ...]:
    """The host paths `volumes:` bind-mounts into the service (`./nginx.conf:/etc/...`,
    long syntax `type: bind`); named volumes are no files of the project. An entry that
    cannot be interpolated mounts nothing portplan reads (compose reports it)."""
    found: list[str] = []
    for entry in service.lists.get("volumes", ()):
        value = entry.value
        if isinstance(value, Mapping):
            value = value.get("source") if value.get("type") == "bind" else None
        text = _quiet(value, entry, project) if isinstance(value, str) else None
        source = text.split(":", 1)[0] if text and not isinstance(entry.value, Mapping) else text
        if source and source.startswith((".", "/")):
            base = project.directory if entry.context is None else entry.context.directory
            found.append(joined_path(base, source))
    return tuple(found)


def _quiet(value: str, entry: Entry, project: Project) -> str | None:
    """`value` interpolated, None when it cannot be; no finding either way. `$PWD` is the
    project's folder (`build: ${PWD}/config/nginx`): compose is run from there."""
    environ = _environ(entry, project)
    here = os.path.abspath(project.directory if entry.context is None else entry.context.directory)

    def lookup(name: str) -> str | None:
        return here if name == "PWD" else environ.get(name)

    try:
        return substitute(value, lookup, on_unset=lambda name: None)
    except InterpolationError:
        return None


def _traefik(service: Service, project: Project) -> None:
    """The container ports Traefik labels say the service serves on
    (`portplan.sources.traefik`)."""
    from portplan.sources.traefik import label_ports

    for name, entry in service.keyed.get("labels", {}).items():
        if entry.value is None:
            continue
        value = _quiet(_scalar(entry.value), entry, project)
        where = project.at(entry.location, _scalar(entry.value))
        if entry.value_offset:  # `- KEY=value` in a list: the value follows the name
            name_at = project.at(entry.key_location or entry.location, name)
            where = Location(name_at.file, name_at.line, name_at.column + entry.value_offset)
        if value is not None:
            project.result.ports.extend(label_ports(service.name, name, value, where))


_READERS: Final[dict[str, Callable[[Service, Project], None]]] = {
    "ports": _ports,
    "expose": _expose,
    "depends_on": _depends_on,
}


def is_compose_name(name: str) -> bool:
    """compose*.y(a)ml and docker-compose*.y(a)ml."""
    lower = name.lower()
    return lower.endswith((".yaml", ".yml")) and lower.startswith(("compose", "docker-compose"))


DEFAULT_FILES: Final = ("compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml")
DEFAULT_OVERRIDES: Final = (
    "compose.override.yaml", "compose.override.yml",
    "docker-compose.override.yaml", "docker-compose.override.yml",
)  # fmt: skip


def project_groups(names: Sequence[str]) -> list[list[str]]:
    """Compose files of one directory grouped into projects: a base file and its override
    (`x.yaml` + `x.override.yaml` or `.yml`) form one project, and so do the file `docker
    compose up` finds by default (`compose.yaml`, `compose.yml`, `docker-compose.yaml`,
    `docker-compose.yml`, the first there) and the default override it reads with it (the
    first of `compose.override.yaml`... `docker-compose.override.yml`) whatever their
    spellings; every other file is its own.
    """
    groups: list[list[str]] = []
    rest = sorted(names)
    base = next((n for n in DEFAULT_FILES if n in rest), None)
    default_override = next((n for n in DEFAULT_OVERRIDES if n in rest), None)
    if base is not None and default_override is not None:
        groups.append([base, default_override])
        rest.remove(base)
        rest.remove(default_override)
    for name in list(rest):
        stem, _, _ = name.rpartition(".")
        if ".override." in name or name not in rest:
            continue
        for ext in ("yaml", "yml"):
            override = f"{stem}.override.{ext}"
            if override in rest:
                groups.append([name, override])
                rest.remove(name)
                rest.remove(override)
                break
    groups.extend([name] for name in rest)
    return sorted(groups)


_DEFINING: Final = ("image", "build", "extends")


def with_overrides_by_content(
    directory: str, groups: list[list[str]], read: Callable[[str], bytes | None]
) -> list[list[str]]:
    """`groups` (`project_groups` of one folder) with the one file that overrides the
    folder's default project by its content joined to it (`docker compose -f
    docker-compose.yml -f docker-compose.without-nginx.yml`): a file whose services are all
    services the default project runs (with an `image`, `build` or `extends`) and none of
    which says what to run: it only adds to them (ports, environment). Of several such files none is
    joined (they are alternatives, each read on its own), nor when the default file has its
    default override already (`compose.prod.yaml` beside `compose.override.yaml` is used
    instead of it). `read` gives a file's text, None when it cannot be read whole."""
    base = next((group for group in groups if group[0] in DEFAULT_FILES), None)
    if base is None or len(base) > 1:  # with its default override, another is an alternative
        return groups
    if not any(len(g) == 1 and g is not base and not is_template_name(g[0]) for g in groups):
        return groups  # nothing to join (the usual folder): the files are not read twice
    defined: set[str] = set()
    for name in base:
        services = _services_of(read, os.path.join(directory, name))
        if services is None:
            return groups
        defined.update(str(key) for key, body in services.items() if _runs(body))
    found = [
        group
        for group in groups
        if len(group) == 1
        and group is not base
        and not is_template_name(group[0])  # an example shows the project, it adds nothing
        and _adds_only(read, directory, group[0], defined)
    ]
    if len(found) != 1:
        return groups
    rest = [group for group in groups if group is not base and group is not found[0]]
    return sorted([[*base, found[0][0]], *rest])


def _adds_only(
    read: Callable[[str], bytes | None], directory: str, name: str, defined: set[str]
) -> bool:
    services = _services_of(read, os.path.join(directory, name))
    if not services:
        return False
    bodies = list(services.values())
    return {str(key) for key in services} <= defined and all(
        isinstance(body, Mapping) and not _runs(body) for body in bodies
    )


def _runs(body: Any) -> bool:
    """Whether a service's body says what to run (`image`, `build`, `extends`)."""
    return isinstance(body, Mapping) and any(key in body for key in _DEFINING)


def _services_of(read: Callable[[str], bytes | None], path: str) -> Mapping[Any, Any] | None:
    """The `services:` mapping of a compose file, None when it cannot be read or parsed."""
    from portplan.yamlio import load as yamlload
    from portplan.yamlio.load import YAMLInputError

    data = read(path)
    if data is None:
        return None
    try:
        document = yamlload.load(data, path)
    except YAMLInputError:
        return None
    services = document.get("services") if isinstance(document, Mapping) else None
    return services if isinstance(services, Mapping) else None
