"""docker compose files as observations, merged the way compose merges a project.

A project is one or more files (`compose.yaml` + `compose.override.yaml`, `-f a -f b`):
services of later files extend earlier ones (ports, expose, depends_on and networks are
united; environment, network_mode and healthcheck are overridden key by key). Values are
interpolated like compose does, from the process environment first and then from the
project's `.env` (`portplan.compose.load_environment`); a `${VAR}` nothing sets becomes a
`VariableObservation(sets=False)`.

Every port form of the compose specification is read by `portplan.compose.parse_ports`;
each becomes a `PortObservation` at the line of its entry: published ports carry the host
address, protocol, target and (for `8000-8010:80`) `range_end`; unpublished ones (`"80"`,
`expose`) have `published=False` unless the service runs with `network_mode: host`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from portplan import yamlload
from portplan.compose import (
    InterpolationError,
    PortConfig,
    PortSyntaxError,
    load_environment,
    parse_ports,
    substitute,
)
from portplan.model import Location
from portplan.sources.base import (
    DependencyObservation,
    PortObservation,
    ServiceObservation,
    SourceError,
    SourceResult,
    VariableObservation,
)
from portplan.sources.dotenv import Setting, interpret, parse_dotenv_source
from portplan.yamlload import Mark, YAMLInputError, YMap, YSeq

KIND = "compose"
_URL_WORDS: Final = ("http://", "https://")


@dataclass
class _Entry:
    """A value of a service's key, with the file and position it was read at."""

    value: Any
    location: Location


@dataclass
class _Service:
    """A service of the merged project: its name's location and the entries of each key."""

    name: str
    location: Location
    lists: dict[str, list[_Entry]] = field(default_factory=dict)  # ports, expose, ...
    keyed: dict[str, dict[str, _Entry]] = field(default_factory=dict)  # environment, ...
    single: dict[str, _Entry] = field(default_factory=dict)  # network_mode, healthcheck


@dataclass
class _Project:
    files: Sequence[str]
    environ: Mapping[str, str]
    result: SourceResult
    services: dict[str, _Service] = field(default_factory=dict)

    def error(self, location: Location, why: str) -> None:
        self.result.errors.append(SourceError(location, f"could not read {location}: {why}"))


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
    for service in project.services.values():
        _observe(service, project)
    return result


def parse_compose(text: str, file: str, environ: Mapping[str, str] | None = None) -> SourceResult:
    """The observations of one compose file's text (no `.env`, no env_file reading)."""
    result = SourceResult(file=file, kind=KIND)
    project = _Project([file], dict(environ or {}), result)
    document = _parse(text, file, project)
    if isinstance(document, YMap):
        _merge(document, file, project)
    for service in project.services.values():
        _observe(service, project)
    return result


def _project_environment(
    first: str, environ: Mapping[str, str] | None, env_file: str | None, result: SourceResult
) -> Mapping[str, str]:
    base = dict(os.environ if environ is None else environ)
    path = env_file or os.path.join(os.path.dirname(first), ".env")
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except OSError:
        return base
    try:
        return load_environment(text, base)
    except InterpolationError as exc:
        result.errors.append(SourceError(Location(path), f"could not read {path}: {exc}"))
    except ValueError as exc:  # DotenvError
        line = getattr(exc, "line", 0)
        result.errors.append(SourceError(Location(path, line), f"could not read {path}: {exc}"))
    return base


def _load(path: str, project: _Project) -> Any:
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except OSError as exc:
        project.error(Location(path), exc.strerror or str(exc))
        return None
    return _parse(data, path, project)


def _parse(data: str | bytes, path: str, project: _Project) -> Any:
    try:
        document = yamlload.load(data, path)
    except YAMLInputError as exc:
        project.error(Location(path, exc.line or 0, exc.column or 0), exc.what)
        return None
    if document is not None and not isinstance(document, YMap):
        project.error(Location(path, 1), "expected a mapping at the top level")
    return document


# --- merging ------------------------------------------------------------------------------

_LIST_KEYS: Final = ("ports", "expose", "depends_on", "networks", "env_file")
_KEYED_KEYS: Final = ("environment",)
_SINGLE_KEYS: Final = ("network_mode", "healthcheck")


def _merge(document: YMap, path: str, project: _Project) -> None:
    services = document.get("services")
    if not isinstance(services, YMap):
        return
    for name, body in services.items():
        where = _at(path, services.key_marks.get(name))
        service = project.services.setdefault(name, _Service(str(name), where))
        if isinstance(body, YMap):
            _merge_service(service, body, path)


def _merge_service(service: _Service, body: YMap, path: str) -> None:
    for key in _LIST_KEYS:
        if key in body:
            service.lists.setdefault(key, []).extend(_items(body[key], body, key, path))
    for key in _KEYED_KEYS:
        if key in body:
            service.keyed.setdefault(key, {}).update(_pairs(body[key], body, key, path))
    for key in _SINGLE_KEYS:
        if key in body:
            service.single[key] = _Entry(body[key], _at(path, body.value_marks.get(key)))


def _items(value: Any, parent: YMap, key: str, path: str) -> list[_Entry]:
    """The items of a list (each at its line) or the keys of a map (depends_on, networks)."""
    if isinstance(value, YSeq):
        return [
            _Entry(item, _at(path, mark))
            for item, mark in zip(value, value.item_marks, strict=False)
        ]
    if isinstance(value, YMap):
        return [_Entry(k, _at(path, value.key_marks.get(k))) for k in value]
    if value is None:
        return []
    return [_Entry(value, _at(path, parent.value_marks.get(key)))]


def _pairs(value: Any, parent: YMap, key: str, path: str) -> dict[str, _Entry]:
    """environment as a map or as a list of `KEY=value` / `KEY`."""
    if isinstance(value, YMap):
        return {
            str(k): _Entry(v, _at(path, value.value_marks.get(k) or value.key_marks.get(k)))
            for k, v in value.items()
        }
    pairs: dict[str, _Entry] = {}
    for entry in _items(value, parent, key, path):
        text = str(entry.value)
        name, sep, rest = text.partition("=")
        pairs[name] = _Entry(rest if sep else None, entry.location)
    return pairs


def _at(path: str, mark: Mark | None) -> Location:
    return Location(path, mark.line, mark.column) if mark else Location(path)


# --- observations -------------------------------------------------------------------------


def _observe(service: _Service, project: _Project) -> None:
    networks = tuple(str(e.value) for e in service.lists.get("networks", ()))
    health = _health_path(service, project)
    project.result.services.append(
        ServiceObservation(
            service.name, service.location, KIND, networks=networks, health_path=health
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
        project.result.variables.append(
            VariableObservation(service, name, location, KIND, sets=False)
        )

    try:
        return substitute(value, project.environ.get, on_unset=unset)
    except InterpolationError as exc:
        project.error(location, str(exc))
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
    for entry in service.lists.get("ports", ()):
        value = _interpolated(entry.value, entry.location, service.name, project)
        if value is None:
            continue
        try:
            configs = parse_ports(value)
        except PortSyntaxError as exc:
            project.error(entry.location, f"services.{service.name}.ports: {exc}")
            continue
        for config in configs:
            project.result.ports.append(_port(service.name, config, entry.location, host_mode))


def _port(service: str, config: PortConfig, location: Location, host: bool) -> PortObservation:
    if config.published is None:
        return PortObservation(
            service,
            config.target,
            location,
            KIND,
            port_name=config.name,
            protocol=config.protocol,
            address=config.host_ip,
            published=host,
            target=config.target,
        )
    start, _, end = config.published.partition("-")
    return PortObservation(
        service,
        int(start),
        location,
        KIND,
        port_name=config.name,
        protocol=config.protocol,
        address=config.host_ip,
        published=True,
        target=config.target,
        range_end=int(end) if end and int(end) != int(start) else None,
    )


def _expose(service: _Service, project: _Project) -> None:
    host_mode = _network_mode(service, project) == "host"
    for entry in service.lists.get("expose", ()):
        text = _text(entry.value, entry.location, service.name, project)
        if text is None:
            continue
        number, _, protocol = text.partition("/")
        start, _, end = number.partition("-")
        if not start.isdigit() or not 0 < int(start) <= 65535:
            project.error(entry.location, f"services.{service.name}.expose: invalid port {text}")
            continue
        project.result.ports.append(
            PortObservation(
                service.name,
                int(start),
                entry.location,
                KIND,
                protocol=protocol or "tcp",
                published=host_mode,
                target=int(start),
                range_end=int(end) if end.isdigit() and int(end) != int(start) else None,
            )
        )


def _network_mode(service: _Service, project: _Project) -> str | None:
    entry = service.single.get("network_mode")
    return None if entry is None else _text(entry.value, entry.location, service.name, project)


def _depends_on(service: _Service, project: _Project) -> None:
    for entry in service.lists.get("depends_on", ()):
        target = _text(entry.value, entry.location, service.name, project)
        if target:
            project.result.dependencies.append(
                DependencyObservation(service.name, target, entry.location, KIND, "depends_on")
            )


def _service_environment(service: _Service, project: _Project) -> None:
    for name, entry in service.keyed.get("environment", {}).items():
        value = _text(entry.value, entry.location, service.name, project)
        if value is None and entry.value is None:
            value = project.environ.get(name)
        interpret(Setting(service.name, name, value, entry.location, KIND), project.result)


def _env_files(service: _Service, project: _Project) -> None:
    base = os.path.dirname(project.files[0])
    for entry in service.lists.get("env_file", ()):
        path, required = _env_file_spec(entry.value)
        text = _text(path, entry.location, service.name, project)
        if not text:
            continue
        full = os.path.join(base, text)
        try:
            with open(full, encoding="utf-8") as stream:
                content = stream.read()
        except OSError as exc:
            if required:
                project.error(entry.location, f"env_file {text}: {exc.strerror or exc}")
            continue
        project.result.extend(parse_dotenv_source(content, full, owner=service.name))


def _env_file_spec(value: Any) -> tuple[Any, bool]:
    if isinstance(value, Mapping):
        return value.get("path"), value.get("required", True) is not False
    return value, True


def _health_path(service: _Service, project: _Project) -> str | None:
    entry = service.single.get("healthcheck")
    if entry is None or not isinstance(entry.value, Mapping):
        return None
    test = entry.value.get("test")
    words = test if isinstance(test, list) else str(test or "").split()
    for word in words:
        text = str(word)
        for scheme in _URL_WORDS:
            at = text.find(scheme)
            if at >= 0:
                rest = text[at + len(scheme) :]
                slash = rest.find("/")
                return rest[slash:] if slash >= 0 else "/"
    return None


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
    (`compose.yaml` + `compose.override.yaml`) form one project; every other file is its own.
    """
    groups: list[list[str]] = []
    rest = sorted(names)
    for name in list(rest):
        stem, _, ext = name.rpartition(".")
        override = f"{stem}.override.{ext}"
        if ".override." not in name and override in rest:
            groups.append([name, override])
            rest.remove(name)
            rest.remove(override)
    groups.extend([name] for name in rest)
    return sorted(groups)
