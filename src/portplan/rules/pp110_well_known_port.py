from __future__ import annotations

import csv
import os
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache

import portplan
from portplan.findings import Finding, Level
from portplan.model import Service, Topology, normalize_name
from portplan.rules._base import Context, published, rule


@dataclass(frozen=True)
class WellKnown:
    port: int
    protocol: str
    product: str
    names: tuple[str, ...]
    iana: str


@cache
def table() -> dict[tuple[int, str], WellKnown]:
    """The shipped table of well-known ports (data/well_known_ports.csv)."""
    # read beside the package (importlib.resources costs a fifth of `check`'s start-up)
    path = os.path.join(os.path.dirname(portplan.__file__), "data", "well_known_ports.csv")
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    rows = csv.reader(line for line in text.splitlines() if line and not line.startswith("#"))
    entries = (
        WellKnown(
            int(port), proto, product, tuple(normalize_name(n) for n in names.split(";")), iana
        )
        for port, proto, product, names, iana in rows
    )
    return {(e.port, e.protocol): e for e in entries}


@rule("PP110", "well-known-port", Level.WARNING, "another product's well-known port")
def check(topology: Topology, context: Context) -> Iterator[Finding]:
    """A service takes the well-known port of a product it is not (PostgreSQL's 5432,
    Prometheus node exporter's 9100...), so the two cannot run on one host.

    A service is the product when its name, an alias, its technology or its image names it.
    Only host ports can keep two products off one host: a published port is held to it by
    its `port`; an unpublished one (`published: false`) is not.

    PASS: postgres {ports: {postgresql: 5432}}
    FAIL: billing {ports: {http: 5432}}
    """
    known = table()
    for service in topology.services.values():
        for port in published(service):
            entry = known.get((port.number, port.protocol))
            if entry is not None and not _is_product(service, entry):
                yield check.port_finding(
                    service,
                    port,
                    f"is {port.number}, the well-known port of {entry.product}",
                    product=entry.product,
                )


def _is_product(service: Service, entry: WellKnown) -> bool:
    words = [service.name, *service.aliases, service.technology or "", service.image or ""]
    normalized = [normalize_name(w) for w in words if w]
    return any(name and name in word for word in normalized for name in entry.names)


RULE = check
