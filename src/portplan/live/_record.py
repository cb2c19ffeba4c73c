"""typing.NamedTuple without importing typing, which alone costs `portplan ports` 5 ms.

    class Process(Record):
        pid: int
        name: str = "?"

Type checkers see typing.NamedTuple itself. At run time the class becomes a named tuple
of its annotated fields, with their defaults, carrying the methods and properties of the
class body: what typing.NamedTuple makes of it. It is made here as
collections.namedtuple makes one (a tuple subclass, fields read by the C accessor
namedtuple uses, `_make`, `_replace`, `_asdict`, `_fields`, `_field_defaults`), without
importing collections: that import (itertools, keyword, operator, reprlib) costs
`portplan ports` 2 ms of a 30 ms listing. tests/live/test_record.py holds both to the same
behaviour.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NamedTuple as Record
else:
    try:
        from _collections import _tuplegetter
    except ImportError:  # an interpreter without it: collections.namedtuple itself
        _tuplegetter = None

    def _named_tuple(name, fields, defaults, module):
        """collections.namedtuple(name, fields, defaults=defaults, module=module)."""
        if _tuplegetter is None:
            from collections import namedtuple

            return namedtuple(name, fields, defaults=defaults, module=module)
        arguments = ", ".join(fields)
        one = "," if len(fields) == 1 else ""
        # the text is made of the field names only (identifiers), as namedtuple's own is
        new = eval(
            f"lambda _cls, {arguments}: _tuple_new(_cls, ({arguments}{one}))",
            {"_tuple_new": tuple.__new__, "__builtins__": {}},
            {},
        )
        new.__name__, new.__qualname__ = "__new__", f"{name}.__new__"
        new.__defaults__ = tuple(defaults) or None
        namespace = {
            "__doc__": f"{name}({arguments})",
            "__slots__": (),
            "_fields": tuple(fields),
            "_field_defaults": dict(
                zip(fields[len(fields) - len(defaults) :], defaults, strict=True)
            ),
            "__new__": new,
            "_make": classmethod(_make),
            "_replace": _replace,
            "__repr__": _repr,
            "_asdict": _asdict,
            "__getnewargs__": _getnewargs,
            "__match_args__": tuple(fields),
            "__module__": module,
        }
        for index, field in enumerate(fields):
            namespace[field] = _tuplegetter(index, f"Alias for field number {index}")
        return type(name, (tuple,), namespace)

    def _make(cls, iterable):
        result = tuple.__new__(cls, iterable)
        if len(result) != len(cls._fields):
            raise TypeError(f"Expected {len(cls._fields)} arguments, got {len(result)}")
        return result

    def _replace(self, /, **changes):
        result = self._make(map(changes.pop, self._fields, self))
        if changes:
            raise ValueError(f"Got unexpected field names: {list(changes)!r}")
        return result

    def _repr(self):
        shown = ", ".join(
            f"{name}={value!r}" for name, value in zip(self._fields, self, strict=True)
        )
        return f"{type(self).__name__}({shown})"

    def _asdict(self):
        return dict(zip(self._fields, self, strict=True))

    def _getnewargs(self):
        return tuple(self)

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
            record = _named_tuple(name, fields, defaults, namespace["__module__"])
            for key, value in namespace.items():
                if key not in fields and key not in _OWN:
                    setattr(record, key, value)
            record.__annotations__ = namespace.get("__annotations__", {})
            return record

    _OWN = frozenset({"__module__", "__qualname__", "__annotations__", "__slots__"})

    class Record(metaclass=_RecordType):
        """Base of the records below; never instantiated itself."""


__all__ = ["Record"]
