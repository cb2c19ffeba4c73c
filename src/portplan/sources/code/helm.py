"""A Helm chart's `values.yaml` (a `values*.yaml` beside a `Chart.yaml`): the values, not
the templates. A port is an integer (or a string of digits) under a key `port` or a key
ending in `Port` (`containerPort`, `targetPort`, `httpPort`), an entry of a map of ports
(`containerPorts: {http: 8080}`, `service.ports: {http: 80}`, `service.nodePorts`), or the
value of an environment variable naming the program's own port (`env: {PORT: "3000"}`,
`env: [{name: PORT, value: "3000"}]`, `extraEnvVars`); each is named by its path
(`service.port`, `containerPorts.http`, `env.PORT`). The values of a subchart (a key that
is one of `Chart.yaml`'s `dependencies`) are another chart's, not read.

`role(path)` says which port of the chart's workload a value gives, as its templates use
it (`portplan.reconcile.helm` compares them): `container` (the port the program listens
on: `containerPort`, `targetPort`, `internalPort`, a top-level `port`, a port variable of
its environment), `service` (the Kubernetes Service's `port`: `service.port`,
`service.ports.http`, `service.externalPort`), `node` (`nodePort`), else None (`metrics.port`,
`redis.port`: whose port it is cannot be told).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any, Final

from portplan.files import UnreadableFile, safe_read
from portplan.model import Location
from portplan.sources.code.base import Listen, is_own_port_variable
from portplan.yamlio.load import YAMLInputError, YMap, YSeq, load

SOURCE: Final = "helm-values"
CHART: Final = "Chart.yaml"
CONTAINER: Final = "container"
SERVICE: Final = "service"
NODE: Final = "node"
_PORT_KEY: Final = re.compile(r"^(?:port|\w*[a-z]Port)$")
_PORT_MAPS: Final = frozenset({"containerPorts", "ports", "nodePorts", "servicePorts"})
_CONTAINER_KEYS: Final = frozenset({"containerport", "targetport", "internalport"})
_SERVICE_KEYS: Final = frozenset({"port", "externalport", "serviceport"})
_ENV_KEY: Final = re.compile(r"env", re.IGNORECASE)
_DEPTH: Final = 8


def read(path: str, text: str) -> list[Listen]:
    """The ports a chart's values give its workload; [] when no `Chart.yaml` is beside it."""
    chart = os.path.join(os.path.dirname(path), CHART)
    if not os.path.isfile(chart):
        return []
    try:
        document = load(text, path)
    except YAMLInputError:
        return []
    if not isinstance(document, YMap):
        return []
    subcharts = _subcharts(chart)
    return [
        listen
        for listen in _ports(path, document, ())
        if (listen.name or "").split(".", 1)[0] not in subcharts
    ]


def role(path: str) -> str | None:
    """The port of the chart's workload the value at `path` gives (see the module)."""
    keys = [key.lower() for key in path.split(".")]
    last, parent = keys[-1], keys[-2] if len(keys) > 1 else ""
    under_service = any(key == "service" or key.endswith("service") for key in keys[:-1])
    if last == "nodeport" or parent == "nodeports":
        return NODE
    if last in _CONTAINER_KEYS or parent == "containerports":
        return CONTAINER
    if len(keys) == 1 and last == "port":
        return CONTAINER
    if any(_ENV_KEY.search(key) for key in keys[:-1]) and is_own_port_variable(path.split(".")[-1]):
        return CONTAINER
    if under_service and (last in _SERVICE_KEYS or parent in ("ports", "serviceports")):
        return SERVICE
    return None


def _subcharts(chart: str) -> frozenset[str]:
    """The names (and aliases) of the chart's `dependencies`: their values are theirs."""
    try:
        meta = load(safe_read(chart), chart)
    except (UnreadableFile, YAMLInputError):
        return frozenset()
    found: set[str] = set()
    dependencies = meta.get("dependencies") if isinstance(meta, YMap) else None
    for entry in dependencies if isinstance(dependencies, YSeq) else ():
        if isinstance(entry, YMap):
            found.update(v for k in ("name", "alias") if isinstance(v := entry.get(k), str))
    return frozenset(found)


def _ports(path: str, node: Any, keys: tuple[str, ...]) -> Iterator[Listen]:
    if len(keys) > _DEPTH:
        return
    if isinstance(node, YSeq):
        for item in node:
            yield from _ports(path, item, keys)
        return
    if not isinstance(node, YMap):
        return
    if keys and _ENV_KEY.search(keys[-1]):
        yield from _env_entry(path, node, keys)
    for key, value in node.items():
        if isinstance(value, (YMap, YSeq)):
            yield from _ports(path, value, (*keys, key))
            continue
        number = _number(value)
        named = _PORT_KEY.match(key) or (keys and keys[-1] in _PORT_MAPS)
        own = keys and _ENV_KEY.search(keys[-1]) and is_own_port_variable(key)
        if number is not None and (named or own):
            yield _listen(path, node, key, number, (*keys, key))


def _env_entry(path: str, node: YMap, keys: tuple[str, ...]) -> Iterator[Listen]:
    """`{name: PORT, value: "3000"}` in an env list: PORT's value."""
    name, number = node.get("name"), _number(node.get("value"))
    if isinstance(name, str) and number is not None and is_own_port_variable(name):
        yield _listen(path, node, "value", number, (*keys, name))


def _listen(path: str, node: YMap, key: str, number: int, keys: tuple[str, ...]) -> Listen:
    """A value at `keys` (the chart sets it; no program reads it from there)."""
    mark = node.value_marks.get(key) or node.key_marks[key]
    return Listen(number, Location(path, mark.line, mark.column), SOURCE, name=".".join(keys))


def _number(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and 0 < value < 65536 else None
