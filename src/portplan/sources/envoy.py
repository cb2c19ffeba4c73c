"""Envoy's static configuration as observations: its listeners and the clusters it routes to.

Recognised by content: YAML (any name) with a top-level `static_resources:`. Read:

- each `static_resources.listeners[].address.socket_address.port_value`, and the `admin`
  address's (named `admin`): ports of the owner itself, on the container side;
- each cluster endpoint's `socket_address` (`load_assignment.endpoints[].lb_endpoints[]
  .endpoint.address`, and the older `hosts[]`): `address` + `port_value` is a reference to
  the service the address names (an IP address or `localhost` states nothing).

The file belongs to the compose service that bind-mounts it (or its folder) or builds from
the folder holding it (`portplan.sources.homes`), else to "envoy".
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any, Final

from portplan.files import UnreadableFile, safe_read
from portplan.model import Exposure, Location
from portplan.sources._config_refs import address_reference
from portplan.sources.base import (
    CONTAINER,
    PortObservation,
    SourceResult,
    failed_at,
    reason,
    unread,
)
from portplan.yamlio import load as yamlload
from portplan.yamlio.load import YAMLInputError, YMap, YSeq

KIND: Final = "envoy"
OWNER: Final = "envoy"


def read_envoy(path: str) -> SourceResult:
    """The observations of the Envoy configuration at `path`."""
    result = SourceResult(file=path, kind=KIND, owner=OWNER)
    try:
        document = yamlload.load(safe_read(path), path)
    except (UnreadableFile, YAMLInputError) as exc:
        result.errors.append(unread(failed_at(path, exc), reason(exc)))
        return result
    if isinstance(document, YMap):
        parse_envoy(document, path, OWNER, result)
    return result


def parse_envoy(document: YMap, path: str, owner: str, result: SourceResult) -> None:
    """Add what the Envoy configuration `document` (of `path`) says of `owner` to `result`."""
    admin = document.get("admin")
    if isinstance(admin, YMap):
        _listener(_socket(admin.get("address")), path, owner, "admin", result)
    resources = document.get("static_resources")
    if not isinstance(resources, YMap):
        return
    for listener in _maps(resources.get("listeners")):
        _listener(_socket(listener.get("address")), path, owner, None, result)
    for cluster in _maps(resources.get("clusters")):
        for socket in _endpoints(cluster):
            _endpoint(socket, path, owner, result)


def _listener(
    socket: YMap | None, path: str, owner: str, name: str | None, result: SourceResult
) -> None:
    number = socket.get("port_value") if socket is not None else None
    if socket is None or not isinstance(number, int) or not 0 < number <= 65535:
        return
    mark = socket.value_marks["port_value"]
    result.ports.append(
        PortObservation(
            owner,
            number,
            Location(path, mark.line, mark.column),
            KIND,
            port_name=name,
            published=False,
            target=number,
            exposure=Exposure.INTERNAL,
            side=CONTAINER,
        )
    )


def _endpoint(socket: YMap, path: str, owner: str, result: SourceResult) -> None:
    host, number = socket.get("address"), socket.get("port_value")
    if not isinstance(host, str) or not isinstance(number, int):
        return
    mark = socket.value_marks["port_value"]
    at = Location(path, mark.line, mark.column)
    found = address_reference(owner, f"{host}:{number}", at, KIND)
    if found is not None:
        result.ports.append(replace(found, location=at))  # at `port_value`'s digits


def _endpoints(cluster: YMap) -> Iterator[YMap]:
    assignment = cluster.get("load_assignment")
    if isinstance(assignment, YMap):
        for group in _maps(assignment.get("endpoints")):
            for entry in _maps(group.get("lb_endpoints")):
                endpoint = entry.get("endpoint")
                if isinstance(endpoint, YMap):
                    socket = _socket(endpoint.get("address"))
                    if socket is not None:
                        yield socket
    for host in _maps(cluster.get("hosts")):
        socket = host.get("socket_address")
        if isinstance(socket, YMap):
            yield socket


def _socket(address: Any) -> YMap | None:
    socket = address.get("socket_address") if isinstance(address, YMap) else None
    return socket if isinstance(socket, YMap) else None


def _maps(value: Any) -> list[YMap]:
    return [item for item in value if isinstance(item, YMap)] if isinstance(value, YSeq) else []
