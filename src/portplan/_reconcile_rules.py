"""The reconcile rules PP201-PP213, registered here; the port rules live in
`portplan._reconcile_ports`."""

from __future__ import annotations

import os
from collections.abc import Iterator

from portplan._reconcile_ports import (
    duplicate_published_port,
    env_port_reused,
    exposure_drift,
    port_claimed_twice,
    port_drift,
    reserved_port_in_use,
)
from portplan.findings import Finding, Level
from portplan.model import Location, normalize_name
from portplan.reconcile import Dependency, Rule, View, rule

ENV_URL = "env-url"
DEPENDS_ON = "depends_on"


@rule("PP203", "service-missing", Level.WARNING, "a planned service no source mentions")
def service_missing(view: View) -> Iterator[Finding]:
    """A service of the plan appears in no source (checked only with a plan).

    PASS: plan {gateway, token-engine}; compose defines both
    FAIL: plan {gateway, token-engine}; compose defines only gateway
    """
    if view.topology is None:
        return
    seen = {p.key for p in view.ports if p.kind != "registry"}
    seen |= {d.key for d in view.dependencies} | {d.target for d in view.dependencies}
    for result in view.results:
        seen.update(k for s in result.services if (k := view.names.key(s.service)))
    for name, service in sorted(view.topology.services.items()):
        if name not in seen:
            yield service_missing.finding(
                f"{name} is in the plan but in none of the sources",
                [service.location],
                service=name,
            )


@rule("PP205", "dependency-drift", Level.WARNING, "sources disagree on a service's dependencies")
def dependency_drift(view: View) -> Iterator[Finding]:
    """A service's environment reaches another service (`*_URL`), but a list of its
    dependencies (compose `depends_on`, a diagram's edges, a dependency tree) of the same
    system leaves it out. Lists need not name every dependency by URL, so only the URL side
    is held to the lists.

    PASS: NATS_URL in token-engine's env; Token --> NATS in the diagram
    FAIL: NATS_URL in token-engine's env; no Token --> NATS edge in the diagram
    """
    edges: dict[tuple[str, int, str], dict[str, Dependency]] = {}
    for dep in view.dependencies:
        group = edges.setdefault((dep.key, view.system(dep.obs.location), dep.obs.via), {})
        group.setdefault(dep.target, dep)
    defined = _compose_defined(view)
    for (key, system, via), targets in sorted(edges.items()):
        if via != ENV_URL:
            continue
        for (other_key, other_system, other_via), others in sorted(edges.items()):
            if (other_key, other_system) != (key, system) or other_via == via:
                continue
            for target in sorted(set(targets) - set(others)):
                if other_via != DEPENDS_ON or _definable(target, others, defined):
                    yield _dependency_finding(view, targets[target], other_via, others)


def _compose_defined(view: View) -> set[tuple[str, str]]:
    """(compose project or Markdown compose block, service key) of every defined service."""
    return {
        (service.project, key)
        for result in view.results
        for service in result.services
        if service.project is not None and (key := view.names.key(service.service))
    }


def _definable(target: str, others: dict[str, Dependency], defined: set[tuple[str, str]]) -> bool:
    """Whether a depends_on list could name `target`: a service of its own compose project
    (a database outside the project, or a service of another compose file, cannot be)."""
    projects = {dep.obs.project for dep in others.values() if dep.obs.project is not None}
    return any((project, target) in defined for project in projects)


def _dependency_finding(
    view: View, dep: Dependency, other_via: str, others: dict[str, Dependency]
) -> Finding:
    first = min(d.obs.location for d in others.values())
    return dependency_drift.finding(
        f"{view.show(dep.key)} depends on {view.show(dep.target)} by {dep.obs.via}, "
        f"but not by {other_via}",
        [dep.obs.location, first],
        service=view.show(dep.key),
        dependency=view.show(dep.target),
        stated_by=dep.obs.via,
        missing_from=other_via,
    )


@rule("PP207", "unset-variable", Level.WARNING, "a service reads a variable nothing sets")
def unset_variable(view: View) -> Iterator[Finding]:
    """A compose file interpolates `${VAR}` and neither the environment nor the project's
    `.env` sets it (compose would use an empty string). A variable set under a similar
    name (other case or underscores) is named.

    PASS: ports: ["${GATEWAY_PORT}:8080"] with GATEWAY_PORT=8080 in .env
    FAIL: ports: ["${GATEWAY_PORT}:8080"] and no GATEWAY_PORT anywhere
    """
    set_names: dict[str, list[tuple[str, Location]]] = {}
    for _, var in view.variables:
        if var.sets:
            set_names.setdefault(normalize_name(var.name), []).append((var.name, var.location))
    for owner, var in view.variables:
        if var.source != "compose":  # documents show templates whose values live elsewhere
            continue
        if var.sets or any(
            name == var.name for name, _ in set_names.get(normalize_name(var.name), [])
        ):
            continue
        similar = set_names.get(normalize_name(var.name), [])
        who = view.show(owner) if owner else "a service"
        message = f"{who} reads ${{{var.name}}}, which nothing sets"
        locations = [var.location]
        if similar:
            name, where = min(similar, key=lambda item: item[1])
            message += f"; {name} is set instead"
            locations.append(where)
        yield unset_variable.finding(message, locations, variable=var.name)


@rule("PP208", "unknown-name", Level.WARNING, "a name that matches no service")
def unknown_name(view: View) -> Iterator[Finding]:
    """A source names a service the plan does not know by name or alias; or, without a
    plan, a name matched to another only by similarity (info) or matching several (warning).

    PASS: plan token-engine {aliases: [Token Engine]}; table "Token Engine | 8081"
    FAIL: plan token-engine; table "Tokn Engine | 8081"
    """
    names = view.names
    for shown, locations in sorted(names.unknown.items()):
        yield unknown_name.finding(
            f"{shown} matches no service of the plan (by name or alias)",
            locations,
            name=shown,
        )
    for shown, (other, where) in sorted(names.similar.items()):
        yield unknown_name.finding(
            f"{shown} and {other} are taken to be one service (similar names)",
            [where],
            Level.INFO,
            name=shown,
            matched=other,
        )
    for shown, (candidates, where) in sorted(names.ambiguous.items()):
        choices = " or ".join(names.show(c) for c in candidates)
        yield unknown_name.finding(f"{shown} could be {choices}; not matched", [where], name=shown)


@rule("PP209", "unreadable-source", Level.ERROR, "a file that could not be read or parsed")
def unreadable_source(view: View) -> Iterator[Finding]:
    """A file could not be read or parsed; the other files are still reconciled.

    PASS: compose.yaml is valid YAML
    FAIL: compose.yaml holds `services: [`
    """
    for result in view.results:
        for error in result.errors:
            yield unreadable_source.finding(error.message, [error.location], file=result.file)


@rule("PP210", "secret", Level.ERROR, "a literal secret in a source")
def secret(view: View) -> Iterator[Finding]:
    """A source holds a literal secret (a password in a URL, a *_SECRET/_TOKEN/_PASSWORD/
    _KEY value). The value is never shown.

    PASS: JWT_SECRET=${JWT_SECRET}
    FAIL: JWT_SECRET=hunter2
    """
    references = {var.location for _, var in view.variables if not var.sets}
    for owner, var in view.variables:
        # A line that reads a variable (JWT_SECRET=${JWT_SECRET}) holds a reference.
        if var.secret and var.location not in references:
            who = f"{view.show(owner)}: " if owner else ""
            yield secret.finding(
                f"{who}{var.name} holds a literal secret (value not shown)",
                [var.location],
                variable=var.name,
            )


@rule("PP211", "unknown-dependency", Level.ERROR, "depends_on names a service not defined")
def unknown_dependency(view: View) -> Iterator[Finding]:
    """A compose service depends on a service that no compose file of its directory
    defines (the files a `-f a -f b` project can be made of). A dependency marked
    `required: false` may be absent.

    PASS: gateway {depends_on: [db]}; db {image: postgres}
    FAIL: gateway {depends_on: [ledger]}; no service ledger
    """
    compose = [result for result in view.results if result.kind == "compose"]
    defined: dict[str, set[str]] = {}
    for result in compose:
        names = defined.setdefault(os.path.dirname(result.file), set())
        names.update(s.service for s in result.services)
    for result in compose:
        known = defined[os.path.dirname(result.file)]
        for dep in result.dependencies:
            if dep.via == "depends_on" and dep.required and dep.target not in known:
                yield unknown_dependency.finding(
                    f"{dep.service} depends on {dep.target}, which no compose file of its "
                    "directory defines",
                    [dep.location],
                    service=dep.service,
                    dependency=dep.target,
                )


RULES: dict[str, Rule] = {
    r.id: r
    for r in (
        port_drift,
        port_claimed_twice,
        service_missing,
        reserved_port_in_use,
        dependency_drift,
        exposure_drift,
        unset_variable,
        unknown_name,
        unreadable_source,
        secret,
        unknown_dependency,
        duplicate_published_port,
        env_port_reused,
    )
}


def get(key: str) -> Rule:
    """A rule by id (PP201) or name (port-drift)."""
    for found in RULES.values():
        if key.upper() == found.id or key == found.name:
            return found
    raise KeyError(key)
