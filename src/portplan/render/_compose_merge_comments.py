"""Keep the blank lines and comments that follow a service where they are when keys are
added to it or taken from it.

ruamel.yaml keeps what follows a block's last value (the blank line before the next
service, a comment above it) with that value: a key added after it would come after the
blank line, and a key removed would take the blank line with it. So the lines after a
service's own line end are taken off before the service is changed and put back after its
last value afterwards.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import CommentMark
from ruamel.yaml.tokens import CommentToken

# The slot of a value's comment in ruamel's comment lists: after a mapping's value, after
# a sequence's item.
_MAP_SLOT = 2
_SEQ_SLOT = 0


def detach_trailing(node: CommentedMap) -> str:
    """Take off the lines after the end of the last line of `node` (its value's own end-of
    line comment stays); return them."""
    found = _last_slot(node)
    if found is None:
        return ""
    comments, slot = found
    token = comments[slot]
    if not isinstance(token, CommentToken):
        return ""
    own, newline, rest = token.value.partition("\n")
    if not newline or not rest:
        return ""
    token.value = own + newline
    return rest


def reattach_trailing(node: CommentedMap, rest: str) -> None:
    """Put `rest` back after the last line of `node`."""
    if not rest:
        return
    found = _last_slot(node)
    if found is None:
        return
    comments, slot = found
    token = comments[slot]
    if isinstance(token, CommentToken):
        token.value = token.value + rest if token.value.endswith("\n") else f"{token.value}\n{rest}"
    else:
        comments[slot] = CommentToken("\n" + rest, _mark(), None)


def _last_slot(node: Any) -> tuple[list[Any], int] | None:
    """The comment list and slot of the last scalar of a block collection (following the
    last value down while it is a block collection)."""
    while True:
        if isinstance(node, CommentedMap) and node and not node.fa.flow_style():
            keys = [key for key, _ in node.non_merged_items()]
            if not keys:
                return None
            key = keys[-1]
            value = node[key]
            if _is_block(value):
                node = value
                continue
            comments = node.ca.items.setdefault(key, [None, None, None, None])
            return comments, _MAP_SLOT
        if isinstance(node, CommentedSeq) and node and not node.fa.flow_style():
            index = len(node) - 1
            if _is_block(node[index]):
                node = node[index]
                continue
            comments = node.ca.items.setdefault(index, [None, None, None, None])
            return comments, _SEQ_SLOT
        return None


def _is_block(value: Any) -> bool:
    """A block collection of this place alone: an anchored one is also written elsewhere
    (as an alias here, or aliased there), so what follows it is not this node's to move."""
    return (
        isinstance(value, CommentedMap | CommentedSeq)
        and bool(value)
        and not value.fa.flow_style()
        and value.anchor.value is None
    )


def _mark() -> CommentMark:
    return CommentMark(0)
