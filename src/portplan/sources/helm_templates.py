"""The templates of a Helm chart read leniently, without `helm`.

A chart is the folder holding `templates/`, with a `Chart.yaml` or a `values.yaml` (a copy
of a chart often has only the values). A template is rendered line by line, keeping every
line where it is (so what is read points at the template's lines):

- `{{ .Values.a.b }}` is the value at `a.b` of the chart's `values.yaml` (a `| default X`
  when it has none), `{{ .Chart.Name }}`, `{{ .Release.Name }}` (a release is usually
  named after its chart) and an `include`/`template` of a `*.name`/`*.fullname` helper
  are the chart's name (`Chart.yaml` `name:`, else its folder's name), and
  `{{ .Release.Namespace }}` is `default`; a component's helper
  (`include "loki.compactorFullname"`, `template "tempo.resourceName" (dict ... "component"
  "compactor")`) is `<chart>-<component>`, as such helpers write it;
- a line holding nothing but actions (`{{- if .Values.x }}`, `{{ end }}`, `{{ range }}`,
  `{{ include "x.labels" . | nindent 4 }}`, a `{{/* comment */}}`) is dropped: both
  branches of an `if` are read;
- any other action is a placeholder (quoted when it is the whole scalar).

What still does not parse is one info note per chart (`portplan.sources.kubernetes`).
"""

from __future__ import annotations

import os
import re
from typing import Any, Final

from portplan.files import UnreadableFile, safe_read
from portplan.yamlio.load import YAMLInputError, YMap, load

CHART: Final = "Chart.yaml"
TEMPLATES: Final = "templates"
VALUES: Final = ("values.yaml", "values.yml")
PLACEHOLDER: Final = "helm-value"
NAMESPACE: Final = "default"

_ACTION: Final = re.compile(r"\{\{-?(?P<body>.*?)-?\}\}")
_ONLY_ACTIONS: Final = re.compile(r"^\s*(?:\{\{-?.*?-?\}\}\s*)+$")
_VALUE: Final = re.compile(r"^\.Values((?:\.[A-Za-z_][\w-]*)+)$")
_DEFAULT_PIPE: Final = re.compile(r"^default\s+(?P<literal>\S+)$")
_DEFAULT_CALL: Final = re.compile(r"^default\s+(?P<literal>\S+)\s+(?P<ref>\.Values\.[\w.-]+)$")
_HELPER: Final = re.compile(r'^(?:include|template)\s+"(?P<helper>[\w.-]+)"(?P<rest>.*)$')
_COMPONENT_VARIABLE: Final = re.compile(
    r'\$(\w+)\s*:=\s*\(?\s*dict\b[^}]*?"component"\s+"([\w-]+)"'
)
_HELPER_WITH_VARIABLE: Final = re.compile(
    r'(?P<call>\b(?:include|template)\s+"[\w.-]+"\s+)\$(?P<var>\w+)\b'
)
_COMPONENT_ARG: Final = re.compile(r'"component"\s+"(?P<c>[\w-]+)"')
_COMPONENT_HELPER: Final = re.compile(r"(?P<c>[a-z][A-Za-z0-9]*?)(?:Fullname|FullName)")
_HARMLESS_PIPES: Final = frozenset({"quote", "squote", "toString", "trim", "lower", "int"})
_SCALAR_START: Final = re.compile(r"(?::|^\s*-)\s*$")


def chart_of(path: str) -> str | None:
    """The chart folder whose `templates/` holds the file at `path` (the nearest one),
    else None."""
    parts = os.path.abspath(path).split(os.sep)
    for index in range(len(parts) - 2, 0, -1):
        if parts[index] != TEMPLATES:
            continue
        chart = os.sep.join(parts[:index]) or os.sep
        if any(os.path.isfile(os.path.join(chart, name)) for name in (CHART, *VALUES)):
            return chart
    return None


def _mapping(path: str) -> YMap | None:
    try:
        document = load(safe_read(path), path)
    except (UnreadableFile, YAMLInputError):
        return None
    return document if isinstance(document, YMap) else None


def chart_values(chart: str) -> dict[str, Any]:
    """The chart's `values.yaml` ({} when it has none or it cannot be read)."""
    for name in VALUES:
        path = os.path.join(chart, name)
        if os.path.isfile(path):
            found = _mapping(path)
            return dict(found) if found is not None else {}
    return {}


def chart_name(chart: str) -> str:
    """The chart's `name:` in `Chart.yaml`, else the name of its folder."""
    meta = (
        _mapping(os.path.join(chart, CHART)) if os.path.isfile(os.path.join(chart, CHART)) else None
    )
    name = meta.get("name") if meta is not None else None
    return name if isinstance(name, str) and name else os.path.basename(os.path.abspath(chart))


def render(text: str, values: dict[str, Any], name: str) -> str:
    """`text` with its actions replaced and its action-only lines blank (see the module)."""
    components = dict(_COMPONENT_VARIABLE.findall(text))
    if components:  # `{{ $dict := dict "ctx" . "component" "gateway" }}` ... `$dict`

        def given(found: re.Match[str]) -> str:
            component = components.get(found.group("var"))
            if component is None:
                return found.group()
            return f'{found.group("call")}(dict "component" "{component}")'

        text = _HELPER_WITH_VARIABLE.sub(given, text)
    lines = text.split("\n")
    out: list[str] = []
    for line in lines:
        if "{{" not in line:
            out.append(line)
        elif _ONLY_ACTIONS.match(line):
            out.append("")
        else:
            out.append(_line(line, values, name))
    return "\n".join(out)


def _line(line: str, values: dict[str, Any], name: str) -> str:
    parts: list[str] = []
    end = 0
    for match in _ACTION.finditer(line):
        before = line[end : match.start()]
        parts.append(before)
        value = _evaluate(match.group("body").strip(), values, name)
        rest = line[match.end() :].strip()
        whole = _SCALAR_START.search("".join(parts)) is not None and not rest.split("#")[0]
        if value is None:
            parts.append(f'"{PLACEHOLDER}"' if whole else PLACEHOLDER)
        else:
            parts.append(value)
        end = match.end()
    parts.append(line[end:])
    return "".join(parts)


def _evaluate(body: str, values: dict[str, Any], name: str) -> str | None:
    """The text of the action `body`, None when it cannot be told."""
    stages = [stage.strip() for stage in body.split("|")]
    head, pipes = stages[0], stages[1:]
    fallback: str | None = None
    call = _DEFAULT_CALL.match(head)
    if call:
        head, fallback = call.group("ref"), _literal(call.group("literal"))
    for pipe in pipes:
        default = _DEFAULT_PIPE.match(pipe)
        if default:
            fallback = _literal(default.group("literal"))
        elif pipe not in _HARMLESS_PIPES:
            return None
    found: object = None
    if head in (".Release.Namespace", "$.Release.Namespace"):
        found = NAMESPACE
    elif head.removeprefix("$") in (".Chart.Name", ".Release.Name"):
        found = name
    elif (helper := _helper_name(head, name)) is not None:
        found = helper
    else:
        value = _VALUE.match(head.removeprefix("$"))
        if value:
            found = _lookup(values, value.group(1).lstrip(".").split("."))
    if found is None:
        return fallback
    if isinstance(found, bool):
        return "true" if found else "false"
    if isinstance(found, (str, int, float)):
        return str(found)
    return None


def _helper_name(head: str, name: str) -> str | None:
    """The name a naming helper gives: the chart's for `*.name`, `*.fullname`
    (`common.names.fullname`); a component's, `<chart>-<component>`, for
    `loki.compactorFullname`, `<chart>.dex.fullname` or a helper given `"component"
    "compactor"` (`tempo.resourceName`); None for any other action."""
    found = _HELPER.match(head)
    if found is None:
        return None
    last = found.group("helper").rsplit(".", 1)[-1]
    component = _COMPONENT_ARG.search(found.group("rest"))
    if component is not None and last.lower().endswith("name"):
        return f"{name}-{component.group('c')}"
    parts = found.group("helper").split(".")
    if last in ("name", "fullname") and len(parts) == 3 and parts[0] == name:
        return f"{name}-{parts[1]}"  # `argo-cd.dex.fullname` of chart argo-cd
    if last in ("name", "fullname"):
        return name
    named = _COMPONENT_HELPER.fullmatch(last)
    if named is not None:
        return f"{name}-{_kebab(named.group('c'))}"
    return name if last.endswith(("name", "fullname")) else None


def _kebab(text: str) -> str:
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", text).lower()


def _lookup(values: dict[str, Any], keys: list[str]) -> object:
    node: object = values
    for key in keys:
        if not isinstance(node, dict) or key not in node:
            return None
        node = node[key]
    return node


def _literal(text: str) -> str | None:
    if len(text) >= 2 and text[0] == text[-1] == '"':
        return text[1:-1]
    return text if re.fullmatch(r"[\w.:/-]+", text) else None
