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

from collections.abc import Sequence

from portplan.importer.plan import Plan
from portplan.model import Location
from portplan.reconcile.projects import compose_names, directory, prefixes
from portplan.reconcile.view import View
from portplan.sources.base import SourceResult

COMPOSE = "compose"
DEFAULT = "default"


def assign_hosts(plan: Plan, before: View, results: Sequence[SourceResult]) -> None:
    """Give each service of an independent compose project that project's host (`before`
    is the view without a plan: it knows which files are one system)."""
    compose = {before.system(Location(r.file)): r.file for r in results if r.kind == COMPOSE}
    systems = _systems_by_service(before, results)
    parent: dict[int, int] = {}

    def find(system: int) -> int:
        parent.setdefault(system, system)
        while parent[system] != system:
            system = parent[system]
        return system

    for found in systems.values():
        first, *rest = sorted(found)
        for other in rest:
            parent[find(other)] = find(first)
    groups: dict[int, list[str]] = {}
    for system, file in sorted(compose.items(), key=lambda item: item[1]):
        groups.setdefault(find(system), []).append(file)
    if len(groups) < 2:
        return
    names = _host_names(groups, results)
    for service in plan.services:
        roots = {find(s) for s in systems.get(service.key, ())} & set(groups)
        if len(roots) == 1:
            service.host = names[roots.pop()]
    plan.hosts = sorted({s.host for s in plan.services if s.host})
    if any(s.host is None for s in plan.services):
        plan.hosts.append(DEFAULT)  # the others' (declared, since hosts are)


def _systems_by_service(before: View, results: Sequence[SourceResult]) -> dict[str, set[int]]:
    """service key -> the systems of the files that state its ports or define it."""
    found: dict[str, set[int]] = {}
    for port in before.ports:
        found.setdefault(port.key, set()).add(before.system(port.obs.location))
    for result in results:
        for service in result.services:
            key = before.key(service.service)
            if key is not None:
                found.setdefault(key, set()).add(before.system(service.location))
    return found


def _host_names(groups: dict[int, list[str]], results: Sequence[SourceResult]) -> dict[int, str]:
    """A host name per group: the name of its first project's folder (or its `name:`),
    with as many parent folders as it takes to tell them apart."""
    homes = {root: directory(files[0]) for root, files in groups.items()}
    named = prefixes(set(homes.values()), compose_names(results))
    found: dict[int, str] = {}
    taken: set[str] = set()
    for root, home in sorted(homes.items(), key=lambda item: item[1]):
        name, index = named[home], 2
        while name in taken:  # two groups in one folder
            name, index = f"{named[home]}-{index}", index + 1
        taken.add(name)
        found[root] = name
    return found
