"""typing.NamedTuple without importing typing, which alone costs `portplan ports` 5 ms.

    class Process(Record):
        pid: int
        name: str = "?"

Type checkers see typing.NamedTuple itself. At run time the class becomes a
collections.namedtuple of its annotated fields, with their defaults, carrying the
methods and properties of the class body: what typing.NamedTuple makes of it.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NamedTuple as Record
else:
    from collections import namedtuple

    class _RecordType(type):
        def __new__(cls, name, bases, namespace):
            if not bases:  # Record itself
                return super().__new__(cls, name, bases, namespace)
            fields = list(namespace.get("__annotations__", ()))
            defaults = [namespace[field] for field in fields if field in namespace]
            first_default = len(fields) - len(defaults)
            for field in fields[first_default:]:
                if field not in namespace:
                    raise TypeError(
                        f"Non-default namedtuple field {field} cannot follow default field"
                    )
            record = namedtuple(name, fields, defaults=defaults, module=namespace["__module__"])
            for key, value in namespace.items():
                if key not in fields and key not in _OWN:
                    setattr(record, key, value)
            record.__annotations__ = namespace.get("__annotations__", {})
            return record

    _OWN = frozenset({"__module__", "__qualname__", "__annotations__", "__slots__"})

    class Record(metaclass=_RecordType):
        """Base of the records below; never instantiated itself."""


__all__ = ["Record"]
