"""The variable each service's program reads its port from, by its code and application
config (`portplan.sources.code`): the `env:` of the port it listens on, so that the
generated env files set exactly what the program reads.

A statement counts when its variable carries a port number (`PORT`, `HTTP_PORT`,
`SERVER_PORT`: a name ending in PORT, not an address such as `ASPNETCORE_URLS`) and is not
only the host's (`launchSettings.json`). Its port is the one whose container port is the
program's default, else the service's only port, else the port of the name it states
(`management`). The code's variable replaces one the other sources gave, with a note that
says where the program reads it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from portplan.importer.plan import PlanPort, PlanService
from portplan.reconcile.view import View, place_order
from portplan.sources.base import LOCAL, PortObservation, SourceResult

CODE = frozenset({"code", "image"})


def take_env(services: Sequence[PlanService], results: Sequence[SourceResult], view: View) -> None:
    """Set each port's `env` to the variable its program reads (in place)."""
    by_key = {service.key: service for service in services}
    for obs in sorted(_statements(results), key=lambda o: place_order(o.location)):
        key = view.key(obs.service)
        service = by_key.get(key) if key is not None else None
        port = _port(service, obs) if service is not None else None
        if port is None or port.env == obs.variable or _taken(port):
            continue
        port.env = obs.variable
        where = f"{obs.location.file}:{obs.location.line}"
        port.comments.append(f"note: {where} reads {obs.variable} (default {obs.number})")


def _statements(results: Sequence[SourceResult]) -> Iterator[PortObservation]:
    for result in results:
        if result.kind not in CODE:
            continue
        for obs in result.ports:
            variable = obs.variable or ""
            if variable.upper().endswith("PORT") and obs.side != LOCAL and not obs.reference:
                yield obs


def _port(service: PlanService, obs: PortObservation) -> PlanPort | None:
    for port in service.ports:
        if (port.target if port.target is not None else port.number) == obs.number:
            return port
    if len(service.ports) == 1:
        return service.ports[0]
    named = [port for port in service.ports if obs.port_name and port.name == obs.port_name]
    return named[0] if named else None


def _taken(port: PlanPort) -> bool:
    """Whether the code already gave this port its variable (the first statement wins)."""
    return any(comment.startswith("note: ") and " reads " in comment for comment in port.comments)
