"""The plan as the live commands see it, and the tables they print."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from portplan.live.declared import DeclaredIndex, find_file, optional_plan
from portplan.live.owners import Access, Process
from portplan.live.sockets import Listener
from portplan.live.text import printable
from portplan.live.view import group_addresses, shared_tail_table, table
from portplan.model import Port, Service, Topology
from portplan.plan import loader


def test_file_names_follow_the_loader() -> None:
    from portplan.live import declared

    assert declared.FILENAMES == loader.FILENAMES


def test_find_file_walks_up(tmp_path: Path) -> None:
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_file(str(deep)) is None
    (tmp_path / "portplan.yml").write_text("services: {}\n")
    assert find_file(str(deep)) == os.path.relpath(tmp_path / "portplan.yml")
    assert find_file(str(deep)) == str(loader.discover(deep))


def test_optional_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert optional_plan() is None
    (tmp_path / "portplan.yaml").write_text("services:\n  web:\n    ports: {http: 8080}\n")
    topology = optional_plan()
    assert topology is not None and list(topology.services) == ["web"]


def test_ports_and_who_read_the_plan_through_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from portplan.plan import cache

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    (tmp_path / "portplan.yaml").write_text("services:\n  web:\n    ports: {http: 8080}\n")
    fresh = optional_plan()
    assert len(list((tmp_path / "cache" / "portplan" / "plans").iterdir())) == 1

    def refuse(path: str, env: str | None) -> None:
        raise AssertionError("read afresh")

    monkeypatch.setattr(cache, "_load", refuse)
    assert optional_plan() == fresh
    monkeypatch.setenv(cache.NO_CACHE_VARIABLE, "1")
    with pytest.raises(AssertionError, match="read afresh"):
        optional_plan()


def _listener(
    port: int, address: str = "127.0.0.1", protocol: str = "tcp", pid: int = 7
) -> Listener:
    process = Process(pid, "srv", ("srv", "--port", str(port)), 0, "root", None)
    return Listener(protocol, address, port, 100 + port, 0, Access.KNOWN, process, (pid,))


def test_declared_index() -> None:
    web = Service(
        "web",
        ports=(
            Port("http", 8080),
            Port("dns", 8053, protocol="udp"),
            Port("admin", 9000, address="127.0.0.2"),
        ),
    )
    index = DeclaredIndex(Topology("t", services={"web": web}))
    assert bool(index) and not DeclaredIndex(None)
    assert index.of(_listener(8080)).label == "web.http"  # type: ignore[union-attr]
    assert index.of(_listener(8080, "::")) is not None
    assert index.of(_listener(8053)) is None  # tcp, declared udp
    assert index.of(_listener(8053, protocol="udp")) is not None
    assert index.of(_listener(9000)) is None  # another address
    assert [d.label for d in index.on(8053)] == ["web.dns"]


def test_declared_index_holds_host_numbers_of_published_ports() -> None:
    web = Service("web", ports=(Port("http", 8088, target=80), Port("debug", 5678, target=8088)))
    db = Service("db", ports=(Port("postgresql", 5432, published=False),))
    index = DeclaredIndex(Topology("t", services={"web": web, "db": db}))
    assert index.of(_listener(8088)).label == "web.http"  # type: ignore[union-attr]
    assert index.of(_listener(80)) is None  # the container side is no host port
    assert index.of(_listener(5432)) is None and index.on(5432) == []
    assert [d.label for d in index.on(8088)] == ["web.http"]
    only_unpublished = DeclaredIndex(Topology("t", services={"db": db}))
    assert not only_unpublished  # no SERVICE column: no port of the plan is a host port


def test_group_addresses_per_owner_and_port() -> None:
    rows = [
        _listener(80, "0.0.0.0"),
        _listener(80, "::"),
        _listener(80, "::1", pid=8),
        _listener(81),
    ]
    grouped = [(li.port, li.pid, addresses) for li, addresses in group_addresses(rows)]
    assert grouped == [(80, 7, ["0.0.0.0", "::"]), (80, 8, ["::1"]), (81, 7, ["127.0.0.1"])]


def test_tables() -> None:
    assert table(["A", "BB", "C"], [["xxx", "y", "z z"], ["1", "2", ""]]) == (
        "A    BB  C\nxxx  y   z z\n1    2\n"
    )
    owner, other = ["7", "root", "srv --port 1"], ["12345", "nobody", "x "]
    rows = [(["tcp", "80"], owner), (["udp", "8080"], other), (["tcp", "9"], owner)]
    expected = table(["P", "PORT", "PID", "USER", "COMMAND"], [[*c, *t] for c, t in rows])
    columns = [[c[0] for c, _ in rows], [c[1] for c, _ in rows]]
    tails = [t for _, t in rows]
    assert shared_tail_table(["P", "PORT"], ["PID", "USER", "COMMAND"], columns, tails) == expected
    assert expected == (
        "P    PORT  PID    USER    COMMAND\n"
        "tcp  80    7      root    srv --port 1\n"
        "udp  8080  12345  nobody  x\n"
        "tcp  9     7      root    srv --port 1\n"
    )
    assert shared_tail_table(["P"], ["PID"], [[]], []) == "P  PID\n"


def test_printable() -> None:
    assert printable("python -c \nimport x\tok") == "python -c \\nimport x\\tok"
    assert printable("plain") == "plain"
