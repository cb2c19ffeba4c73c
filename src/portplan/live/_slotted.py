"""The base of the live records (sockets, owners, declared ports): plain classes whose
fields are their `__slots__`, compared, hashed and shown by those fields.

Thousands are made per listing, so each record is a class with slots and an explicit
`__init__`, not a dataclass (ten times as costly to make) nor a named tuple (`typing` or
`collections` to import: 2-5 ms of `portplan ports`).
"""

from __future__ import annotations


class Slotted:
    """Equality, hash and repr from the fields named in the class's `__slots__`."""

    __slots__: tuple[str, ...] = ()

    def fields(self) -> tuple[object, ...]:
        """The values of the fields, in their order."""
        return tuple(getattr(self, name) for name in self.__slots__)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Slotted) or type(other) is not type(self):
            return False
        return self.fields() == other.fields()

    def __hash__(self) -> int:
        return hash(self.fields())

    def __repr__(self) -> str:
        shown = ", ".join(f"{name}={getattr(self, name)!r}" for name in self.__slots__)
        return f"{type(self).__name__}({shown})"
