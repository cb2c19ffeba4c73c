"""A Helm chart's `values.yaml` (a `values*.yaml` beside a `Chart.yaml`): the values,
not the templates. Every integer under a key `port` or a key ending in `Port`
(`containerPort`, `targetPort`, `httpPort`) is a port of the chart's workload, named by its
path (`service.port`, `metrics.containerPort`)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any, Final

from portplan.model import Location
from portplan.sources.code.base import Listen
from portplan.yamlio.load import YAMLInputError, YMap, YSeq, load

SOURCE: Final = "helm-values"
CHART: Final = "Chart.yaml"
_PORT_KEY: Final = re.compile(r"^(?:port|\w*[a-z]Port)$")
_DEPTH: Final = 8


def read(path: str, text: str) -> list[Listen]:
    """The ports a chart's values give its workload; [] when no `Chart.yaml` is beside it."""
    if not os.path.isfile(os.path.join(os.path.dirname(path), CHART)):
        return []
    try:
        document = load(text, path)
    except YAMLInputError:
        return []
    return list(_ports(path, document, ())) if isinstance(document, YMap) else []


def _ports(path: str, node: Any, keys: tuple[str, ...]) -> Iterator[Listen]:
    if len(keys) > _DEPTH:
        return
    if isinstance(node, YSeq):
        for item in node:
            yield from _ports(path, item, keys)
        return
    if not isinstance(node, YMap):
        return
    for key, value in node.items():
        if isinstance(value, (YMap, YSeq)):
            yield from _ports(path, value, (*keys, key))
        elif _PORT_KEY.match(key) and isinstance(value, int) and not isinstance(value, bool):
            mark = node.value_marks.get(key) or node.key_marks[key]
            if 0 < value < 65536:
                at = Location(path, mark.line, mark.column)
                yield Listen(value, at, SOURCE, name=".".join((*keys, key)))
