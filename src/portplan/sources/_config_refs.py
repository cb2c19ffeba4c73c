"""The addresses in a service's own configuration files (a proxy's upstreams, Prometheus'
scrape targets), as references to the services they reach.

`host:port` or a URL (`http://api:8080/v1`; without a port, its scheme's default: 80 for
http and ws, 443 for https and wss) written in the configuration of `owner` reaches the
service `host` names on the container network. `localhost` (and the loopback addresses)
states nothing: inside a container it is the container's own network, which a sidecar may
share (a Dapr sidecar on 127.0.0.1:3500, an app beside nginx in one container), so what
answers there cannot be told. A value that holds a
variable or a template (`$UPSTREAM`, `${HOST}:80`, `{{ .host }}`) states nothing: what it
becomes is not written there.
"""

from __future__ import annotations

import re
from typing import Final

from portplan.model import Location
from portplan.names import host_service, is_host_machine, reference_side
from portplan.sources.base import PortObservation, inside

SCHEME_PORTS: Final = {"http": 80, "ws": 80, "https": 443, "wss": 443, "grpc": 80, "grpcs": 443}
_ADDRESS: Final = re.compile(
    r"^(?:(?P<scheme>[A-Za-z][\w+.-]*)://)?(?:[^@/\s]*@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.-]+)(?::(?P<port>\d{1,5}))?(?:[/?#].*)?$"
)
_TEMPLATED: Final = re.compile(r"\$|\{\{|%\(|<[a-z_]+>")


def address_reference(
    owner: str,
    value: str,
    at: Location,
    source: str,
    *,
    line: str | None = None,
    scheme: str | None = None,
    port_name: str | None = None,
) -> PortObservation | None:
    """The reference `value` (written at `at`, on the text `line`) makes from `owner`'s
    configuration; None when it names no port of a service (a variable, a path, a public
    DNS name, a scheme without a default port)."""
    text = value.strip()
    found = _ADDRESS.match(text)
    if found is None or _TEMPLATED.search(text):
        return None
    host = found.group("host").strip("[]")
    given = found.group("scheme") or scheme
    if found.group("port"):
        number, offset = int(found.group("port")), found.start("port")
    elif given and given.lower() in SCHEME_PORTS:
        number, offset = SCHEME_PORTS[given.lower()], found.start("host")
    else:
        return None
    if not 0 < number <= 65535 or is_host_machine(host) or not host_service(host):
        return None
    where = inside(at, line, value, value.find(text) + offset)
    return PortObservation(
        host,
        number,
        where,
        source,
        port_name=port_name,
        reference=True,
        owner=owner,
        host=host,
        side=reference_side(host),
    )
