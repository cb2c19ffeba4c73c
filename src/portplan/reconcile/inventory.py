"""What a reconcile run read and what it did not, and why: one entry per file met.

Statuses: `read`; `unreadable` (a file of a known kind that could not be read or parsed);
`skipped` (no known kind, the plan itself, a Helm chart's Go templates); `superseded` (an
example file whose real file is read: `.env.example` beside `.env`). A file read as part of
another file's compose project (an override, an included file) is `read`, and says whose.
The text report shows one summary line (the entries with `-v`); JSON lists every entry as
`sources: [{file, kind, status, why}]`.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from portplan.findings import Level
from portplan.report import joined, plural
from portplan.sources.base import SourceResult, is_template_name, real_counterparts

READ, UNREADABLE, SKIPPED, SUPERSEDED = "read", "unreadable", "skipped", "superseded"
KIND_WORDS: Final = {  # in the order the summary names them
    "compose": "compose",
    "kubernetes": "Kubernetes",
    "dotenv": ".env",
    "markdown": "Markdown",
    "dockerfile": "Dockerfile",
    "monitoring": "monitoring",
    "nginx": "nginx",
    "caddy": "Caddyfile",
    "envoy": "Envoy",
    "haproxy": "HAProxy",
    "helm": "Helm",
}


@dataclass(frozen=True)
class Entry:
    """One file a run met: its kind (`unknown` when none), status and why (may be "")."""

    file: str
    kind: str
    status: str
    why: str = ""

    def as_dict(self) -> dict[str, str]:
        return {"file": self.file, "kind": self.kind, "status": self.status, "why": self.why}


def inventory(
    results: Sequence[SourceResult], skipped: dict[str, str], merged: dict[str, str]
) -> list[Entry]:
    """Every file met, by path: the results read, the files `skipped` (file -> why) and
    those `merged` into another file's compose project (file -> that project's file)."""
    read = {os.path.normpath(r.file) for r in results if _status(r) == READ}
    stand_ins = {example: missing for r in results for example, missing in r.stand_ins.items()}
    entries: dict[str, Entry] = {}
    for result in results:
        entries.setdefault(result.file, _entry(result, read, stand_ins))
    for file, first in merged.items():
        how = "included by" if file not in _overrides(results) else "merged into the project of"
        entries.setdefault(file, Entry(file, "compose", READ, f"{how} {first}"))
    for file, why in skipped.items():
        entries.setdefault(file, Entry(file, "unknown", SKIPPED, why))
    return sorted(entries.values(), key=lambda e: e.file)


def _overrides(results: Sequence[SourceResult]) -> set[str]:
    return {file for result in results for file in result.merged}


def _entry(result: SourceResult, read: set[str], stand_ins: dict[str, str]) -> Entry:
    status = _status(result)
    why = ""
    if status == UNREADABLE:
        why = next(e.message for e in result.errors if e.level is None or e.level >= Level.ERROR)
    elif status == SKIPPED:
        why = result.errors[0].message
    elif is_template_name(result.file):
        real = [p for p in real_counterparts(result.file) if os.path.normpath(p) in read]
        if real:
            status, why = SUPERSEDED, f"an example of {real[0]}, which is read"
    if result.file in stand_ins and status == READ:
        why = f"stands in for {stand_ins[result.file]}, which is missing"
    if result.merged and status == READ:
        why = f"one compose project with {joined(result.merged)}"
    return Entry(result.file, result.kind, status, why)


def _status(result: SourceResult) -> str:
    if any(e.level is None or e.level >= Level.ERROR for e in result.errors):
        return UNREADABLE
    noted = result.errors and all(e.level == Level.INFO for e in result.errors)
    if noted and not (result.services or result.ports or result.variables):
        return SKIPPED  # left unread on purpose: a Helm chart's Go templates
    return READ


def summary(entries: Sequence[Entry]) -> str:
    """One line: `sources: read 5 files (3 compose, 2 Markdown); skipped 12 (no known
    kind: 12)`."""
    by_status = Counter(entry.status for entry in entries)
    kinds = Counter(KIND_WORDS.get(e.kind, e.kind) for e in entries if e.status == READ)
    parts = [f"read {plural(by_status[READ], 'file')}"]
    order = list(KIND_WORDS.values())
    ranked = sorted(kinds.items(), key=lambda item: (-item[1], _rank(order, item[0])))
    if kinds:
        parts[0] += " (" + ", ".join(f"{n} {kind}" for kind, n in ranked) + ")"
    if by_status[UNREADABLE]:
        parts.append(f"{by_status[UNREADABLE]} unreadable")
    if by_status[SUPERSEDED]:
        parts.append(f"{by_status[SUPERSEDED]} superseded by their real file")
    if by_status[SKIPPED]:
        whys = Counter(_short(e.why) for e in entries if e.status == SKIPPED)
        listed = ", ".join(
            f"{why}: {n}" if len(whys) > 1 else why for why, n in sorted(whys.items())
        )
        parts.append(f"skipped {by_status[SKIPPED]} ({listed})")
    return "sources: " + "; ".join(parts)


def _rank(order: list[str], kind: str) -> int:
    return order.index(kind) if kind in order else len(order)


def _short(why: str) -> str:
    """A skipped file's reason, shortened to its kind for the summary line."""
    if why.startswith("a portplan plan"):
        return "the plan"
    if why.startswith("not read"):
        return "Helm templates"
    return why


def details(entries: Sequence[Entry]) -> list[str]:
    """One line per entry (`-v`): status, kind, file and why."""
    return [
        f"  {e.status:<10} {KIND_WORDS.get(e.kind, e.kind):<10} {e.file}"
        + (f": {e.why}" if e.why else "")
        for e in entries
    ]


def recognised(entries: Sequence[Entry]) -> bool:
    """Whether anything but files of no known kind was met (a file read, one that could not
    be, a path that does not exist, a Helm chart left unread on purpose)."""
    return any(entry.status != SKIPPED or entry.kind != "unknown" for entry in entries)
