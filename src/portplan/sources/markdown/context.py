"""What the Markdown readers share while they walk a document: the result and the headings."""

from __future__ import annotations

from dataclasses import dataclass, field

from portplan.model import Exposure, Location, PortRange
from portplan.sources.base import (
    DependencyObservation,
    PortObservation,
    RangeObservation,
    SourceError,
    SourceResult,
)
from portplan.sources.markdown.text import PORT_WORD, exposure_of

MAX_PORT = 65535


@dataclass(frozen=True, slots=True)
class HeadingContext:
    level: int
    text: str  # clean text
    service: str | None  # "Gateway" for "### Gateway (Port 8080)"


@dataclass(slots=True)
class Collector:
    """The result being built, and the headings above the block being read."""

    file: str
    result: SourceResult = field(init=False)
    headings: list[HeadingContext] = field(default_factory=list)
    # port -> the ports named by a URL on it, with the URL's host and path (see `routed`)
    routes: dict[int, list[tuple[PortObservation, str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.result = SourceResult(file=self.file, kind="markdown")

    def at(self, line: int, index: int) -> Location:
        """The location of 0-based `index` in document line `line`."""
        return Location(self.file, line, index + 1)

    # --- headings -------------------------------------------------------------------

    def enter_heading(self, heading: HeadingContext) -> None:
        while self.headings and self.headings[-1].level >= heading.level:
            self.headings.pop()
        self.headings.append(heading)

    @property
    def heading_service(self) -> str | None:
        """The service the nearest heading names ("### Token Engine (Port 8081)")."""
        return self.headings[-1].service if self.headings else None

    @property
    def heading_exposure(self) -> Exposure | None:
        """The exposure the nearest heading states ("### Internal Network Only")."""
        return exposure_of(self.headings[-1].text) if self.headings else None

    @property
    def in_port_context(self) -> bool:
        """Whether a heading above says it is about ports ("### Port Allocation Strategy")."""
        return any(PORT_WORD.search(h.text) for h in self.headings)

    # --- observations ---------------------------------------------------------------

    def port(self, observation: PortObservation) -> None:
        self.result.ports.append(observation)

    def route(self, host: str, observation: PortObservation, path: str) -> None:
        """`observation` names a port by a URL on `host` with `path` (`Webstore:
        http://localhost:8080/`)."""
        route = f"{host.lower()}/{path.strip('/')}"
        self.routes.setdefault(observation.number, []).append((observation, route))

    def routed(self) -> None:
        """Drop the ports named by URLs on one port that several names reach each at a host
        and path of its own (`Webstore: http://localhost:8080/`, `Feature Flags UI:
        http://localhost:8080/feature/`; `Authelia: https://login.example.com:8080`, `Mailpit:
        https://mail.example.com:8080`): the routes or virtual hosts of one server (a
        gateway), which each name reaches through it, not services that each claim the
        port. Two names at one host and path still claim it."""
        dropped: set[int] = set()
        for named in self.routes.values():
            names = {obs.service.lower() for obs, _ in named}
            at: dict[str, set[str]] = {}
            for obs, route in named:
                at.setdefault(route, set()).add(obs.service.lower())
            if len(names) > 1 and all(len(owners) == 1 for owners in at.values()):
                dropped.update(id(obs) for obs, _ in named)
        if dropped:
            self.result.ports = [obs for obs in self.result.ports if id(obs) not in dropped]

    def checked_port(self, number: int, line: int, index: int, what: str) -> bool:
        """Whether `number` is a port; if not, a SourceError says so (for explicit contexts)."""
        if 1 <= number <= MAX_PORT:
            return True
        message = f"{what}: expected a port 1-{MAX_PORT}, got a number out of that range"
        self.result.errors.append(SourceError(self.at(line, index), message))
        return False

    def range(
        self,
        ports: PortRange,
        line: int,
        index: int,
        source: str,
        label: str,
        *,
        reserved: bool = False,
        future: bool = False,
        exposure: Exposure | None = None,
    ) -> None:
        observation = RangeObservation(
            ports=ports,
            location=self.at(line, index),
            source=source,
            label=label,
            reserved=reserved,
            future=future,
            exposure=exposure,
        )
        self.result.ranges.append(observation)

    def dependency(
        self,
        service: str,
        target: str,
        line: int,
        index: int,
        source: str,
        via: str,
        project: str | None = None,
    ) -> None:
        location = self.at(line, index)
        self.result.dependencies.append(
            DependencyObservation(service, target, location, source, via, project=project)
        )
