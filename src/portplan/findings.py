"""A finding is data: rule, level, message, locations and the facts behind it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from portplan.model import Location


class Level(IntEnum):
    """Severity; ordered so that `level >= Level.WARNING` reads naturally."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    def __str__(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Level:
        return cls[text.upper()]


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: which rule saw it, how bad it is, what it is and where.

    `facts` holds the structured data behind the message (services, ports, hosts...),
    so machines never parse the message text.
    """

    rule: str  # e.g. "PP101"
    name: str  # e.g. "duplicate-binding"
    level: Level
    message: str
    locations: tuple[Location, ...] = ()
    facts: Mapping[str, Any] = field(default_factory=dict)

    @property
    def location(self) -> Location | None:
        return self.locations[0] if self.locations else None

    def sort_key(self) -> tuple[Any, ...]:
        loc = self.location
        where = (loc.file, loc.line, loc.column) if loc else ("", 0, 0)
        return (*where, self.rule, self.message)

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "name": self.name,
            "level": str(self.level),
            "message": self.message,
            "locations": [loc.as_dict() for loc in self.locations],
            **{k: v for k, v in self.facts.items() if k not in _RESERVED_KEYS},
        }


_RESERVED_KEYS = frozenset({"rule", "name", "level", "message", "locations"})


def sorted_findings(findings: Iterable[Finding]) -> list[Finding]:
    return sorted(findings, key=Finding.sort_key)


def count_by_level(findings: Iterable[Finding]) -> dict[Level, int]:
    counts = dict.fromkeys(Level, 0)
    for finding in findings:
        counts[finding.level] += 1
    return counts
