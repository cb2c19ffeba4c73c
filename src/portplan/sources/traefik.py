"""Traefik's labels on a compose service: the container port Traefik sends traffic to.

`traefik.http.services.<name>.loadbalancer.server.port=8080` (and its `tcp`/`udp` forms,
and Traefik v1's `traefik.port=8080`) states a port the service itself serves on, on the
container side: Traefik reaches it over the compose network. A value that is no port
number (an unset variable) states nothing.
"""

from __future__ import annotations

import re
from typing import Final

from portplan.model import Exposure, Location
from portplan.sources.base import CONTAINER, PortObservation

SOURCE: Final = "traefik"
_SERVER_PORT: Final = re.compile(
    r"^traefik\.(?:(?P<kind>http|tcp|udp)\.services\.[^.]+\.loadbalancer\.server\.port|port)$",
    re.IGNORECASE,
)


def label_ports(service: str, label: str, value: str, at: Location) -> list[PortObservation]:
    """The port a Traefik label `label=value` of `service` states, if it states one."""
    found = _SERVER_PORT.match(label.strip())
    text = value.strip().strip("\"'")
    if found is None or not text.isascii() or not text.isdigit():
        return []
    number = int(text)
    if not 0 < number <= 65535:
        return []
    protocol = "udp" if (found.group("kind") or "").lower() == "udp" else "tcp"
    return [
        PortObservation(
            service,
            number,
            at,
            SOURCE,
            protocol=protocol,
            published=False,
            target=number,
            exposure=Exposure.INTERNAL,
            side=CONTAINER,
        )
    ]
