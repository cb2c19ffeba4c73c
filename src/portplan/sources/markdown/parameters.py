"""A Helm chart's parameters table in the README beside its `Chart.yaml`:

| Parameter | Description | Default |
|---|---|---|
| `service.httpManagementPort` | The WildFly management Service port | `9990` |

A row whose parameter is a values path ending in a port key (`port`, `httpPort`,
`containerPort`: as `portplan.sources.code.helm` reads `values.yaml`) and whose default is a
port states that port of the chart by that path. `values.yaml` states it too, under the same
name, so reconcile holds the two together (PP221), and only there: a default the table
documents is no statement of what runs.
"""

from __future__ import annotations

import os
import re
from typing import Final

from portplan.sources.base import PortObservation
from portplan.sources.helm_templates import CHART, chart_name
from portplan.sources.markdown.blocks import Table
from portplan.sources.markdown.context import MAX_PORT, Collector
from portplan.sources.markdown.text import clean_text

SOURCE: Final = "helm-readme"
_KEY_HEADERS: Final = frozenset({"parameter", "parameters", "key", "name", "value"})
_VALUE_PATH: Final = re.compile(r"^`?(?P<path>[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)`?$")
_PORT_KEY: Final = re.compile(r"^(?:port|\w*[a-z]Port)$")
_DEFAULT: Final = re.compile(r"^[`\"']*(?P<n>\d{1,5})[`\"']*$")


def parameters_table(ctx: Collector, block: Table) -> bool:
    """Record the ports a chart's parameters table gives; False when `block` is none (no
    `Chart.yaml` beside the document, or no parameter and default columns)."""
    folder = os.path.dirname(ctx.file)
    if not os.path.isfile(os.path.join(folder, CHART)):
        return False
    header = [clean_text(cell.text).lower() for cell in block.header]
    key = next((i for i, text in enumerate(header) if text in _KEY_HEADERS), None)
    default = next((i for i, text in enumerate(header) if "default" in text), None)
    if key is None or default is None or key == default:
        return False
    name = chart_name(folder)
    for cells in block.rows:
        if max(key, default) >= len(cells):
            continue
        path = _VALUE_PATH.match(cells[key].text.strip())
        number = _DEFAULT.match(cells[default].text.strip())
        if path is None or number is None:
            continue
        if _PORT_KEY.match(path.group("path").rsplit(".", 1)[-1]) is None:
            continue
        value = int(number.group("n"))
        cell = cells[default]
        if 1 <= value <= MAX_PORT:
            at = ctx.at(cell.line, cell.index + cell.text.index(number.group("n")))
            ctx.port(PortObservation(name, value, at, SOURCE, port_name=path.group("path")))
    return True
