"""Markdown cut into the blocks the source reads: headings, tables, fenced code, lines.

Only as much of CommonMark as planning documents use: ATX headings, GFM pipe tables (also
inside a blockquote, `> | Service | Port |`) and
fenced code blocks (``` or ~~~, indented inside list items); everything else is a line of
prose. Line numbers are 1-based; indexes into a line are 0-based.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import pairwise
from typing import Final


@dataclass(frozen=True, slots=True)
class Heading:
    line: int
    level: int
    text: str  # the raw line
    start: int  # index of the heading's text in the line


@dataclass(frozen=True, slots=True)
class TextLine:
    line: int
    text: str


@dataclass(frozen=True, slots=True)
class Fence:
    """A fenced code block: `lines[i]` is document line `start + i`, as written."""

    info: str  # first word of the info string, lower case ("yaml", "bash", "")
    start: int
    lines: tuple[str, ...]
    indent: int  # of the opening fence: what a block inside a list item is shifted by

    def dedented(self) -> tuple[tuple[str, ...], tuple[int, ...]]:
        """The lines without the fence's indentation, and how much each one lost."""
        cuts = tuple(min(self.indent, len(t) - len(t.lstrip(" \t"))) for t in self.lines)
        return tuple(t[cut:] for t, cut in zip(self.lines, cuts, strict=True)), cuts


@dataclass(frozen=True, slots=True)
class Cell:
    text: str  # stripped
    line: int
    index: int  # where the stripped text starts in the line


@dataclass(frozen=True, slots=True)
class Table:
    header: tuple[Cell, ...]
    rows: tuple[tuple[Cell, ...], ...]


Block = Heading | TextLine | Fence | Table

_HEADING: Final = re.compile(r"^ {0,3}(#{1,6})[ \t]+(?=\S)")
_FENCE_OPEN: Final = re.compile(
    r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*?)\s*$"
)
_FENCE_CLOSE: Final = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*$")
_SEPARATOR: Final = re.compile(r"^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$")


_QUOTE: Final = re.compile(r"^(?: {0,3}>[ \t]?)+")


def unquoted(line: str) -> str:
    """A line of a blockquote (`> | a | b |`, nested `> > ...`, `>>`) with its quote
    markers blanked out, so that columns stay where they are."""
    found = _QUOTE.match(line)
    return line if found is None else " " * found.end() + line[found.end() :]


def blocks(lines: list[str]) -> Iterator[Block]:
    """The blocks of a document given as its lines (without line ends). A table inside a
    blockquote is read as a table (its quote markers blanked out)."""
    i, count = 0, len(lines)
    while i < count:
        line = lines[i]
        if not line.strip():
            i += 1
            continue
        fence = _FENCE_OPEN.match(line)
        if fence:
            code, i = _fence(lines, i, fence)
            yield code
        elif "|" in line and i + 1 < count and _is_separator(line, lines[i + 1]):
            rows, i = _table(lines, i)
            yield rows
        elif line.lstrip().startswith(">") and _quoted_table(lines, i):
            j = i + 2
            while j < count and "|" in lines[j] and unquoted(lines[j]).lstrip(" "):
                j += 1
            rows, _ = _table([unquoted(text) for text in lines[i:j]], 0)
            yield _moved(rows, i)
            i = j
        else:
            heading = _HEADING.match(line)
            if heading:
                yield Heading(i + 1, len(heading.group(1)), line, heading.end())
            else:
                yield TextLine(i + 1, line)
            i += 1


def _is_separator(header: str, line: str) -> bool:
    """GFM: a delimiter row (`|---|:--:|`) with as many cells as the header row."""
    if "-" not in line or "|" not in line or not _SEPARATOR.match(line):
        return False
    return len(split_cells(line, 0)) == len(split_cells(header, 0))


def _fence(lines: list[str], i: int, opening: re.Match[str]) -> tuple[Fence, int]:
    indent = len(opening.group("indent"))
    marker = opening.group("fence")
    info = opening.group("info").split()
    body: list[str] = []
    j = i + 1
    while j < len(lines):
        closing = _FENCE_CLOSE.match(lines[j])
        if closing and closing.group("fence").startswith(marker):
            break
        body.append(lines[j])
        j += 1
    kind = info[0].lower().strip("{}.") if info else ""
    return Fence(kind, i + 2, tuple(body), indent), j + 1


def _quoted_table(lines: list[str], i: int) -> bool:
    """Whether a quoted table starts at line `i` (its header, then its delimiter row)."""
    if i + 1 >= len(lines) or "|" not in lines[i]:
        return False
    return _is_separator(unquoted(lines[i]), unquoted(lines[i + 1]))


def _moved(table: Table, lines: int) -> Table:
    """`table` read from a slice of the document that starts `lines` lines down."""

    def row(cells: tuple[Cell, ...]) -> tuple[Cell, ...]:
        return tuple(Cell(c.text, c.line + lines, c.index) for c in cells)

    return Table(row(table.header), tuple(row(cells) for cells in table.rows))


def _table(lines: list[str], i: int) -> tuple[Table, int]:
    header = split_cells(lines[i], i + 1)
    rows: list[tuple[Cell, ...]] = []
    j = i + 2
    while j < len(lines) and "|" in lines[j] and lines[j].strip():
        rows.append(split_cells(lines[j], j + 1))
        j += 1
    return Table(header, tuple(rows)), j


def split_cells(line: str, number: int) -> tuple[Cell, ...]:
    """The cells of a table row; pipes inside code spans or escaped as `\\|` do not split."""
    bounds = _pipes(line)
    if not bounds:
        return (_cell(line, 0, len(line), number),)
    edges = [-1, *bounds, len(line)]
    cells = [_cell(line, a + 1, b, number) for a, b in pairwise(edges)]
    if not line[: bounds[0]].strip():
        cells.pop(0)
    if not line[bounds[-1] + 1 :].strip():
        cells.pop()
    return tuple(cells)


_PIPE: Final = re.compile(r"\|")


def _pipes(line: str, code_spans: bool = True) -> list[int]:
    if "`" not in line and "\\" not in line:
        return [m.start() for m in _PIPE.finditer(line)]
    found: list[int] = []
    in_code = False
    previous = ""
    for index, char in enumerate(line):
        if char == "`" and code_spans:
            in_code = not in_code
        elif char == "|" and not in_code and previous != "\\":
            found.append(index)
        previous = char
    # An unclosed backtick is a typo, not a code span that runs to the end of the row.
    return _pipes(line, code_spans=False) if in_code else found


def _cell(line: str, start: int, stop: int, number: int) -> Cell:
    raw = line[start:stop]
    lead = len(raw) - len(raw.lstrip())
    return Cell(raw.strip(), number, start + lead)
