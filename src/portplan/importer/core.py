"""`portplan import`: write a `portplan.yaml` from what exists.

The sources (compose, `.env`, Kubernetes, Markdown: `portplan.sources.scan`) are read the
way `portplan reconcile` reads them, and in two passes:

1. without a plan, names are matched across sources (`portplan.reconcile.names`) and each
   port of each service takes the number most files state (`portplan.importer.vote`);
2. the sources are then reconciled against that plan, so every disagreement reconcile would
   report against the written file is written beside the line it concerns, naming each
   side with file:line.

Services come in order of their first mention (file path, then line). Nothing is invented:
a port name, an exposure, a health check or a dependency is written only when a source
states it (or a well-known product's name gives the port's protocol). Secret values are
never written; a secret variable is at most named in a note.
"""

from __future__ import annotations

import os
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from portplan.errors import PortplanError
from portplan.importer import conflicts, facts
from portplan.importer.documented import yield_to_configured
from portplan.importer.hosts import assign_hosts
from portplan.importer.listens import take_env
from portplan.importer.plan import Plan
from portplan.importer.services import plan_services
from portplan.importer.sources import prepare
from portplan.importer.text import render
from portplan.reconcile.core import build_view
from portplan.report import plural
from portplan.sources.base import SourceError, SourceResult


class NothingToImport(PortplanError):
    """No source under the paths names a service."""


class OutputExists(PortplanError):
    """The output file exists and overwriting was not asked for."""


@dataclass(frozen=True)
class Imported:
    """The written text, the plan behind it and the sources it came from."""

    text: str
    plan: Plan
    results: list[SourceResult]

    @property
    def services(self) -> int:
        return len(self.plan.services)

    @property
    def ports(self) -> int:
        return sum(len(service.ports) for service in self.plan.services)

    @property
    def conflicts(self) -> int:
        return self.plan.conflicts()

    def summary(self) -> str:
        counts = ((self.services, "service"), (self.ports, "port"), (self.conflicts, "conflict"))
        return ", ".join(plural(count, word) for count, word in counts)


def command_line(paths: Sequence[str | os.PathLike[str]]) -> str:
    """The command that imports `paths`, as a shell would take it."""
    return "portplan import " + " ".join(shlex.quote(os.fspath(p)) for p in paths)


def warnings(results: Sequence[SourceResult]) -> list[str]:
    """One line per file that could not be read or parsed ("could not read X: why")."""
    lines: dict[str, None] = {}  # a .env read alone and for its compose project fails once
    for result in results:
        for error in result.errors:
            named = error.location.file in error.message
            lines[error.message if named else f"{error.location}: {error.message}"] = None
    return list(lines)


def _unread(results: Sequence[SourceResult]) -> list[str]:
    """Each file not imported from, where it (or a file it needs, such as its compose
    project's `.env`) failed, without the reason: a parser's reason may quote the line, and
    a line may hold a secret."""
    lines: dict[str, None] = {}
    for result in results:
        own = [error for error in result.errors if error.location.file == result.file]
        for error in own:
            lines[f"{error.location} ({_why(error)})"] = None
        if not own:
            needed = ", ".join(dict.fromkeys(str(error.location) for error in result.errors))
            lines[f"{result.file} (it needs {needed}, which could not be read or parsed)"] = None
    return list(lines)


def _why(error: SourceError) -> str:
    """Why a file was not read, for the header: a note's own reason when it was left unread
    on purpose (Helm templates: their reason quotes nothing of the file), else that it could
    not be read or parsed (a parser's reason may quote the line)."""
    lead = f"not read {error.location}: "
    if error.level is not None and error.message.startswith(lead):
        return error.message.removeprefix(lead)
    return "could not be read or parsed"


def _nothing(paths: Sequence[str | os.PathLike[str]], unread: Sequence[SourceResult]) -> str:
    """Why nothing could be imported, in one line (each file that could not be read has a
    line of its own: `warnings`)."""
    shown = ", ".join(os.fspath(p) for p in paths)
    files = len({result.file for result in unread})
    read = f" that could be read ({files} could not be)" if files else ""
    return (
        f"nothing to import: no compose, .env, Kubernetes or Markdown file in {shown}{read} "
        "names a service"
    )


def import_paths(paths: Sequence[str | os.PathLike[str]]) -> Imported:
    """Scan `paths` for sources and import them."""
    from portplan.sources import scan

    return import_results(scan(paths), paths)


def import_results(
    results: Sequence[SourceResult], paths: Sequence[str | os.PathLike[str]]
) -> Imported:
    """The plan the sources read from `paths` agree on, with every conflict marked;
    NothingToImport when no source names a service."""
    prepared = prepare(results)
    results = prepared.results
    before = build_view(results, None)
    with_health = {
        key
        for result in results
        for obs in result.services
        if obs.health_path and (key := before.names.key(obs.service))
    }
    services = plan_services(results, before, with_health)
    if not services:
        raise NothingToImport(_nothing(paths, prepared.unread))
    take_env(services, results, before)
    for service in services if prepared.notes else ():  # most trees: no note to place
        service.notes.extend(
            note
            for name, notes in prepared.notes.items()
            if before.names.key(name) == service.key
            for note in notes
        )
    files = len({result.file for result in results})
    plan = Plan(command_line(paths), files, services, skipped=_unread(prepared.unread))
    plan.reserved = conflicts.reservations(results)
    assign_hosts(plan, before, results)
    yield_to_configured(plan, results, before)
    view = build_view(results, plan.topology(), before)
    conflicts.port_conflicts(plan, view)
    conflicts.claimed_twice(plan, view)
    conflicts.published_twice(plan, view)
    conflicts.reserved_in_use(plan, view)
    facts.exposures(plan, view, before, results)
    facts.health_checks(plan, view, results)
    facts.dependencies(plan, view)
    facts.secrets(plan, view)
    return Imported(render(plan), plan, results)


def refuse_overwrite(path: str | os.PathLike[str], force: bool = False) -> None:
    """OutputExists when `path` exists (a file, a folder or a link) and not `force`."""
    if os.path.lexists(path) and not force:
        raise OutputExists(f"{os.fspath(path)} exists; use --force to overwrite it")


def write(
    path: str | os.PathLike[str], text: str, force: bool = False, *, follow_links: bool = False
) -> None:
    """Write `text` to `path` atomically (a temporary file beside it, then a rename);
    OutputExists when it exists and not `force`; `atomicfile.OutputError` when it may not
    be replaced (not a regular file, read-only, hard-linked, a link out of its folder) or
    cannot be written."""
    from portplan.atomicfile import write_atomic

    refuse_overwrite(path, force)
    write_atomic(path, text, follow_links=follow_links)


__all__ = [
    "Imported",
    "NothingToImport",
    "OutputExists",
    "command_line",
    "import_paths",
    "import_results",
    "refuse_overwrite",
    "warnings",
    "write",
]
