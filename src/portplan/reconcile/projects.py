"""Compose projects: a compose file's service names belong to its project.

A project is the directory of its compose files, named by their top-level `name:` when
they set one, else (as compose names it) by the directory, and docker names a service's
containers `<project>-<service>-1`. So `app` of `services/billing/compose.yaml` is the
plan's `billing-app` when the plan has it (`portplan import` writes one service per
project when several projects define one name: `portplan.importer.sources`), or
`payments-app` when that file says `name: payments`, and so is `APP` of a `.env` in that
directory.
"""

from __future__ import annotations

import os
import re
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import replace
from typing import Final

from portplan.model import Topology, normalize_name
from portplan.names import is_host_machine, prefix_service, variable_prefix
from portplan.reconcile.names import SYNONYMS, base_key
from portplan.sources.base import (
    DependencyObservation,
    PortObservation,
    ServiceObservation,
    SourceResult,
)

COMPOSE: Final = "compose"
_NOT_NAME: Final = re.compile(r"[^a-z0-9]+")


def directory(file: str) -> str:
    """The absolute directory of a file: the project it is a compose file of."""
    return os.path.dirname(os.path.abspath(file))


def project_of(result: SourceResult, projects: Iterable[str]) -> str | None:
    """The project directory a file belongs to: the deepest of `projects` holding it.
    A set of directories as `directory` gives them is looked up by the file's own
    folders, deepest first, instead of being walked for every file (a tree of thousands
    of projects)."""
    home = directory(result.file)
    if isinstance(projects, (set, frozenset)):
        while home not in projects:
            parent = os.path.dirname(home)
            if parent == home:
                return None
            home = parent
        return home
    holding = [p for p in projects if home == p or home.startswith(p.rstrip(os.sep) + os.sep)]
    return max(holding, key=len) if holding else None


def compose_names(results: Iterable[SourceResult]) -> dict[str, str]:
    """project directory -> the `name:` its compose files set (of several files that set
    one, the first by path)."""
    found: dict[str, str] = {}
    for result in sorted(results, key=lambda r: r.file):
        named = next((s.project_name for s in result.services if s.project_name), None)
        if result.kind == COMPOSE and named:
            found.setdefault(directory(result.file), named)
    return found


def prefixes(projects: Iterable[str], named: Mapping[str, str] | None = None) -> dict[str, str]:
    """A name per project directory: the `name:` its compose files set (`named`), unless
    another project goes by it; else its own name, with as many parent names before it as
    it takes to tell two apart (`auth`, `billing`; `x-api` and `y-api`)."""
    found = sorted(set(projects))
    by_dir = _by_directory(found)
    chosen = {p: (named or {}).get(p) or by_dir[p] for p in found}
    taken = Counter(chosen.values())
    return {p: name if taken[name] == 1 else by_dir[p] for p, name in chosen.items()}


def _by_directory(found: list[str]) -> dict[str, str]:
    for depth in range(1, max((len(_parts(p)) for p in found), default=1) + 1):
        names = {project: _prefix(project, depth) for project in found}
        if len(set(names.values())) == len(found):
            return names
    return {project: _prefix(project, len(_parts(project))) for project in found}


def _prefix(project: str, depth: int) -> str:
    return _NOT_NAME.sub("-", "-".join(_parts(project)[-depth:]).lower()).strip("-") or "project"


def _parts(project: str) -> list[str]:
    return [part for part in project.split(os.sep) if part] or ["project"]


def renamed(result: SourceResult, names: dict[str, str]) -> SourceResult:
    """`result` with every service name whose key (`base_key`) `names` holds renamed."""

    def new(name: str) -> str:
        return names.get(base_key(name), name)

    return replace(
        result,
        services=[replace(s, service=new(s.service)) for s in result.services],
        ports=[replace(p, service=new(p.service)) for p in result.ports],
        dependencies=[
            replace(d, service=new(d.service), target=new(d.target)) for d in result.dependencies
        ],
        variables=[
            replace(v, service=new(v.service)) if v.service else v for v in result.variables
        ],
    )


def names_in(result: SourceResult) -> Iterator[str]:
    """Every service name a result uses."""
    yield from (service.service for service in result.services)
    yield from (port.service for port in result.ports)
    for dep in result.dependencies:
        yield from (dep.service, dep.target)
    yield from (var.service for var in result.variables if var.service)


def as_planned(results: list[SourceResult], topology: Topology) -> list[SourceResult]:
    """The results with each name of a compose project's files that the plan holds as
    `<project>-<name>` so named."""
    projects = {directory(r.file) for r in results if r.kind == COMPOSE}
    named = compose_names(results)
    planned = {base_key(name): name for name in topology.services}
    results = apart_namespaces(results, planned)
    # every key a planned name may be given by (a synonym's too), in order: whether any
    # starts with a project's prefix is one search, not a lookup per name of its files
    starts = sorted({*planned, *(word for word, key in SYNONYMS.items() if key in planned)})
    found = []
    for result in results:
        project = project_of(result, projects)
        names = _qualified(result, project, named, planned, starts) if project is not None else {}
        found.append(renamed(result, names) if names else result)
    return found


def _qualified(
    result: SourceResult,
    project: str,
    named: Mapping[str, str],
    planned: dict[str, str],
    starts: list[str],
) -> dict[str, str]:
    """The names of `result` the plan holds as `<project>-<name>`: by the project's
    `name:`, else by its directory's name (with as many parent names as the plan uses);
    `starts` holds the keys of the planned names, sorted."""
    own = [named[project]] if project in named else []
    candidates = own + [_prefix(project, depth) for depth in range(1, len(_parts(project)) + 1)]
    # base_key(f"{prefix}-{name}") without normalizing each joined name anew (a tree of
    # thousands of projects): the separator goes, and the rest normalizes part by part;
    # only the prefixes some planned key starts with can make one.
    heads = [h for p in candidates if _starts_one(starts, h := normalize_name(p))]
    names: dict[str, str] = {}
    if not heads:
        return names
    for name in names_in(result):
        key = base_key(name)
        if key in names:
            continue
        tail = normalize_name(name)
        for head in heads:
            joined = head + tail
            qualified = planned.get(SYNONYMS.get(joined, joined))
            if qualified is not None:
                names[key] = qualified
                break
    return names


def _starts_one(keys: list[str], head: str) -> bool:
    """Whether one of `keys` (sorted) starts with `head`."""
    at = bisect_left(keys, head)
    return at < len(keys) and keys[at].startswith(head)


# --- Kubernetes namespaces ----------------------------------------------------------------
#
# A Kubernetes name belongs to its namespace as a compose name to its project: the `api`
# Services of namespaces staging and prod are two services, `staging-api` and `prod-api`
# (a resource without a namespace is in `default`). A file is renamed as its Kubernetes
# resources say: a name it defines in one namespace is that namespace's; a name one file
# defines in several namespaces stays as it is.

KUBERNETES: Final = "kubernetes"
DEFAULT_NAMESPACE: Final = "default"


def namespaced(results: Iterable[SourceResult]) -> dict[str, dict[str, ServiceObservation]]:
    """name key -> namespace -> its first definition, for the names Kubernetes files
    define in more than one namespace."""
    found: dict[str, dict[str, ServiceObservation]] = {}
    for result in results:
        if result.kind == KUBERNETES:
            for service in result.services:
                space = service.namespace or DEFAULT_NAMESPACE
                found.setdefault(base_key(service.service), {}).setdefault(space, service)
    return {key: spaces for key, spaces in found.items() if len(spaces) > 1}


def apart_namespaces(
    results: list[SourceResult], planned: Mapping[str, str] | None = None
) -> list[SourceResult]:
    """The results with each name defined in several namespaces renamed `<namespace>-<name>`
    in the Kubernetes files that define it in one; against a plan (`planned`: name key ->
    the plan's name) only to a name the plan holds."""
    shared = namespaced(results)
    if not shared:
        return results
    found = []
    for result in results:
        names: dict[str, str] = {}
        if result.kind == KUBERNETES:
            spaces: dict[str, set[str]] = {}
            for service in result.services:
                key = base_key(service.service)
                if key in shared:
                    spaces.setdefault(key, set()).add(service.namespace or DEFAULT_NAMESPACE)
            for key, (space, *more) in ((k, sorted(v)) for k, v in spaces.items()):
                name = f"{space}-{shared[key][space].service}"
                qualified = name if planned is None else planned.get(base_key(name))
                if not more and qualified is not None:
                    names[key] = qualified
        found.append(renamed(result, names) if names else result)
    return found


def by_planned_variables(results: list[SourceResult], topology: Topology) -> list[SourceResult]:
    """The results with a port a variable sets (`MYSQL_PORT=3306`, `CALLS_PORT=8443`) under
    the plan's service whose port declares that variable (`env: MYSQL_PORT` of `db`), when
    exactly one does (of several, the first that plans the number the file gives it) and
    the name the file gives (`MYSQL`, `CALLS`) is none of the plan's: the plan says who
    reads it, whatever its words say. A URL on the host machine that a file took for its
    owner's own reaches the plan's service its prefix names exactly (`_reached`)."""
    readers: dict[str, dict[str, int]] = {}
    for service in topology.services.values():
        for port in service.ports:
            if port.env:
                readers.setdefault(port.env, {}).setdefault(service.name, port.number)
    known = {base_key(n) for s in topology.services.values() for n in (s.name, *s.aliases)}
    found = []
    for result in results:
        ports = [_read_by(port, readers, known) for port in result.ports]
        if ports == result.ports:
            found.append(result)
            continue
        renamed = {  # the dependency a URL states goes with its reference
            (old.location.file, old.location.line, old.service): new.service
            for old, new in zip(result.ports, ports, strict=True)
            if old.reference and old.service != new.service
        }
        dependencies = [
            replace(d, target=renamed[at]) if (at := _at(d)) in renamed else d
            for d in result.dependencies
        ]
        found.append(replace(result, ports=ports, dependencies=dependencies))
    return found


def _at(dependency: DependencyObservation) -> tuple[str, int, str]:
    return dependency.location.file, dependency.location.line, dependency.target


def _read_by(
    port: PortObservation, readers: dict[str, dict[str, int]], known: set[str]
) -> PortObservation:
    if port.reference:
        reached = _reached(port, known)
        return reached if reached is not port else _whole_prefix(port, known)
    services = readers.get(port.variable or "", {})
    if len(services) > 1:  # one variable of several services: the one it gives its number
        services = {name: n for name, n in sorted(services.items()) if n == port.number}
    if base_key(port.service) in known:
        return port
    if not services:
        return _whole_prefix(port, known)
    return replace(port, service=next(iter(services)))


_PORT_SUFFIX: Final = re.compile(r"(?:_(?:UDP|SCTP))?_PORT$", re.IGNORECASE)


def _whole_prefix(port: PortObservation, known: set[str]) -> PortObservation:
    """`STORE_ADMIN_PORT` or `STORE_ADMIN_URL`, read as store's admin port, is store-admin's
    port when the plan has store-admin and no store."""
    variable = port.variable or ""
    prefix = variable_prefix(variable) if port.reference else _PORT_SUFFIX.sub("", variable)
    if not prefix or prefix == variable or base_key(prefix) not in known:
        return port
    if not normalize_name(prefix).startswith(normalize_name(port.service)):
        return port
    return replace(port, service=prefix, port_name=None if not port.reference else port.port_name)


def _reached(port: PortObservation, known: set[str]) -> PortObservation:
    """A URL on the host machine that a file took for its owner's own (its prefix only the
    first word of the owner's name: WEBSHOPPINGAGG_URL in webshoppingagg-dapr's
    environment) reaches the plan's service the prefix names exactly, when it has one."""
    if port.owner is None or port.service != port.owner or not is_host_machine(port.host):
        return port
    prefix = prefix_service(port.variable or "")
    if prefix is None or base_key(prefix) not in known or base_key(prefix) == base_key(port.owner):
        return port
    return replace(port, service=prefix)
