"""What every rule shares: its record, the context it runs in, and a finding builder."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from operator import attrgetter
from pathlib import Path
from typing import Any

from portplan.findings import Finding, Level
from portplan.model import Location, Port, PortRange, Service, Topology

LINUX_EPHEMERAL = Path("/proc/sys/net/ipv4/ip_local_port_range")
IANA_EPHEMERAL = PortRange(49152, 65535)


def os_ephemeral_range() -> PortRange:
    """The ephemeral range of this machine (Linux), else IANA's 49152-65535."""
    try:
        low, high = LINUX_EPHEMERAL.read_text().split()
        return PortRange(int(low), int(high))
    except (OSError, ValueError):
        return IANA_EPHEMERAL


@dataclass
class Context:
    """What a rule may know besides the topology."""

    ephemeral: PortRange | None = None  # None: declared in the file, else read from the OS

    @cached_property
    def machine_ephemeral(self) -> PortRange:
        return self.ephemeral or os_ephemeral_range()


Check = Callable[[Topology, Context], Iterable[Finding]]


def published(service: Service) -> Iterator[Port]:
    """The ports a service binds on its host. An unpublished port (`published: false`) is
    bound inside its container or pod only: the rules about host ports pass it by."""
    return filter(_PUBLISHED, service.ports)  # (no Python frame per port: rules ask often)


_PUBLISHED = attrgetter("published")


@dataclass(frozen=True)
class Rule:
    """A semantic rule: an id, a name, a default level and a check function.

    The check's docstring explains the rule and gives a PASS and a FAIL example.
    """

    id: str
    name: str
    level: Level
    check: Check
    summary: str = field(default="")

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.check) or ""

    def finding(
        self,
        message: str,
        locations: Iterable[Location],
        **facts: Any,
    ) -> Finding:
        return Finding(
            rule=self.id,
            name=self.name,
            level=self.level,
            message=message,
            locations=tuple(dict.fromkeys(locations)),  # a place once (aliases share one)
            facts=facts,
        )

    def port_finding(
        self,
        service: Service,
        port: Port,
        what: str,
        others: Iterable[Location] = (),
        /,
        **facts: Any,
    ) -> Finding:
        """A finding about one port: '<service>.<port> <what>', with the port's facts."""
        return self.finding(
            f"{service.name}.{port.name} {what}",
            [port.location, *others],
            service=service.name,
            port_name=port.name,
            port=port.number,
            host=service.host,
            **facts,
        )


def rule(id: str, name: str, level: Level, summary: str) -> Callable[[Check], Rule]:
    """Decorator: turn a check function into a registered-able Rule."""

    def wrap(check: Check) -> Rule:
        return Rule(id=id, name=name, level=level, check=check, summary=summary)

    return wrap
