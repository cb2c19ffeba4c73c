"""PP218: the port a program listens on, by its code and application config
(`portplan.sources.code`), against the container ports compose publishes for it (else the
ones its Kubernetes files declare)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass

from portplan.findings import Finding, Level
from portplan.model import Location
from portplan.reconcile.view import Port, View, place_order, rule
from portplan.report import joined
from portplan.sources.base import LOCAL, PortObservation, VariableObservation

KUBERNETES = "kubernetes"
CODE = frozenset({"code", "image"})  # code and config; a built image's ENV and CMD
HELM_VALUES = "helm-values"
# The files that set a service's environment: compose `environment:` and `env_file`
# (whose variables are "dotenv"), a `.env` of its own, Kubernetes, its image's `ENV`.
_SETTING_KINDS = frozenset({"compose", "dotenv", "kubernetes", "image"})


@dataclass(frozen=True)
class _Listen:
    """A port the program listens on: the default or literal `obs` states, or the value
    its environment sets the variable to (`setting`)."""

    obs: PortObservation
    number: int | None  # None: the environment sets the variable to no port we can read
    setting: VariableObservation | None = None


@rule(
    "PP218",
    "unpublished-listen-port",
    Level.ERROR,
    "a program listens on none of the container ports compose publishes for it",
)
def unpublished_listen_port(view: View) -> Iterator[Finding]:
    """The program's own code or application config (`os.getenv("PORT", "8000")`,
    `getEnv("HTTP_PORT", "8088")`, `server.port`, `app.listen(3000)`) says which port it
    listens on, and none of those ports is a container port that compose publishes for the
    service: the published port reaches nothing. A service compose publishes nothing for
    is held to the container ports its Kubernetes workloads and Services declare
    (`containerPort`, `targetPort`). A variable the service's environment sets (compose
    `environment:`, an `env_file`, its own `.env`, a container's `env`, its image's `ENV`)
    replaces the default.
    Ports the program only listens on when run on the host (`launchSettings.json`,
    `appsettings.Development.json`) are not compared.

    PASS: ports ["8087:8087"], environment HTTP_PORT=8087; getEnv("HTTP_PORT", "8088")
    PASS: ports ["8088:8088"]; getEnv("HTTP_PORT", "8088")
    FAIL: ports ["8087:8087"], no HTTP_PORT set; getEnv("HTTP_PORT", "8088")
    """
    published = _published(view)
    declared = _declared(view)
    for key, listens in sorted(_listens(view).items()):
        mappings = published.get(key) or declared.get(key)
        if not mappings:
            continue
        container = {_container(port.obs) for port in mappings}
        if any(listen.number is None or listen.number in container for listen in listens):
            continue
        yield _finding(view, key, mappings, listens)


def _published(view: View) -> dict[str, list[Port]]:
    """Service key -> the compose mappings that publish a fixed host port for it."""
    found: dict[str, list[Port]] = {}
    for port in view.ports:
        obs = port.obs
        fixed = not obs.random_host and obs.variable is None  # not `${WEB_PORT}:8080`
        if port.kind == "compose" and obs.source == "compose" and obs.published and fixed:
            found.setdefault(port.key, []).append(port)
    return found


def _declared(view: View) -> dict[str, list[Port]]:
    """Service key -> the container ports its Kubernetes files declare (a containerPort, a
    Service's targetPort: `target`)."""
    found: dict[str, list[Port]] = {}
    for port in view.ports:
        obs = port.obs
        if port.kind == KUBERNETES and obs.source == KUBERNETES and not obs.reference:
            found.setdefault(port.key, []).append(port)
    return found


def _container(obs: PortObservation) -> int:
    return obs.target if obs.target is not None else obs.number


def _listens(view: View) -> dict[str, list[_Listen]]:
    """Service key -> the ports its code says it listens on, its environment applied."""
    settings = _settings(view)
    found: dict[str, list[_Listen]] = {}
    for result in view.results:
        if result.kind not in CODE:
            continue
        for obs in result.ports:
            key = view.key(obs.service)
            if key is None or obs.side == LOCAL or obs.reference or obs.source == HELM_VALUES:
                continue  # a chart's values are PP221's (`portplan.reconcile.helm`)
            setting = settings.get((key, obs.variable)) if obs.variable else None
            number = obs.number if setting is None else _number(setting.value)
            found.setdefault(key, []).append(_Listen(obs, number, setting))
    return found


def _settings(view: View) -> dict[tuple[str, str], VariableObservation]:
    """(service key, variable) -> where the service's environment sets it."""
    found: dict[tuple[str, str], VariableObservation] = {}
    for result in view.results:
        if result.kind not in _SETTING_KINDS:
            continue
        for var in result.variables:
            key = view.key(var.service) if var.service else None
            if key is not None and var.sets and not var.secret:
                found.setdefault((key, var.name), var)
    return found


def _number(value: str | None) -> int | None:
    """The port a variable's value gives (`8087`, `:8087`, `http://+:8087`), None when it
    gives none that can be read (`${PORT}`; several URLs: the first)."""
    from portplan.sources.code.base import port_number

    if value is None:
        return None
    return port_number(value.split(";")[0].split(",")[0])


def _finding(view: View, key: str, mappings: list[Port], listens: list[_Listen]) -> Finding:
    shown = view.show(key)
    mappings = sorted(mappings, key=lambda p: place_order(p.obs.location))
    listens = sorted(listens, key=lambda item: place_order(item.obs.location))
    numbers = sorted({_container(p.obs) for p in mappings})
    compose = mappings[0].kind == "compose"
    if compose:
        stated = "compose publishes " + joined([_mapping(p.obs) for p in mappings])
    else:
        ports = ", ".join(str(number) for number in numbers)
        stated = f"Kubernetes declares container port{'s' if len(numbers) > 1 else ''} {ports}"
    environment = "compose environment" if compose else "environment"
    said = joined([_said(item, environment) for item in listens])
    listening = joined([str(n) for n in dict.fromkeys(i.number for i in listens) if n])
    message = f"{shown}: {stated}, but the program listens on {listening}: {said}"
    locations: list[Location] = [mappings[0].obs.location]
    unset = [item for item in listens if item.setting is None and item.obs.variable]
    defined = _definition(view, key, mappings[0])
    if unset and defined is not None:
        locations.append(defined)
    for item in listens:
        if item.setting is not None:
            locations.append(item.setting.location)
        locations.append(item.obs.location)
    return unpublished_listen_port.finding(
        message,
        dict.fromkeys(locations),
        service=shown,
        container_ports=numbers,
        listens=[item.number for item in listens],
        variables=[item.obs.variable for item in listens if item.obs.variable],
    )


def _mapping(obs: PortObservation) -> str:
    container = _container(obs)
    return f"{obs.number}:{container} (container port {container})"


def _said(item: _Listen, environment: str) -> str:
    obs, where = item.obs, _short(item.obs.location)
    if obs.variable is None:
        return f"{where} listens on {obs.number}"
    if item.setting is None:
        return (
            f"{where} reads {obs.variable}, which its {environment} does not set, "
            f"and defaults to {obs.number}"
        )
    return (
        f"{where} reads {obs.variable}, which {_short(item.setting.location)} sets to {item.number}"
    )


def _definition(view: View, key: str, mapping: Port) -> Location | None:
    """Where the file that publishes (or declares) the port defines the service: where its
    environment would set the variable."""
    for result in view.results:
        if result.kind != mapping.kind or result.file != mapping.origin:
            continue
        for service in result.services:
            if view.key(service.service) == key:
                return service.location
    return None


def _short(location: Location) -> str:
    return f"{os.path.basename(location.file)}:{location.line}"
