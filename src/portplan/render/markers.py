"""Refill `<!-- portplan:begin SECTION -->` ... `<!-- portplan:end -->` in Markdown.

Only the text between a begin and its end changes; every other byte stays as it was.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Final

from portplan.errors import InputError

_MARKER: Final = re.compile(r"<!--\s*portplan:(begin|end)\b\s*([\w-]*)\s*-->")
# A fenced code block (CommonMark: up to 3 spaces, then 3+ backticks or tildes; closed by a
# fence of the same character at least as long): a marker shown there is an example.
_FENCE: Final = re.compile(r"^ {0,3}(`{3,}|~{3,})", re.MULTILINE)


def refill(text: str, sections: Mapping[str, str], file: str) -> str:
    """`text` with each marked block replaced by its section (InputError when malformed)."""
    parts: list[str] = []
    done = 0
    open_at: re.Match[str] | None = None
    fenced = iter(_fenced(text))  # in order, as the markers: one pass over both
    span = next(fenced, None)
    for found in _MARKER.finditer(text):
        while span is not None and span[1] <= found.start():
            span = next(fenced, None)
        if span is not None and span[0] <= found.start():
            continue
        if found.group(1) == "begin":
            _check_begin(text, found, open_at, sections, file)
            open_at = found
            continue
        if open_at is None:
            raise _error(text, found, file, "portplan:end without a portplan:begin")
        parts.append(text[done : open_at.end()])
        # in the file's own line ends (a CRLF file stays CRLF)
        newline = "\r\n" if text.startswith("\r\n", open_at.end()) else "\n"
        block = sections[open_at.group(2)].rstrip("\n").replace("\n", newline)
        parts.append(newline + block + newline)
        done, open_at = found.start(), None
    if open_at is not None:
        raise _error(text, open_at, file, "portplan:begin without a portplan:end")
    parts.append(text[done:])
    return "".join(parts)


def _fenced(text: str) -> list[tuple[int, int]]:
    """The spans of the fenced code blocks of `text` (an unclosed one runs to the end)."""
    spans: list[tuple[int, int]] = []
    opened: re.Match[str] | None = None
    for fence in _FENCE.finditer(text):
        if opened is None:
            opened = fence
        elif fence.group(1)[0] == opened.group(1)[0] and len(fence.group(1)) >= len(
            opened.group(1)
        ):
            spans.append((opened.start(), fence.end()))
            opened = None
    if opened is not None:
        spans.append((opened.start(), len(text)))
    return spans


def _check_begin(
    text: str,
    found: re.Match[str],
    open_at: re.Match[str] | None,
    sections: Mapping[str, str],
    file: str,
) -> None:
    if open_at is not None:
        raise _error(text, found, file, "portplan:begin inside another portplan:begin")
    name = found.group(2)
    if name not in sections:
        known = ", ".join(sections)
        raise _error(text, found, file, f"unknown section {name!r}; expected one of {known}")


def _error(text: str, found: re.Match[str], file: str, what: str) -> InputError:
    line = text.count("\n", 0, found.start()) + 1
    column = found.start() - (text.rfind("\n", 0, found.start()) + 1) + 1
    return InputError(file, line, column, what)
