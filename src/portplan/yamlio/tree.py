"""The located tree both YAML parsers build, and the rules they share.

Kept free of heavy imports: the fast parser and the public module import it at start-up.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Final

from portplan.errors import InputError

MAX_DEPTH: Final = 64
"""Deepest nesting of mappings and sequences accepted."""

ALIAS_NODES_FLOOR: Final = 100_000
"""Nodes that aliases may produce in any document, however small."""

ALIAS_NODES_PER_CHAR: Final = 1
"""Beyond the floor, aliases may produce one node per character of the file: YAML averages
about ten characters a node, so this is about ten times the file's own nodes (and unlike a
node count it is known before parsing, the same for both parsers)."""


@dataclass(frozen=True, slots=True)
class Mark:
    """A position in a file: 1-based line and column (columns count characters)."""

    line: int
    column: int


_MARK_SLOTS: Any = vars(Mark)


def _mark_init(
    self: Mark,
    line: int,
    column: int,
    _set_line: Any = _MARK_SLOTS["line"].__set__,
    _set_column: Any = _MARK_SLOTS["column"].__set__,
) -> None:
    _set_line(self, line)
    _set_column(self, column)


# The same fields, set through the slot descriptors instead of `object.__setattr__`: twice as
# fast, and a large file makes a few hundred thousand marks. Frozen-ness, equality, hashing
# and repr are the dataclass's own.
Mark.__init__ = _mark_init  # type: ignore[method-assign]


# Where the fast parser saw a node, key or value: its 0-based row and column packed in one
# int, `row << 32 | column` (written out where made: a call would cost what it saves). A
# plan of 5,000 services has some 150,000 of them and its check reads a few, so a `Mark` (a
# quarter of a microsecond to make) is made from its position only when asked for:
# `key_marks`, `value_marks`, `item_marks` and `mark` on first use, the same as the
# complete parser's (yamlio.events sets them directly), or one at a time (`key_mark`...).
ROW_SHIFT: Final = 32
COLUMN_MASK: Final = (1 << ROW_SHIFT) - 1


def mark_at(position: int) -> Mark:
    """The Mark (1-based) of a packed position."""
    return Mark((position >> ROW_SHIFT) + 1, (position & COLUMN_MASK) + 1)


class _Located:
    """Where a node is: `mark`, made from its position `_at` when first asked for."""

    __slots__ = ()  # the subclasses hold `_at` and `_mark` (a dict or list base has no room)

    _at: int
    _mark: Mark | None

    @property
    def mark(self) -> Mark:
        mark = self._mark
        if mark is None:
            mark = self._mark = mark_at(self._at)  # type: ignore[misc]  # (slot of subclasses)
        return mark

    @mark.setter
    def mark(self, mark: Mark) -> None:
        self._mark = mark  # type: ignore[misc]


class YMap(_Located, dict[str, Any]):
    """A YAML mapping with the location of itself, of each key and of each value."""

    __slots__ = ("_at", "_key_at", "_key_marks", "_mark", "_value_at", "_value_marks")

    _key_at: dict[str, int]
    _key_marks: dict[str, Mark] | None
    _value_at: dict[str, int]
    _value_marks: dict[str, Mark] | None

    @property
    def key_marks(self) -> dict[str, Mark]:
        marks = self._key_marks
        if marks is None:
            marks = self._key_marks = {k: mark_at(p) for k, p in self._key_at.items()}
        return marks

    @key_marks.setter
    def key_marks(self, marks: dict[str, Mark]) -> None:
        self._key_marks = marks

    @property
    def value_marks(self) -> dict[str, Mark]:
        marks = self._value_marks
        if marks is None:
            marks = self._value_marks = {k: mark_at(p) for k, p in self._value_at.items()}
        return marks

    @value_marks.setter
    def value_marks(self, marks: dict[str, Mark]) -> None:
        self._value_marks = marks


class YSeq(_Located, list[Any]):
    """A YAML sequence with the location of itself and of each item."""

    __slots__ = ("_at", "_item_at", "_item_marks", "_mark")

    _item_at: list[int]
    _item_marks: list[Mark] | None

    @property
    def item_marks(self) -> list[Mark]:
        marks = self._item_marks
        if marks is None:
            marks = self._item_marks = [mark_at(p) for p in self._item_at]
        return marks

    @item_marks.setter
    def item_marks(self, marks: list[Mark]) -> None:
        self._item_marks = marks


def key_mark(ymap: YMap, key: str) -> Mark | None:
    """Where `key` of `ymap` is (None: nowhere known), made alone, not with its siblings'."""
    marks = ymap._key_marks
    return _made(ymap._key_at, key) if marks is None else marks.get(key)


def value_mark(ymap: YMap, key: str) -> Mark | None:
    """Where the value of `key` in `ymap` is (None: nowhere known), made alone."""
    marks = ymap._value_marks
    return _made(ymap._value_at, key) if marks is None else marks.get(key)


def key_positions(ymap: YMap) -> dict[str, int] | None:
    """The packed positions of `ymap`'s keys (line `(p >> ROW_SHIFT) + 1`, column
    `(p & COLUMN_MASK) + 1`), one for each key; None when its `key_marks` are made (or set by
    the complete parser), which then say where. For a reader that makes its own records of
    thousands of places (the plan's loader) without a Mark for each."""
    return ymap._key_at if ymap._key_marks is None else None


def value_positions(ymap: YMap) -> dict[str, int] | None:
    """The packed positions of `ymap`'s values, as `key_positions`."""
    return ymap._value_at if ymap._value_marks is None else None


def item_positions(yseq: YSeq) -> list[int] | None:
    """The packed positions of `yseq`'s items, as `key_positions`."""
    return yseq._item_at if yseq._item_marks is None else None


def _made(positions: dict[str, int], key: str) -> Mark | None:
    position = positions.get(key)
    return None if position is None else mark_at(position)


def item_mark(yseq: YSeq, index: int) -> Mark | None:
    """Where item `index` of `yseq` is (None: nowhere known), made alone."""
    marks = yseq._item_marks
    if marks is None:
        positions = yseq._item_at
        return mark_at(positions[index]) if 0 <= index < len(positions) else None
    return marks[index] if 0 <= index < len(marks) else None


class YAMLInputError(InputError):
    """A YAML file that cannot be read: bad bytes, bad syntax, or a refused structure."""


def new_map(mark: Mark) -> YMap:
    """An empty located mapping."""
    ymap = YMap()
    ymap.mark = mark
    ymap.key_marks = {}
    ymap.value_marks = {}
    return ymap


def new_seq(mark: Mark) -> YSeq:
    """An empty located sequence."""
    yseq = YSeq()
    yseq.mark = mark
    yseq.item_marks = []
    return yseq


def map_at(position: int) -> YMap:
    """An empty mapping at a packed position, whose keys' and values' positions are put in
    `_key_at` and `_value_at` (the fast parser's; the marks are made when asked for)."""
    ymap = YMap()
    ymap._at = position
    ymap._mark = ymap._key_marks = ymap._value_marks = None
    ymap._key_at = {}
    ymap._value_at = {}
    return ymap


def seq_at(position: int) -> YSeq:
    """An empty sequence at a packed position, its items' positions in `_item_at`."""
    yseq = YSeq()
    yseq._at = position
    yseq._mark = yseq._item_marks = None
    yseq._item_at = []
    return yseq


# --- YAML 1.2 core schema -------------------------------------------------------------

_NOT_FOUND: Final = object()
_INF: Final = float("inf")
_WORDS: Final[dict[str, Any]] = {
    "": None,
    "~": None,
    "null": None,
    "Null": None,
    "NULL": None,
    "true": True,
    "True": True,
    "TRUE": True,
    "false": False,
    "False": False,
    "FALSE": False,
    ".inf": _INF,
    ".Inf": _INF,
    ".INF": _INF,
    "+.inf": _INF,
    "+.Inf": _INF,
    "+.INF": _INF,
    "-.inf": -_INF,
    "-.Inf": -_INF,
    "-.INF": -_INF,
    ".nan": float("nan"),
    ".NaN": float("nan"),
    ".NAN": float("nan"),
}
_NUMBER_START: Final = frozenset("0123456789+-.")
_WORD_START: Final = frozenset("~nNtTfF")
_INT: Final = re.compile(r"[-+]?[0-9]+")
_OCT: Final = re.compile(r"0o[0-7]+")
_HEX: Final = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT: Final = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_MAX_DIGITS: Final = 4000  # int() refuses longer decimal strings (CVE-2020-10735 guard)


def resolve_plain(text: str) -> Any:
    """The value of an untagged plain scalar under the YAML 1.2 core schema."""
    if not text:
        return None
    first = text[0]
    if first in _NUMBER_START:
        return _resolve_number(text)
    if first in _WORD_START:
        value = _WORDS.get(text, _NOT_FOUND)
        return text if value is _NOT_FOUND else value
    return text


def _resolve_number(text: str) -> Any:
    value = _WORDS.get(text, _NOT_FOUND)
    if value is not _NOT_FOUND:
        return value
    if len(text) > _MAX_DIGITS:
        return text
    if _INT.fullmatch(text):
        return int(text)
    if _OCT.fullmatch(text):
        return int(text[2:], 8)
    if _HEX.fullmatch(text):
        return int(text[2:], 16)
    if _FLOAT.fullmatch(text):
        return float(text)
    return text


def key_text(value: Any) -> str:
    """A scalar key as the str that indexes a YMap (YAML 1.2 core: `80` -> "80")."""
    return value if isinstance(value, str) else str(value)


# --- refusals shared by both parsers --------------------------------------------------


def fail(filename: str, mark: Mark, what: str) -> YAMLInputError:
    """The error to raise for `what` at `mark`."""
    return YAMLInputError(filename, mark.line, mark.column, what)


def duplicate_key(filename: str, key: str, mark: Mark, first: Mark) -> YAMLInputError:
    """The error for a key written twice in one mapping. The key is quoted only when it is a
    short name holding no secret (`postgres://u:pw@h/d` is described by its length)."""
    from portplan.secretscan.detect import quotable_key, unquoted_key

    shown = repr(key) if quotable_key(key) else unquoted_key(key)
    return fail(filename, mark, f"duplicate key {shown} (first at line {first.line})")


def too_deep(filename: str, mark: Mark) -> YAMLInputError:
    """The error for a collection nested deeper than MAX_DEPTH."""
    return fail(filename, mark, f"nesting is deeper than {MAX_DEPTH} levels")


def flow_too_deep(text: str, allowed: int) -> Mark | None:
    """Where flow collections (`[`, `{`) first nest deeper than `allowed`, or None.

    One linear pass: a bracket counts where a node may start (after a line start, `:`, `-`
    or `?`, spaces aside) or inside a flow collection; quoted scalars and comments are
    skipped. It backs the depth limit where libyaml stops first.
    """
    depth = 0
    search = _FLOW_SIGNS.search
    found = search(text)
    while found is not None:
        at = found.start()
        sign = text[at]
        before = at - 1
        while before >= 0 and text[before] in " \t":
            before -= 1
        start = before < 0 or text[before] in (_FLOW_STARTS if depth else _BLOCK_STARTS)
        end = at + 1
        if sign in "[{":
            if start or depth:
                depth += 1
                if depth > allowed:
                    line_start = text.rfind("\n", 0, at) + 1
                    return Mark(text.count("\n", 0, at) + 1, at - line_start + 1)
        elif sign in "]}":
            depth = max(depth - 1, 0)
        elif sign == "#":
            if before < at - 1 or start:
                end = _line_end(text, at)
        elif start:
            end = _quote_end(text, at, sign)
        found = search(text, end)
    return None


_BLOCK_STARTS: Final = "\n:?-"
_FLOW_STARTS: Final = "\n[{,:?-"
_FLOW_SIGNS: Final = re.compile(r"[\[\]{}\"'#]")
_QUOTE_ENDS: Final = {
    '"': re.compile(r'"(?:[^"\\]++|\\.)*"', re.S),  # runs: no state per character
    "'": re.compile(r"'(?:[^']++|'')*'"),
}


def _line_end(text: str, at: int) -> int:
    end = text.find("\n", at)
    return len(text) if end < 0 else end


def _quote_end(text: str, at: int, quote: str) -> int:
    quoted = _QUOTE_ENDS[quote].match(text, at)
    return len(text) if quoted is None else quoted.end()


class AliasBudget:
    """Counts the nodes that aliases produce, to refuse alias bombs ("billion laughs").

    Aliased values are shared, not copied, so memory stays bounded; the count is of the
    nodes a consumer walking the tree would meet.
    """

    __slots__ = ("filename", "limit", "produced")

    def __init__(self, filename: str, text_length: int) -> None:
        self.filename = filename
        self.limit = max(ALIAS_NODES_FLOOR, ALIAS_NODES_PER_CHAR * text_length)
        self.produced = 0

    def spend(self, size: int, mark: Mark) -> None:
        """Account for an alias to a value of `size` nodes; refuse past the limit."""
        self.produced += size
        limit = self.limit
        if self.produced > limit:
            what = (
                f"this alias makes the document expand past {limit:,} nodes; "
                "refusing a possible alias bomb"
            )
            raise fail(self.filename, mark, what)


def node_size(value: Any, memo: dict[int, int]) -> int:
    """Nodes in `value` with aliases expanded; `memo` keeps shared values counted once."""
    if not isinstance(value, (YMap, YSeq)):
        return 1
    known = memo.get(id(value))
    if known is not None:
        return known
    children = value.values() if isinstance(value, YMap) else value
    size = 1 + sum(node_size(child, memo) for child in children)
    memo[id(value)] = size
    return size


_KIND_NAMES: Final = {bool: "a boolean", int: "an integer", float: "a decimal number"}


def shape(value: Any) -> str:
    """A noun phrase for what `value` is, for messages: its kind and size, never its text.

    Every message about a value from the user's files describes it this way, so that no
    secret value can reach the output: "a string of 6 characters", "an integer", "a list".
    """
    if isinstance(value, str):
        count = len(value)
        if count == 0:
            return "an empty string"
        return f"a string of {count} character{'' if count == 1 else 's'}"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return _KIND_NAMES.get(type(value), type(value).__name__)


def apply_merges(filename: str, target: YMap, sources: list[tuple[Any, Mark]]) -> None:
    """Fill `target` from `<<` merge values: its own keys win, then earlier sources."""
    for value, mark in sources:
        if isinstance(value, YMap):
            _merge_one(target, value)
        elif isinstance(value, YSeq) and all(isinstance(item, YMap) for item in value):
            for item in value:
                _merge_one(target, item)
        else:
            what = f"merge key '<<' expects a mapping or a list of mappings, got {shape(value)}"
            raise fail(filename, mark, what)


def _merge_one(target: YMap, source: YMap) -> None:
    key_marks = target.key_marks
    value_marks = target.value_marks
    for key, value in source.items():
        if key not in target:
            target[key] = value
            key_marks[key] = source.key_marks[key]
            value_marks[key] = source.value_marks[key]
