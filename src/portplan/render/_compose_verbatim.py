"""Keep the scalars a compose merge does not own exactly as the file spells them.

ruamel.yaml's round trip turns a plain `-0` into the int 0, `.Inf` into a float, `~` into
None and `2024-01-15t10:00:00Z` into a datetime, and writes them back as `0`, `.inf`, an
empty value and `...T...`. The loader here remembers the text of every plain scalar that
is not a string (by its place in the file); before the merged document is written, every
such value still in its place and still equal to what was read is put back as that text,
with its tag, so it is written byte for byte. Values the merge changed or added are
written as ruamel writes them.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.nodes import Node, ScalarNode
from ruamel.yaml.representer import RoundTripRepresenter

_STRING = "tag:yaml.org,2002:str"
_Place = tuple[int, int]


class Verbatim:
    """A plain scalar to write as it was read: its text and its tag."""

    __slots__ = ("tag", "text")

    def __init__(self, text: str, tag: Any) -> None:
        self.text = text
        self.tag = tag


class _Constructor(RoundTripConstructor):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.read: dict[_Place, tuple[str, Any, Any]] = {}

    def construct_object(self, node: Node, deep: bool = False) -> Any:
        value = super().construct_object(node, deep=deep)
        plain = isinstance(node, ScalarNode) and node.style is None and node.anchor is None
        if plain and str(node.tag) != _STRING:
            self.read[node.start_mark.line, node.start_mark.column] = (node.value, node.tag, value)
        return value


class _Representer(RoundTripRepresenter):
    pass


def _represent(representer: RoundTripRepresenter, data: Verbatim) -> Any:
    return representer.represent_scalar(data.tag, data.text)


_Representer.add_representer(Verbatim, _represent)


def install(yaml: YAML) -> None:
    """Have `yaml` remember the plain scalars it reads and write `Verbatim` values."""
    yaml.Constructor = _Constructor
    yaml.Representer = _Representer


def restore(document: Any, yaml: YAML) -> None:
    """Put back, as read, every scalar of `document` that is where and what it was."""
    constructor = yaml.constructor
    if isinstance(constructor, _Constructor) and constructor.read:
        _walk(document, constructor.read)


def _walk(node: Any, read: dict[_Place, tuple[str, Any, Any]]) -> None:
    if isinstance(node, CommentedMap):
        for key, value in list(node.non_merged_items()):
            place = _place(node, key)
            kept = _kept(value, place[2:4] if place else None, read)
            if kept is not None:
                node[key] = kept
            else:
                _walk(value, read)
    elif isinstance(node, CommentedSeq):
        for index, value in enumerate(node):
            place = _place(node, index)
            kept = _kept(value, place[0:2] if place else None, read)
            if kept is not None:
                node[index] = kept
            else:
                _walk(value, read)


def _place(node: CommentedMap | CommentedSeq, key: Any) -> list[int] | None:
    """Where the parser found `key`'s entry (None: added since)."""
    data = getattr(node.lc, "data", None)
    if not isinstance(data, dict):
        return None
    found = data.get(key)
    return list(found) if isinstance(found, list | tuple) else None


def _kept(value: Any, place: Any, read: dict[_Place, tuple[str, Any, Any]]) -> Verbatim | None:
    if place is None or isinstance(value, CommentedMap | CommentedSeq):
        return None
    found = read.get((place[0], place[1]))
    if found is None or not _same(found[2], value):
        return None
    return Verbatim(found[0], found[1])


def _same(before: Any, now: Any) -> bool:
    if before is now:
        return True
    if type(before) is not type(now):
        return False
    return bool(before == now or (before != before and now != now))  # NaN is NaN


__all__ = ["Verbatim", "install", "restore"]
