"""JSON text as `json.JSONEncoder(ensure_ascii=False).encode` writes it, by json's own C
encoder, without importing the json package.

`import json` imports `re` (its decoder and encoder compile patterns at import), and `re`
with `enum` costs `portplan ports --json` 6 ms: a fifth of the whole listing of 2,000
sockets. The C accelerator `_json` holds the encoder itself: `encode` makes it exactly as
`JSONEncoder.iterencode` does (`_json.make_encoder` with the default options: circular
references checked, NaN and Infinity allowed, json's separators) and joins its chunks as
`JSONEncoder.encode` does. Without the accelerator (another interpreter), or where its
signature differs, the json package itself encodes. tests/live/test_listing_fast_paths.py
holds the output to json's for every kind of value.
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
