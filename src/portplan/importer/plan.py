"""The plan `portplan import` builds before writing it: services, ports, reservations, and
the comments (conflicts, notes) each line carries."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from portplan.model import (
    Dependency,
    Host,
    Location,
    Port,
    PortRange,
    Reservation,
    Service,
    Topology,
)
from portplan.plan.loader import KIND_BY_NAME
from portplan.reconcile.ports import slot_of

# The file name of the plan while the sources are reconciled against it: the plan's own
# places in a finding are told from the sources' by it (a reservation's line is its index).
PLAN = "<portplan import>"
AT_PLAN = Location(PLAN)  # where the plan's records are (one record: it is immutable)


@dataclass
class PlanHealth:
    path: str
    expect: dict[str, Any] | None = None
    comments: list[str] = field(default_factory=list)


@dataclass
class PlanPort:
    name: str
    number: int
    first: Location  # the earliest statement of this port
    protocol: str = "tcp"
    address: str | None = None
    target: int | None = None  # the container port, when it is not `number`
    published: bool | None = None  # None: no source says (bound on the host, as a default)
    env: str | None = None
    health: PlanHealth | None = None
    comments: list[str] = field(default_factory=list)
    target_comments: list[str] = field(default_factory=list)

    def model(self) -> Port:
        lower = self.name.lower()
        kind = KIND_BY_NAME.get(lower, lower)
        return Port(
            self.name,
            self.number,
            self.protocol,
            kind,
            self.address,
            self.target,
            self.published is not False,
            env=self.env,
            location=AT_PLAN,
        )


@dataclass
class PlanDependency:
    name: str
    first: Location
    comments: list[str] = field(default_factory=list)


@dataclass
class PlanService:
    name: str
    key: str  # its key among the sources (portplan.reconcile.names)
    first: Location  # where the sources first name it
    aliases: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # comment lines under the service's key
    image: str | None = None
    image_comments: list[str] = field(default_factory=list)
    product: str | None = None  # the well-known product it is (portplan.importer.products)
    exposure: str | None = None
    exposure_comments: list[str] = field(default_factory=list)
    ports: list[PlanPort] = field(default_factory=list)
    depends_on: list[PlanDependency] = field(default_factory=list)
    host: str | None = None  # the host of its compose project (portplan.importer.hosts)

    def port(self, slot: str) -> PlanPort | None:
        key = slot_of(slot)
        return next((p for p in self.ports if slot_of(p.name) == key), None)

    def model(self) -> Service:
        return Service(
            self.name,
            host=self.host or "default",
            aliases=tuple(self.aliases),
            image=self.image,
            ports=tuple([port.model() for port in self.ports]),
            depends_on=tuple([Dependency(d.name, AT_PLAN) for d in self.depends_on]),
            location=AT_PLAN,
        )


@dataclass
class PlanReservation:
    ports: PortRange
    reason: str
    future: bool
    first: Location  # the earliest statement of it
    comments: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """Everything `portplan import` writes."""

    command: str
    files: int
    services: list[PlanService] = field(default_factory=list)
    reserved: list[PlanReservation] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # where a file could not be read
    notes: list[str] = field(default_factory=list)  # header notes (unowned secrets)
    hosts: list[str] = field(default_factory=list)  # one per independent compose project

    def topology(self, earlier: Topology | None = None) -> Topology:
        """The plan as a model, for reconciling the sources against it. `earlier`, a model
        of this plan made before dependencies were added to it (and nothing else changed),
        lends its services that still have none: a model is made once per service."""
        before = earlier.services if earlier is not None else {}
        return Topology(
            source=PLAN,
            hosts={name: Host(name) for name in self.hosts},
            services={
                s.name: s.model() if s.depends_on or s.name not in before else before[s.name]
                for s in self.services
            },
            reserved=tuple(
                Reservation(r.ports, r.reason, future=r.future, location=Location(PLAN, index))
                for index, r in enumerate(self.reserved, 1)
            ),
        )

    def conflicts(self) -> int:
        """How many conflict comments the plan carries."""
        lines = [*self.notes]
        for service in self.services:
            lines += service.notes + service.exposure_comments + service.image_comments
            for port in service.ports:
                lines += port.comments + port.target_comments
                lines += port.health.comments if port.health else []
            for dependency in service.depends_on:
                lines += dependency.comments
        for reservation in self.reserved:
            lines += reservation.comments
        return sum(1 for line in lines if line.startswith("conflict:"))
