"""A fast, line-oriented parser for the YAML that configuration files are written in.

It reads block mappings and sequences, single-line plain and quoted scalars (no escapes),
flow collections (one line or several), comments, anchors, aliases and `<<` merge keys, and
`---` documents. On anything else - block scalars, tags, escapes, multi-line plain scalars,
complex keys - and on anything wrong, it hands the whole file over (returns None) to the
complete parser in yamlio.events, which is the reference for both values and marks. It
produces exactly the tree and marks the complete parser would (tests/test_yamlload.py
compares the two), about three times faster, and without importing PyYAML.
"""

from __future__ import annotations

import re
from typing import Any, Final

from portplan.yamlio.flow import MAX_KEY, HandOver, parse_flow
from portplan.yamlio.tree import (
    MAX_DEPTH,
    AliasBudget,
    YAMLInputError,
    YMap,
    YSeq,
    apply_merges,
    key_text,
    map_at,
    mark_at,
    node_size,
    resolve_plain,
    seq_at,
)

# Characters that cannot start a plain scalar here (or start something this parser leaves
# to the complete one: tags, block scalars, directives, complex keys).
_BAD_START: Final = frozenset("#&*!|>'\"%@`[]{},?")
_MAYBE_INDICATOR: Final = frozenset("-?:")
_NOT_PLAIN: Final = _BAD_START | _MAYBE_INDICATOR
_RESOLVABLE: Final = frozenset("0123456789+-.~nNtTfF<")  # starts resolve_plain may change
_NAME: Final = re.compile(r"[A-Za-z0-9_-]+")
_FOREIGN_BREAKS: Final = ("\x85", "\u2028", "\u2029", "\r", "\t")


def parse(text: str, filename: str, single: bool) -> list[Any] | None:
    """The documents of `text`, or None when the complete parser must read it."""
    if not text.isascii() and any(char in text for char in _FOREIGN_BREAKS):
        return None
    if "\t" in text or "\r" in text:
        return None
    try:
        return _Parser(text, filename).documents(single)
    except (HandOver, YAMLInputError, RecursionError, IndexError):
        return None


class _Parser:
    """Recursive descent over lines; `row` is the first line not yet consumed."""

    def __init__(self, text: str, filename: str) -> None:
        self.lines = text.split("\n")
        self.count = len(self.lines)
        self.row = 0
        self.filename = filename
        self.anchors: dict[str, Any] = {}
        self.sizes: dict[int, int] = {}
        self.budget = AliasBudget(filename, len(text))

    # --- documents ----------------------------------------------------------------

    def documents(self, single: bool) -> list[Any]:
        documents: list[Any] = []
        indent = self._skip()
        if indent >= 0:
            documents.append(self._root(indent))
        while self.row < self.count:
            self._document_start()
            if single and documents:
                raise HandOver  # the complete parser words this error
            self.row += 1
            self.anchors.clear()
            indent = self._skip()
            documents.append(None if indent < 0 else self._root(indent))
        return documents

    def _document_start(self) -> None:
        line = self.lines[self.row]
        rest = line[3:].lstrip(" ")
        if not line.startswith("---") or (rest and rest[0] != "#"):
            raise HandOver  # `...`, or content after `---`

    def _root(self, indent: int) -> Any:
        line = self.lines[self.row]
        content = line[indent:]
        if _is_item(content):
            root: Any = self._seq(indent, 1)
        elif content[0] in "[{":
            root, self.row = parse_flow(self.lines, self.row, indent, 1, -1, self._aliased)
        elif _is_key(content):
            root = self._map(indent, 1)
        else:
            raise HandOver
        if self._skip() >= 0:
            raise HandOver
        return root

    def _skip(self) -> int:
        """Move to the next line with content; its indent, or -1 at the end or a `---`."""
        lines = self.lines
        row = self.row
        count = self.count
        while row < count:
            line = lines[row]
            content = line.lstrip(" ")
            if content and content[0] != "#":
                self.row = row
                indent = len(line) - len(content)
                if indent == 0 and line[:3] in ("---", "...") and line[3:4] in ("", " "):
                    return -1
                return indent
            row += 1
        self.row = row
        return -1

    # --- block collections --------------------------------------------------------

    def _map(self, indent: int, depth: int) -> YMap:
        if depth > MAX_DEPTH:
            raise HandOver
        lines = self.lines
        row = self.row
        ymap = map_at(row << 32 | indent)  # packed positions (tree.mark_at)
        key_at = ymap._key_at
        value_at = ymap._value_at
        merges: list[tuple[Any, int]] = []
        count = self.count
        while True:
            line = lines[row]
            colon = line.find(": ", indent)
            if colon < 0 and line[-1] == ":":  # `key:`, its value on the lines below
                colon = len(line) - 1
            if line[indent] in _NOT_PLAIN or colon < 0 or colon - indent > MAX_KEY:
                key, colon = _key(line, indent)
            else:  # the common plain key, inline
                raw = line[indent:colon]
                if " #" in raw:
                    raise HandOver
                if raw[-1] == " ":
                    raw = raw.rstrip(" ")
                key = key_text(resolve_plain(raw)) if raw[0] in _RESOLVABLE else raw
                if raw == "<<":
                    key = None
            content = line[colon + 1 :].lstrip(" ")
            if content and content[0] not in _NOT_PLAIN:
                # the common `key: value`, inline
                comment = content.find(" #")
                text = (content if comment < 0 else content[:comment]).rstrip(" ")
                if ": " in text or text[-1] == ":":
                    raise HandOver
                value = resolve_plain(text) if text[0] in _RESOLVABLE else text
                position = row << 32 | len(line) - len(content)
                self.row = row + 1
            else:
                value, position = self._value(line, colon + 1, row, indent, depth)
            if key is None:
                merges.append((value, position))
            elif key in key_at:
                raise HandOver  # duplicate key
            else:
                ymap[key] = value
                key_at[key] = row << 32 | indent
                value_at[key] = position
            row = self.row
            if row < count:  # the common next line, inline
                line = lines[row]
                content = line.lstrip(" ")
                next_indent = len(line) - len(content)
                if next_indent == indent and content[:1] not in ("#", "") and indent:
                    continue
            next_indent = self._skip()
            if next_indent != indent:
                if next_indent > indent:
                    raise HandOver
                break
            row = self.row
        if merges:
            apply_merges(self.filename, ymap, [(value, mark_at(p)) for value, p in merges])
        return ymap

    def _seq(self, indent: int, depth: int) -> YSeq:
        if depth > MAX_DEPTH:
            raise HandOver
        lines = self.lines
        row = self.row
        yseq = seq_at(row << 32 | indent)
        item_at = yseq._item_at
        while True:
            value, position = self._item(lines[row], row, indent, depth)
            yseq.append(value)
            item_at.append(position)
            next_indent = self._skip()
            if next_indent != indent:
                if next_indent > indent:
                    raise HandOver
                break
            row = self.row
            if not _is_item(lines[row][indent:]):
                break  # the next key of the mapping this list is a value of
        return yseq

    def _item(self, line: str, row: int, indent: int, depth: int) -> tuple[Any, int]:
        content = line[indent + 1 :].lstrip(" ")
        if not content or content[0] == "#":
            self.row = row + 1
            return self._nested(indent, depth, row << 32 | indent + 1, False)
        column = len(line) - len(content)
        if _is_item(content):
            raise HandOver  # `- - x`
        if _is_key(content):
            self.row = row
            ymap = self._map(column, depth + 1)
            return ymap, ymap._at
        return self._inline(line, column, row, indent, depth, False)

    def _nested(
        self, indent: int, depth: int, empty: int, same_indent_list: bool
    ) -> tuple[Any, int]:
        """The block node on the lines after a `key:` or `-` with nothing after it."""
        next_indent = self._skip()
        if next_indent < 0 or next_indent < indent:
            return None, empty
        content = self.lines[self.row][next_indent:]
        if _is_item(content):
            if next_indent > indent or same_indent_list:
                yseq = self._seq(next_indent, depth + 1)
                return yseq, yseq._at
            return None, empty
        if next_indent == indent:
            return None, empty
        if not _is_key(content):
            raise HandOver  # a scalar on its own line
        ymap = self._map(next_indent, depth + 1)
        return ymap, ymap._at

    # --- values -------------------------------------------------------------------

    def _value(self, line: str, start: int, row: int, indent: int, depth: int) -> tuple[Any, int]:
        """The value after `key:`; `start` is the index after the colon."""
        content = line[start:].lstrip(" ")
        if not content or content[0] == "#":
            self.row = row + 1
            return self._nested(indent, depth, row << 32 | start, True)
        return self._inline(line, len(line) - len(content), row, indent, depth, True)

    def _inline(
        self, line: str, column: int, row: int, indent: int, depth: int, in_map: bool
    ) -> tuple[Any, int]:
        """A value that starts on this line at `column` (anchors, aliases, scalars, flows)."""
        first = line[column]
        position = row << 32 | column
        if first == "&":
            return self._anchored(line, column, row, indent, depth, in_map), position
        if first == "*":
            return self._alias(line, column, row, position), position
        if first == "{" or first == "[":
            value, self.row = parse_flow(self.lines, row, column, depth + 1, indent, self._aliased)
            return value, position
        self.row = row + 1
        if first == '"' or first == "'":
            return _quoted(line, column), position
        return _plain(line, column), position

    def _anchored(
        self, line: str, column: int, row: int, indent: int, depth: int, in_map: bool
    ) -> Any:
        name, end = _name(line, column + 1)
        content = line[end:].lstrip(" ")
        if not content or content[0] == "#":
            self.row = row + 1
            value, _ = self._nested(indent, depth, row << 32 | column, in_map)
        elif content[0] in "&*":
            raise HandOver
        else:
            start = len(line) - len(content)
            value, _ = self._inline(line, start, row, indent, depth, in_map)
        if isinstance(value, (YMap, YSeq)):
            value._at, value._mark = row << 32 | column, None  # a node starts at its anchor
        self.anchors[name] = value
        return value

    def _alias(self, line: str, column: int, row: int, position: int) -> Any:
        name, end = _name(line, column + 1)
        _expect_end(line, end)
        self.row = row + 1
        return self._aliased(name, position)

    def _aliased(self, name: str, position: int) -> Any:
        if name not in self.anchors:
            raise HandOver
        value = self.anchors[name]
        self.budget.spend(node_size(value, self.sizes), mark_at(position))
        return value


# --- one line at a time ---------------------------------------------------------------


def _is_item(content: str) -> bool:
    """Whether `content` starts a block sequence item (`- x` or a lone `-`)."""
    return content[:1] == "-" and content[1:2] in ("", " ")


def _is_key(content: str) -> bool:
    """Whether `content` (a line from its first character) is `key: ...` or `key:`."""
    first = content[0]
    if first == '"' or first == "'":
        end = _quote_end(content, 0)
        rest = content[end + 1 :].lstrip(" ")
        return rest[:1] == ":" and rest[1:2] in ("", " ")
    if first in "[{&*!|>":
        return False  # a value (a flow, anchor, alias...) - or a complex key, handed over later
    colon = content.find(": ")
    if colon < 0:
        return content.endswith(":") and " #" not in content
    comment = content.find(" #")
    return comment < 0 or colon < comment


def _key(line: str, indent: int) -> tuple[str | None, int]:
    """The key at `indent` (None for a `<<` merge) and the index of its colon."""
    first = line[indent : indent + 1]
    if first == '"' or first == "'":
        return _quoted_key(line, indent)
    if (
        not first
        or first in _BAD_START
        or (first in _MAYBE_INDICATOR and line[indent + 1 : indent + 2] in ("", " "))
    ):
        raise HandOver
    colon = line.find(": ", indent)
    if colon < 0:
        if not line.endswith(":"):
            raise HandOver
        colon = len(line) - 1
    raw = line[indent:colon]
    if " #" in raw or colon - indent > MAX_KEY:
        raise HandOver
    raw = raw.rstrip(" ")
    if raw == "<<":
        return None, colon
    return key_text(resolve_plain(raw)), colon


def _quoted_key(line: str, indent: int) -> tuple[str, int]:
    key = _quoted(line, indent, tail=False)
    colon = _quote_end(line, indent) + 1
    while line[colon : colon + 1] == " ":
        colon += 1
    if line[colon : colon + 1] != ":" or line[colon + 1 : colon + 2] not in ("", " "):
        raise HandOver
    if colon - indent > MAX_KEY:
        raise HandOver
    return key, colon


def _quote_end(line: str, start: int) -> int:
    """The index of the quote closing the quoted scalar at `start` (hands over if none)."""
    quote = line[start]
    end = line.find(quote, start + 1)
    if quote == "'":
        while end >= 0 and line[end + 1 : end + 2] == "'":
            end = line.find("'", end + 2)
    if end < 0:
        raise HandOver  # multi-line, or unclosed
    return end


def _quoted(line: str, start: int, tail: bool = True) -> str:
    end = _quote_end(line, start)
    text = line[start + 1 : end]
    if line[start] == '"':
        if "\\" in text:
            raise HandOver  # escapes
    else:
        text = text.replace("''", "'")
    if tail:
        _expect_end(line, end + 1)
    return text


def _plain(line: str, start: int) -> Any:
    first = line[start]
    if first in _BAD_START or (
        first in _MAYBE_INDICATOR and line[start + 1 : start + 2] in ("", " ")
    ):
        raise HandOver
    comment = line.find(" #", start)
    text = (line[start:] if comment < 0 else line[start:comment]).rstrip(" ")
    if ": " in text or text.endswith(":"):
        raise HandOver
    return resolve_plain(text)


def _name(line: str, start: int) -> tuple[str, int]:
    """An anchor or alias name at `start`, which must end at a space or the line's end."""
    found = _NAME.match(line, start)
    if found is None or line[found.end() : found.end() + 1] not in ("", " "):
        raise HandOver
    return found.group(), found.end()


def _expect_end(line: str, index: int) -> None:
    """Nothing but spaces and a comment may follow `index` on the line."""
    rest = line[index:]
    if rest and (rest[0] != " " or rest.lstrip(" ")[:1] not in ("", "#")):
        raise HandOver
