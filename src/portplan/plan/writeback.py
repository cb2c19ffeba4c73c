"""Edit a plan's text in place, guided by the parser's marks.

Only the lines that carry the new value are added; every other byte of the file stays as it
was (comments, key order, quoting, flow style, line breaks). The result is parsed again and
checked before anything is written, and writing is atomic (`portplan.atomicfile`).
"""

from __future__ import annotations

import re

from portplan.atomicfile import write_atomic
from portplan.errors import InputError, PortplanError
from portplan.yamlio import load as yamlload
from portplan.yamlio.load import Mark, YMap

_CONTENT = re.compile(r"^(\s*)(\S)")
_UNSAFE = "could not add the port safely; nothing was written"
# YAML's lines: `\r\n`, `\n` and a lone `\r` each end one (the parser's marks count them so)
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")
_BREAK = re.compile(r"\r\n|\r|\n")


class WriteBackError(InputError):
    """The edit could not be made safely; nothing was written."""

    def __init__(self, file: str, mark: Mark | None, what: str) -> None:
        line, column = (mark.line, mark.column) if mark is not None else (None, None)
        super().__init__(file, line, column, what)


class _Lines(list[str]):
    """The file's lines (each with its line end), its name and the line end new lines get."""

    def __init__(self, lines: list[str], file: str, eol: str) -> None:
        super().__init__(lines)
        self.file = file
        self.eol = eol


def add_port(text: str, file: str, service: str, port_name: str, port: int | str) -> str:
    """`text` with `services.<service>.ports.<port_name>: <port>` added.

    The added lines end as the file's first line does (`\r\n`, `\n` or a lone `\r`); a
    byte-order mark and a missing final line end stay as they were.
    """
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    body = text[len(bom) :]
    document = yamlload.load(body, file)
    if not isinstance(document, YMap):
        raise WriteBackError(file, Mark(1, 1), "expected a mapping at the top level")
    first = _BREAK.search(body)
    eol = first.group() if first else "\n"  # the first line's end: \r\n, \n or \r
    lines = _Lines(_LINE.findall(body), file, eol)
    unterminated = bool(lines) and not lines[-1].endswith(("\n", "\r"))
    if unterminated:
        lines[-1] += eol
    _edit(lines, document, service, f"{port_name}: {port}")
    result = "".join(lines)
    services = document.get("services")
    mark = services.key_marks.get(service) if isinstance(services, YMap) else None
    _verify(result, file, service, port_name, port, mark or Mark(1, 1))
    return bom + (result.removesuffix(eol) if unterminated else result)


def _edit(lines: _Lines, document: YMap, service: str, entry: str) -> None:
    services = document.get("services")
    if not isinstance(services, YMap) or not services:
        _insert_block(lines, document, "services", f"{service}:\n  ports:\n    {entry}")
        return
    body = services.get(service)
    if not isinstance(body, YMap) or not body:
        if service in services and body is not None:
            raise WriteBackError(lines.file, services.value_marks[service], "expected a mapping")
        if service in services:
            _fill_empty(lines, services, service, f"ports:\n  {entry}")
        else:
            _insert_block(
                lines, document, "services", f"{service}:\n  ports:\n    {entry}", sibling=services
            )
        return
    _refuse_shared(lines.file, services, service, body)
    ports = body.get("ports")
    if isinstance(ports, YMap) and ports:
        _add_to_mapping(lines, body, "ports", ports, entry)
    elif "ports" in body:
        _fill_empty(lines, body, "ports", entry)
    else:
        _add_key(lines, services, service, body, f"ports:\n  {entry}")


def _refuse_shared(file: str, services: YMap, service: str, body: YMap) -> None:
    """Refuse to add to a mapping the service shares with an anchor: the port would appear
    wherever the anchor is used (or, for a merge key, hide the merged ports)."""
    advice = "add the port where the anchor is defined or write the map out"
    at = services.value_marks[service]
    if (at.line, at.column) != (body.mark.line, body.mark.column):
        what = f"{service} comes from the anchor at line {body.mark.line} (an alias)"
        raise WriteBackError(file, at, f"{what}; {advice}")
    ports = body.get("ports")
    if "ports" not in body or not isinstance(ports, YMap):
        return
    key, value = body.key_marks["ports"], body.value_marks["ports"]
    if key.line < at.line:
        what = f"ports of {service} come from the anchor at line {ports.mark.line} (a merge key)"
        raise WriteBackError(file, services.key_marks[service], f"{what}; {advice}")
    if (value.line, value.column) != (ports.mark.line, ports.mark.column):
        what = f"ports of {service} come from the anchor at line {ports.mark.line} (an alias)"
        raise WriteBackError(file, value, f"{what}; {advice}")


def _add_to_mapping(lines: _Lines, parent: YMap, key: str, mapping: YMap, entry: str) -> None:
    start = parent.value_marks[key]
    if _char_at(lines, start) == "{":
        _insert_in_flow(lines, start, entry)
        return
    first_key = next(iter(mapping.key_marks.values()))
    last_key = list(mapping.key_marks.values())[-1]
    end = _block_end(lines, last_key.line, first_key.column)
    lines.insert(end, _indent(entry, first_key.column - 1, lines.eol))


def _add_key(lines: _Lines, parent: YMap, key: str, body: YMap, entry: str) -> None:
    start = parent.value_marks[key]
    if _char_at(lines, start) == "{":
        flow_entry = entry.replace("\n  ", " {", 1) + "}"
        _insert_in_flow(lines, start, flow_entry.replace("\n", " "))
        return
    own = [m for m in body.key_marks.values() if (m.line, m.column) >= (start.line, start.column)]
    last_line = max((m.line for m in own), default=start.line)  # not a key `<<:` merged
    end = _block_end(lines, last_line, start.column)
    lines.insert(end, _indent(entry, start.column - 1, lines.eol))


def _fill_empty(lines: _Lines, parent: YMap, key: str, entry: str) -> None:
    """`key:` with no value (or `{}`) gets its first entry on the following lines."""
    mark = parent.key_marks[key]
    row = lines[mark.line - 1]
    value_at = parent.value_marks.get(key)
    if value_at is not None and _char_at(lines, value_at) == "{":
        close = row.index("}", value_at.column - 1)
        lines[mark.line - 1] = row[: value_at.column - 1].rstrip(" ") + row[close + 1 :]
    end = _block_end(lines, mark.line, mark.column)
    lines.insert(end, _indent(entry, mark.column + 1, lines.eol))


def _insert_block(
    lines: _Lines, document: YMap, key: str, entry: str, sibling: YMap | None = None
) -> None:
    if sibling is not None:
        first = next(iter(sibling.key_marks.values()))
        last = list(sibling.key_marks.values())[-1]
        end = _block_end(lines, last.line, first.column)
        lines.insert(end, _indent(entry, first.column - 1, lines.eol))
        return
    if key in document:
        _fill_empty(lines, document, key, entry)
        return
    lines.append(f"{key}:{lines.eol}" + _indent(entry, 2, lines.eol))


def _block_end(lines: list[str], line: int, column: int) -> int:
    """Index after the last line that belongs to the entry starting at `line` (1-based)."""
    end = line
    for index in range(line, len(lines)):
        match = _CONTENT.match(lines[index])
        if match is None:
            continue
        if len(match.group(1)) < column or lines[index].startswith(("---", "...")):
            break
        end = index + 1
    return end


def _insert_in_flow(lines: _Lines, start: Mark, entry: str) -> None:
    """Insert `, entry` before the brace that closes the flow mapping opened at `start`."""
    row, col = _closing_brace(lines, start)
    text = lines[row]
    before = text[:col].rstrip()
    separator = "" if before.endswith("{") else ", "
    lines[row] = text[: len(before)] + separator + entry + text[len(before) :]


def _closing_brace(lines: _Lines, start: Mark) -> tuple[int, int]:
    depth = 0
    quote = ""
    row, col = start.line - 1, start.column - 1
    while row < len(lines):
        text = lines[row]
        while col < len(text):
            char = text[col]
            if quote:
                quote = "" if char == quote else quote
            elif char in "\"'":
                quote = char
            elif char in "{[":
                depth += 1
            elif char in "}]":
                depth -= 1
                if depth == 0:
                    return row, col
            col += 1
        row, col = row + 1, 0
    raise WriteBackError(lines.file, start, "expected a flow mapping closed by '}'")


def _char_at(lines: list[str], mark: Mark) -> str:
    text = lines[mark.line - 1] if mark.line - 1 < len(lines) else ""
    return text[mark.column - 1] if mark.column - 1 < len(text) else ""


def _indent(entry: str, spaces: int, eol: str) -> str:
    pad = " " * spaces
    return "".join(f"{pad}{line}{eol}" for line in entry.split("\n"))


def _verify(
    text: str, file: str, service: str, port_name: str, port: int | str, mark: Mark
) -> None:
    """Read the edited text back; `mark` (the service's) locates the refusal."""
    try:
        document = yamlload.load(text, file)
        value = document["services"][service]["ports"][port_name]
    except (PortplanError, KeyError, TypeError):
        raise WriteBackError(file, mark, _UNSAFE) from None
    if value != port and not (isinstance(value, dict) and value.get("port") == port):
        raise WriteBackError(file, mark, _UNSAFE)


__all__ = ["WriteBackError", "add_port", "write_atomic"]
