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

from portplan.errors import NotFoundError
from portplan.findings import Finding, sorted_findings
from portplan.model import Location, Topology
from portplan.reconcile.inventory import Entry, details, inventory, recognised, summary
from portplan.reconcile.names import build_names
from portplan.reconcile.projects import apart_namespaces, as_planned, by_planned_variables
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
from portplan.sources.markdown.parameters import SOURCE as HELM_README


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


def build_view(
    results: Sequence[SourceResult], topology: Topology | None, earlier: View | None = None
) -> View:
    """Observations under canonical service keys, each one once. Against a plan, a compose
    project's names are the plan's `<project>-<name>` where it has them
    (`portplan.reconcile.projects`); so are a Kubernetes namespace's, and without a plan a
    name defined in several namespaces is `<namespace>-<name>` in each. An example file's
    observations are left out when its real file is read (`.env.example` beside `.env`:
    `without_templates`). `earlier`, a view of the same results, lends the names it read
    from them (`portplan.reconcile.names.build_names`)."""
    results = without_templates(results)
    results = (
        as_planned(results, topology) if topology is not None else apart_namespaces(list(results))
    )
    if topology is not None:
        results = by_planned_variables(results, topology)
    names = build_names(results, topology, earlier.names if earlier is not None else None)
    view = View(list(results), topology, names)
    seen: set[tuple[object, ...]] = set()
    # .env files first, so that a file read both alone and as a compose env_file counts
    # as the .env it is.
    for result in sorted(results, key=lambda r: r.kind != "dotenv"):
        _add_ports(view, result, seen)
        _add_dependencies(view, result, seen)
        for variable in result.variables:
            at = variable.location  # its fields: a Location's hash is a Python call
            mark = (
                "v", variable.service, variable.name, at.file, at.line, at.column, variable.sets,
            )  # fmt: skip
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
    ports = result.ports
    if result.kind in ("code", "image"):
        # a default in code is no statement of the port (PP218 holds it to compose); an
        # address an app setting gives (`PurchaseUrl`) is a reference like any other
        ports = [port for port in ports if port.reference]
    # a chart's README documents its values' defaults: PP221 holds them to values.yaml
    ports = [port for port in ports if port.source != HELM_README]
    for port in ports:
        key = view.key(port.service)
        at = port.location  # its fields: a Location's hash is a Python call
        mark = (
            "p", key, port.number, at.file, at.line, at.column, port.variable, port.target,
            port.address,
        )  # fmt: skip
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
    sources: Sequence[Entry] = ()  # every file met: read, skipped... (`inventory`)

    def report(self, verbose: bool = False) -> Report:
        """The report; `verbose` lists every file met under the sources summary line."""
        from portplan.reconcile.rules import RULES

        files = len({r.file for r in self.results})
        services = self.services
        subject = f"{plural(files, 'file')}, {plural(services, 'service')}"
        if self.topology is not None:
            subject += f" against {self.topology.source}"
        notes = [summary(self.sources), *(details(self.sources) if verbose else [])]
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
            notes=notes if self.sources else (),
            extra={"sources": [entry.as_dict() for entry in self.sources]},
        )


def reconcile_paths(
    paths: Sequence[str | os.PathLike[str]], topology: Topology | None = None
) -> ReconcileResult:
    """Scan `paths` for sources and reconcile them (with `topology` when given).

    Raises NotFoundError when no file under `paths` is of a known kind and there is no
    plan: a run that read nothing must not pass as a clean one (against a plan, each of its
    services is a PP203 finding)."""
    from portplan.sources import survey

    found = survey(paths)
    entries = inventory(found.results, found.skipped, found.merged)
    if not recognised(entries) and topology is None:
        raise NotFoundError(_nothing_found(paths, entries))
    view = build_view(found.results, topology)
    return ReconcileResult(found.results, topology, _run(view), len(_named(view)), entries)


def plan_near(path: str | os.PathLike[str]) -> str | None:
    """The plan a reconcile of `path` is held to without -f, found as `check` finds one:
    `portplan.yaml` in the folder of `path` (itself when a folder) or its nearest parent."""
    from pathlib import Path

    from portplan.plan.loader import discover

    start = Path(path)
    found = discover(start if start.is_dir() else start.parent)
    return None if found is None else os.fspath(found)


def _nothing_found(paths: Sequence[str | os.PathLike[str]], entries: Sequence[Entry]) -> str:
    shown = ", ".join(os.fspath(p) for p in paths)
    skipped = f" ({plural(len(entries), 'file')} of no known kind)" if entries else ""
    return (
        f"no source found in {shown}{skipped}: expected compose, .env, Kubernetes or "
        "Markdown files; name a file to read it by its content"
    )


def _named(view: View) -> set[str]:
    """The keys of every service the sources (and the plan) give a port or define
    (compose `web` with only an `env_file`); not a dependency nothing defines."""
    found = {port.key for port in view.ports}
    for result in view.results:
        found.update(key for s in result.services if (key := view.key(s.service)))
    return found
