"""JSON text of plain values, as `json.JSONEncoder(ensure_ascii=False).encode` writes it,
without importing the json package.

`import json` imports `re` (its decoder and encoder compile patterns at import), and `re`
with `enum` costs `portplan ports --json` 6 ms: a fifth of the whole listing of 2,000
sockets. Strings are escaped by the same C function the json package uses
(`_json.encode_basestring`); numbers are written as json writes them (`int.__repr__`,
`float.__repr__`, NaN and Infinity as json allows them by default). tests/live/
test_jsontext.py holds the output to json's own for every kind of value.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

try:
    from _json import encode_basestring as _string
except ImportError:  # an interpreter without json's C accelerator
    from json.encoder import py_encode_basestring as _string

_INFINITY = float("inf")
_CONSTANTS: dict[object, str] = {None: "null", True: "true", False: "false"}


def encode(value: Any) -> str:
    """`value` (None, bool, int, float, str, a list or tuple or dict of them) as JSON text,
    on one line with json's default separators."""
    if isinstance(value, str):
        return _string(value)
    if value is None or value is True or value is False:
        return _CONSTANTS[value]
    for kind, writer in _WRITERS:
        if isinstance(value, kind):
            return writer(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value == _INFINITY:
        return "Infinity"
    if value == -_INFINITY:
        return "-Infinity"
    return float.__repr__(value)


def _list(value: list[Any] | tuple[Any, ...]) -> str:
    return "[" + ", ".join(map(encode, value)) + "]"


def _dict(value: dict[Any, Any]) -> str:
    return "{" + ", ".join(f"{_key(k)}: {encode(v)}" for k, v in value.items()) + "}"


def _key(key: object) -> str:
    """A key as json writes it: strings escaped, numbers and constants as strings."""
    if isinstance(key, str):
        return _string(key)
    if key is None or key is True or key is False:
        return f'"{_CONSTANTS[key]}"'
    if isinstance(key, (int, float)):
        return f'"{encode(key)}"'
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


_WRITERS: tuple[tuple[type | tuple[type, ...], Callable[[Any], str]], ...] = (
    (int, int.__repr__),
    (float, _float),
    ((list, tuple), _list),
    (dict, _dict),
)
