"""The complete YAML path: libyaml's event stream (through PyYAML) built into a located tree.

It reads everything YAML allows and words every error; the fast parser hands over to it
whenever a file uses something the fast parser does not read, or has a problem to report.
Building from events (not from PyYAML's composed nodes) keeps alias positions, needs no
recursion in C (libyaml's composer overflows the C stack on deep nesting) and lets the depth
limit stop a hostile file early.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from portplan.yamlio.errors import translate
from portplan.yamlio.tree import (
    MAX_DEPTH,
    AliasBudget,
    Mark,
    YMap,
    YSeq,
    apply_merges,
    duplicate_key,
    fail,
    flow_too_deep,
    key_text,
    new_map,
    new_seq,
    node_size,
    resolve_plain,
    shape,
    too_deep,
)

if TYPE_CHECKING:
    from yaml.events import Event, NodeEvent

_YAML_TAG: Final = "tag:yaml.org,2002:"
_NO_KEY: Final = object()
_MERGE: Final = object()


class _Frame:
    """A collection being built: its container, and for a mapping the key awaiting a value."""

    __slots__ = ("anchor", "block", "container", "key", "key_mark", "merges")

    def __init__(
        self, container: YMap | YSeq | None, anchor: str | None, block: bool = False
    ) -> None:
        self.container = container
        self.anchor = anchor
        self.block = block  # a block collection (not a flow one, not the document)
        self.key: Any = _NO_KEY
        self.key_mark: Mark | None = None
        self.merges: list[tuple[Any, Mark]] = []


class _Builder:
    """Turns events into documents of YMap / YSeq / scalars."""

    def __init__(self, filename: str, text_length: int, single: bool) -> None:
        self.filename = filename
        self.single = single
        self.documents: list[Any] = []
        self.stack: list[_Frame] = []
        self.anchors: dict[str, Any] = {}
        self.sizes: dict[int, int] = {}
        self.budget = AliasBudget(filename, text_length)

    # --- documents ----------------------------------------------------------------

    def document_start(self, event: Event) -> None:
        if self.single and self.documents:
            what = "expected a single YAML document, found another document here"
            raise fail(self.filename, _mark(event), what)
        self.stack.append(_Frame(None, None))

    def document_end(self, event: Event) -> None:
        frame = self.stack.pop()
        self.documents.append(None if frame.key is _NO_KEY else frame.key)
        self.anchors.clear()

    # --- nodes --------------------------------------------------------------------

    def scalar(self, event: Any) -> None:
        start = event.start_mark
        mark = Mark(start.line + 1, start.column + 1)
        if event.tag is None:
            value = event.value if event.style else resolve_plain(event.value)
        else:
            value = _scalar_value(self.filename, event, mark)
        if event.anchor is not None:
            self.anchors[event.anchor] = value
        merge = value == "<<" and event.tag is None and not event.style
        self._add(value, mark, merge)

    def alias(self, event: Any) -> None:
        mark = _mark(event)
        name: str = event.anchor
        if name not in self.anchors:
            what = (
                "unknown alias: no anchor of that name is defined before it "
                "(a value starting with '*' must be quoted)"
            )
            raise fail(self.filename, mark, what)
        value = self.anchors[name]
        self.budget.spend(node_size(value, self.sizes), mark)
        self._add(value, mark, False)

    def collection_start(self, event: NodeEvent) -> None:
        mark = _mark(event)
        if len(self.stack) > MAX_DEPTH:
            raise too_deep(self.filename, mark)
        container = new_map(mark) if type(event).__name__ == "MappingStartEvent" else new_seq(mark)
        self._check_key(container, mark)
        block = not getattr(event, "flow_style", False)
        self.stack.append(_Frame(container, event.anchor, block))

    def collection_end(self, event: Event) -> None:
        frame = self.stack.pop()
        container = frame.container
        assert container is not None
        if frame.merges:
            assert isinstance(container, YMap)
            apply_merges(self.filename, container, frame.merges)
        if frame.anchor is not None:
            self.anchors[frame.anchor] = container
        self._add(container, container.mark, False)

    # --- placing a node in its parent --------------------------------------------

    def _check_key(self, value: Any, mark: Mark) -> None:
        parent = self.stack[-1]
        if isinstance(parent.container, YMap) and parent.key is _NO_KEY:
            what = f"a mapping key must be a scalar, found {_noun(value)}"
            raise fail(self.filename, mark, what)

    def _add(self, value: Any, mark: Mark, merge: bool) -> None:
        frame = self.stack[-1]
        container = frame.container
        if isinstance(container, YSeq):
            container.append(value)
            container.item_marks.append(mark)
        elif container is None:
            frame.key = value
        elif frame.key is _NO_KEY:
            if isinstance(value, (YMap, YSeq)):
                self._check_key(value, mark)
            frame.key = _MERGE if merge else self._new_key(container, value, mark)
            frame.key_mark = mark
        else:
            self._set_value(frame, container, value, mark)

    def _new_key(self, container: YMap, value: Any, mark: Mark) -> str:
        key = key_text(value)
        first = container.key_marks.get(key)
        if first is not None:
            raise duplicate_key(self.filename, key, mark, first)
        return key

    def _set_value(self, frame: _Frame, container: YMap, value: Any, mark: Mark) -> None:
        key = frame.key
        if key is _MERGE:
            frame.merges.append((value, mark))
        else:
            assert frame.key_mark is not None
            container[key] = value
            container.key_marks[key] = frame.key_mark
            container.value_marks[key] = mark
        frame.key = _NO_KEY


def _noun(value: Any) -> str:
    return "a mapping" if isinstance(value, YMap) else "a list"


def _mark(event: Event) -> Mark:
    start: Any = event.start_mark  # libyaml always sets it
    return Mark(start.line + 1, start.column + 1)


_TAG_KINDS: Final[dict[str, tuple[tuple[type, ...], str]]] = {
    "null": ((type(None),), "null"),
    "bool": ((bool,), "a boolean"),
    "int": ((int,), "an integer"),
    "float": ((float, int), "a number"),
}


def _scalar_value(filename: str, event: Any, mark: Mark) -> Any:
    tag: str | None = event.tag
    text: str = event.value
    if tag is None:
        return text if event.style else resolve_plain(text)
    short = tag[len(_YAML_TAG) :] if tag.startswith(_YAML_TAG) else None
    if short in _TAG_KINDS:
        return _typed(filename, short, text, mark)
    if tag == "!" or short is not None:
        return text  # `!` and every other core tag (!!str, !!binary, ...) keep the text
    return text if event.style else resolve_plain(text)  # a local tag (`!env`) is ignored


def _typed(filename: str, short: str, text: str, mark: Mark) -> Any:
    types, noun = _TAG_KINDS[short]
    value: Any = resolve_plain(text)
    if not isinstance(value, types) or (isinstance(value, bool) and bool not in types):
        raise fail(filename, mark, f"expected {noun} for tag !!{short}, got {shape(value)}")
    typed: Any = value  # (isinstance against a tuple of types narrows to `object`)
    return float(typed) if short == "float" else typed


_HANDLERS: Final = {
    "ScalarEvent": "scalar",
    "AliasEvent": "alias",
    "MappingStartEvent": "collection_start",
    "SequenceStartEvent": "collection_start",
    "MappingEndEvent": "collection_end",
    "SequenceEndEvent": "collection_end",
    "DocumentStartEvent": "document_start",
    "DocumentEndEvent": "document_end",
}


def parse_documents(text: str, filename: str, single: bool) -> list[Any]:
    """Every document of `text` as located trees; raises YAMLInputError on any problem."""
    import yaml  # heavy: only files the fast parser hands over pay for it

    builder = _Builder(filename, len(text), single)
    handlers = {
        getattr(yaml.events, name): getattr(builder, method) for name, method in _HANDLERS.items()
    }
    ignore = handlers.get  # stream start and end have no handler
    parser = yaml.CSafeLoader(text)
    try:
        event = parser.get_event()
        while event is not None:
            handler = ignore(type(event))
            if handler is not None:
                handler(event)
            event = parser.get_event()
    except yaml.YAMLError as exc:
        # libyaml reads flow collections ahead of its events, and newer releases refuse deep
        # nesting in words of their own before the builder sees it: the depth limit is
        # portplan's, so it is checked here whatever the installed release says.
        blocks = sum(frame.block for frame in builder.stack)
        deep = flow_too_deep(text, MAX_DEPTH - blocks)
        if deep is not None:
            raise too_deep(filename, deep) from None
        raise translate(exc, filename, text) from None
    finally:
        parser.dispose()
    return builder.documents
