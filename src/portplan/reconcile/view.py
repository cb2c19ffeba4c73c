"""What reconcile compares: every source's ports and dependencies (`Port`, `Dependency`)
gathered in one `View`, and the `Rule` records its checks are registered as (`rule`), with
the order in which sources win a tie (`precedence`, `place_order`)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

from portplan.findings import Finding, Level
from portplan.model import Location, Topology
from portplan.reconcile.names import Names
from portplan.reconcile.systems import INFRASTRUCTURE as INFRASTRUCTURE
from portplan.reconcile.systems import distance, systems
from portplan.sources.base import (
    DependencyObservation,
    PortObservation,
    SourceResult,
    VariableObservation,
)

PLANNED = "plan"


# File kinds in the order their statements win a tie (reconcile's agreed value, import's
# vote): the plan-like files first.
KIND_ORDER: Final = ("compose", "kubernetes", "dotenv", "markdown")


@dataclass(frozen=True, slots=True)
class Port:
    """A port observation with its service's canonical key and its file's kind."""

    key: str
    obs: PortObservation
    kind: str
    origin: str = ""  # the file of the result it came from

    @property
    def file(self) -> str:
        return self.obs.location.file

    def numbers(self) -> set[int]:
        """The numbers that identify this port: published and container port."""
        found = {self.obs.number}
        if self.obs.target is not None:
            found.add(self.obs.target)
        return found


@dataclass(frozen=True, slots=True)
class Dependency:
    key: str
    target: str
    obs: DependencyObservation


@dataclass
class View:
    """What the rules look at: observations under canonical names, and the plan."""

    results: list[SourceResult]
    topology: Topology | None
    names: Names
    ports: list[Port] = field(default_factory=list)
    dependencies: list[Dependency] = field(default_factory=list)
    variables: list[tuple[str | None, VariableObservation]] = field(default_factory=list)
    one_system: bool = False  # every file in one system, as against a plan (see as_one_system)
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)
    _keys: dict[str, str | None] = field(default_factory=dict, repr=False)

    def key(self, name: str) -> str | None:
        """`names.key(name)`, looked up once per name."""
        if name not in self._keys:
            self._keys[name] = self.names.key(name)
        return self._keys[name]

    def memo(self, name: str, compute: Callable[[View], Any]) -> Any:
        """`compute(self)`, computed once (rules share what they derive, e.g. slots)."""
        if name not in self._memo:
            self._memo[name] = compute(self)
        return self._memo[name]

    @cached_property
    def kinds(self) -> dict[str, str]:
        """file -> kind of the result it belongs to (compose env_files count as compose)."""
        found: dict[str, str] = {}
        for result in self.results:
            found.setdefault(result.file, result.kind)
        return found

    @cached_property
    def systems(self) -> dict[str, int]:
        """file -> system number (files sharing most service names are one system)."""
        return _systems(self)

    @cached_property
    def with_ranges(self) -> list[SourceResult]:
        """The results that state ranges (policies, reservations)."""
        return [result for result in self.results if result.ranges]

    @cached_property
    def _published(self) -> dict[str, list[Port]]:
        found: dict[str, list[Port]] = {}
        for port in self.ports:
            if port.kind == "compose" and port.obs.published and port.obs.source == "compose":
                found.setdefault(port.origin, []).append(port)
        return found

    def compose_published(self, origin: str) -> list[Port]:
        """The published ports of the compose project read as `origin`."""
        return self._published.get(origin, [])

    @cached_property
    def profiles(self) -> dict[str, frozenset[str]]:
        """service key -> the compose profiles it runs in, for the services that compose
        files start only with a profile (a definition without one: it always runs)."""
        found: dict[str, set[str] | None] = {}
        for result in self.results:
            for service in result.services if result.kind == "compose" else ():
                key = self.key(service.service)
                if key is None:
                    continue
                had = found.get(key, set())
                found[key] = (
                    None if had is None or not service.profiles else had | set(service.profiles)
                )
        return {key: frozenset(names) for key, names in found.items() if names}

    @cached_property
    def _profiles_in(self) -> dict[tuple[str, bool], dict[str, frozenset[str] | None]]:
        """(compose project, by name as written?) -> service (its key, or its name as the
        file writes it) -> the profiles it runs in there (None: it always runs)."""
        found: dict[tuple[str, bool], dict[str, frozenset[str] | None]] = {}
        for result in self.results:
            for service in result.services if result.kind == "compose" else ():
                mine = frozenset(service.profiles) or None
                for written, name in ((True, service.service), (False, self.key(service.service))):
                    defined = found.setdefault((result.file, written), {})
                    had = defined.get(name or service.service, frozenset())
                    defined[name or service.service] = (
                        None if had is None or mine is None else had | mine
                    )
        return found

    def profile_names(self, key: str) -> frozenset[str]:
        """The compose profiles service `key` runs in where compose files start it only
        with profiles (empty when none does)."""
        found = (d.get(key) for (_, by_name), d in self._profiles_in.items() if not by_name)
        return frozenset().union(*(names for names in found if names))

    def together(self, a: str, b: str, origin: str | None = None, *, written: bool = False) -> bool:
        """Whether services `a` and `b` (keys; `written`: names as compose project `origin`
        writes them) can run at once: not when compose starts each only with profiles and
        they have none in common (`debug` and `prod`), nor when the plan puts them on two
        hosts. The compose projects that define both say (another file defining one without
        profiles, an alternative of the project, does not start it with the other); only
        when none does, every definition counts."""
        if self.topology is not None:  # against a plan: services of two hosts never clash
            ours, others = self.topology.services.get(a), self.topology.services.get(b)
            if ours is not None and others is not None and ours.host != others.host:
                return False
        both = [
            (defined[a], defined[b])
            for (file, by_name), defined in self._profiles_in.items()
            if by_name == written and a in defined and b in defined and origin in (None, file)
        ]
        if both:
            return any(_share(mine, theirs) for mine, theirs in both)
        return _share(self.profiles.get(a), self.profiles.get(b))

    def system(self, location: Location) -> int:
        if self.topology is not None or self.one_system:
            return 0
        return self.systems.get(location.file, -1)

    def show(self, key: str) -> str:
        return self.names.show(key)


def _share(mine: frozenset[str] | None, theirs: frozenset[str] | None) -> bool:
    """Whether services run in these profiles (None: always) can run at once."""
    return mine is None or theirs is None or bool(mine & theirs)


Check = Callable[[View], Iterable[Finding]]


@dataclass(frozen=True)
class Rule:
    """A reconcile rule: id, name, default level, summary; the check's docstring has
    PASS and FAIL examples."""

    id: str
    name: str
    level: Level
    summary: str
    check: Check

    @property
    def doc(self) -> str:
        import inspect

        return inspect.getdoc(self.check) or ""

    def finding(
        self,
        message: str,
        locations: Iterable[Location],
        level: Level | None = None,
        **facts: Any,
    ) -> Finding:
        return Finding(self.id, self.name, level or self.level, message, tuple(locations), facts)


def rule(id: str, name: str, level: Level, summary: str) -> Callable[[Check], Rule]:
    def wrap(check: Check) -> Rule:
        return Rule(id, name, level, summary, check)

    return wrap


def precedence(kind: str) -> int:
    """Where a file kind stands in KIND_ORDER (any other kind after them)."""
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def place_order(location: Location) -> tuple[str, str, int, int]:
    """A statement's place as a tie-break: by path (letter case aside, so that README.md
    and readme.md stand where they would on a case-insensitive disk), then line, column."""
    return (location.file.casefold(), location.file, location.line, location.column)


def external_dependencies(view: View) -> dict[str, dict[str, list[Location]]]:
    """External host (`names.external`: a public DNS name, `o1.ingest.sentry.io`) -> the
    services that depend on it (their keys; a name that is no service's as given) -> where
    each does, in order."""
    external = view.names.external
    found: dict[str, dict[str, set[Location]]] = {}
    for result in view.results:
        for dep in result.dependencies:
            if dep.target in external:
                who = view.key(dep.service) or dep.service
                found.setdefault(dep.target, {}).setdefault(who, set()).add(dep.location)
    return {
        host: {who: sorted(places) for who, places in by_service.items()}
        for host, by_service in found.items()
    }


def _systems(view: View) -> dict[str, int]:
    """file -> system (`portplan.reconcile.systems`): by the service names each file gives,
    each compose project one system of its own."""
    keys: dict[str, set[str]] = {}
    for port in view.ports:
        keys.setdefault(port.file, set()).add(port.key)
    for dep in view.dependencies:
        keys.setdefault(dep.obs.location.file, set()).update((dep.key, dep.target))
    for result in view.results:
        keys.setdefault(result.file, set()).update(
            key for s in result.services if (key := view.names.key(s.service))
        )
    projects = _compose_files(view.results)
    markdown = [result for result in view.results if result.kind == "markdown"]
    defining = frozenset(r.file for r in markdown if any(s.project for s in r.services))
    images = [r for r in view.results if r.kind == "dockerfile" and r.all_in_one]
    folders = sorted({os.path.dirname(os.path.abspath(r.file)) for r in images}, key=len)
    sealed: dict[str, str] = {}  # a document beside an all-in-one image describes that image
    for result in markdown:
        here = os.path.dirname(os.path.abspath(result.file))
        for folder in folders:  # the nearest holding it last
            if here == folder or here.startswith(folder.rstrip(os.sep) + os.sep):
                sealed[result.file] = folder
    return systems(keys, projects, _chosen(view.results, projects), defining, sealed)


def _chosen(results: list[SourceResult], projects: dict[str, str]) -> dict[str, set[str]]:
    """document -> the compose projects its `docker compose -f FILE` names (each name
    resolved to the nearest compose file read whose path ends with it)."""
    found: dict[str, set[str]] = {}
    for result in results:
        for name in result.compose_files:
            file = _nearest_named(result.file, name, projects)
            if file is not None:
                found.setdefault(result.file, set()).add(projects[file])
    return found


def _nearest_named(document: str, name: str, projects: dict[str, str]) -> str | None:
    folder = os.path.dirname(os.path.abspath(document))
    tail = os.path.normpath(name).lstrip(os.sep + ".")
    if os.path.isabs(name):
        matches = [f for f in projects if os.path.abspath(f) == os.path.normpath(name)]
    else:
        matches = [
            f for f in projects
            if os.path.abspath(f) == os.path.normpath(os.path.join(folder, name))
            or os.path.abspath(f).endswith(os.sep + tail)
        ]  # fmt: skip
    return min(
        matches,
        key=lambda f: (distance(os.path.dirname(os.path.abspath(f)), folder), f),
        default=None,
    )


def _compose_files(results: list[SourceResult]) -> dict[str, str]:
    """file -> the compose project (its first file) whose observations it holds, for the
    files that only one project reads."""
    found: dict[str, set[str]] = {}
    for result in results:
        if result.kind != "compose":
            continue
        places = [result.file, *result.merged]
        for observed in (result.ports, result.services, result.dependencies, result.variables):
            places.extend(o.location.file for o in observed)
        for file in places:
            found.setdefault(file, set()).add(result.file)
    return {file: next(iter(owners)) for file, owners in found.items() if len(owners) == 1}
