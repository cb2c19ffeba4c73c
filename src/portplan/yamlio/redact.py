"""A YAML text with its values masked, to show a change to a file without showing its values.

`portplan allocate --dry-run` prints a diff of the plan, and the lines around a
change may hold a secret (`DB_PASSWORD: ...`). The diff is made between masked texts: the
indentation, the keys, `- `, `:` and the brackets and commas of flow collections stay, and
every value, comment, anchor, tag and anything not recognised becomes MASK. A key is kept
only where the parser put a key, so a line of a block scalar that looks like `key: value`
is masked whole.

`redact_secrets` masks less: only the values the secret detector flags (`secretscan.detect`,
and comments), so the diff of `allocate --dry-run` stays readable (port numbers, names,
`depends_on`, paths).

Which text is a key, a value or a collection is the parser's answer (the marks of the tree),
not a pattern's: a kept value is copied to its end as the parser read it (a quoted value to
its closing quote, whatever brackets it holds), so a `}` inside `"${REF}"` neither ends a
flow mapping nor shifts what comes after. One pass over the text: linear.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterator
from typing import Any, Final

from portplan.secretscan import detect
from portplan.yamlio.tree import Mark, YMap, YSeq

MASK: Final = "***"
_BLANKS: Final = " \t\r"
_FLOW_END: Final = ",]}"
_Position = tuple[int, int]
# The line breaks the parser counts lines by (YAML 1.1's, as PyYAML reads them): a file with
# old Mac line ends (`\r`) or U+2028 is split where its marks say its lines are.
_BREAK: Final = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


def redact(text: str, document: Any, keep: Collection[Mark] = (), *, names: bool = False) -> str:
    """`text` (whose parsed tree is `document`) with every value masked but those at `keep`
    (and, with `names`, but anchors, aliases and tags)."""
    keys: set[_Position] = set()
    flows: set[_Position] = set()
    _collect(document, keys, flows, set())
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    kept = {(mark.line, mark.column) for mark in keep}
    redactor = _Redactor(keys, flows, kept, names)
    body = text[len(bom) :]
    lines = _BREAK.split(body)
    breaks = [*_BREAK.findall(body), ""]
    return bom + "".join(
        redactor.line(row, line) + end
        for row, (line, end) in enumerate(zip(lines, breaks, strict=True), 1)
    )


def redact_secrets(text: str, document: Any) -> str:
    """`text` with its comments and secret values masked (`secret_kind` of the key and value,
    of `NAME=value` in a list, or a password in a URL); every other value stays."""
    return redact(text, document, list(plain_values(document)), names=True)


def plain_values(node: Any, name: str = "", seen: set[int] | None = None) -> Iterator[Mark]:
    """The marks of the scalars under `node` that are not secret (aliases walked once): a
    value is judged under its key, a `value:` beside a `name:` (Kubernetes `env`) under that
    name, a list item under its list's key or, written `NAME=value`, under NAME."""
    seen = set() if seen is None else seen
    if id(node) in seen:
        return
    seen.add(id(node))
    if isinstance(node, YMap):
        own = node.get("name") if isinstance(node.get("name"), str) else None
        pairs = [
            (own if key == "value" and own else str(key), value, node.value_marks[key])
            for key, value in node.items()
        ]
    else:
        pairs = [(name, value, mark) for value, mark in zip(node, node.item_marks, strict=True)]
    for label, value, mark in pairs:
        if isinstance(value, YMap | YSeq):
            yield from plain_values(value, label, seen)
        elif not _secret(label, value, in_list=isinstance(node, YSeq)):
            yield mark


def _secret(name: str, value: Any, in_list: bool) -> bool:
    if value is None:
        return False
    text = str(value)
    if in_list and "=" in text:  # `environment: [DB_PASSWORD=...]`
        item, _, item_value = text.partition("=")
        if detect.secret(item.strip(), item_value) is not None:
            return True
    return detect.secret(name, text) is not None


def _collect(node: Any, keys: set[_Position], flows: set[_Position], seen: set[int]) -> None:
    """The positions of every key and every collection in the tree (aliases walked once)."""
    if not isinstance(node, (YMap, YSeq)) or id(node) in seen:
        return
    seen.add(id(node))
    flows.add((node.mark.line, node.mark.column))
    if isinstance(node, YMap):
        keys.update((mark.line, mark.column) for mark in node.key_marks.values())
    for child in node.values() if isinstance(node, YMap) else node:
        _collect(child, keys, flows, seen)


class _Redactor:
    """Masks one line after another; a flow collection or a quoted value may span lines."""

    def __init__(
        self, keys: set[_Position], flows: set[_Position], kept: set[_Position], names: bool
    ) -> None:
        self.keys = keys
        self.flows = flows
        self.kept = kept
        self.names = names  # keep anchors, aliases and tags (and `<<:`)
        self.flow_next = False  # a kept anchor or tag stands where a flow collection starts
        self.depth = 0  # of flow collections open
        self.quote = ""  # the quote of a quoted value continued from the line before
        self.keep_quote = False  # ... and whether that value is kept

    def line(self, row: int, line: str) -> str:
        out: list[str] = []
        index = self._continued_quote(line, out)
        if not self.quote and self.depth == 0 and line.rstrip() in ("---", "..."):
            return line
        start_of_block = self.depth == 0
        while index < len(line):
            char = line[index]
            if char in _BLANKS:
                out.append(char)
                index += 1
                continue
            index = self._token(row, line, index, start_of_block, out)
            start_of_block = start_of_block and out[-1] == "-"
        return "".join(out)

    def _continued_quote(self, line: str, out: list[str]) -> int:
        if not self.quote:
            return 0
        end = _quote_end(line, 0, self.quote)
        self.quote = "" if end >= 0 else self.quote
        stop = len(line) if end < 0 else end
        if self.keep_quote:
            out.append(line[:stop])
            return stop
        indent = len(line[:stop]) - len(line[:stop].lstrip(" "))
        out.append(line[:indent] + MASK)
        return stop

    def _token(self, row: int, line: str, index: int, block_start: bool, out: list[str]) -> int:
        """Append the token at `index` (kept or masked); the index after it."""
        char = line[index]
        end = _key_end(line, index) if (row, index + 1) in self.keys else -1
        if end > index:
            out.append(line[index:end] + ":")
            return end + 1
        if (row, index + 1) in self.kept:
            end = self._kept_end(line, index)
            out.append(line[index:end])
            return end
        flow_next, self.flow_next = self.flow_next, False
        if self.names and char in "&*!":
            self.flow_next = flow_next or (row, index + 1) in self.flows
            end = _name_end(line, index)
            out.append(line[index:end])
            return end
        if self.names and line.startswith("<<:", index):
            out.append("<<:")
            return index + 3
        if flow_next and char in "[{":
            self.depth += 1
            out.append(char)
            return index + 1
        if not self._structural(row, line, index, block_start):
            return self._masked(line, index, out)
        out.append(char)
        return index + 1

    def _structural(self, row: int, line: str, index: int, block_start: bool) -> bool:
        """Whether the character at `index` is a bracket, a comma or a `- ` (depth tracked)."""
        char = line[index]
        if char in "[{" and (self.depth or (row, index + 1) in self.flows):
            self.depth += 1
            return True
        if self.depth and char in "]}":
            self.depth -= 1
            return True
        if self.depth:
            return char == ","
        return block_start and char == "-" and line[index + 1 : index + 2] in ("", " ")

    def _masked(self, line: str, index: int, out: list[str]) -> int:
        char = line[index]
        if char == "#" and (index == 0 or line[index - 1] in _BLANKS):
            out.append("# " + MASK)
            return len(line)
        if char in "\"'":
            end = _quote_end(line, index + 1, char)
            self.quote = char if end < 0 else ""
            self.keep_quote = False
            out.append(MASK)
            return len(line) if end < 0 else end
        out.append(MASK)
        return self._value_end(line, index)

    def _kept_end(self, line: str, index: int) -> int:
        """Where the kept value at `index` ends on this line (a quoted one: at its closing
        quote, or it goes on to the next line)."""
        char = line[index]
        if char not in "\"'":
            return self._value_end(line, index)
        end = _quote_end(line, index + 1, char)
        if end < 0:
            self.quote, self.keep_quote = char, True
            return len(line)
        return end

    def _value_end(self, line: str, index: int) -> int:
        """Where the plain value at `index` ends: the line's end, or in a flow a delimiter."""
        if not self.depth:
            return len(line)
        end = index
        while end < len(line) and line[end] not in _FLOW_END:
            if line[end] == "#" and line[end - 1] in _BLANKS:
                break
            end += 1
        return end


def _name_end(line: str, index: int) -> int:
    """Where the anchor, alias or tag at `index` ends."""
    end = index + 1
    while end < len(line) and line[end] not in _BLANKS + _FLOW_END:
        end += 1
    return end


def _key_end(line: str, index: int) -> int:
    """The index of the `:` after the key starting at `index`, or -1."""
    char = line[index]
    end = _quote_end(line, index + 1, char) if char in "\"'" else index
    if end < 0:
        return -1
    while end < len(line):
        if line[end] == ":" and line[end + 1 : end + 2] in ("", " ", "\t", "\r", ",", "]", "}"):
            return end
        end += 1
    return -1


def _quote_end(line: str, index: int, quote: str) -> int:
    """The index after the quote closing a `quote`d value whose text starts at `index`."""
    while index < len(line):
        char = line[index]
        if char == "\\" and quote == '"':
            index += 2
            continue
        if char == quote:
            if quote == "'" and line[index + 1 : index + 2] == "'":
                index += 2
                continue
            return index + 1
        index += 1
    return -1
