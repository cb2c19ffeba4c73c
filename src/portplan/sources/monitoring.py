"""Monitoring configuration as observations: whom Prometheus, Grafana and Promtail reach.

Recognised by content (any `*.yml`/`*.yaml` name): a Prometheus configuration has a
top-level `scrape_configs:` (or `alerting:` with `alertmanagers`), a Grafana provisioning
file a top-level `datasources:`, a Promtail configuration a top-level `clients:`. Every
address in them is a reference (`portplan.sources._config_refs`) from the service that runs
with the file:

- Prometheus: each `static_configs` target of `scrape_configs` and of
  `alerting.alertmanagers` (`host:port`; without a port, the job's `scheme` default), and
  each `remote_write`/`remote_read` `url`;
- Grafana: each datasource's `url`;
- Promtail: each client's `url`.

`localhost:9090` states nothing (see `_config_refs`). The file belongs to
the compose service that bind-mounts it (or its folder: `portplan.sources.homes`); until one
does, to the product it configures (`prometheus`, `grafana`, `promtail`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any, Final

from portplan.files import UnreadableFile, safe_read
from portplan.model import Location
from portplan.sources._config_refs import address_reference
from portplan.sources.base import SourceResult, failed_at, reason, unread
from portplan.yamlio import load as yamlload
from portplan.yamlio.load import Mark, YAMLInputError, YMap, YSeq

KIND: Final = "monitoring"
_PROMETHEUS: Final = re.compile(rb"^(?:scrape_configs|alerting)\s*:", re.MULTILINE)
_GRAFANA: Final = re.compile(rb"^datasources\s*:", re.MULTILINE)
_PROMTAIL: Final = re.compile(rb"^clients\s*:", re.MULTILINE)
_URL_KEY: Final = re.compile(rb"^\s*-?\s*url\s*:", re.MULTILINE)


def product_of(head: bytes) -> str | None:
    """The product whose configuration `head` (a file's first bytes) is, if any."""
    if _PROMTAIL.search(head) and _URL_KEY.search(head):
        return "promtail"  # it has scrape_configs too, of log files
    if _PROMETHEUS.search(head):
        return "prometheus"
    if _GRAFANA.search(head) and _URL_KEY.search(head):
        return "grafana"
    return None


def read_monitoring(path: str) -> SourceResult:
    """The references of the monitoring configuration at `path`."""
    try:
        data = safe_read(path)
        text = data.decode("utf-8")
        document = yamlload.load(text, path)
    except (UnreadableFile, UnicodeDecodeError, YAMLInputError) as exc:
        result = SourceResult(file=path, kind=KIND)
        at = failed_at(path, exc) if isinstance(exc, UnicodeDecodeError) else Location(path)
        result.errors.append(unread(at, reason(exc)))
        return result
    owner = product_of(data) or "prometheus"
    result = SourceResult(file=path, kind=KIND, owner=owner)
    if isinstance(document, YMap):
        lines = text.splitlines()
        for value, mark, scheme, name in _ADDRESSES[owner](document):
            at = Location(path, mark.line, mark.column)
            line = lines[mark.line - 1] if 0 < mark.line <= len(lines) else None
            found = address_reference(
                owner, value, at, KIND, line=line, scheme=scheme, port_name=name
            )
            if found is not None:
                result.ports.append(found)
    return result


Address = tuple[str, Mark, str | None, str | None]  # value, where, scheme, port name


def _prometheus(document: YMap) -> Iterator[Address]:
    for job in _items(document.get("scrape_configs")):
        yield from _targets(job, "metrics")
    alerting = document.get("alerting")
    if isinstance(alerting, YMap):
        for manager in _items(alerting.get("alertmanagers")):
            yield from _targets(manager, None)
    for key in ("remote_write", "remote_read"):
        for entry in _items(document.get(key)):
            yield from _value(entry, "url", None)


def _targets(job: YMap, name: str | None) -> Iterator[Address]:
    scheme = job.get("scheme")
    scheme = scheme if isinstance(scheme, str) else "http"
    for static in _items(job.get("static_configs")):
        targets = static.get("targets")
        if isinstance(targets, YSeq):
            for target, mark in zip(targets, targets.item_marks, strict=False):
                if isinstance(target, str):
                    yield target, mark, scheme, name


def _grafana(document: YMap) -> Iterator[Address]:
    for source in _items(document.get("datasources")):
        yield from _value(source, "url", None)


def _promtail(document: YMap) -> Iterator[Address]:
    for client in _items(document.get("clients")):
        yield from _value(client, "url", None)


def _value(entry: YMap, key: str, name: str | None) -> Iterator[Address]:
    value, mark = entry.get(key), entry.value_marks.get(key)
    if isinstance(value, str) and mark is not None:
        yield value, mark, None, name


def _items(value: Any) -> list[YMap]:
    return [item for item in value if isinstance(item, YMap)] if isinstance(value, YSeq) else []


_ADDRESSES: Final[dict[str, Callable[[YMap], Iterator[Address]]]] = {
    "prometheus": _prometheus,
    "grafana": _grafana,
    "promtail": _promtail,
}
