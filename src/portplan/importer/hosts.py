"""One host per independent compose project in an imported plan.

Compose projects that share no service (alternative deployments in sibling folders, the
three applications of one repository) never run together, and each is started on its own
(`docker compose up` in its folder): the plan puts each on a host of its own, named after
its folder (or its `name:`), so that `check` holds only services that run together to one
host. Services of one project, and of alternatives of one folder that define the same
services, are one group. Services no compose project defines stay on the default host.
Nothing changes when there is at most one such project.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from itertools import combinations

from portplan.importer.plan import Plan
from portplan.model import Location
from portplan.reconcile.projects import compose_names, directory, prefixes
from portplan.reconcile.view import View
from portplan.sources.base import SourceResult
from portplan.sources.compose import DEFAULT_FILES

COMPOSE = "compose"
DEFAULT = "default"


def assign_hosts(plan: Plan, before: View, results: Sequence[SourceResult]) -> None:
    """Give each service of an independent compose project that project's host (`before`
    is the view without a plan: it knows which files are one system). The projects of one
    folder (alternative files defining the same services) are one group; a service whose
    compose files lie in several groups stays on the default host."""
    groups: dict[int, str] = {}  # system -> the folder of its compose project
    files: dict[int, str] = {}  # system -> its first compose file
    for result in results:
        if result.kind == COMPOSE:
            groups[before.system(Location(result.file))] = directory(result.file)
            files.setdefault(before.system(Location(result.file)), result.file)
    homes = sorted(set(groups.values()))
    systems = _systems_by_service(before, results)
    if len(homes) >= 2:
        names = prefixes(homes, compose_names(results))
        for service in plan.services:
            found = {groups[s] for s in systems.get(service.key, ()) if s in groups}
            if len(found) == 1:
                service.host = _host_name(names[found.pop()])
    _alternatives_apart(plan, systems, files)
    _profiles_apart(plan, before)
    if not any(s.host for s in plan.services):
        return
    plan.hosts = sorted({s.host for s in plan.services if s.host})
    if any(s.host is None for s in plan.services):
        plan.hosts.append(DEFAULT)  # the others' (declared, since hosts are)


def _alternatives_apart(plan: Plan, systems: dict[str, set[int]], files: dict[int, str]) -> None:
    """A service only an alternative compose file of a folder defines (`docker-compose-otel.yml`
    beside `docker-compose.yml`: never run together) goes on a host of its own, named after
    that file, when it publishes a host port that a service of its host outside that file
    publishes too: the alternatives clash with nothing they do not run with."""
    defaults = {system for system, file in files.items() if _default(file)}
    alternative = [s for s in plan.services if _alternative(systems.get(s.key, set()), defaults)]
    if not alternative:
        return  # no service only an alternative file defines (most plans)
    published: dict[tuple[str | None, int, str], set[str]] = {}
    for service in plan.services:
        for port in service.ports:
            if port.published is not False:
                held = (service.host, port.number, port.protocol)
                published.setdefault(held, set()).add(service.key)
    by_key = {service.key: service for service in plan.services}
    for service in alternative:
        own = systems.get(service.key, set())
        others = {
            key
            for port in service.ports
            if port.published is not False
            for key in published[(service.host, port.number, port.protocol)]
            if key != service.key and not own & systems.get(key, set())
        }
        if others and all(by_key[key].host == service.host for key in others):
            stem = os.path.splitext(os.path.basename(files[next(iter(own))]))[0]
            name = f"{service.host}-{stem}" if service.host else stem
            service.host = name


def _profiles_apart(plan: Plan, before: View) -> None:
    """Services of compose profiles that never run together (hoppscotch's all-in-one
    `default` and its parts' `app`, `backend`) and publish one host port go each on a host
    named after its first profile (`profile-app`): `check` holds to a host only what runs
    at once."""
    if not any(s.profiles for r in before.results if r.kind == COMPOSE for s in r.services):
        return  # no compose service runs only in a profile (most plans)
    published: dict[tuple[str | None, int, str], list[str]] = {}
    for service in plan.services:
        for port in service.ports:
            if port.published is not False:
                published.setdefault((service.host, port.number, port.protocol), []).append(
                    service.key
                )
    apart = {
        key
        for keys in published.values()
        for a, b in combinations(sorted(set(keys)), 2)
        if not before.together(a, b)
        for key in (a, b)
    }
    for service in plan.services:
        names = before.profile_names(service.key) if service.key in apart else frozenset()
        if names:
            profile = min(names)
            service.host = f"{service.host}-{profile}" if service.host else f"profile-{profile}"


def _alternative(own: set[int], defaults: set[int]) -> bool:
    """Whether a service of the systems `own` is one file's alone, which is not a default
    compose file (`compose.yaml`, `docker-compose.yml`...: the systems `defaults`)."""
    return len(own) == 1 and next(iter(own)) not in defaults


def _default(file: str) -> bool:
    return os.path.basename(file) in DEFAULT_FILES


def _host_name(name: str) -> str:
    return name if name != DEFAULT else f"{name}-project"


def _systems_by_service(before: View, results: Sequence[SourceResult]) -> dict[str, set[int]]:
    """service key -> the systems of the compose files that define it or state its ports
    (a document that names services of two projects ties nothing together)."""
    found: dict[str, set[int]] = {}
    for port in before.ports:
        if port.kind == COMPOSE:
            found.setdefault(port.key, set()).add(before.system(port.obs.location))
    for result in results:
        for service in result.services if result.kind == COMPOSE else ():
            key = before.key(service.service)
            if key is not None:
                found.setdefault(key, set()).add(before.system(service.location))
    return found
