"""Record: typing.NamedTuple's behaviour without importing typing."""

from __future__ import annotations

import pickle

import pytest

from portplan.live._record import Record
from portplan.live.owners import Process
from portplan.live.sockets import Listener


class Point(Record):
    """A point."""

    x: int
    y: int = 0
    label: str = "p"

    @property
    def norm1(self) -> int:
        return abs(self.x) + abs(self.y)

    def moved(self, dx: int) -> Point:
        return self._replace(x=self.x + dx)


def test_fields_defaults_and_methods() -> None:
    point = Point(3, -4)
    assert point == (3, -4, "p") and isinstance(point, tuple)
    assert repr(point) == "Point(x=3, y=-4, label='p')"
    assert Point._fields == ("x", "y", "label")
    assert Point._field_defaults == {"y": 0, "label": "p"}
    assert point.norm1 == 7
    assert point.moved(1) == Point(4, -4) and type(point.moved(1)) is Point
    assert Point.__doc__ == "A point."
    assert Point.__module__ == __name__
    assert pickle.loads(pickle.dumps(point)) == point


def test_required_fields_are_required() -> None:
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'x'"):
        Point()  # type: ignore[call-arg]


def test_a_field_without_default_after_one_with_is_refused() -> None:
    with pytest.raises(TypeError, match="Non-default namedtuple field b cannot follow"):

        class Bad(Record):
            a: int = 1
            b: int


def test_the_live_records_are_named_tuples() -> None:
    assert Process._fields == ("pid", "name", "cmdline", "uid", "user", "started")
    assert Listener("tcp", "::1", 80).endpoint == "[::1]:80"
    assert Listener("tcp", "::1", 80)._replace(port=81).port == 81
