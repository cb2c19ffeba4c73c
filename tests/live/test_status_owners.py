"""`status` looks up the owners of only the sockets its rows show (real sockets, real child
processes): a squatter of a planned port is still named, a listener inside a managed range
still reported with its owner, and any other socket on the machine is left alone."""

from __future__ import annotations

from collections.abc import Collection, Iterator

import pytest

from portplan.live import owners, sockets
from portplan.live.status import StatusOptions, check_status, describe
from portplan.model import Location, Port, PortRange, RangePolicy, Service, Topology
from tests.live.conftest import Child, start_holder, stop_child

FILE = "portplan.yaml"


@pytest.fixture
def three() -> Iterator[tuple[Child, Child, Child]]:
    """The token engine's process, a stranger in a managed range, one outside any."""
    children = [
        start_holder("--service", "token-engine"),
        start_holder("portplan-test-ranged"),
        start_holder("portplan-test-elsewhere"),
    ]
    yield children[0], children[1], children[2]
    for child in children:
        stop_child(child)


def _inode(port: int) -> int:
    raw = sockets.raw_listeners(["tcp"]) or []
    return next(sock.inode for sock in raw if sock.port == port)


def test_only_the_sockets_of_rows_have_their_owners_looked_up(
    three: tuple[Child, Child, Child], monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, ranged, elsewhere = three
    if sockets.raw_listeners(["tcp"]) is None:
        pytest.skip("the owners come with the sockets here (psutil)")
    asked: list[int] = []

    def spy(inodes: Collection[int], *, complete: bool = False) -> owners.OwnerMap:
        asked.extend(inodes)
        return owners.find_owners(inodes, complete=complete)

    monkeypatch.setattr(sockets, "find_owners", spy)
    gateway = Service("gateway", ports=(Port("http", engine.port, location=Location(FILE, 3, 5)),))
    token = Service("token-engine", ports=(Port("grpc", 1, location=Location(FILE, 6, 5)),))
    policy = RangePolicy("web", PortRange(ranged.port, ranged.port), location=Location(FILE, 9, 3))
    topology = Topology(
        source=FILE, services={"gateway": gateway, "token-engine": token}, ranges=(policy,)
    )
    report = check_status(topology, StatusOptions(probes=False))

    assert sorted(asked) == sorted([_inode(engine.port), _inode(ranged.port)])
    assert _inode(elsewhere.port) not in asked
    squatted, down, unexpected = report.ports
    assert (squatted.label, squatted.state.value, squatted.holder) == (
        "gateway.http",
        "squatted",
        "token-engine",
    )
    assert squatted.owner is not None and squatted.owner.pid == engine.pid
    assert (down.label, down.state.value) == ("token-engine.grpc", "down")
    assert (unexpected.label, unexpected.state.value) == (f"tcp/{ranged.port}", "unexpected")
    assert unexpected.owner is not None and unexpected.owner.pid == ranged.pid
    assert [(f.rule, f.message) for f in report.findings] == [
        (
            "PP502",
            f"gateway.http (tcp {engine.port}) is held by token-engine: "
            f"{describe(squatted.listeners[0])}",
        ),
        ("PP501", "token-engine.grpc (tcp 1) is down: nothing listens"),
        (
            "PP503",
            f"tcp 127.0.0.1:{ranged.port} is inside range web ({ranged.port}) but no service "
            f"declares it; held by {describe(unexpected.listeners[0])}",
        ),
    ]
    assert f"process {engine.pid} (" in report.findings[0].message
    assert f"process {ranged.pid} (" in report.findings[2].message


def test_early_checks_run_with_a_short_switch_interval_then_restore_it(
    holder: Child, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the checks thread runs, the interpreter hands its lock over every 0.5 ms (each
    check's system calls wait for it); afterwards the interval is the caller's again."""
    import sys

    from portplan.live import early, probing, status
    from portplan.model import Health

    monkeypatch.setattr(early, "_forkable", lambda: False)  # in a thread of this process
    seen: list[float] = []
    real = probing.probe_all

    def spy(*args: object, **options: object) -> object:
        seen.append(sys.getswitchinterval())
        return real(*args, **options)  # type: ignore[arg-type]

    monkeypatch.setattr(probing, "probe_all", spy)
    monkeypatch.setattr(status, "EARLY_CHECKS", 1)
    tcp = Health(kind="tcp")
    web = Service("web", ports=(Port("tcp", holder.port, health=tcp),))
    before = sys.getswitchinterval()
    report = check_status(Topology(source=FILE, services={"web": web}), StatusOptions(workers=1))
    assert seen == [0.0005]
    assert sys.getswitchinterval() == before == 0.005
    assert report.ports[0].probe is not None and report.ports[0].probe.detail == "connected"
