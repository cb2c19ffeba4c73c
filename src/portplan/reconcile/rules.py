"""The reconcile rules PP201-PP220, registered here; the port rules live in
`portplan.reconcile.ports`, the listening ports of code in `portplan.reconcile.listen`, the
rules over app settings in `portplan.reconcile.settings`."""

from __future__ import annotations

import os
from collections.abc import Collection, Iterator, Mapping

from portplan.findings import Finding, Level
from portplan.model import Location, Topology, normalize_name
from portplan.reconcile.helm import helm_value_drift
from portplan.reconcile.listen import unpublished_listen_port
from portplan.reconcile.ports import (
    duplicate_published_port,
    env_port_reused,
    exposure_drift,
    port_claimed_twice,
    port_drift,
    reserved_port_in_use,
)
from portplan.reconcile.references import not_listening, unknown_host, unreachable_port
from portplan.reconcile.settings import setting_drift
from portplan.reconcile.view import (
    Dependency,
    Rule,
    View,
    external_dependencies,
    place_order,
    rule,
)
from portplan.report import joined
from portplan.sources.base import DependencyObservation

ENV_URL = "env-url"
DEPENDS_ON = "depends_on"


@rule("PP203", "service-missing", Level.WARNING, "a planned service no source mentions")
def service_missing(view: View) -> Iterator[Finding]:
    """A service of the plan appears in no source (checked only with a plan). A range a
    source labels with the service's name ("ML Services (8021-8022)") mentions it.

    PASS: plan {gateway, token-engine}; compose defines both
    FAIL: plan {gateway, token-engine}; compose defines only gateway
    """
    if view.topology is None:
        return
    seen = {p.key for p in view.ports if p.kind != "plan"}
    seen |= {d.key for d in view.dependencies} | {d.target for d in view.dependencies}
    for result in view.results:
        seen.update(k for s in result.services if (k := view.names.key(s.service)))
        seen.update(k for r in result.ranges if r.label and (k := view.names.key(r.label)))
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
    dependencies (compose `depends_on`, a diagram's edges, a dependency tree or table) of
    the same system leaves it out. Lists need not name every dependency by URL, so only the
    URL side is held to the lists, and a list only for what it could name: depends_on the
    services of its own compose project (not a database outside it), a document's diagram
    or tree the services it shows somewhere (not infrastructure it never mentions).

    With a plan, a dependency any source states and the plan's `depends_on` of the service
    leaves out is reported too, when the plan lists dependencies of that service and names
    the target in some list (a plan silent on them says nothing against them).

    PASS: NATS_URL in token-engine's env; Token --> NATS in the diagram
    FAIL: NATS_URL in token-engine's env; no Token --> NATS edge, NATS elsewhere in it
    """
    if view.topology is not None:
        yield from _unplanned_dependencies(view, view.topology)
    lists: dict[tuple[str, int], dict[str, dict[str, Dependency]]] = {}
    for dep in view.dependencies:
        by_via = lists.setdefault((dep.key, view.system(dep.obs.location)), {})
        by_via.setdefault(dep.obs.via, {}).setdefault(dep.target, dep)
    scope = _Scope(view)
    for _, by_via in sorted(lists.items()):
        urls = by_via.get(ENV_URL, {})
        for via, others in sorted(by_via.items()):
            if via == ENV_URL:
                continue
            for target in sorted(set(urls) - set(others)):
                if scope.could_name(target, via, others):
                    yield _dependency_finding(view, urls[target], via, others)


def reaches(edges: Mapping[str, Collection[str]], start: str, goal: str) -> bool:
    """Whether `goal` can be reached from `start` along `edges` (service -> dependencies)."""
    seen, todo = {start}, [start]
    while todo:
        here = todo.pop()
        if here == goal:
            return True
        for after in edges.get(here, ()):
            if after not in seen:
                seen.add(after)
                todo.append(after)
    return False


def _unplanned_dependencies(view: View, topology: Topology) -> Iterator[Finding]:
    first: dict[tuple[str, str], Dependency] = {}
    for dep in sorted(view.dependencies, key=lambda d: d.obs.location):
        first.setdefault((dep.key, dep.target), dep)
    shown = {d.name for s in topology.services.values() for d in s.depends_on}
    planned = {n: {d.name for d in s.depends_on} for n, s in topology.services.items()}
    for (key, target), dep in sorted(first.items()):
        service = topology.services.get(key)
        if service is None or not service.depends_on or target not in shown:
            continue
        if target in planned[key]:
            continue
        if dep.obs.via == ENV_URL and reaches(planned, target, key):
            continue  # an URL back to a service that depends on it: no start order
        yield dependency_drift.finding(
            f"{view.show(key)} depends on {view.show(target)} by {dep.obs.via}, but not in "
            "the plan",
            [dep.obs.location, service.location],
            service=view.show(key),
            dependency=view.show(target),
            stated_by=dep.obs.via,
            missing_from="plan",
        )


class _Scope:
    """What each list of dependencies could name."""

    def __init__(self, view: View) -> None:
        self.defined: set[tuple[str | None, str]] = {
            (service.project, key)
            for result in view.results
            for service in result.services
            if service.project is not None and (key := view.names.key(service.service))
        }
        self.shown: set[tuple[str, str, str]] = set()  # (file, via, key) a list mentions
        for dep in view.dependencies:
            file, via = dep.obs.location.file, dep.obs.via
            self.shown.update(((file, via, dep.key), (file, via, dep.target)))

    def could_name(self, target: str, via: str, others: dict[str, Dependency]) -> bool:
        if via == DEPENDS_ON:
            projects = {dep.obs.project for dep in others.values()}
            return any((project, target) in self.defined for project in projects)
        files = {dep.obs.location.file for dep in others.values()}
        return any((file, via, target) in self.shown for file in files)


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
    `.env` sets it (compose would use an empty string). A service's `environment:` sets
    variables inside its container, not for interpolation: `SECRET_KEY: ${SECRET_KEY}`
    reads a variable nothing sets. A variable set under a similar name (other case or
    underscores) is named.

    PASS: ports: ["${GATEWAY_PORT}:8080"] with GATEWAY_PORT=8080 in .env
    FAIL: ports: ["${GATEWAY_PORT}:8080"] and no GATEWAY_PORT anywhere
    """
    set_names: dict[str, list[tuple[str, Location]]] = {}
    for _, var in view.variables:
        if var.sets and var.source != "compose":  # `environment:` is the container's
            set_names.setdefault(normalize_name(var.name), []).append((var.name, var.location))
    readers: dict[str, tuple[list[str], list[Location]]] = {}  # one finding per variable
    for owner, var in view.variables:
        if var.source != "compose":  # documents show templates whose values live elsewhere
            continue
        similar = set_names.get(normalize_name(var.name), [])
        if var.sets or any(name == var.name for name, _ in similar):
            continue
        who, places = readers.setdefault(var.name, ([], []))
        shown = view.show(owner) if owner else "a service"
        who.extend([shown] if shown not in who else [])
        places.extend([var.location] if var.location not in places else [])
    for name, (who, places) in readers.items():
        verb = "reads" if len(who) == 1 else "read"
        message = f"{joined(sorted(who))} {verb} ${{{name}}}, which nothing sets"
        locations = sorted(places, key=place_order)
        similar = set_names.get(normalize_name(name), [])
        if similar:
            other, where = min(similar, key=lambda item: item[1])
            message += f"; {other} is set instead"
            locations.append(where)
        yield unset_variable.finding(message, locations, variable=name)


@rule("PP208", "unknown-name", Level.WARNING, "a name that matches no service")
def unknown_name(view: View) -> Iterator[Finding]:
    """A source names a service the plan does not know by name or alias; or, without a
    plan, a name matched to another only by similarity (info), a name only a diagram's
    edges give, stating no port and matching nothing else (`Stripe[Stripe API]`: info, left
    out of the services), or a name matching several (warning).

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
    for shown, locations in names.diagram_only.items():
        yield unknown_name.finding(
            f"{shown} is named only by a diagram, states no port and matches no service: left out",
            locations,
            Level.INFO,
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
            yield unreadable_source.finding(
                error.message, [error.location], error.level, file=result.file
            )


@rule("PP210", "secret", Level.WARNING, "a literal secret in a source")
def secret(view: View) -> Iterator[Finding]:
    """A source holds a literal secret: a password in a URL or a connection string, a
    literal *_SECRET/_TOKEN/_PASSWORD/_KEY value, a credential format (the detector PP111
    uses, docs/reconcile.md "Secrets"). The value is never shown.

    A committed literal is hygiene, not drift: a warning (`paperless`, `p4ssw0rd`,
    `secret-change-in-production`). A value with a real credential's shape (an AWS or
    GitHub key, a JSON Web Token, a private key, a high-entropy string) is an error.
    References (`${JWT_SECRET}`, `vault:...`), placeholders (`changeme`, `<your-key>`,
    `changePassword`) and values naming a secret (`*_SECRET_NAME`) are no finding.

    PASS: JWT_SECRET=${JWT_SECRET}
    FAIL: JWT_SECRET=hunter2
    """
    references = {var.location for _, var in view.variables if not var.sets}
    readers: dict[tuple[Location, str], dict[str, None]] = {}
    credentials: set[tuple[Location, str]] = set()
    for owner, var in view.variables:
        # A line that reads a variable (JWT_SECRET=${JWT_SECRET}) holds a reference.
        if var.secret and var.location not in references:
            found = readers.setdefault((var.location, var.name), {})
            if owner:
                found[view.show(owner)] = None
            if var.credential:
                credentials.add((var.location, var.name))
    # One finding per place, naming every service that reads it (an env_file or an anchor
    # several services share).
    for (location, name), owners in readers.items():
        who = f"{joined(sorted(owners))}: " if owners else ""
        if (location, name) in credentials:
            message = f"{who}{name} holds a real credential's shape (value not shown)"
            yield secret.finding(message, [location], Level.ERROR, variable=name)
        else:
            message = f"{who}{name} holds a literal secret (value not shown)"
            yield secret.finding(message, [location], variable=name)


@rule("PP211", "unknown-dependency", Level.ERROR, "depends_on names a service not defined")
def unknown_dependency(view: View) -> Iterator[Finding]:
    """A compose service depends on a service that no compose file of its directory
    defines (the files a `-f a -f b` project can be made of), or a compose file shown in
    a document does not define. A dependency marked `required: false` may be absent; one
    that a compose file of a folder above defines is an extension's
    (`docker compose -f docker-compose.yml -f extensions/x/x-compose.yml up`).

    PASS: gateway {depends_on: [db]}; db {image: postgres}
    FAIL: gateway {depends_on: [ledger]}; no service ledger
    """
    compose = [result for result in view.results if result.kind == "compose"]
    defined: dict[str, set[str]] = {}
    for result in compose:
        names = defined.setdefault(os.path.dirname(result.file), set())
        names.update(s.service for s in result.services)
    for result in compose:
        folder = os.path.dirname(result.file)
        for dep in result.dependencies:
            missing = dep.required and dep.target not in defined[folder]
            if (
                dep.via == DEPENDS_ON
                and missing
                and not _defined_above(dep.target, folder, defined)
            ):
                yield _unknown(dep, "no compose file of its directory defines")
    yield from _unknown_in_blocks(view)


def _defined_above(name: str, folder: str, defined: Mapping[str, set[str]]) -> bool:
    """Whether a compose file of a folder above `folder` defines the service `name`."""
    parent = os.path.dirname(folder)
    while parent != folder:
        if name in defined.get(parent, set()):
            return True
        folder, parent = parent, os.path.dirname(parent)
    return False


def _unknown_in_blocks(view: View) -> Iterator[Finding]:
    """Compose files shown in Markdown (blocks listing `services:`)."""
    for result in view.results:
        if result.kind == "compose":
            continue
        blocks: dict[str, set[str]] = {}
        for service in result.services:
            if service.project is not None:
                blocks.setdefault(service.project, set()).add(service.service)
        for dep in result.dependencies:
            known = blocks.get(dep.project or "")
            if dep.via == DEPENDS_ON and known is not None and dep.target not in known:
                yield _unknown(dep, "this compose file does not define")


def _unknown(dep: DependencyObservation, why: str) -> Finding:
    return unknown_dependency.finding(
        f"{dep.service} depends on {dep.target}, which {why}",
        [dep.location],
        service=dep.service,
        dependency=dep.target,
    )


@rule("PP214", "dangling-port", Level.ERROR, "a port reference nothing there declares")
def dangling_port(view: View) -> Iterator[Finding]:
    """A Kubernetes Service's targetPort that no container of the pods it selects declares,
    a probe on a port its pod does not declare, an Ingress backend port its Service does
    not have: the traffic goes nowhere (`portplan.sources._k8s_refs`).

    A numeric targetPort that the pods do not declare while the Service's other ports do
    reach declared ones is a warning: a container often listens on more ports than it
    lists (RabbitMQ's epmd 4369 beside 5672), so the gap may be in the list, not the traffic.

    PASS: Service web {port: 80, targetPort: 8080}; its pods' containerPort 8080
    FAIL: Service web {port: 80, targetPort: 8080}; its pods' only containerPort 80
    """
    for result in view.results:
        for found in result.mismatches:
            yield dangling_port.finding(
                found.message,
                [found.location, *found.others],
                found.level,
                service=found.service,
            )


@rule("PP215", "external-host", Level.INFO, "a service depends on a host outside the system")
def external_host(view: View) -> Iterator[Finding]:
    """A source reaches a public DNS name (`SENTRY_DSN=https://...@o1.ingest.sentry.io/42`,
    `smtp.gmail.com:587`) that neither the plan nor a source's service bears: an endpoint
    outside the system, left out of its services and dependencies and said once, at every
    place that names it (info).

    PASS: PAYMENTS_URL=http://payments.default.svc.cluster.local:8081 (a cluster name)
    FAIL: STRIPE_API=https://api.stripe.com/v1
    """
    dependents = external_dependencies(view)
    for host, locations in view.names.external.items():
        who = sorted(view.show(key) for key in dependents.get(host, {}))
        if who:
            verb = "depends" if len(who) == 1 else "depend"
            message = f"{joined(who)} {verb} on external host {host}"
        else:
            message = f"external host {host}"
        yield external_host.finding(
            f"{message}: not a service of this system", locations, host=host, services=who
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
        dangling_port,
        external_host,
        unreachable_port,
        unknown_host,
        unpublished_listen_port,
        not_listening,
        setting_drift,
        helm_value_drift,
    )
}


def get(key: str) -> Rule:
    """A rule by id (PP201) or name (port-drift)."""
    for found in RULES.values():
        if key.upper() == found.id or key == found.name:
            return found
    raise KeyError(key)
