"""What `portplan import` says of a service besides its port numbers: exposure, health
check, dependencies, and the secret variables it does not import."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Final

from portplan.importer.plan import Plan, PlanDependency, PlanHealth, PlanPort, PlanService
from portplan.importer.vote import Claim, describe, shown, vote
from portplan.model import WILDCARD_ADDRESSES, Exposure, Location
from portplan.reconcile.rules import DEPENDS_ON, ENV_URL, dependency_drift, reaches
from portplan.reconcile.view import PLANNED, View
from portplan.sources.base import PortObservation, SourceResult


def exposures(plan: Plan, view: View, before: View, results: Sequence[SourceResult]) -> None:
    """Each service's exposure by vote: how its ports are published (all interfaces: public;
    a loopback address: local; another address: internal), what the documents say of it, and
    the exposure policies ("8001-8019: internal only") of its system that hold its ports.
    `before` is the view without a plan, which knows the systems."""
    claims = _bindings(view)
    for result in results:
        for obs in result.services:
            key = view.names.key(obs.service)
            if key is not None and obs.exposure is not None:
                claims.setdefault(key, []).append(Claim(obs.exposure, obs.location, result.kind))
    _policies(plan, before, results, claims)
    for service in plan.services:
        sides = vote(claims.get(service.name, ()))
        if sides:
            service.exposure = sides[0].value.value
            if len(sides) > 1:
                service.exposure_comments.append(describe(sides[0], sides[1:]))


# From the narrowest to the widest.
_WIDTH: Final = (Exposure.LOCAL, Exposure.INTERNAL, Exposure.PUBLIC)


def _bindings(view: View) -> dict[str, list[Claim[Exposure]]]:
    """What each port statement says of exposure; a port one file binds on several
    addresses (127.0.0.1 and 10.0.0.5) is as exposed as its widest binding: one claim."""
    found: dict[tuple[str, str, int, str], list[Claim[Exposure]]] = {}
    mapped: set[tuple[str, str, int | None]] | None = None  # made for the first port it asks
    for port in view.ports:
        obs = port.obs
        if port.kind == PLANNED:
            continue
        # a container port a published mapping of its file reaches (a NodePort Service's
        # targetPort): the mapping says who reaches it
        if not obs.published:
            mapped = _mapped(view) if mapped is None else mapped
            if (port.key, port.origin, obs.number) in mapped:
                continue
        exposure = _stated(obs)
        if exposure is not None:
            at = (port.key, port.origin, obs.number, obs.protocol)
            found.setdefault(at, []).append(Claim(exposure, obs.location, port.kind))
    claims: dict[str, list[Claim[Exposure]]] = {}
    for (owner, *_), stated in found.items():
        several = len(stated) > 1 and len({claim.value for claim in stated}) > 1
        claims.setdefault(owner, []).extend([_widest(stated)] if several else stated)
    return claims


def _widest(stated: list[Claim[Exposure]]) -> Claim[Exposure]:
    return max(stated, key=lambda c: _WIDTH.index(c.value) if c.value in _WIDTH else -1)


def _mapped(view: View) -> set[tuple[str, str, int | None]]:
    """(service, file, container port) of the mappings that publish a container port."""
    return {
        (port.key, port.origin, port.obs.target)
        for port in view.ports
        if _reached_from_outside(port.obs) and port.obs.target not in (None, port.obs.number)
    }


def _reached_from_outside(obs: PortObservation) -> bool:
    """A mapping that publishes its target: on the host, or a NodePort or LoadBalancer
    Service (public, on an address of its own)."""
    return bool(obs.published) or (obs.source == "kubernetes" and obs.exposure is Exposure.PUBLIC)


def _stated(obs: PortObservation) -> Exposure | None:
    """What a port observation says of exposure: the source's word, else its binding
    (None: nothing)."""
    if obs.exposure is not None:
        return obs.exposure
    if not obs.published:
        return None
    address = obs.address or ""
    if address in WILDCARD_ADDRESSES:
        return Exposure.PUBLIC
    return Exposure.LOCAL if _loopback(address) else Exposure.INTERNAL


def _loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.strip("[]")).is_loopback
    except ValueError:
        return address == "localhost"


def _policies(
    plan: Plan,
    before: View,
    results: Sequence[SourceResult],
    claims: dict[str, list[Claim[Exposure]]],
) -> None:
    policies = [
        (result.kind, policy, exposure)
        for result in results
        for policy in result.ranges
        if (exposure := policy.exposure) is not None and not policy.reserved
    ]
    if not policies:
        return  # no exposure policy stated (most trees)
    systems: dict[str, set[int]] = {}
    for port in before.ports:
        systems.setdefault(port.key, set()).add(before.system(port.obs.location))
    numbers = [(port.number, s) for s in plan.services for port in s.ports]
    for kind, policy, exposure in policies:
        system = before.system(policy.location)
        held = {s.name: s for n, s in numbers if n in policy.ports}
        for service in held.values():
            if system in systems.get(service.key, ()):
                claims.setdefault(service.name, []).append(Claim(exposure, policy.location, kind))


def health_checks(plan: Plan, view: View, results: Sequence[SourceResult]) -> None:
    """The health path most sources state (compose healthchecks, Kubernetes httpGet probes,
    documents), on the port those sources call (else the service's http port, else its
    first); the expected body when a source states it as JSON."""
    claims: dict[str, list[Claim[str]]] = {}
    expects: dict[Location, str] = {}
    ports: dict[Location, int] = {}
    for result in results:
        for obs in result.services:
            key = view.names.key(obs.service) if obs.health_path else None  # few have one
            if key is not None and obs.health_path:
                claims.setdefault(key, []).append(Claim(obs.health_path, obs.location, result.kind))
                if obs.health_expect:
                    expects[obs.location] = obs.health_expect
                if obs.health_port is not None:
                    ports[obs.location] = obs.health_port
    for service in plan.services:
        sides = vote(claims.get(service.name, ()))
        if not sides:
            continue
        called = {ports[c.location] for c in sides[0].claims if c.location in ports}
        port = _health_port(service, called)
        if port is None:
            where = shown(sides[0].locations)
            service.notes.append(f"note: {where} states health {sides[0].value}; no port here")
            continue
        texts = [expects[c.location] for c in sides[0].claims if c.location in expects]
        port.health = PlanHealth(sides[0].value, _expect(texts))
        if len(sides) > 1:
            port.health.comments.append(describe(sides[0], sides[1:]))


def _health_port(service: PlanService, called: set[int]) -> PlanPort | None:
    """The port a health check calls: one whose number the sources name, else the http
    port, else the first."""
    found = next((p for p in service.ports if p.number in called), None)
    found = found or service.port("http")
    if found is None and service.ports:
        found = service.ports[0]
    return found


def _expect(texts: list[str]) -> dict[str, Any] | None:
    for text in texts:
        try:
            value = json.loads(text)
        except ValueError:
            continue
        if isinstance(value, dict) and value:
            return value
    return None


def dependencies(plan: Plan, view: View) -> None:
    """Every dependency any source states (depends_on, `*_URL`, diagram edges, dependency
    trees), in order of first statement; reconcile's dependency drift beside each entry."""
    by_name = {service.name: service for service in plan.services}
    entries: dict[tuple[str, str], PlanDependency] = {}
    stated = [d for d in view.dependencies if d.key in by_name and d.target in by_name]
    # start order (compose depends_on) first: an URL that would close a loop with what is
    # written is a reference at run time (services that call each other), not a start
    # order, and a plan's depends_on is one (check: PP106 dependency-cycle)
    ordered = sorted(stated, key=lambda d: (d.obs.via != DEPENDS_ON, d.obs.location))
    edges: dict[str, set[str]] = {}
    for dep in ordered:
        if (dep.key, dep.target) in entries:
            continue
        if dep.obs.via == ENV_URL and reaches(edges, dep.target, dep.key):
            where = Location(dep.obs.location.file, dep.obs.location.line)
            by_name[dep.key].notes.append(
                f"note: reaches {dep.target} ({dep.obs.via}, {where}), which depends on it "
                "in turn: not written as depends_on (a start order cannot be circular)"
            )
            continue
        entry = PlanDependency(dep.target, dep.obs.location)
        entries[dep.key, dep.target] = entry
        edges.setdefault(dep.key, set()).add(dep.target)
    for (key, _), entry in sorted(entries.items(), key=lambda item: item[1].first):
        by_name[key].depends_on.append(entry)
    if not entries:
        return  # no dependency written: no drift to mark beside one
    # Against the plan as it will be written: with these dependencies (the view's plan is
    # the one without them).
    against = replace(view, topology=plan.topology(view.topology))
    for finding in dependency_drift.check(against):
        facts = finding.facts
        found = entries.get((facts["service"], facts["dependency"]))
        if found is not None:
            said, missing = (Location(x.file, x.line) for x in finding.locations[:2])
            found.comments.append(
                f"conflict: {said} ({facts['stated_by']}) says so; "
                f"{missing} ({facts['missing_from']}) leaves it out"
            )


def secrets(plan: Plan, view: View) -> None:
    """A note that a secret variable exists, where it is set, under the services that read
    it (in the header when none does); never its value."""
    by_name = {service.name: service for service in plan.services}
    references = {var.location for _, var in view.variables if not var.sets}
    found: dict[tuple[str | None, str], list[Location]] = {}
    for owner, var in view.variables:
        if var.secret and var.sets and var.location not in references:
            found.setdefault((owner if owner in by_name else None, var.name), []).append(
                var.location
            )
    owned = {(name, loc) for (owner, name), locs in found.items() if owner for loc in locs}
    for (owner, name), locations in sorted(found.items(), key=lambda item: min(item[1])):
        if owner is None and all((name, loc) in owned for loc in locations):
            continue  # an env_file read alone too: the note is under its services
        note = f"note: {name} holds a secret ({shown(locations)}); its value is not imported"
        (by_name[owner].notes if owner is not None else plan.notes).append(note)
