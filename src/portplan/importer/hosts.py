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
    is the view without a plan: it knows which files are one system). The projects of one
    folder (alternative files defining the same services) are one group; a service whose
    compose files lie in several groups stays on the default host."""
    groups: dict[int, str] = {}  # system -> the folder of its compose project
    for result in results:
        if result.kind == COMPOSE:
            groups[before.system(Location(result.file))] = directory(result.file)
    homes = sorted(set(groups.values()))
    if len(homes) < 2:
        return
    names = prefixes(homes, compose_names(results))
    systems = _systems_by_service(before, results)
    for service in plan.services:
        found = {groups[s] for s in systems.get(service.key, ()) if s in groups}
        if len(found) == 1:
            service.host = _host_name(names[found.pop()])
    plan.hosts = sorted({s.host for s in plan.services if s.host})
    if any(s.host is None for s in plan.services):
        plan.hosts.append(DEFAULT)  # the others' (declared, since hosts are)


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
