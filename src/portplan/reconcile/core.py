"""Reconcile: compare what every source says, with the plan when there is one.

`reconcile(results, topology)` is pure: observations in, findings out. With a topology,
every observation is held to it; without one, the sources are held to each other, within
each *system* (the files that share most of their service names, whatever ports they give
them: two unrelated systems in one tree may use the same port without conflict). The
rules are PP201-PP215 (`portplan.reconcile.rules`).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from portplan.findings import Finding, sorted_findings
from portplan.model import Location, Topology
from portplan.reconcile.names import build_names
from portplan.reconcile.projects import apart_namespaces, as_planned
from portplan.reconcile.view import (
    PLANNED,
    Dependency,
    Port,
    View,
)
from portplan.report import Report, RuleInfo, plural
from portplan.sources.base import (
    PortObservation,
    SourceResult,
    without_templates,
)


def reconcile(results: Sequence[SourceResult], topology: Topology | None = None) -> list[Finding]:
    """Every disagreement between `results` (and with `topology`), sorted by location."""

    return _run(build_view(results, topology))


def _run(view: View) -> list[Finding]:
    from portplan.reconcile.rules import RULES

    return sorted_findings(_unique(f for r in RULES.values() for f in r.check(view)))


def _unique(findings: Iterable[Finding]) -> Iterator[Finding]:
    seen: set[tuple[str, str, tuple[Location, ...]]] = set()
    for finding in findings:
        key = (finding.rule, finding.message, finding.locations)
        if key not in seen:
            seen.add(key)
            yield finding


def build_view(results: Sequence[SourceResult], topology: Topology | None) -> View:
    """Observations under canonical service keys, each one once. Against a plan, a compose
    project's names are the plan's `<project>-<name>` where it has them
    (`portplan.reconcile.projects`); so are a Kubernetes namespace's, and without a plan a
    name defined in several namespaces is `<namespace>-<name>` in each. An example file's
    observations are left out when its real file is read (`.env.example` beside `.env`:
    `without_templates`)."""
    results = without_templates(results)
    results = (
        as_planned(results, topology) if topology is not None else apart_namespaces(list(results))
    )
    names = build_names(results, topology)
    view = View(list(results), topology, names)
    seen: set[tuple[object, ...]] = set()
    # .env files first, so that a file read both alone and as a compose env_file counts
    # as the .env it is.
    for result in sorted(results, key=lambda r: r.kind != "dotenv"):
        _add_ports(view, result, seen)
        _add_dependencies(view, result, seen)
        for variable in result.variables:
            mark = ("v", variable.service, variable.name, variable.location, variable.sets)
            if mark not in seen:
                seen.add(mark)
                owner = view.key(variable.service) if variable.service else None
                view.variables.append((owner, variable))
    if topology is not None:
        view.ports.extend(plan_ports(topology))
    return view


def as_one_system(view: View) -> View:
    """The same observations with every file in one system, as a plan sees them (a plan
    merges the systems of its sources): to group a service's ports across every file that
    states them without a plan. What the rules derive is computed afresh."""
    return View(
        view.results,
        view.topology,
        view.names,
        view.ports,
        view.dependencies,
        view.variables,
        one_system=True,
    )


def _add_ports(view: View, result: SourceResult, seen: set[tuple[object, ...]]) -> None:
    for port in result.ports:
        key = view.key(port.service)
        mark = ("p", key, port.number, port.location, port.variable, port.target, port.address)
        if key is not None and mark not in seen:
            seen.add(mark)
            view.ports.append(Port(key, port, result.kind, result.file))


def _add_dependencies(view: View, result: SourceResult, seen: set[tuple[object, ...]]) -> None:
    for dep in result.dependencies:
        key, target = view.key(dep.service), view.key(dep.target)
        mark = ("d", key, target, dep.location, dep.via)
        if key is not None and target is not None and key != target and mark not in seen:
            seen.add(mark)
            view.dependencies.append(Dependency(key, target, dep))


def plan_ports(topology: Topology) -> Iterator[Port]:
    """The plan's ports as observations of the source "plan"."""
    for service in topology.services.values():
        for port in service.ports:
            obs = PortObservation(
                service.name,
                port.number,
                port.location,
                PLANNED,
                port_name=port.name,
                protocol=port.protocol,
                address=port.address,
                published=port.published,
                target=port.target,
                exposure=service.exposure_of(port),
                variable=port.env,
            )
            yield Port(service.name, obs, PLANNED)


# --- the report -------------------------------------------------------------------------


@dataclass(frozen=True)
class ReconcileResult:
    results: list[SourceResult]
    topology: Topology | None
    findings: list[Finding]
    services: int = 0  # how many services the sources name

    def report(self) -> Report:
        from portplan.reconcile.rules import RULES

        files = len({r.file for r in self.results})
        services = self.services
        subject = f"{plural(files, 'file')}, {plural(services, 'service')}"
        if self.topology is not None:
            subject += f" against {self.topology.source}"
        return Report(
            findings=self.findings,
            subject=subject,
            tool_command="reconcile",
            facts={
                "files": files,
                "services": services,
                "plan": self.topology.source if self.topology else None,
            },
            rules={r.id: RuleInfo(r.id, r.name, r.level, r.summary, r.doc) for r in RULES.values()},
        )


def reconcile_paths(
    paths: Sequence[str | os.PathLike[str]], topology: Topology | None = None
) -> ReconcileResult:
    """Scan `paths` for sources and reconcile them (with `topology` when given)."""
    from portplan.sources import scan

    results = scan(paths)
    view = build_view(results, topology)
    return ReconcileResult(results, topology, _run(view), len(_named(view)))


def _named(view: View) -> set[str]:
    """The keys of every service the sources (and the plan) give a port or define
    (compose `web` with only an `env_file`); not a dependency nothing defines."""
    found = {port.key for port in view.ports}
    for result in view.results:
        found.update(key for s in result.services if (key := view.key(s.service)))
    return found
