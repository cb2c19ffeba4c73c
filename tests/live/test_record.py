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


class One(Record):
    only: str


def test_it_behaves_as_collections_namedtuple() -> None:
    from collections import namedtuple

    Twin = namedtuple("Point", ["x", "y", "label"], defaults=[0, "p"])
    ours, theirs = Point(1, 2), Twin(1, 2)
    assert tuple(ours) == tuple(theirs) and hash(ours) == hash(theirs)
    assert repr(ours) == repr(theirs) == "Point(x=1, y=2, label='p')"
    assert ours._asdict() == theirs._asdict() == {"x": 1, "y": 2, "label": "p"}
    assert Point._make([5, 6, "q"]) == tuple(Twin._make([5, 6, "q"])) == (5, 6, "q")
    assert Point.__match_args__ == Twin.__match_args__ == ("x", "y", "label")
    assert Point(x=1, label="z") == (1, 0, "z") and Point(1).y == 0
    assert Point.x.__doc__ == Twin.x.__doc__ == "Alias for field number 0"
    assert One("a") == ("a",) and repr(One("a")) == "One(only='a')"
    assert One.__doc__ == "One(only)" and pickle.loads(pickle.dumps(One("a"))) == One("a")
    match ours:
        case Point(x, y):
            assert (x, y) == (1, 2)


def test_it_refuses_what_namedtuple_refuses() -> None:
    with pytest.raises(TypeError, match=r"Point.__new__\(\) got an unexpected keyword argument"):
        Point(1, z=2)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="takes from 2 to 4 positional arguments but 5"):
        Point(1, 2, "a", 4)  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="Expected 3 arguments, got 2"):
        Point._make([1, 2])
    with pytest.raises(ValueError, match=r"Got unexpected field names: \['z'\]"):
        Point(1)._replace(z=3)  # type: ignore[call-arg]
    with pytest.raises(AttributeError):
        Point(1).w = 2  # type: ignore[attr-defined]
