"""The second pass of `portplan import`: the sources reconciled against the plan, and each
disagreement written beside the line it concerns.

The findings are reconcile's own (port drift, double claims, reserved ports in use, run
on the sources against the plan about to be written), so the conflicts marked in the file
are what `portplan reconcile -f` will report, and nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from portplan.findings import Finding
from portplan.importer.plan import PLAN, Plan, PlanPort, PlanReservation, PlanService
from portplan.importer.vote import Claim, Side, describe, shown, vote
from portplan.model import Location, PortRange
from portplan.reconcile.ports import (
    duplicate_published_port,
    env_port_reused,
    port_claimed_twice,
    reserved_port_in_use,
    value_drift,
)
from portplan.reconcile.view import PLANNED, Port, View
from portplan.sources.base import SourceResult


def port_conflicts(plan: Plan, view: View) -> None:
    """Every other number the sources give a planned port, beside the port, with every
    statement of each number."""
    drift: dict[tuple[str, str], list[Finding]] = {}
    # not the container ports' drift: the vote on the target marked it (importer.services)
    for finding in value_drift(view):
        if "port_name" not in finding.facts:
            continue
        drift.setdefault((finding.facts["service"], finding.facts["port_name"]), []).append(finding)
    if not drift:
        return  # the sources agree with the plan (most trees): no table to make
    by_name = {service.name: service for service in plan.services}
    by_key: dict[str, list[Port]] = {}
    for port in view.ports:
        if port.kind != PLANNED:
            by_key.setdefault(port.key, []).append(port)
    for (name, slot), findings in drift.items():
        service = by_name.get(name)
        if service is None:
            continue
        numbers = [findings[0].facts["expected"], *(f.facts["value"] for f in findings)]
        planned = service.port(slot) or _numbered(service, numbers)
        stated = _stated(by_key.get(name, []), service, planned, findings)
        if planned is None:
            service.notes.append(f"{describe(stated[0], stated[1:])} (a port not planned here)")
        else:
            winner = next((s for s in stated if s.value == planned.number), None)
            planned.comments.append(describe(winner, [s for s in stated if s is not winner]))


def _numbered(service: PlanService, numbers: list[int]) -> PlanPort | None:
    """The planned port of one of `numbers` (a metrics endpoint on the http port)."""
    return next((port for port in service.ports if port.number in numbers), None)


def _stated(
    ports: list[Port], service: PlanService, planned: PlanPort | None, findings: list[Finding]
) -> list[Side[int]]:
    """The sides of a drift: each number with every statement of it by the service, in
    whichever port reconcile put it; a number that is another planned port's stands by the
    statements of the finding only."""
    others = {port.number for port in service.ports if port is not planned}
    everywhere = {s.value: s for s in vote(_claims(p for p in ports if p.obs.number not in others))}
    found: dict[int, Side[int]] = {}
    expected = findings[0].facts["expected"]
    if expected in everywhere:
        found[expected] = everywhere[expected]
    for finding in findings:
        value = finding.facts["value"]
        own = Side(value, tuple(Claim(value, loc, "") for loc in _sourced(finding)))
        found.setdefault(value, own if value in others else everywhere.get(value, own))
    return list(found.values())


def _sourced(finding: Finding) -> list[Location]:
    return [location for location in finding.locations if location.file != PLAN]


def _claims(ports: Iterable[Port]) -> list[Claim[int]]:
    return [Claim(p.obs.number, p.obs.location, p.kind) for p in ports]


def claimed_twice(plan: Plan, view: View) -> None:
    """A port number two services are given, beside each of them."""
    by_name = {service.name: service for service in plan.services}
    for finding in port_claimed_twice.check(view):
        number, names = finding.facts["port"], finding.facts["services"]
        owned = [(n, _numbered(by_name[n], [number])) for n in names if n in by_name]
        for name, port in owned:
            others = [f"{n} ({_first(p)})" for n, p in owned if n != name and p is not None]
            if port is not None and others:
                port.comments.append(f"conflict: {number} is also given to {', '.join(others)}")


def published_twice(plan: Plan, view: View) -> None:
    """A host port one compose project publishes twice, or one `.env` gives to two
    variables, beside the planned ports of that number (else in the header)."""
    by_name = {service.name: service for service in plan.services}
    for finding in duplicate_published_port.check(view):
        number = finding.facts["port"]
        text = f"conflict: host port {number} is published twice ({shown(finding.locations)})"
        for name in dict.fromkeys(finding.facts["services"]):
            if name in by_name:
                _mark(by_name[name], number, text)
    for finding in env_port_reused.check(view):
        number, names = finding.facts["port"], " and ".join(finding.facts["variables"])
        text = f"conflict: {names} hold {number} ({shown(finding.locations)})"
        owners = [s for s in plan.services if _numbered(s, [number]) is not None]
        for service in owners:
            _mark(service, number, text)
        if not owners:
            plan.notes.append(text)


def _mark(service: PlanService, number: int, text: str) -> None:
    """`text` beside the service's port `number`, else its first port, else its name."""
    port = _numbered(service, [number]) or next(iter(service.ports), None)
    comments = port.comments if port is not None else service.notes
    if text not in comments:
        comments.append(text)


def _first(port: PlanPort | None) -> str:
    return "" if port is None else str(Location(port.first.file, port.first.line))


def reservations(results: Sequence[SourceResult]) -> list[PlanReservation]:
    """The reserved ranges the sources state; one range stated twice, or adjacent ranges of
    one reason (table rows 8004, 8005, 8006 "Future expansion"), are one reservation."""
    stated = sorted(
        (r.ports.start, r.ports.end, r.label, r.future, r.location)
        for result in results
        for r in result.ranges
        if r.reserved
    )
    found: list[PlanReservation] = []
    for start, end, label, future, location in stated:
        last = found[-1] if found else None
        if last is not None and _joins(last, start, end, label, future):
            last.ports = PortRange(last.ports.start, max(end, last.ports.end))
            last.first = min(last.first, location)
        else:
            found.append(PlanReservation(PortRange(start, end), label, future, location))
    return found


def _joins(last: PlanReservation, start: int, end: int, label: str, future: bool) -> bool:
    if (last.ports.start, last.ports.end) == (start, end):
        return True
    return (last.reason, last.future) == (label, future) and start <= last.ports.end + 1


def reserved_in_use(plan: Plan, view: View) -> None:
    """A reserved port some source gives a service: every use beside the reservation, and
    the reservation beside a planned port inside it."""
    uses: dict[int, dict[str, list[Location]]] = {}
    for finding in reserved_port_in_use.check(view):
        used, reserved = finding.locations[0], finding.locations[-1]
        if reserved.file == PLAN:
            by_service = uses.setdefault(reserved.line, {})
            by_service.setdefault(finding.facts["service"], []).append(used)
    for index, reservation in enumerate(plan.reserved, 1):
        if index in uses:
            listed = ", ".join(f"{name} ({shown(locs)})" for name, locs in uses[index].items())
            reservation.comments.append(f"conflict: used by {listed}")
        where = Location(reservation.first.file, reservation.first.line)
        for service in plan.services:
            for port in service.ports:
                if port.number in reservation.ports:
                    port.comments.append(f"conflict: inside reserved {reservation.ports} ({where})")
