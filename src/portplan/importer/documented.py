"""Services only documents name: their ports give way to the configuration's.

A name that appears in prose alone (a misspelt name, "msql" for mysql; a word of a sentence)
is a service of the plan, as every name a source gives a port is, but a port a document
gives it is no plan port when a service that some other kind of file (compose, Kubernetes,
`.env`, a config file) states holds that number on the same host: configuration outranks
prose, and a plan with both would fail `check` (PP101) on a clash no file configures. The
service keeps a note with both places, as a conflict is kept beside a port.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from portplan.importer.plan import Plan, PlanPort, PlanService
from portplan.model import Location
from portplan.reconcile.view import View
from portplan.sources.base import SourceResult

DOCUMENT: Final = "markdown"


def documented_only(results: Sequence[SourceResult], view: View) -> set[str]:
    """The keys of services that only documents name (no other kind of file)."""
    if all(result.kind != DOCUMENT for result in results):
        return set()  # no document read: every name is another kind of file's
    kinds: dict[str, set[str]] = {}
    for result in results:
        names = [o.service for o in result.services] + [o.service for o in result.ports]
        names += [name for d in result.dependencies for name in (d.service, d.target)]
        names += [v.service for v in result.variables if v.service]
        for name in names:
            key = view.key(name)
            if key is not None:
                kinds.setdefault(key, set()).add(result.kind)
    return {key for key, found in kinds.items() if found == {DOCUMENT}}


def yield_to_configured(plan: Plan, results: Sequence[SourceResult], view: View) -> None:
    """Leave out each port of a documented-only service that a configured service of its
    host binds (same number and protocol), with a note naming both places."""
    prose = documented_only(results, view)
    if not prose:
        return
    configured: dict[tuple[str, int], Location] = {}  # (key, number) -> first configuration
    for seen in view.ports:
        if seen.kind != DOCUMENT:
            for number in seen.numbers():
                place = configured.setdefault((seen.key, number), seen.obs.location)
                configured[(seen.key, number)] = min(place, seen.obs.location)
    holders: dict[tuple[str, int, str], tuple[PlanPort, str]] = {}
    for service in plan.services:
        for port in service.ports if service.key not in prose else ():
            where = configured.get((service.key, port.number))
            if port.published is not False and where is not None:
                held = (_host(service), port.number, port.protocol)
                holders.setdefault(held, (port, f"{service.name}.{port.name} ({_at(where)})"))
    for service in plan.services:
        if service.key in prose:
            service.ports = [p for p in service.ports if not _yields(service, p, holders)]


def _yields(
    service: PlanService, port: PlanPort, holders: dict[tuple[str, int, str], tuple[PlanPort, str]]
) -> bool:
    held = holders.get((_host(service), port.number, port.protocol))
    if held is None or port.published is False:
        return False
    theirs, holder = held
    service.notes.append(
        f"conflict: {_at(port.first)} gives {service.name} port {port.number}, which {holder} "
        f"is configured on; only documents name {service.name}, so the plan leaves it out"
    )
    theirs.comments.append(
        f"conflict: {port.number} is also given to {service.name} ({_at(port.first)})"
    )
    return True


def _host(service: PlanService) -> str:
    return service.host or "default"


def _at(location: Location) -> str:
    return str(Location(location.file, location.line))
