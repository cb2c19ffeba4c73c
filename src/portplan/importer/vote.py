"""Voting for `portplan import`: every statement of a fact is a claim; the value most files
state wins.

Ties are broken by the number of lines stating it, then by the kind of file that states it
(compose, then Kubernetes, then `.env`, then Markdown: `portplan.reconcile.core.KIND_ORDER`, the
order reconcile breaks ties in), then by the earliest statement (file path, letter case
aside, then line). A conflict is described with every side's file:line.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import Generic, NamedTuple, TypeVar

from portplan.model import Location
from portplan.reconcile.view import place_order, precedence

T = TypeVar("T", bound=Hashable)


# Named tuples, not frozen dataclasses: as immutable, and made several times faster (an
# import makes several claims per port of every service).
class Claim(NamedTuple, Generic[T]):
    """One statement of a value: where, and in which kind of file."""

    value: T
    location: Location
    kind: str


class Side(NamedTuple, Generic[T]):
    """One value and every claim that states it."""

    value: T
    claims: tuple[Claim[T], ...]

    @property
    def files(self) -> int:
        return len({claim.location.file for claim in self.claims})

    @property
    def locations(self) -> list[Location]:
        if len(self.claims) == 1:  # most values are stated once
            return [_line(self.claims[0].location)]
        return sorted({_line(claim.location) for claim in self.claims})

    def rank(
        self, trust: Mapping[str, float] | None = None
    ) -> tuple[int, float, int, int, tuple[str, str, int, int]]:
        files = {claim.location.file for claim in self.claims}
        trusted = sum(trust.get(file, 0.5) for file in files) if trust else 0.0
        best = min(precedence(claim.kind) for claim in self.claims)
        lines = self.locations
        place = min(place_order(line) for line in lines)
        return (-len(files), -trusted, -len(lines), best, place)


def vote(claims: Sequence[Claim[T]], trust: Mapping[str, float] | None = None) -> list[Side[T]]:
    """The values claimed, the winner first: the most files; then, given `trust` (file ->
    how far its values agree with the others': `portplan.reconcile.ports.reliability`),
    the files rated higher; then the most statements (lines), then the kind of file, then
    the earliest statement."""
    if len(claims) == 1:  # most facts are stated once (an import votes several per port)
        return [Side(claims[0].value, (claims[0],))]
    by_value: dict[T, list[Claim[T]]] = {}
    for claim in claims:
        by_value.setdefault(claim.value, []).append(claim)
    found = [Side(value, tuple(stated)) for value, stated in by_value.items()]
    return sorted(found, key=lambda side: side.rank(trust)) if len(found) > 1 else found


def describe(winner: Side[T] | None, losers: Sequence[Side[T]]) -> str:
    """`conflict: a.md:42 says 8011 (2 sources); compose.yaml:17 says 8012`: the winner by
    its first statement and how many files (and lines, when more) state it, every other
    side by all its statements."""
    parts = []
    if winner is not None:
        lines = len(winner.locations)
        counts = [f"{winner.files} sources"] if winner.files > 1 else []
        counts += [f"{lines} lines"] if lines > winner.files else []
        counted = f" ({', '.join(counts)})" if counts else ""
        parts.append(f"{winner.locations[0]} says {winner.value}{counted}")
    for side in losers:
        where = ", ".join(str(location) for location in side.locations)
        verb = "says" if len(side.locations) == 1 else "say"
        counted = f" ({side.files} sources)" if side.files > 1 else ""
        parts.append(f"{where} {verb} {side.value}{counted}")
    return "conflict: " + "; ".join(parts)


def _line(location: Location) -> Location:
    return Location(location.file, location.line) if location.column else location


def shown(locations: Iterable[Location]) -> str:
    """`a.md:3, b.md:9`: file:line of each place, once, in order."""
    return ", ".join(str(location) for location in sorted({_line(x) for x in locations}))
