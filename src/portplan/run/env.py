"""Each process's environment: its ports and `<DEP>_URL`s as `generate env` writes them.

The values come from `portplan.render.env.service_variables` (so `up` and the generated
env files cannot disagree), over the environment `up` runs in, then `run.env`. A value
`generate env` writes as a reference (`${JWT_SECRET}`, a URL's `${DATABASE_PASSWORD}`)
and `${VAR}` in `run.env` are resolved from the environment `up` runs in, only when the
process starts: resolved values are never written to disk.

Two variables of the runner's own: PORTPLAN_SERVICE (the service's name) and
PORTPLAN_PORTS (`http=8081 grpc=50051`: every port of the service by name).

A copy's ports (`up --copy NAME`) move in a copy of the topology, so every variable and
every URL of every process follows them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace

from portplan.compose.errors import InterpolationError
from portplan.compose.interpolate import substitute
from portplan.errors import InputError
from portplan.model import Service, Topology
from portplan.render.env import service_variables, system_variable

Ports = Mapping[tuple[str, str], int]  # (service, port name) -> port number
# set for its own process only (portplan.run.listen); never passed on from up's environment
_SOCKET_ACTIVATION = frozenset({"LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES"})


def runner_topology(topology: Topology, ports: Ports | None = None) -> Topology:
    """The plan as `up` runs it on this machine: every port bound by its own process here
    (a container's `target` does not apply), moved to `ports` for a copy."""
    services = {}
    for name, service in topology.services.items():
        moved = tuple(
            replace(
                port,
                number=(ports or {}).get((name, port.name), port.number),
                target=None,
                published=True,
            )
            for port in service.ports
        )
        services[name] = replace(service, ports=moved)
    return replace(topology, services=services)


def planned(topology: Topology, service: Service) -> list[tuple[str, str]]:
    """(name, value) of the service's variables, secrets as `${NAME}` references."""
    pairs = dict(service_variables(topology, service))
    if service.run is not None:
        pairs.update((var.name, var.value or "") for var in service.run.env)
    return list(pairs.items())


def process_env(
    topology: Topology, service: Service, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The whole environment of the service's process, references resolved."""
    outer = dict(os.environ if base is None else base)
    env = {k: v for k, v in outer.items() if k not in _SOCKET_ACTIVATION}
    for name, value in planned(topology, service):
        env[name] = resolve(value, outer)
    env["PORTPLAN_SERVICE"] = service.name
    env["PORTPLAN_PORTS"] = " ".join(f"{p.name}={p.number}" for p in service.ports)
    return env


def resolve(value: str, environment: Mapping[str, str]) -> str:
    """`${VAR}`, `$VAR`, `${VAR:-default}`... from `environment` (unset: empty); `up` has
    refused a template that cannot be resolved (check_templates) before it starts."""
    try:
        return substitute(value, environment.get)
    except InterpolationError:  # a malformed template is passed on as written
        return value


def check_templates(
    topology: Topology, names: Sequence[str], environment: Mapping[str, str]
) -> None:
    """Refuse, before anything starts, a `run.env` value that cannot be resolved: a required
    variable (`${TOKEN:?why}`) that is unset, or a malformed template; compose refuses both.
    The value and the reason a template gives are never shown."""
    for name in names:
        run = topology.services[name].run
        for var in run.env if run is not None else ():
            try:
                substitute(var.value or "", environment.get)
            except InterpolationError as exc:
                where = var.location
                raise InputError(
                    where.file,
                    where.line or None,
                    where.column or None,
                    f"services.{name}.run.env.{var.name}: {exc}",
                ) from None


def system_variables(topology: Topology) -> list[tuple[str, str]]:
    """Every port of every service as `service-ports.env` names it."""
    return [
        (system_variable(service, port, index), str(port.number))
        for service in topology.services.values()
        for index, port in enumerate(service.ports)
    ]


def shell_line(name: str, value: str) -> str:
    """`export NAME="value"` for `eval`: `${VAR}` references stay live for the shell (a
    secret is never printed, the user's shell fills it in); anything else is literal."""
    out = []
    index = 0
    while index < len(value):
        char = value[index]
        if char == "$" and value.startswith("${", index) and "}" in value[index:]:
            end = value.index("}", index)
            out.append(value[index : end + 1])
            index = end + 1
            continue
        out.append("\\" + char if char in '"\\`$' else char)
        index += 1
    return f'export {name}="{"".join(out)}"'
