"""JSON text as `json.JSONEncoder(ensure_ascii=False).encode` writes it, and read as
`json.loads` reads it, by json's own C encoder and scanner, without importing the json
package.

`import json` imports `re` (its decoder and encoder compile patterns at import), and `re`
with `enum` costs `portplan ports --json` 6 ms: a fifth of the whole listing of 2,000
sockets. The C accelerator `_json` holds the encoder itself: `encode` makes it exactly as
`JSONEncoder.iterencode` does (`_json.make_encoder` with the default options: circular
references checked, NaN and Infinity allowed, json's separators) and joins its chunks as
`JSONEncoder.encode` does. Without the accelerator (another interpreter), or where its
signature differs, the json package itself encodes. tests/live/test_listing_fast_paths.py
holds the output to json's for every kind of value.

`decode` drives json's C scanner (`_json.make_scanner`, made as `JSONDecoder` makes it)
over text whose encoding json would take for UTF-8; other bytes (a byte-order mark, UTF-16
or UTF-32) and a text with a BOM go to `json.loads` itself. A forked `status` checking
process reads thousands of health answers with it, before anything else imports json.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

try:
    import _json
except ImportError:  # an interpreter without json's C accelerator
    _json = None  # type: ignore[assignment]


def encode(value: Any) -> str:
    """`value` as JSON text on one line (json's default options, non-ASCII kept)."""
    encoder = _c_encoder()
    if encoder is None:
        import json

        return json.JSONEncoder(ensure_ascii=False).encode(value)
    if isinstance(value, str):  # as JSONEncoder.encode does
        return _json.encode_basestring(value)
    return "".join(encoder(value, 0))


def _c_encoder() -> Callable[[Any, int], Any] | None:
    """A fresh C encoder (its markers, for the circular-reference check, are per call),
    made with the arguments JSONEncoder.iterencode gives it; None where it cannot be."""
    if _json is None:
        return None
    try:
        return _json.make_encoder(
            {}, _default, _json.encode_basestring, None, ": ", ", ", False, False, True
        )
    except TypeError:  # the signature of another Python version
        return None


def _default(value: object) -> object:
    """JSONEncoder.default: what JSON cannot hold is refused, with json's message."""
    raise TypeError(f"Object of type {value.__class__.__name__} is not JSON serializable")


_SPACE = " \t\n\r"  # JSON's white space (json.decoder.WHITESPACE)


_CONSTANTS = {"-Infinity": float("-inf"), "Infinity": float("inf"), "NaN": float("nan")}


class _Options:
    """What `_json.make_scanner` reads of a `JSONDecoder`: its defaults."""

    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = _CONSTANTS.__getitem__


def decode(data: bytes | str) -> Any:
    """`json.loads(data)`: the value, or ValueError (json's JSONDecodeError where json
    itself reads it) for what is not one JSON value."""
    text = _utf8(data)
    if text is None or _json is None:
        import json

        return json.loads(data)
    scan = _json.make_scanner(_Options)  # type: ignore[arg-type]  # typeshed: a decoder
    start = len(text) - len(text.lstrip(_SPACE))
    try:
        value, end = scan(text, start)
    except StopIteration:
        raise ValueError(f"Expecting value: char {start}") from None
    if text[end:].strip(_SPACE):
        raise ValueError(f"Extra data: char {end}")
    return value


def _utf8(data: bytes | str) -> str | None:
    """`data` as text where json.loads would read it as UTF-8 (json.detect_encoding) or
    take it as it is; None for the rest, which json itself reads."""
    if isinstance(data, str):
        return None if data.startswith("\ufeff") else data
    if data[:1] in (b"\x00", b"\xef", b"\xfe", b"\xff") or data[1:2] == b"\x00":
        return None
    return data.decode("utf-8", "surrogatepass")
