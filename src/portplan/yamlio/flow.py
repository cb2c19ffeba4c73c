"""Flow collections (`{port: 8080, env: HTTP_PORT}`, `[a, b]`) for the fast parser.

The common one-line collection of plain words is read by one regex pass; any other, by one
loop over regex tokens with an explicit stack, on purpose: plans hold tens of thousands of
these, and a token list plus recursive descent cost twice as much. Anything unusual (tags,
escapes, empty values, complex keys, merge keys) hands the file over.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from portplan.yamlio.tree import (
    MAX_DEPTH,
    YMap,
    key_text,
    map_at,
    resolve_plain,
    seq_at,
)

Alias = Callable[[str, int], Any]  # an alias's name and position (tree.mark_at) -> its value


class HandOver(Exception):
    """This file needs the complete parser."""


MAX_KEY: Final = 1000  # libyaml refuses implicit keys of 1,024 characters or more

# One token and the spaces before it: an indicator, ':', a quoted scalar without escapes,
# a plain scalar, an alias, or the end of the line (maybe after a comment). `findall` gives
# (spaces, token) pairs for a whole line in one call; the first character of a token tells
# its kind, and the lengths add up to the line's length unless something did not match.
# Possessive runs (`++`, `*+`) keep no backtracking state per character: a 5 MB scalar
# would otherwise cost the regex engine about 170 bytes a character.
_TOKENS: Final = re.compile(
    r"""([ ]*)(
      [\[\]{},]
    | :(?=[ ]|$)
    | "[^"\\]*"
    | '(?:[^']++|'')*'
    | (?:[^\s,\[\]{}\#&*!|>'"%@`?:-]|-(?=[^\s,\[\]{}]))
      (?:[^\s,\[\]{}:]++|:(?=[^\s,\[\]{}])|[ ]++(?=[^\s,\[\]{}:\#]|:(?=[^\s,\[\]{}])))*+
    | \*[A-Za-z0-9_-]+(?=[ ,\]}]|$)
    | (?:\#.*)?$
    )""",
    re.VERBOSE,
)
_NOT_PLAIN: Final = frozenset("[]{},:\"'*#")
_RESOLVABLE: Final = frozenset("0123456789+-.~nNtTfF")  # starts resolve_plain may change
# What the innermost collection expects next.
_ITEM, _KEY, _AFTER_KEY, _VALUE, _SEPARATOR = range(5)


def parse_flow(
    lines: list[str], row: int, column: int, depth: int, indent: int, alias: Alias
) -> tuple[Any, int]:
    """The flow collection opening at (row, column), and the row after its last line.

    `depth` is its nesting depth; its continuation lines must be indented past `indent`;
    `alias` gives the value of an alias (or hands over).
    """
    line = lines[row]
    simple = _ONE_LINE.match(line, column)
    if simple is not None and depth <= MAX_DEPTH:
        found = _one_line(line, column, row << 32, simple.end(1))
        if found is not None:
            return found, row + 1
    return _parse_flow(lines, row, column, depth, indent, alias)


# The flow collection a plan writes thousands of: on one line, of plain words without
# spaces (`{port: 8080, env: HTTP_PORT}`, `[db, cache]`), read with one regex pass instead
# of a step per token; anything else takes the general loop below, which reads these alike
# (tests/test_yamlload.py compares both with the complete parser).
_WORD = r"[A-Za-z0-9_/][A-Za-z0-9_./-]*+"  # possessive: no backtracking state per character
_ONE_LINE: Final = re.compile(
    rf"""(\{{[ ]*+(?:{_WORD}:[ ]++{_WORD}[ ]*+,[ ]*+)*+{_WORD}:[ ]++{_WORD}[ ]*+\}}
    | \[[ ]*+(?:{_WORD}[ ]*+,[ ]*+)*+{_WORD}[ ]*+\])
    (?:[ ]++(?:\#.*)?)?$""",
    re.VERBOSE,
)
_PAIRS: Final = re.compile(rf"({_WORD}):[ ]+({_WORD})")
_ITEMS: Final = re.compile(_WORD)


def _one_line(line: str, column: int, row_at: int, end: int) -> Any:
    """The collection `_ONE_LINE` matched at `column` (ending before `end`); None when the
    general loop must read it (a key written twice, or too long: it hands over)."""
    if line[column] == "[":
        yseq = seq_at(row_at | column)
        item_at = yseq._item_at
        for item in _ITEMS.finditer(line, column + 1, end):
            text = item.group()
            yseq.append(resolve_plain(text) if text[0] in _RESOLVABLE else text)
            item_at.append(row_at | item.start())
        return yseq
    ymap = map_at(row_at | column)
    key_at = ymap._key_at
    value_at = ymap._value_at
    for pair in _PAIRS.finditer(line, column + 1, end):
        raw, text = pair.group(1, 2)
        key = key_text(resolve_plain(raw)) if raw[0] in _RESOLVABLE else raw
        if key in key_at or len(key) > MAX_KEY:
            return None
        ymap[key] = resolve_plain(text) if text[0] in _RESOLVABLE else text
        key_at[key] = row_at | pair.start(1)
        value_at[key] = row_at | pair.start(2)
    return ymap


def _parse_flow(
    lines: list[str], row: int, column: int, depth: int, indent: int, alias: Alias
) -> tuple[Any, int]:
    findall = _TOKENS.findall
    stack: list[tuple[Any, int, str, int, int]] = []
    container: Any = None
    state = _ITEM
    key = ""
    key_row = -1
    key_mark = 0
    while True:
        line = lines[row]
        position = column
        row_at = row << 32  # positions packed as tree.mark_at reads them
        for spaces, token in findall(line, column):
            start = position + len(spaces)
            position = start + len(token)
            first = token[:1]
            if first not in _NOT_PLAIN and first:
                value: Any = resolve_plain(token) if first in _RESOLVABLE else token
                mark = row_at | start
            elif first == '"':
                value = token[1:-1]
                mark = row_at | start
            elif first == "'":
                value = token[1:-1].replace("''", "'")
                mark = row_at | start
            elif first == "*":
                if state == _KEY:
                    raise HandOver  # an alias as a key
                mark = row_at | start
                value = alias(token[1:], mark)
            elif first == ",":
                if state != _SEPARATOR:
                    raise HandOver
                state = _KEY if type(container) is YMap else _ITEM
                continue
            elif first == ":":
                if state != _AFTER_KEY or row != key_row:
                    raise HandOver
                state = _VALUE
                continue
            elif first == "[" or first == "{":
                level = depth + len(stack) + (container is not None)
                if (state != _ITEM and state != _VALUE) or level > MAX_DEPTH:
                    raise HandOver  # a collection as a key, or too deep
                if container is not None:
                    stack.append((container, state, key, key_row, key_mark))
                mark = row_at | start
                container = map_at(mark) if first == "{" else seq_at(mark)
                state = _KEY if first == "{" else _ITEM
                continue
            elif first == "]" or first == "}":
                if (first == "}") != (type(container) is YMap) or _AFTER_KEY <= state <= _VALUE:
                    raise HandOver  # a mismatched bracket, or a key without a value
                if not stack:
                    _expect_end(line, position)
                    return container, row + 1
                value = container
                mark = value._at
                container, state, key, key_row, key_mark = stack.pop()
            else:  # the end of the line, maybe after a comment
                if first == "#" and start > 0 and line[start - 1] != " ":
                    raise HandOver  # `#` glued to a token
                break
            # Place the scalar, alias or finished collection in its parent.
            if state == _ITEM:
                container.append(value)
                container._item_at.append(mark)
                state = _SEPARATOR
            elif state == _VALUE:
                container[key] = value
                container._key_at[key] = key_mark
                container._value_at[key] = mark
                state = _SEPARATOR
            elif state == _KEY:
                key = key_text(value)
                if key in container._key_at or key == "<<" or len(key) > MAX_KEY:
                    raise HandOver  # a duplicate, a merge, or too long
                key_row = row
                key_mark = mark
                state = _AFTER_KEY
            else:
                raise HandOver
        if position != len(line):
            raise HandOver  # something no token matched
        row = _next_line(lines, row, indent)
        column = 0


def _next_line(lines: list[str], row: int, indent: int) -> int:
    row += 1
    if row >= len(lines):
        raise HandOver  # unclosed
    line = lines[row]
    content = line.lstrip(" ")
    if content and content[0] != "#" and len(line) - len(content) <= indent:
        raise HandOver  # not indented enough
    if line[:3] in ("---", "..."):
        raise HandOver  # a document marker
    return row


def _expect_end(line: str, index: int) -> None:
    rest = line[index:]
    if rest and (rest[0] != " " or rest.lstrip(" ")[:1] not in ("", "#")):
        raise HandOver
