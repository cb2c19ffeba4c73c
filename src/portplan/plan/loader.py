"""Find and read `portplan.yaml` (with its includes) into a `Topology`.

Two stages, as pre-commit does: `schema.validate` checks shapes and names (stage 1);
this module turns the checked document into model records that keep their locations.
Semantic problems (conflicts, ranges...) are the rules' business, not the loader's.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from portplan.collector import paused
from portplan.errors import InputError, NotFoundError
from portplan.files import UnreadableFile, safe_read
from portplan.model import (
    Dependency,
    EnvVar,
    Exposure,
    Health,
    Host,
    Latency,
    Location,
    Network,
    Port,
    PortRange,
    RangePolicy,
    Reservation,
    Resources,
    RunSpec,
    Service,
    Status,
    Throughput,
    Topology,
    Zone,
)
from portplan.plan import schema
from portplan.plan.run_section import check_listen, run_spec
from portplan.yamlio import load as yamlload
from portplan.yamlio.load import Mark, YMap, YSeq
from portplan.yamlio.tree import (
    COLUMN_MASK,
    ROW_SHIFT,
    item_mark,
    item_positions,
    key_mark,
    key_positions,
    value_mark,
    value_positions,
)

FILENAMES = ("portplan.yaml", "portplan.yml")
DEFAULT_HOST = "default"
MAX_INCLUDE_DEPTH = 16

# A port's kind defaults from its name; unknown names are their own kind.
KIND_BY_NAME = {
    "web": "http",
    "api": "http",
    "websocket": "ws",
    "wss": "ws",
    "postgres": "postgresql",
    "pg": "postgresql",
    "prom": "metrics",
    "prometheus": "metrics",
}


def discover(start: Path | None = None) -> Path | None:
    """`portplan.yaml` in `start` (default: the current folder) or its nearest parent,
    relative to the current folder (`portplan.yaml`, `../portplan.yaml`): findings, SARIF
    and GitHub annotations then name it as a path of the repository, not of one machine."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        for name in FILENAMES:
            path = candidate / name
            if path.is_file():
                return _relative(path)
    return None


def _relative(path: Path) -> Path:
    try:
        return Path(os.path.relpath(path))
    except ValueError:  # another drive (Windows)
        return path


def load(path: str | os.PathLike[str] | None = None, env: str | None = None) -> Topology:
    """Read a plan and everything it includes; discover it when `path` is None.

    `env` names an overlay of its `environments:` section (dev, staging, prod...) to apply.
    """
    found = Path(path) if path is not None else discover()
    if found is None:
        raise NotFoundError("no portplan.yaml in this folder or any parent; give one with -f FILE")
    with paused():  # parsing and building: allocations only (portplan.collector)
        return _Loader(env).load(found)


def load_text(text: str, file: str = "portplan.yaml", env: str | None = None) -> Topology:
    """Read a topology from text (no includes are followed); `env` as for `load`."""
    with paused():
        document = _parse(text, file)
        if env is not None:
            document = apply_environment(document, env, file)
        return _build(document, file, ())


def _parse(data: str | bytes, file: str) -> YMap:
    document = yamlload.load(data, file)
    if document is None:
        raise InputError(file, 1, 1, "the file is empty; expected a mapping with 'services'")
    schema.validate(document, file)
    assert isinstance(document, YMap)
    return document


@dataclass
class _Loader:
    """Follows includes depth-first, refusing cycles."""

    env: str | None = None

    def load(self, path: Path) -> Topology:
        return self._load(path, (), DEFAULT_HOST, None)

    def _load(
        self, path: Path, stack: tuple[_Step, ...], host: str, at: _Include | None
    ) -> Topology:
        """`host`: the including file's default host, for a file that names none; `at`: the
        `include:` entry that names this file (None for the plan itself)."""
        shown = _display(path)
        resolved = _resolved(path, shown, at)
        if at is not None:
            _check_nesting(resolved, shown, stack, at)
        data = _read(path, shown, at)
        document = _parse(data, shown)
        if self.env is not None and (not stack or self.env in _environments(document)):
            document = apply_environment(document, self.env, shown)
        names = tuple(n for n, _ in _items(document, "include"))
        main = _build(document, shown, names, host)
        here = (*stack, _Step(resolved, shown))
        included = [
            self._load(
                _include_path(path, name, mark, shown),
                here,
                main.default_host,
                _Include(shown, name, mark),
            )
            for name, mark in _items(document, "include")
        ]
        return _merge(main, included)


def _environments(document: YMap) -> dict[str, Any]:
    section = document.get("environments")
    return section if isinstance(section, dict) else {}


def apply_environment(document: YMap, name: str, file: str) -> YMap:
    """`document` with the overlay `environments.<name>` merged over it, checked again.

    Mappings merge key by key (a service's ports, hosts, defaults); other values replace
    (lists such as depends_on included). A port's short form overlays its number only.
    """
    overlays = _environments(document)
    if name not in overlays:
        known = ", ".join(sorted(overlays)) or "none are declared"
        mark = document.key_marks.get("environments")
        line, column = (mark.line, mark.column) if mark else (None, None)
        raise InputError(file, line, column, f"no environment {name!r} (environments: {known})")
    overlay = overlays[name] or {}
    _check_overlay_names(document, overlay, name, file)
    merged = _merge_map(document, {k: v for k, v in overlay.items() if k != "description"})
    schema.validate(merged, file)
    return merged


def _check_overlay_names(document: YMap, overlay: Mapping[str, Any], env: str, file: str) -> None:
    """An overlay changes the plan's services and ports; it adds none (a name it does not
    know is a typo that would otherwise become a new service silently)."""
    services = document.get("services") or {}
    for service, changes, mark in _named(overlay.get("services")):
        if service.startswith(schema.EXTENSION_PREFIX):
            continue
        if service not in services:
            raise _unknown_name(file, mark, env, f"service {service!r}", service, services)
        ports = (services[service] or {}).get("ports") or {}
        for port, _, port_mark in _named((changes or {}).get("ports")):
            if port not in ports:
                what = f"port {port!r} of service {service!r}"
                raise _unknown_name(file, port_mark, env, what, port, ports)


def _named(section: object) -> list[tuple[str, Any, Mark | None]]:
    if not isinstance(section, dict):
        return []
    marks = section.key_marks if isinstance(section, YMap) else {}
    return [(key, value, marks.get(key)) for key, value in section.items()]


def _unknown_name(
    file: str, mark: Mark | None, env: str, what: str, name: str, known: Iterable[str]
) -> InputError:
    import difflib  # for a message only

    near = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    line, column = (mark.line, mark.column) if mark else (None, None)
    text = f"environment {env!r} names {what}, which the plan does not define{hint}"
    return InputError(file, line, column, text)


def _merge_map(base: YMap, over: Mapping[str, Any], path: tuple[str, ...] = ()) -> YMap:
    result = _copy_map(base)
    marks = over.value_marks if isinstance(over, YMap) else {}
    for key, value in over.items():
        if key in result:
            found = (marks.get(key), result.value_marks.get(key))
            value = _merge_value(result[key], value, (*path, key), found)
        result[key] = value
        if key in marks:
            result.value_marks[key] = marks[key]
        if isinstance(over, YMap) and key in over.key_marks:
            result.key_marks.setdefault(key, over.key_marks[key])
    return result


def _merge_value(
    base: Any, over: Any, path: tuple[str, ...], marks: tuple[Mark | None, Mark | None]
) -> Any:
    is_port = len(path) == 4 and path[0] == "services" and path[2] == "ports"
    if is_port and isinstance(base, dict) and not isinstance(over, dict):
        over = _as_ymap({"port": over}, marks[0])
    elif is_port and isinstance(over, dict) and not isinstance(base, dict):
        number, protocol = schema.parse_short_port(base)
        base = _as_ymap({"port": number, "protocol": protocol}, marks[1])
    if isinstance(base, dict) and isinstance(over, dict):
        return _merge_map(base if isinstance(base, YMap) else _as_ymap(base, None), over, path)
    return over


def _copy_map(base: YMap) -> YMap:
    result = YMap(base)
    result.mark = base.mark
    result.key_marks = dict(base.key_marks)
    result.value_marks = dict(base.value_marks)
    return result


def _as_ymap(value: Mapping[str, Any], mark: Mark | None) -> YMap:
    """A located mapping for a value that had none; its values sit at `mark` if given."""
    result = YMap(value)
    result.mark = mark or Mark(0, 0)
    result.key_marks = {}
    result.value_marks = {key: mark for key in value} if mark else {}
    return result


@dataclass(frozen=True)
class _Step:
    """A file on the chain of includes: where it is, and its name as shown."""

    resolved: Path
    shown: str


@dataclass(frozen=True)
class _Include:
    """An `include:` entry: the including file (as shown), the name it gives, its mark."""

    file: str
    name: str
    mark: Mark

    def error(self, what: str) -> InputError:
        return InputError(self.file, self.mark.line, self.mark.column, what)


def _resolved(path: Path, shown: str, at: _Include | None) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):  # Python 3.11 raises RuntimeError on a loop
        if at is not None:
            raise at.error(f"include {_include_name(at.name)}: a loop of symbolic links") from None
        raise InputError(shown, None, None, "a loop of symbolic links") from None


def _check_nesting(resolved: Path, shown: str, stack: tuple[_Step, ...], at: _Include) -> None:
    if any(step.resolved == resolved for step in stack):
        start = next(i for i, step in enumerate(stack) if step.resolved == resolved)
        chain = " -> ".join([*(step.shown for step in stack[start:]), shown])
        raise at.error(f"include {_include_name(at.name)} closes a cycle: {chain}")
    if len(stack) > MAX_INCLUDE_DEPTH:
        raise at.error(
            f"include {_include_name(at.name)}: includes nest deeper than {MAX_INCLUDE_DEPTH}"
        )


def _read(path: Path, shown: str, at: _Include | None) -> bytes:
    try:
        return safe_read(path)
    except UnreadableFile as exc:
        if at is not None:
            raise at.error(f"include {_include_name(at.name)} {_unreadable(exc)}") from None
        if exc.missing:
            raise NotFoundError(f"{shown}: no such file") from None
        if exc.what.startswith("is "):
            raise InputError(shown, None, None, exc.what) from None
        raise InputError(shown, None, None, f"cannot read: {exc.what}") from None


def _unreadable(exc: UnreadableFile) -> str:
    if exc.missing:
        return "names no file"
    return exc.what if exc.what.startswith("is ") else f"cannot be read: {exc.what}"


def _include_path(path: Path, name: str, mark: Mark, shown: str) -> Path:
    target = path.parent / name
    try:
        target.lstat()
    except OSError:
        raise InputError(
            shown, mark.line, mark.column, f"include: no such file {_include_name(name)}"
        ) from None
    return target


def _include_name(name: str) -> str:
    """An include's name for a message: quoted when it is a plain path, else described by
    its length (`https://ci:TOKEN@host/p.yaml` holds a secret)."""
    # secretscan.detect compiles its patterns: imported for a message only
    from portplan.secretscan.detect import quotable_key, unquoted_key

    return repr(name) if quotable_key(name) else unquoted_key(name)


def _display(path: Path) -> str:
    """The path as the user gave it (includes: joined to the including file's folder)."""
    return str(path)


def _merge(main: Topology, included: list[Topology]) -> Topology:
    if not included:
        return main
    services = dict(main.services)
    owners = {key: main for key in services}
    for other in included:
        for key, service in other.services.items():
            if key in owners:
                first = owners[key]
                if key in services:  # the name's first owner is qualified too
                    services[_qualified(first, key)] = _renamed(services.pop(key), first)
                services[_qualified(other, key)] = _renamed(service, other)
            else:
                services[key] = service
                owners[key] = other
    return replace(
        main,
        services=services,
        hosts={**_union(o.hosts for o in included), **main.hosts},
        zones={**_union(o.zones for o in included), **main.zones},
        networks={**_union(o.networks for o in included), **main.networks},
        ranges=main.ranges + tuple(r for o in included for r in o.ranges),
        reserved=main.reserved + tuple(r for o in included for r in o.reserved),
    )


def _qualified(topology: Topology, name: str) -> str:
    """`system/name`: a service name two included files both use (docs/topology.md)."""
    return f"{topology.system or topology.source}/{name}"


def _renamed(service: Service, owner: Topology) -> Service:
    """Named `system/name`; the bare name stays an alias (the first owner keeps it)."""
    bare = service.name
    aliases = service.aliases if bare in service.aliases else (bare, *service.aliases)
    return replace(service, name=_qualified(owner, bare), aliases=aliases)


def _union(mappings: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for mapping in mappings:
        merged.update(mapping)
    return merged


# ---------------------------------------------------------------------------
# Building model records from a checked document.


@dataclass(frozen=True)
class _Defaults:
    file: str
    host: str
    exposure: Exposure
    protocol: str
    system: str | None
    zones: Mapping[str, Zone]
    run: Mapping[str, Any] | None = None  # defaults.run

    def loc(self, mark: Mark | None) -> Location:
        return Location(self.file, mark.line, mark.column) if mark else Location(self.file)


def _build(doc: YMap, file: str, includes: tuple[str, ...], host: str = DEFAULT_HOST) -> Topology:
    defaults_doc = doc.get("defaults") or {}
    zones = {name: _zone(name, value, loc) for name, value, loc in _entries(doc, "zones", file)}
    defaults = _Defaults(
        file=file,
        host=defaults_doc.get("host", host),
        exposure=Exposure(defaults_doc.get("exposure", "internal")),
        protocol=defaults_doc.get("protocol", "tcp"),
        system=doc.get("system"),
        zones=zones,
        run=defaults_doc.get("run"),
    )
    services = {
        name: _service(name, value, loc, defaults)
        for name, value, loc in _entries(doc, "services", file)
    }
    return Topology(
        source=file,
        system=doc.get("system"),
        description=_text(doc.get("description")),
        hosts={n: _host(n, v, loc) for n, v, loc in _entries(doc, "hosts", file)},
        services=services,
        ranges=tuple(_range_policy(n, v, loc) for n, v, loc in _entries(doc, "ranges", file)),
        reserved=tuple(_reservation(v, defaults.loc(m)) for v, m in _seq(doc, "reserved")),
        zones=zones,
        networks={n: _network(n, v, loc) for n, v, loc in _entries(doc, "networks", file)},
        ephemeral=_range(doc["ephemeral"]) if "ephemeral" in doc else None,
        includes=includes,
        default_host=defaults.host,
    )


def _entries(doc: YMap, key: str, file: str) -> Iterable[tuple[str, Any, Location]]:
    section = doc.get(key)
    if not isinstance(section, dict):
        return ()
    if not isinstance(section, YMap):
        return [
            (name, value if value is not None else {}, Location(file))
            for name, value in section.items()
        ]
    at = key_positions(section)
    if at is not None:  # the fast parser's: each Location made from its position
        return [
            (name, {} if value is None else value, _at(file, at.get(name)))
            for name, value in section.items()
        ]
    return [
        (name, value if value is not None else {}, _loc(file, key_mark(section, name)))
        for name, value in section.items()
    ]


def _at(file: str, position: int | None) -> Location:
    """The Location of a packed position (yamlio.tree.mark_at), made without a Mark."""
    if position is None:  # a key set after parsing, nowhere in the file
        return Location(file)
    return Location(file, (position >> ROW_SHIFT) + 1, (position & COLUMN_MASK) + 1)


def _seq(doc: YMap, key: str) -> list[tuple[Any, Mark | None]]:
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        return [(value, value_mark(doc, key))]
    if not isinstance(value, YSeq):
        return [(item, None) for item in value]
    return [(item, item_mark(value, i)) for i, item in enumerate(value)]


def _items(doc: YMap, key: str) -> list[tuple[str, Mark]]:
    return [(str(v), m or doc.mark) for v, m in _seq(doc, key)]


def _loc(file: str, mark: Mark | None) -> Location:
    return Location(file, mark.line, mark.column) if mark else Location(file)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _range(value: object) -> PortRange:
    return PortRange(*schema.parse_range(value))


def _names(value: YMap, key: str, defaults: _Defaults) -> tuple[Dependency, ...]:
    items = value.get(key)
    at = item_positions(items) if isinstance(items, YSeq) else None
    if at is not None and isinstance(items, YSeq):
        file = defaults.file
        return tuple(Dependency(str(v), _at(file, p)) for v, p in zip(items, at, strict=True))
    return tuple(Dependency(str(v), defaults.loc(m)) for v, m in _seq(value, key))


# The values a plan writes most, to their members without calling the enum (a call is a
# microsecond; a plan of 5,000 services makes 10,000 of them). Other spellings (`Public`)
# go through the enum as before.
_STATUSES: dict[object, Status] = {status.value: status for status in Status}
_EXPOSURES: dict[object, Exposure] = {exposure.value: exposure for exposure in Exposure}


def _service(name: str, doc: YMap, location: Location, defaults: _Defaults) -> Service:
    # Most services state a few of their keys: a key that is absent costs one lookup here,
    # not a call (this runs once per service of a plan of thousands).
    get = doc.get
    zone: str | None = get("zone")
    declared = defaults.zones.get(zone) if zone else None
    exposure = get("exposure") or (declared.exposure.value if declared else None)
    ports = tuple(_port(n, v, loc, defaults) for n, v, loc in _port_entries(doc, defaults))
    run = _run(name, doc, defaults)
    if ports:
        check_listen(name, get("ports"), ports, run, defaults.loc)
    status = get("status", "active")
    purpose = get("purpose", get("description"))
    resources = get("resources")
    throughput = get("throughput")
    return Service(
        name=name,
        host=get("host", defaults.host),
        system=defaults.system,
        aliases=() if get("aliases") is None else tuple(str(a) for a, _ in _seq(doc, "aliases")),
        purpose=None if purpose is None else str(purpose),
        category=get("category"),
        status=_STATUSES.get(status) or Status(str(status).lower()),
        phase=_text(get("phase")),
        technology=_text(get("technology")),
        image=get("image"),
        zone=zone,
        exposure=(_EXPOSURES.get(exposure) or Exposure(exposure.lower()))
        if exposure
        else defaults.exposure,
        networks=() if get("networks") is None else tuple(str(n) for n, _ in _seq(doc, "networks")),
        ports=ports if get("latency") is None else _with_service_latency(ports, doc),
        depends_on=() if get("depends_on") is None else _names(doc, "depends_on", defaults),
        environment=() if get("environment") is None else _environment(doc, defaults),
        resources=None if resources is None else _resources(resources),
        throughput=None if throughput is None else _throughput(throughput),
        location=location,
        run=run,
    )


def _run(name: str, doc: YMap, defaults: _Defaults) -> RunSpec | None:
    if "run" not in doc and not (defaults.run and "command" in defaults.run):
        return None  # what run_spec says, without making its arguments (most services)
    depends_on = tuple(str(d) for d, _ in _seq(doc, "depends_on"))
    return run_spec(doc, defaults.run, defaults.loc, depends_on, f"services.{name}.run")


def _port_entries(doc: YMap, defaults: _Defaults) -> list[tuple[str, Any, Location]]:
    """Ports with the location of their number (short form) or mapping (long form)."""
    section = doc.get("ports")
    if not isinstance(section, YMap):
        return []
    at = value_positions(section)
    if at is not None:
        file = defaults.file
        return [(n, v, _at(file, at.get(n))) for n, v in section.items()]
    return [(n, v, defaults.loc(value_mark(section, n))) for n, v in section.items()]


def _with_service_latency(ports: tuple[Port, ...], doc: YMap) -> tuple[Port, ...]:
    """A service-level latency budget belongs to its first port's health check."""
    latency = _latency(doc.get("latency"))
    if latency is None or not ports:
        return ports
    first = ports[0]
    health = first.health or Health(kind="tcp", location=first.location)
    if health.latency is None:
        first = replace(first, health=replace(health, latency=latency))
    return (first, *ports[1:])


def _kind(name: str) -> str:
    """A port's kind by its name (`web` -> http), remembered: a plan repeats a few names."""
    kind = _KINDS.get(name)
    if kind is None:
        lower = name.lower()
        kind = KIND_BY_NAME.get(lower, lower)
        if len(_KINDS) < 4096:  # bounded: names beyond it are worked out each time
            _KINDS[name] = kind
    return kind


_KINDS: dict[str, str] = {}


def _port(name: str, value: object, location: Location, defaults: _Defaults) -> Port:
    kind = _kind(name)
    if type(value) is int and 0 < value <= 65535:  # the common short form, `http: 8080`
        return Port(name, value, "tcp", kind, location=location)
    if not isinstance(value, dict):
        number, protocol = schema.parse_short_port(value)
        return Port(name=name, number=number, protocol=protocol, kind=kind, location=location)
    doc: YMap = value  # type: ignore[assignment]
    get = doc.get
    port_loc = defaults.loc(value_mark(doc, "port")) if isinstance(doc, YMap) else location
    health_doc = get("health")
    health = None if health_doc is None else _health(health_doc, defaults.loc(_mark(doc, "health")))
    latency = None if get("latency") is None else _latency(get("latency"))
    if latency is not None:
        health = replace(health or Health(kind="tcp", location=port_loc), latency=latency)
    exposure = get("exposure")
    throughput = get("throughput")
    return Port(
        name=name,
        number=doc["port"],
        protocol=get("protocol", defaults.protocol),
        kind=str(doc["kind"]).lower() if "kind" in doc else kind,
        address=get("address"),
        target=get("target"),
        published=get("published", True),
        exposure=(_EXPOSURES.get(exposure) or Exposure(exposure.lower())) if exposure else None,
        env=get("env"),
        health=health,
        metrics_path=get("metrics"),
        throughput=None if throughput is None else _throughput(throughput),
        description=_text(get("description")),
        location=port_loc,
        target_location=defaults.loc(_mark(doc, "target")) if "target" in doc else None,
        listen=str(doc["listen"]).lower() if "listen" in doc else "self",
    )


def _mark(doc: Any, key: str) -> Mark | None:
    return value_mark(doc, key) if isinstance(doc, YMap) else None


def _health(value: object, location: Location) -> Health | None:
    if value is None:
        return None
    if isinstance(value, str):
        return Health(kind="http", path=value, location=location)
    assert isinstance(value, dict)
    timeout = schema.parse_duration_ms(value["timeout"]) if "timeout" in value else 2000.0
    common: dict[str, Any] = {
        "timeout_ms": timeout,
        "latency": _latency(value.get("latency")),
        "location": location,
    }
    if value.get("grpc"):
        service = value["grpc"] if isinstance(value["grpc"], str) else ""
        return Health(kind="grpc", grpc_service=service, **common)
    path = value.get("path", value.get("http"))
    if path is None and value.get("tcp"):
        return Health(kind="tcp", **common)
    return Health(
        kind="http",
        path=path or "/",
        status=value.get("status"),
        expect=value.get("expect"),
        **common,
    )


def _latency(value: object) -> Latency | None:
    if not isinstance(value, dict):
        return None
    return Latency(
        target_ms=schema.parse_duration_ms(value["target"]) if "target" in value else None,
        max_ms=schema.parse_duration_ms(value["max"]) if "max" in value else None,
    )


def _throughput(value: object) -> Throughput | None:
    if not isinstance(value, dict):
        return None
    return Throughput(
        target_rps=schema.parse_rate(value["target"]) if "target" in value else None,
        max_rps=schema.parse_rate(value["max"]) if "max" in value else None,
    )


def _resources(value: object) -> Resources | None:
    if not isinstance(value, dict):
        return None
    return Resources(
        cpu=schema.parse_cpu(value["cpu"]) if "cpu" in value else None,
        memory_mb=schema.parse_size_mb(value["memory"]) if "memory" in value else None,
        storage_gb=schema.parse_size_mb(value["storage"]) / 1024 if "storage" in value else None,
    )


def _environment(doc: YMap, defaults: _Defaults) -> tuple[EnvVar, ...]:
    env = doc.get("environment")
    if isinstance(env, YMap):
        return tuple(
            EnvVar(k, None if v is None else _scalar_text(v), defaults.loc(value_mark(env, k)))
            for k, v in env.items()
        )
    result = []
    for item, mark in _seq(doc, "environment"):
        name, sep, text = str(item).partition("=")
        result.append(EnvVar(name, text if sep else None, defaults.loc(mark)))
    return tuple(result)


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _host(name: str, doc: YMap, location: Location) -> Host:
    return Host(
        name=name,
        address=doc.get("address"),
        description=_text(doc.get("description")),
        ephemeral=_range(doc["ephemeral"]) if "ephemeral" in doc else None,
        location=location,
    )


def _zone(name: str, doc: YMap, location: Location) -> Zone:
    return Zone(
        name=name,
        exposure=Exposure(doc["exposure"].lower()),
        networks=tuple(str(n) for n, _ in _seq(doc, "networks")),
        description=_text(doc.get("description")),
        location=location,
    )


def _network(name: str, doc: YMap, location: Location) -> Network:
    return Network(name=name, subnet=doc.get("subnet"), zone=doc.get("zone"), location=location)


def _range_policy(name: str, doc: YMap, location: Location) -> RangePolicy:
    return RangePolicy(
        name=name,
        ports=_range(doc["ports"]),
        category=doc.get("category"),
        kind=doc.get("kind"),
        host=doc.get("host"),
        description=_text(doc.get("description")),
        location=location,
    )


def _reservation(value: object, location: Location) -> Reservation:
    if not isinstance(value, dict):
        return Reservation(ports=_range(value), location=location)
    return Reservation(
        ports=_range(value["ports"]),
        reason=_text(value.get("reason")) or "",
        host=value.get("host"),
        future=bool(value.get("future", False)),
        location=location,
    )
