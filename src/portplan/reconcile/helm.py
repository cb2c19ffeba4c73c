"""PP221: a port a Helm chart's `values.yaml` gives (`portplan.sources.code.helm`) against
what the chart's templates render, the plan, and compose for the same service."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from portplan.findings import Finding, Level
from portplan.model import Location
from portplan.reconcile.view import PLANNED, Port, View, place_order, rule
from portplan.sources.base import PortObservation

KUBERNETES = "kubernetes"
_WHAT = {"container": "container port", "service": "Service port", "node": "nodePort"}


@dataclass(frozen=True)
class _Value:
    """A port a chart's values give, the role it plays (`helm.role`) and its chart."""

    obs: PortObservation
    role: str
    chart: str  # the chart's folder (absolute)

    @property
    def shown(self) -> str:
        name = os.path.basename(self.obs.location.file)
        return f"{name}:{self.obs.location.line} gives {self.obs.port_name} {self.obs.number}"


@rule(
    "PP221",
    "helm-value-drift",
    Level.ERROR,
    "a chart's values give a port its templates, the plan or compose do not",
)
def helm_value_drift(view: View) -> Iterator[Finding]:
    """A port a Helm chart's `values.yaml` gives its workload (`containerPort`,
    `service.targetPort`, `service.port`, `nodePort`, `env.PORT`) is compared with the ports
    the chart's own templates declare in that role (rendered with those values: a template
    that reads the value agrees by construction; one that hard-codes another number is the
    drift: changing the value changes nothing, or the program listens elsewhere), with the
    plan's ports of the service, and with the container ports compose runs the same service
    on. A value whose role cannot be told (`metrics.port`, `redis.port`) is not compared,
    nor, in a chart of several services, one whose path names none of them, nor a chart one
    of whose templates could not be read.

    The parameters table of the chart's README (`| service.httpManagementPort | ... |
    9990 |`) is held to `values.yaml` key by key: it is the default users read.

    PASS: values containerPort 8080; template containerPort: {{ .Values.containerPort }}
    FAIL: values containerPort 3000; template containerPort: 8080
    FAIL: values env.PORT "3000"; template containerPort: 8080
    FAIL: values service.httpManagementPort 9990; README default 8443
    """
    yield from _documented(view)
    templates = _templates(view)
    partly = _partly_read(view)
    for value in _values(view):
        ports = _in_role(view, value, templates.get(value.chart, []))
        if ports:
            found = None if value.chart in partly else _against_templates(view, value, ports)
        else:
            found = _against_plan(view, value) or _against_compose(view, value)
        if found is not None:
            yield found


def _documented(view: View) -> Iterator[Finding]:
    """A port a chart's README parameters table documents that its `values.yaml` gives
    under the same path as another number."""
    from portplan.sources.code.helm import SOURCE
    from portplan.sources.markdown.parameters import SOURCE as TABLE

    given: dict[tuple[str, str], PortObservation] = {}
    for result in view.results:
        for obs in result.ports if result.kind == "code" else ():
            if obs.source == SOURCE and obs.port_name:
                given.setdefault((_folder(obs), obs.port_name), obs)
    documented = (obs for r in view.results if r.kind == "markdown" for obs in r.ports)
    for obs in documented:
        if obs.source != TABLE or not obs.port_name:
            continue
        value = given.get((_folder(obs), obs.port_name))
        if value is None or value.number == obs.number:
            continue
        values = f"{os.path.basename(value.location.file)}:{value.location.line}"
        name = view.show(view.key(obs.service) or obs.service)
        yield helm_value_drift.finding(
            f"{name}: the README documents {obs.port_name} {obs.number}, but "
            f"{values} gives {value.number}",
            [obs.location, value.location],
            service=name,
            value=obs.port_name,
            port=value.number,
        )


def _folder(obs: PortObservation) -> str:
    return os.path.dirname(os.path.abspath(obs.location.file))


def _values(view: View) -> Iterator[_Value]:
    from portplan.sources.code.helm import SOURCE, role

    for result in view.results:
        if result.kind != "code":
            continue
        for obs in result.ports:
            found = role(obs.port_name) if obs.source == SOURCE and obs.port_name else None
            if found is not None:
                chart = os.path.dirname(os.path.abspath(obs.location.file))
                yield _Value(obs, found, chart)


def _templates(view: View) -> dict[str, list[Port]]:
    """Chart folder -> the ports its rendered templates declare."""
    from portplan.sources.helm_templates import chart_of

    charts: dict[str, str | None] = {}
    found: dict[str, list[Port]] = {}
    for port in view.ports:
        if port.kind != KUBERNETES or port.obs.reference:
            continue
        file = port.obs.location.file
        if file not in charts:
            charts[file] = chart_of(file)
        chart = charts[file]
        if chart is not None:
            found.setdefault(chart, []).append(port)
    return found


def _numbers(port: Port, role: str) -> set[int]:
    obs = port.obs
    if role == "container":
        return {obs.target if obs.target is not None else obs.number}
    if role == "node":
        return {obs.node_port} if obs.node_port is not None else set()
    return {obs.number}


def _in_role(view: View, value: _Value, ports: list[Port]) -> list[Port]:
    """The ports the chart's templates declare in the value's role; of a chart of several
    services, those of the service a key of the value's path names (`catalog.service.port`,
    `alertmanager.service.port` of `<chart>-alertmanager`), none when no key does: whose
    value it is cannot be told."""
    named = [p for p in ports if _names(view, value, p.key)]
    if not named and len({p.key for p in ports}) > 1:
        return []
    return [p for p in named or ports if _numbers(p, value.role)]


def _partly_read(view: View) -> set[str]:
    """The chart folders a template of which could not be read (a Go template helm alone
    renders): what the templates declare is not all there is."""
    from portplan.sources.helm_templates import chart_of

    found: set[str] = set()
    for result in view.results:
        if (
            result.kind == KUBERNETES
            and result.errors
            and f"{os.sep}templates{os.sep}" in (os.sep + os.path.normpath(result.file))
        ):
            chart = chart_of(result.file)
            if chart is not None:
                found.add(chart)
    return found


def _against_templates(view: View, value: _Value, ports: list[Port]) -> Finding | None:
    """None of the ports the templates declare in the value's role is the value's number.
    When one is, the templates render the value (or agree with it): that port is held to
    the plan and to compose by the other rules, at the template's line."""
    key = view.key(value.obs.service)
    if any(value.obs.number in _numbers(p, value.role) for p in ports):
        return None
    ports = sorted(ports, key=lambda p: place_order(p.obs.location))
    numbers = sorted({n for p in ports for n in _numbers(p, value.role)})
    service = ports[0].key if len({p.key for p in ports}) == 1 else key
    what = _WHAT[value.role] + ("s" if len(numbers) > 1 else "")
    message = (
        f"{_show(view, service, value)}: {value.shown}, but the chart's templates declare "
        f"{what} {_listed(numbers)} ({_places(ports)})"
    )
    return _finding(value, message, ports, service)


def _against_plan(view: View, value: _Value) -> Finding | None:
    key = view.key(value.obs.service)
    if view.topology is None or key is None or value.role == "node":
        return None
    planned = [p for p in view.ports if p.kind == PLANNED and p.key == key]
    numbers = set().union(*(_planned(p, value.role) for p in planned))
    if not planned or value.obs.number in numbers:
        return None
    message = (
        f"{view.show(key)}: {value.shown}, but the plan gives {view.show(key)} "
        f"{_WHAT[value.role]}{'s' if len(numbers) > 1 else ''} {_listed(sorted(numbers))} "
        f"({_places(planned)})"
    )
    return _finding(value, message, planned, key)


def _planned(port: Port, role: str) -> set[int]:
    obs = port.obs
    container = obs.target if obs.target is not None else obs.number
    return {container} if role == "container" else {obs.number, container}


def _against_compose(view: View, value: _Value) -> Finding | None:
    """A container-port value against the container ports compose runs the service on."""
    key = view.key(value.obs.service)
    if key is None or value.role != "container":
        return None
    ports = [
        p
        for p in view.ports
        if p.kind == "compose" and p.obs.source == "compose" and not p.obs.reference
        if p.key == key and not p.obs.random_host
    ]
    numbers = {p.obs.target if p.obs.target is not None else p.obs.number for p in ports}
    if not ports or value.obs.number in numbers:
        return None
    ports = sorted(ports, key=lambda p: place_order(p.obs.location))
    message = (
        f"{view.show(key)}: {value.shown}, but compose runs {view.show(key)} on container "
        f"port{'s' if len(numbers) > 1 else ''} {_listed(sorted(numbers))} ({_places(ports)})"
    )
    return _finding(value, message, ports, key)


def _names(view: View, value: _Value, key: str) -> bool:
    """Whether a key of the value's path names the service `key` (`catalog.service.port`)."""
    path = (value.obs.port_name or "").split(".")[:-1]
    chart = os.path.basename(value.chart)
    return any(key in (view.key(part), view.key(f"{chart}-{part}")) for part in path)


def _show(view: View, key: str | None, value: _Value) -> str:
    return view.show(key) if key is not None else value.obs.service


def _listed(numbers: Iterable[int]) -> str:
    return ", ".join(str(n) for n in numbers)


def _places(ports: list[Port]) -> str:
    shown = [f"{os.path.basename(p.obs.location.file)}:{p.obs.location.line}" for p in ports]
    return ", ".join(dict.fromkeys(shown[:3]))


def _finding(value: _Value, message: str, ports: list[Port], service: str | None) -> Finding:
    locations: list[Location] = [value.obs.location, *(p.obs.location for p in ports[:2])]
    return helm_value_drift.finding(
        message,
        list(dict.fromkeys(locations)),
        service=service,
        value=value.obs.port_name,
        port=value.obs.number,
    )
