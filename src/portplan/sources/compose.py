"""docker compose files as observations, merged the way compose merges a project.

A project is one or more files (`compose.yaml` + `compose.override.yaml`, `-f a -f b`),
merged as the compose specification says: `ports` and `expose` of later files are added
(an entry equal to one of an earlier file is the same entry), `env_file` is appended;
`environment`, `depends_on`, `networks` (lists or maps) and `healthcheck` are merged key
by key, the later file winning; `network_mode` and `image` are replaced. `!reset` removes
what the earlier files said, `!override` replaces it. Values are interpolated as compose
does, from the process environment first and then from the project's `.env`
(`portplan.compose.load_environment`); a `${VAR}` nothing sets becomes a
`VariableObservation(sets=False)`.

Every port form of the compose specification is read by `portplan.compose.parse_ports`.
Each becomes a `PortObservation` at the column of its number (the published one when
there is one): published ports carry the host address, protocol, target, `range_end` (for
`8000-8010:80`) and an exposure (all interfaces: public; loopback: local; a private
address: internal); unpublished ones (`"80"`, `expose`) are internal. With
`network_mode: host` compose discards `ports` mappings: the container's own port is the
one used on the host. A long-syntax port without `name` is named by its `app_protocol`
(`http`, `grpc`...). A healthcheck that calls `http://localhost:8080/...` states port 8080
of its service, and its path and port are the service's health check. `image` is recorded.

No error quotes the file: each says what is wrong and where (the text may hold a secret).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from portplan import yamlload
from portplan.compose import (
    DotenvError,
    InterpolationError,
    PortConfig,
    PortSyntaxError,
    load_environment,
    parse_ports,
    substitute,
)
from portplan.compose.ports import number_offset, published_range
from portplan.model import Exposure, Location
from portplan.sources._md_text import app_protocol_name
from portplan.sources.base import (
    DependencyObservation,
    PortObservation,
    ServiceObservation,
    SourceResult,
    VariableObservation,
    inside,
    published_exposure,
    reason,
    unread,
)
from portplan.sources.dotenv import Setting, interpret, parse_dotenv_source
from portplan.yamlload import Mark, YAMLInputError, YMap, YSeq

KIND = "compose"
HEALTH_URL: Final = re.compile(
    r"\b(?:https?|grpc)://(?:localhost|127\.0\.0\.1|0\.0\.0\.0|\[::1\])"
    r"(?::(?P<port>\d{1,5}))?(?P<path>/[^\s'\"|;&]*)?"
)
_LIST_KEYS: Final = ("ports", "expose", "env_file")
_KEYED_KEYS: Final = ("environment", "depends_on", "networks", "healthcheck")
_SINGLE_KEYS: Final = ("network_mode", "image")
_MERGED: Final = frozenset(_LIST_KEYS + _KEYED_KEYS + _SINGLE_KEYS)
# What each key may hold (the compose specification's schema); anything else is an error.
_SHAPES: Final[dict[str, tuple[type, ...]]] = {
    "ports": (YSeq,),
    "expose": (YSeq,),
    "env_file": (YSeq, str),
    "environment": (YSeq, YMap),
    "depends_on": (YSeq, YMap),
    "networks": (YSeq, YMap),
    "healthcheck": (YMap,),
    "network_mode": (str,),
    "image": (str,),
}
_SHAPE_WORDS: Final[dict[type, str]] = {YSeq: "a list", YMap: "a mapping", str: "a string"}
_RESET, _OVERRIDE = "!reset", "!override"


@dataclass
class _Entry:
    """A value of a service's key, with where it (and its key, for maps) is written."""

    value: Any
    location: Location
    key_location: Location | None = None
    node: Any = None  # the YAML node of a mapping value (its marks), when there is one
    value_offset: int = 0  # `KEY=value` items: where the value starts after the key


@dataclass
class _Service:
    """A service of the merged project: its name's location and the entries of each key."""

    name: str
    location: Location
    lists: dict[str, list[_Entry]] = field(default_factory=dict)  # ports, expose, env_file
    keyed: dict[str, dict[str, _Entry]] = field(default_factory=dict)  # environment, ...
    single: dict[str, _Entry] = field(default_factory=dict)  # network_mode, image


@dataclass
class _Project:
    files: Sequence[str]
    environ: Mapping[str, str]
    result: SourceResult
    services: dict[str, _Service] = field(default_factory=dict)
    lines: dict[str, list[str]] = field(default_factory=dict)  # file -> its lines

    def error(self, location: Location, why: str) -> None:
        """Record that the project could not be read at `location`; `why` must quote no
        value of the file (see `portplan.sources.base.reason`)."""
        self.result.errors.append(unread(location, why))

    def text(self, location: Location) -> str | None:
        """The line `location` is on, when the file was read."""
        lines = self.lines.get(location.file)
        return lines[location.line - 1] if lines and 0 < location.line <= len(lines) else None

    def at(self, location: Location, value: str, offset: int = 0) -> Location:
        """The location of `value[offset]` for a scalar written at `location`."""
        return inside(location, self.text(location), value, offset)

    def tag(self, location: Location) -> str | None:
        """The `!reset` / `!override` tag written at `location`, if any."""
        text = self.text(location)
        rest = text[location.column - 1 :] if text is not None and location.column else ""
        for tag in (_RESET, _OVERRIDE):
            if rest.startswith(tag) and rest[len(tag) : len(tag) + 1] in ("", " ", "\t"):
                return tag
        return None


def read_compose(
    paths: Sequence[str],
    environ: Mapping[str, str] | None = None,
    env_file: str | None = None,
) -> SourceResult:
    """The observations of a compose project made of `paths`, merged in order.

    `environ` defaults to the process environment; `env_file` to the `.env` beside the
    first file (when it exists).
    """
    first = paths[0]
    result = SourceResult(file=first, kind=KIND)
    project = _Project(paths, _project_environment(first, environ, env_file, result), result)
    for path in paths:
        document = _load(path, project)
        if isinstance(document, YMap):
            _merge(document, path, project)
    _observe_all(project)
    return result


def parse_compose(text: str, file: str, environ: Mapping[str, str] | None = None) -> SourceResult:
    """The observations of one compose file's text (no `.env`, no env_file reading)."""
    result = SourceResult(file=file, kind=KIND)
    project = _Project([file], dict(environ or {}), result)
    document = _parse(text, file, project)
    if isinstance(document, YMap):
        _merge(document, file, project)
    _observe_all(project)
    return result


def _project_environment(
    first: str, environ: Mapping[str, str] | None, env_file: str | None, result: SourceResult
) -> Mapping[str, str]:
    base = dict(os.environ if environ is None else environ)
    path = env_file or os.path.join(os.path.dirname(first), ".env")
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except (OSError, UnicodeDecodeError):
        return base
    try:
        return load_environment(text, base)
    except DotenvError as exc:
        result.errors.append(unread(Location(path, exc.line, exc.column), exc.what))
    return base


def _load(path: str, project: _Project) -> Any:
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError as exc:
        project.error(Location(path), reason(exc))
        return None
    return _parse(data, path, project)


def _parse(data: str | bytes, path: str, project: _Project) -> Any:
    try:
        document = yamlload.load(data, path)
    except YAMLInputError as exc:
        project.error(Location(path, exc.line or 0, exc.column or 0), exc.what)
        return None
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    project.lines[path] = text.removeprefix("\ufeff").split("\n")
    if document is not None and not isinstance(document, YMap):
        project.error(Location(path, 1, 1), "expected a mapping at the top level")
    return document


# --- merging ------------------------------------------------------------------------------


def _merge(document: YMap, path: str, project: _Project) -> None:
    services = document.get("services")
    if not isinstance(services, YMap):
        return
    for name, body in services.items():
        where = _at(path, services.key_marks.get(name))
        service = project.services.setdefault(name, _Service(str(name), where))
        if isinstance(body, YMap):
            _merge_service(service, body, path, project)


def _merge_service(service: _Service, body: YMap, path: str, project: _Project) -> None:
    for key in body:
        if key not in _MERGED or not _shaped(service, body, key, path, project):
            continue
        tag = project.tag(_at(path, body.value_marks.get(key)))
        if tag is not None:
            service.lists.pop(key, None)
            service.keyed.pop(key, None)
            service.single.pop(key, None)
            if tag == _RESET:
                continue
        if key in _LIST_KEYS:
            service.lists.setdefault(key, []).extend(_items(body[key], body, key, path))
        elif key in _KEYED_KEYS:
            service.keyed.setdefault(key, {}).update(_pairs(body[key], body, key, path))
        elif key in _SINGLE_KEYS:
            service.single[key] = _Entry(body[key], _at(path, body.value_marks.get(key)))


def _shaped(service: _Service, body: YMap, key: str, path: str, project: _Project) -> bool:
    """Whether `key` holds what it may; if not, one error says what was expected."""
    value, shapes = body[key], _SHAPES[key]
    if value is None or isinstance(value, shapes):
        return True
    expected = " or ".join(_SHAPE_WORDS[shape] for shape in shapes)
    location = project.at(_at(path, body.value_marks.get(key)), "")
    project.error(location, f"services.{service.name}.{key}: expected {expected}")
    return False


def _items(value: Any, parent: YMap, key: str, path: str) -> list[_Entry]:
    """The items of a list, each at its position (a mapping item at its `published` or
    `target` value)."""
    if isinstance(value, YSeq):
        return [
            _Entry(item, _at(path, _item_mark(item, mark)))
            for item, mark in zip(value, value.item_marks, strict=False)
        ]
    if value is None:
        return []
    return [_Entry(value, _at(path, parent.value_marks.get(key)))]


def _item_mark(item: Any, mark: Mark) -> Mark:
    if isinstance(item, YMap):
        for key in ("published", "target", "path"):
            if key in item.value_marks:
                return item.value_marks[key]
    return mark


def _pairs(value: Any, parent: YMap, key: str, path: str) -> dict[str, _Entry]:
    """A map (each value at its position, with its key's), or a list of `KEY=value` /
    `KEY` / names (each at its item)."""
    if isinstance(value, YMap):
        return {
            str(k): _Entry(
                v,
                _at(path, value.value_marks.get(k) or value.key_marks.get(k)),
                _at(path, value.key_marks.get(k)),
                v if isinstance(v, YMap | YSeq) else None,
            )
            for k, v in value.items()
        }
    pairs: dict[str, _Entry] = {}
    for entry in _items(value, parent, key, path):
        if not isinstance(entry.value, str):
            continue  # the specification allows only strings here
        name, sep, rest = entry.value.partition("=")
        if key == "environment":
            text = rest if sep else None
            pairs[name] = _Entry(text, entry.location, entry.location, None, len(name) + 1)
        else:
            pairs[entry.value] = _Entry(None, entry.location, entry.location)
    return pairs


def _at(path: str, mark: Mark | None) -> Location:
    return Location(path, mark.line, mark.column) if mark else Location(path)


# --- observations -------------------------------------------------------------------------


def _observe_all(project: _Project) -> None:
    for service in project.services.values():
        _observe(service, project)


def _observe(service: _Service, project: _Project) -> None:
    networks = tuple(service.keyed.get("networks", {}))
    health_path, health_port = _healthcheck(service, project)
    project.result.services.append(
        ServiceObservation(
            service.name,
            service.location,
            KIND,
            networks=networks,
            health_path=health_path,
            health_port=health_port,
            project=project.files[0],
            image=_single(service, "image", project),
        )
    )
    for key, reader in _READERS.items():
        if key in service.lists or key in service.keyed:
            reader(service, project)


def _text(value: Any, location: Location, service: str, project: _Project) -> str | None:
    """`value` as interpolated text; None (and a SourceError) when interpolation fails."""
    if value is None:
        return None
    if not isinstance(value, str):
        return _scalar(value)

    def unset(name: str) -> None:
        found = re.search(rf"\$\{{?{re.escape(name)}\b", value)
        where = project.at(location, value, found.start() if found else 0)
        project.result.variables.append(VariableObservation(service, name, where, KIND, sets=False))

    try:
        return substitute(value, project.environ.get, on_unset=unset)
    except InterpolationError as exc:
        project.error(project.at(location, value, exc.offset), str(exc))
        return None


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _interpolated(value: Any, location: Location, service: str, project: _Project) -> Any:
    if isinstance(value, Mapping):
        return {k: _interpolated(v, location, service, project) for k, v in value.items()}
    if isinstance(value, str):
        return _text(value, location, service, project)
    return value


def _ports(service: _Service, project: _Project) -> None:
    host_mode = _network_mode(service, project) == "host"
    seen: dict[tuple[object, ...], str] = {}
    for entry in service.lists.get("ports", ()):
        value = _interpolated(entry.value, entry.location, service.name, project)
        if value is None:
            continue
        try:
            configs = parse_ports(value)
            for config in configs:
                published_range(config)
        except PortSyntaxError as exc:
            project.error(entry.location, f"services.{service.name}.ports: {exc}")
            continue
        location = _port_location(entry, project, host_mode)
        for config in configs:
            key = (config.host_ip, config.published, config.target, config.protocol)
            if seen.setdefault(key, location.file) != location.file:
                continue  # the same entry in a later file of the project
            port = _port(service.name, config, location, host_mode)
            project.result.ports.append(port)


def _port_location(entry: _Entry, project: _Project, host_mode: bool) -> Location:
    """Where the port's number is: the published one, or the target when nothing is
    published or the service uses the host's network."""
    raw = entry.value
    if isinstance(raw, YMap) and host_mode and "target" in raw.value_marks:
        return project.at(_at(entry.location.file, raw.value_marks["target"]), "")
    if not isinstance(raw, str) or "$" in raw:
        return project.at(entry.location, raw if isinstance(raw, str) else "")
    offset = raw.rfind(":") + 1 if host_mode else number_offset(raw)
    return project.at(entry.location, raw, offset)


def _port(service: str, config: PortConfig, location: Location, host: bool) -> PortObservation:
    name = config.name or app_protocol_name(config.app_protocol)
    common: dict[str, Any] = {"port_name": name, "protocol": config.protocol}
    if host:  # compose discards the mapping: the container's port is the host's
        return PortObservation(
            service, config.target, location, KIND, published=True, target=config.target, **common
        )
    if config.published is None or published_range(config) == (0, 0):  # 0: any free port
        return PortObservation(
            service,
            config.target,
            location,
            KIND,
            address=config.host_ip,
            published=False,
            target=config.target,
            exposure=Exposure.INTERNAL,
            **common,
        )
    start, end = published_range(config) or (0, 0)
    return PortObservation(
        service,
        start,
        location,
        KIND,
        address=config.host_ip,
        published=True,
        target=config.target,
        exposure=published_exposure(config.host_ip),
        range_end=end if end != start else None,
        **common,
    )


def _expose(service: _Service, project: _Project) -> None:
    host_mode = _network_mode(service, project) == "host"
    seen: set[str] = set()
    for entry in service.lists.get("expose", ()):
        text = _text(entry.value, entry.location, service.name, project)
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


def _network_mode(service: _Service, project: _Project) -> str | None:
    return _single(service, "network_mode", project)


def _single(service: _Service, key: str, project: _Project) -> str | None:
    """The interpolated text of a key that holds one string (network_mode, image)."""
    entry = service.single.get(key)
    return None if entry is None else _text(entry.value, entry.location, service.name, project)


def _depends_on(service: _Service, project: _Project) -> None:
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


def _service_environment(service: _Service, project: _Project) -> None:
    for name, entry in service.keyed.get("environment", {}).items():
        template = None if entry.value is None else _scalar(entry.value)
        value = _text(entry.value, entry.location, service.name, project)
        if entry.value is None:
            value = project.environ.get(name)
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
        )
        interpret(setting, project.result)


def _env_files(service: _Service, project: _Project) -> None:
    base = os.path.dirname(project.files[0])
    seen: set[str] = set()
    for entry in service.lists.get("env_file", ()):
        path, required = _env_file_spec(entry.value)
        text = _text(path, entry.location, service.name, project)
        if not text or text in seen:
            continue
        seen.add(text)
        full = os.path.join(base, text)
        try:
            with open(full, encoding="utf-8") as stream:
                content = stream.read()
        except (OSError, UnicodeDecodeError) as exc:
            if required:
                project.error(project.at(entry.location, text), f"env_file {text}: {reason(exc)}")
            continue
        project.result.extend(parse_dotenv_source(content, full, owner=service.name))


def _env_file_spec(value: Any) -> tuple[Any, bool]:
    if isinstance(value, Mapping):
        return value.get("path"), value.get("required", True) is not False
    return value, True


def _healthcheck(service: _Service, project: _Project) -> tuple[str | None, int | None]:
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
        where = _at(test.location.file, mark) if mark else test.location
        url = _health_url(service.name, _scalar(word), where, project)
        found = found if found[0] else url
    return found


def _health_url(
    service: str, word: str, where: Location, project: _Project
) -> tuple[str | None, int | None]:
    found = HEALTH_URL.search(word)
    if found is None:
        return None, None
    port = int(found.group("port")) if found.group("port") else None
    if port is not None and 0 < port <= 65535:
        location = project.at(where, word, found.start("port"))
        project.result.ports.append(
            PortObservation(service, port, location, KIND, published=False, target=port)
        )
    else:
        port = None
    return found.group("path") or "/", port


_READERS: Final[dict[str, Callable[[_Service, _Project], None]]] = {
    "ports": _ports,
    "expose": _expose,
    "depends_on": _depends_on,
    "environment": _service_environment,
    "env_file": _env_files,
}


def is_compose_name(name: str) -> bool:
    """compose*.y(a)ml and docker-compose*.y(a)ml."""
    lower = name.lower()
    return lower.endswith((".yaml", ".yml")) and lower.startswith(("compose", "docker-compose"))


def project_groups(names: Sequence[str]) -> list[list[str]]:
    """Compose files of one directory grouped into projects: a base file and its override
    (`compose.yaml` + `compose.override.yaml` or `.yml`) form one project; every other file
    is its own.
    """
    groups: list[list[str]] = []
    rest = sorted(names)
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
