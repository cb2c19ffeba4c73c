"""Load YAML fast, keeping the file position of every mapping, key, value and item.

Scalars follow the YAML 1.2 core schema, as Go's yaml.v3 (compose-go, kubectl) reads them:
`yes`/`no`/`on`/`off` and `80:80` are strings, `0o17` and `0x1F` are integers, `~`/`null`/empty
are None. Quoted scalars are always strings. Anchors, aliases and `<<` merge keys work.

Two parsers share the work (see benchmarks/README.md, "YAML loaders"): a pure-Python
line parser for the block-and-flow subset that configuration files are written in, and
libyaml's event stream (through PyYAML) for everything else and for every error message.
The fast parser never reports a problem itself: it hands the file over, and the complete
parser, the single reference, reads it or says what is wrong.

Every problem raises YAMLInputError, whose message is one line:
`file:line:column: what was expected`.
"""

from __future__ import annotations

import codecs
import gc
import os
import re
from typing import Any, Final

from portplan.files import UnreadableFile, safe_read
from portplan.yamlio import fast
from portplan.yamlio.tree import Mark, YAMLInputError, YMap, YSeq, shape

__all__ = [
    "Mark",
    "YAMLInputError",
    "YMap",
    "YSeq",
    "load",
    "load_all",
    "load_file",
    "shape",
]

_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16"),
)
# YAML's c-printable, negated (tab, line feed and carriage return are allowed).
_NOT_PRINTABLE: Final = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]"
)


def load(data: str | bytes, filename: str) -> Any:
    """The single document in `data`: a YMap, a YSeq, a scalar, or None when empty.

    `filename` only names the file in error messages. Raises YAMLInputError.
    """
    documents = _parse(data, filename, single=True)
    return documents[0] if documents else None


def load_all(data: str | bytes, filename: str) -> list[Any]:
    """Every document in `data` (a Kubernetes manifest), empty ones as None."""
    return _parse(data, filename, single=False)


def load_file(path: str | os.PathLike[str]) -> Any:
    """The single document in the file at `path` (see load)."""
    name = os.fspath(path)
    try:
        data = safe_read(name)
    except UnreadableFile as exc:
        raise YAMLInputError(name, None, None, exc.message().removeprefix(f"{name}: ")) from None
    return load(data, name)


def _parse(data: str | bytes, filename: str, single: bool) -> list[Any]:
    text = decode(data, filename) if isinstance(data, bytes) else data.removeprefix("\ufeff")
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    _check_printable(text, filename)
    # The parsers allocate hundreds of thousands of objects and free none of them: letting
    # the cyclic collector scan them repeatedly triples the time of a large file.
    collecting = gc.isenabled()
    gc.disable()
    try:
        documents = fast.parse(text, filename, single)
        if documents is None:
            from portplan.yamlio.events import parse_documents  # imports yaml: lazily

            documents = parse_documents(text, filename, single)
    finally:
        if collecting:
            gc.enable()
    return documents


def encoding(data: bytes) -> str:
    """The codec of a YAML file's bytes by its byte-order mark (UTF-8 without one), to write
    an edited file back as it was."""
    return next((codec for bom, codec, _ in _BOMS if data.startswith(bom)), "utf-8")


def decode(data: bytes, filename: str) -> str:
    """The text of a YAML file: UTF-8, or UTF-8/16/32 behind a byte-order mark."""
    for bom, codec, label in _BOMS:
        if data.startswith(bom):
            return _decode(data[len(bom) :], codec, label, filename)
    nul = data.find(b"\0")
    if nul >= 0:
        line, column = _byte_position(data, nul)
        raise YAMLInputError(filename, line, column, "is a binary file, not YAML (NUL byte)")
    return _decode(data, "utf-8", "UTF-8", filename)


def _decode(data: bytes, codec: str, label: str, filename: str) -> str:
    try:
        return data.decode(codec)
    except UnicodeDecodeError as exc:
        if label == "UTF-8":
            line, column = _byte_position(data, exc.start)
        else:  # odd-length UTF-16, a cut UTF-32 unit: where the decodable text ends
            before = data[: exc.start].decode(codec, "replace")
            line, column = before.count("\n") + 1, len(before) - before.rfind("\n")
        what = f"cannot decode the text here: expected {label}"  # (the byte is the value's)
        raise YAMLInputError(filename, line, column, what) from None


def _byte_position(data: bytes, offset: int) -> tuple[int, int]:
    line_start = data.rfind(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return data.count(b"\n", 0, offset) + 1, column


def _check_printable(text: str, filename: str) -> None:
    found = _NOT_PRINTABLE.search(text)
    if found is None:
        return
    index = found.start()
    line_start = text.rfind("\n", 0, index) + 1
    line, column = text.count("\n", 0, index) + 1, index - line_start + 1
    char = found.group()
    if char == "\0":
        what = "is a binary file, not YAML (NUL character)"
    else:  # the character is part of a value: named by its kind, not its code
        kind = "a control character" if char < "\ud800" else "a non-character"
        what = f"found {kind}, which YAML does not allow"
    raise YAMLInputError(filename, line, column, what)
