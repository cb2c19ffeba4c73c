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
    _alternatives_apart(plan, before, systems, files)
    _profiles_apart(plan, before)
    if not any(s.host for s in plan.services):
        return
    plan.hosts = sorted({s.host for s in plan.services if s.host})
    if any(s.host is None for s in plan.services):
        plan.hosts.append(DEFAULT)  # the others' (declared, since hosts are)


def _alternatives_apart(
    plan: Plan, before: View, systems: dict[str, set[int]], files: dict[int, str]
) -> None:
    """A service only alternative compose files of a folder define (`docker-compose-otel.yml`
    beside `docker-compose.yml`, or the `*_mysql_*.yaml` and `*_pgsql_*.yaml` variants of a
    folder without a default file: never run together) goes on a host of its own, named after
    its first file, when it publishes a host port that a service of its host publishes too
    and no file of both publishes that port for both (vbprom's traefik stack runs cadvisor on
    8088, traefik on 8080; its default file runs cadvisor on 8080): the alternatives clash
    with nothing they do not run with."""
    defaults = {system for system, file in files.items() if _default(file)}
    alternative = [s for s in plan.services if _alternative(systems.get(s.key, set()), defaults)]
    if not alternative:
        return  # no service only alternative files define (most plans)
    clashing = _published_in(before)
    published: dict[tuple[str | None, int, str], set[str]] = {}
    for service in plan.services:
        for port in service.ports:
            if port.published is not False:
                held = (service.host, port.number, port.protocol)
                published.setdefault(held, set()).add(service.key)
    moved: dict[str, str] = {}  # decided on the hosts as they were: both variants move
    for service in alternative:
        own = systems.get(service.key, set())
        others = {
            key
            for port in service.ports
            if port.published is not False
            for key in published[(service.host, port.number, port.protocol)]
            if key != service.key
            and not any(
                (port.number, port.protocol) in clashing.get((key, system), ())
                and (port.number, port.protocol) in clashing.get((service.key, system), ())
                for system in own & systems.get(key, set())
            )
        }
        if others:
            stem = os.path.splitext(os.path.basename(min(files[s] for s in own)))[0]
            moved[service.key] = f"{service.host}-{stem}" if service.host else stem
    for service in alternative:
        service.host = moved.get(service.key, service.host)


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
    """Whether a service of the systems `own` is only alternative files' (none of them a
    default compose file, `compose.yaml`, `docker-compose.yml`...: the systems `defaults`)."""
    return bool(own) and not own & defaults


def _published_in(before: View) -> dict[tuple[str, int], set[tuple[int, str]]]:
    """(service key, system) -> the host ports (number, protocol) that system's compose
    files publish for the service."""
    found: dict[tuple[str, int], set[tuple[int, str]]] = {}
    for port in before.ports:
        obs = port.obs
        if port.kind == COMPOSE and obs.published and not obs.reference:
            where = (port.key, before.system(obs.location))
            found.setdefault(where, set()).add((obs.number, obs.protocol))
    return found


def _default(file: str) -> bool:
    return os.path.basename(file) in DEFAULT_FILES


def _host_name(name: str) -> str:
    return name if name != DEFAULT else f"{name}-project"


def _systems_by_service(before: View, results: Sequence[SourceResult]) -> dict[str, set[int]]:
    """service key -> the systems of the compose files that define it or state its ports
    (a document that names services of two projects ties nothing together)."""
    found: dict[str, set[int]] = {}

    def add(key: str, location: Location) -> None:
        systems = found.get(key)
        if systems is None:  # not a set made per port and dropped
            found[key] = {before.system(location)}
        else:
            systems.add(before.system(location))

    for port in before.ports:
        if port.kind == COMPOSE:
            add(port.key, port.obs.location)
    for result in results:
        for service in result.services if result.kind == COMPOSE else ():
            key = before.key(service.service)
            if key is not None:
                add(key, service.location)
    return found
