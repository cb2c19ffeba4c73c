"""The port matrix by category (service, ports, status, purpose, phase), as seed 001 tables it."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any

from portplan.model import Port, Service, Topology

NOT_PUBLISHED = "not published"


@dataclass(frozen=True)
class Row:
    category: str
    service: str
    host: str
    ports: str
    status: str
    purpose: str
    phase: str
    exposure: str
    port_list: tuple[dict[str, Any], ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "service": self.service,
            "host": self.host,
            "ports": self.ports,
            "status": self.status,
            "purpose": self.purpose,
            "phase": self.phase,
            "exposure": self.exposure,
            "port_list": list(self.port_list),
        }


def rows(topology: Topology) -> list[Row]:
    """One row per service, grouped by category, each group in port order."""
    first_seen: dict[str, int] = {}
    for service in topology.services.values():
        first_seen.setdefault(service.category or "", len(first_seen))
    services = sorted(topology.services.values(), key=lambda s: _order(s, first_seen))
    return [_row(s) for s in services]


def grouped(topology: Topology) -> list[tuple[str, list[Row]]]:
    return [(cat, list(group)) for cat, group in groupby(rows(topology), key=lambda r: r.category)]


def _order(service: Service, first_seen: dict[str, int]) -> tuple[int, int, str]:
    first = min((p.number for p in service.ports), default=0)
    return (first_seen[service.category or ""], first, service.name)


def port_text(port: Port) -> str:
    """'8080 (http)', '8088->80 (http)' (host port -> the port inside the container),
    '5353/udp (dns)', '5432 (postgresql, not published)'."""
    number = str(port.number)
    if port.target is not None and port.target != port.number:
        number += f"->{port.target}"
    if port.protocol != "tcp":
        number += f"/{port.protocol}"
    return f"{number} ({port.name}{'' if port.published else ', ' + NOT_PUBLISHED})"


def port_dict(port: Port) -> dict[str, Any]:
    """A port of the matrix for machines, as the plan states it (`target` null: the same
    as `port`)."""
    return {
        "name": port.name,
        "port": port.number,
        "target": port.target,
        "protocol": port.protocol,
        "published": port.published,
    }


def _row(service: Service) -> Row:
    ports = ", ".join(map(port_text, service.ports))
    return Row(
        category=service.category or "uncategorized",
        service=service.name,
        host=service.host,
        ports=ports or "-",
        status=service.status.value,
        purpose=service.purpose or "",
        phase=service.phase or "",
        exposure=service.exposure.value,
        port_list=tuple(map(port_dict, service.ports)),
    )


def table(headers: list[str], body: list[list[str]]) -> list[str]:
    """A plain aligned text table (no colours, so it pipes cleanly)."""
    widths = [
        max(len(h), *(len(r[i]) for r in body)) if body else len(h) for i, h in enumerate(headers)
    ]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*headers).rstrip(), fmt.format(*("-" * w for w in widths)).rstrip()]
    lines.extend(fmt.format(*row).rstrip() for row in body)
    return lines
