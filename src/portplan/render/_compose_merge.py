"""Merge port sections into an existing compose file, keeping its comments and order.

portplan owns `ports`, `expose`, `networks` (when the plan names networks) and
`healthcheck` of the services the file already has; everything else stays as it was.
"""

from __future__ import annotations

import io
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString

from portplan.errors import InputError
from portplan.model import normalize_name
from portplan.render._yaml import Quoted

OWNED = ("ports", "expose", "networks", "healthcheck")


def merge(text: str, file: str, sections: dict[str, Any]) -> str:
    """`text` (a compose file) with `sections` (from compose.compose_sections) merged in."""
    yaml = _yaml()
    try:
        document = yaml.load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(file, line, None, "cannot merge: not valid YAML") from None
    services = document.get("services") if isinstance(document, CommentedMap) else None
    if not isinstance(services, CommentedMap):
        raise InputError(file, None, None, "cannot merge: expected a 'services' mapping")
    index = {normalize_name(str(name)): name for name in services}
    for name, body in sections["services"].items():
        found = index.get(normalize_name(name))
        if found is not None and isinstance(services[found], CommentedMap):
            _merge_service(services[found], body)
    _merge_networks(document, sections.get("networks", {}))
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def _yaml() -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 10_000
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _merge_service(target: CommentedMap, body: dict[str, Any]) -> None:
    for key in OWNED:
        if key == "networks" and key not in body:
            continue
        if key in body:
            target[key] = _commented(body[key])
        elif key in target:
            del target[key]


def _merge_networks(document: CommentedMap, networks: dict[str, Any]) -> None:
    if not networks:
        return
    existing = document.get("networks")
    if not isinstance(existing, CommentedMap):
        existing = CommentedMap()
        document["networks"] = existing
    for name, value in networks.items():
        if name not in existing:
            existing[name] = _commented(value)


def _commented(value: Any) -> Any:
    if isinstance(value, dict):
        result = CommentedMap()
        for key, item in value.items():
            result[key] = _commented(item)
        return result
    if isinstance(value, list):
        seq = CommentedSeq(_commented(item) for item in value)
        if all(isinstance(item, str | int) for item in value) and len(value) <= 4:
            seq.fa.set_flow_style()
        return seq
    if isinstance(value, Quoted):
        return DoubleQuotedScalarString(str(value))
    return value
