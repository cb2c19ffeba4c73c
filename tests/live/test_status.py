"""A topology held against the machine: up, down, squatted, unexpected, health, latency."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterator

import pytest

from portplan.errors import UsageError
from portplan.findings import Level
from portplan.live.owners import Access, Listener
from portplan.live.probe import Target
from portplan.live.status import (
    RULES,
    StatusOptions,
    StatusReport,
    check_status,
    describe,
)
from portplan.live.text import printable
from portplan.model import (
    Health,
    Host,
    Latency,
    Location,
    Port,
    PortRange,
    RangePolicy,
    Reservation,
    Service,
    Status,
    Topology,
)
from tests.live.conftest import (
    SLOW_SECONDS,
    Child,
    GrpcServer,
    HttpServer,
    free_port,
    start_holder,
    stop_child,
)

FILE = "portplan.yaml"


def _port(name: str, number: int, line: int, **options: object) -> Port:
    return Port(name=name, number=number, location=Location(FILE, line, 5), **options)  # type: ignore[arg-type]


def _topology(*services: Service, **options: object) -> Topology:
    return Topology(source=FILE, services={s.name: s for s in services}, **options)  # type: ignore[arg-type]


def _rows(report: StatusReport) -> list[tuple[str, str]]:
    return [(row.label, row.state.value) for row in report.ports]


def _findings(report: StatusReport) -> list[tuple[str, int, str]]:
    return [(f.rule, f.location.line if f.location else 0, f.message) for f in report.findings]


@pytest.fixture
def token_engine() -> Iterator[Child]:
    """A process whose command line names the token-engine service."""
    child = start_holder("--service", "token-engine")
    yield child
    stop_child(child)


def test_up_down_and_owner(holder: Child) -> None:
    down = free_port()
    gateway = Service("gateway", ports=(_port("http", holder.port, 3), _port("admin", down, 4)))
    report = check_status(_topology(gateway))
    assert _rows(report) == [("gateway.http", "up"), ("gateway.admin", "down")]
    assert report.ports[0].owner is not None and report.ports[0].owner.pid == holder.pid
    assert _findings(report) == [
        ("PP501", 4, f"gateway.admin (tcp {down}) is down: nothing listens"),
    ]
    assert report.failed
    assert report.host == "default"


def test_the_right_service_holding_its_port_is_up(token_engine: Child) -> None:
    service = Service("token-engine", ports=(_port("grpc", token_engine.port, 3),))
    report = check_status(_topology(service))
    assert _rows(report) == [("token-engine.grpc", "up")]
    assert report.ports[0].holder == "token-engine"
    assert not report.failed and report.findings == ()


def test_another_services_process_squats(token_engine: Child) -> None:
    gateway = Service("gateway", ports=(_port("http", token_engine.port, 3),))
    engine = Service("token-engine", aliases=("Token Engine",), ports=(_port("grpc", 1, 7),))
    report = check_status(_topology(gateway, engine), StatusOptions(probes=False))
    assert _rows(report)[0] == ("gateway.http", "squatted")
    owner = describe(report.ports[0].listeners[0])
    assert _findings(report)[0] == (
        "PP502",
        3,
        f"gateway.http (tcp {token_engine.port}) is held by token-engine: {owner}",
    )
    assert report.findings[0].facts["holder"] == "token-engine"
    assert report.findings[0].facts["pid"] == token_engine.pid


def test_unexpected_listener_inside_a_managed_range(holder: Child) -> None:
    span = PortRange(holder.port - 1, holder.port + 1)
    policy = RangePolicy("http", span, kind="http", location=Location(FILE, 2, 3))
    report = check_status(_topology(ranges=(policy,)))
    assert _rows(report) == [(f"tcp/{holder.port}", "unexpected")]
    owner = describe(report.ports[0].listeners[0])
    assert _findings(report) == [
        (
            "PP503",
            2,
            f"tcp 127.0.0.1:{holder.port} is inside range http ({span}) but no service "
            f"declares it; held by {owner}",
        )
    ]
    assert report.findings[0].level is Level.WARNING and not report.failed


def test_reserved_ports_are_managed_too(holder: Child) -> None:
    reserved = Reservation(PortRange(holder.port, holder.port), reason="future expansion")
    report = check_status(_topology(reserved=(reserved,)))
    assert report.ports[0].range_name == f"reserved ports {holder.port} (future expansion)"


def test_declared_ports_of_any_status_are_not_unexpected(holder: Child) -> None:
    policy = RangePolicy("http", PortRange(holder.port, holder.port), kind="http")
    planned = Service("next", status=Status.PLANNED, ports=(_port("http", holder.port, 3),))
    report = check_status(_topology(planned, ranges=(policy,)))
    assert report.ports == ()  # planned services are not expected up, and not unexpected


def test_udp_ports_are_read_when_declared() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        dns = Service("dns", ports=(_port("dns", port, 3, protocol="udp"),))
        report = check_status(_topology(dns))
    assert _rows(report) == [("dns.dns", "up")]


def test_address_must_meet(holder: Child) -> None:
    other = Service("gateway", ports=(_port("http", holder.port, 3, address="127.0.0.2"),))
    assert _rows(check_status(_topology(other))) == [("gateway.http", "down")]
    same = Service("gateway", ports=(_port("http", holder.port, 3, address="0.0.0.0"),))
    assert _rows(check_status(_topology(same))) == [("gateway.http", "up")]


def _health(path: str, **options: object) -> Health:
    return Health(kind="http", path=path, **options)  # type: ignore[arg-type]


def test_health_and_latency(http_server: HttpServer) -> None:
    far = Latency(target_ms=60_000, max_ms=120_000)
    over_target = Latency(target_ms=1, max_ms=60_000)
    over_max = Latency(target_ms=1, max_ms=SLOW_SECONDS * 1000 / 5)
    checks = {
        "ok": _health("/ok", expect={"status": "ok"}, latency=far),
        "wrong": _health("/healthy", expect={"status": "ok"}),
        "fail": _health("/fail"),
        "slow": _health("/slow", latency=over_target),
        "slower": _health("/slow", latency=over_max),
    }
    ports = tuple(
        _port(name, http_server.port, line, health=health)
        for line, (name, health) in enumerate(checks.items(), start=10)
    )
    report = check_status(_topology(Service("api", ports=ports)))
    assert [(row.port_name, row.probe and row.probe.healthy) for row in report.ports] == [
        ("ok", True),
        ("wrong", False),
        ("fail", False),
        ("slow", True),
        ("slower", True),
    ]
    rules = [(f.rule, f.level, f.location.line if f.location else 0) for f in report.findings]
    assert rules == [
        ("PP504", Level.ERROR, 11),
        ("PP504", Level.ERROR, 12),
        ("PP505", Level.WARNING, 13),
        ("PP506", Level.ERROR, 14),
    ]
    assert report.findings[0].message == (
        f'api.wrong (tcp {http_server.port}) is unhealthy: body has status "healthy", expected "ok"'
    )
    slow = report.ports[3].probe
    assert slow is not None and slow.latency_ms is not None
    assert report.findings[2].message == (
        f"api.slow answered in {slow.latency_ms:.1f} ms, over its target of 1 ms"
    )
    assert report.findings[3].facts["limit_ms"] == SLOW_SECONDS * 1000 / 5


def test_grpc_health_in_status(grpc_server: GrpcServer) -> None:
    ports = (
        _port("grpc", grpc_server.port, 3, health=Health(kind="grpc")),
        _port("settle", grpc_server.port, 4, health=Health(kind="grpc", grpc_service="settlement")),
    )
    report = check_status(_topology(Service("ledger", ports=ports)))
    assert [row.probe.detail for row in report.ports if row.probe] == [
        "SERVING",
        "NOT_SERVING, expected SERVING",
    ]
    assert [f.rule for f in report.findings] == ["PP504"]


def test_no_probes_when_down_or_disabled(http_server: HttpServer) -> None:
    down = _port("down", free_port(), 3, health=_health("/ok"))
    up = _port("up", http_server.port, 4, health=_health("/fail"))
    report = check_status(_topology(Service("api", ports=(down, up))), StatusOptions(probes=False))
    assert [row.probe for row in report.ports] == [None, None]
    assert [f.rule for f in report.findings] == ["PP501"]


def test_summary_and_json_shape(holder: Child) -> None:
    gateway = Service("gateway", ports=(_port("http", holder.port, 3), _port("x", free_port(), 4)))
    document = check_status(_topology(gateway)).as_dict()
    assert list(document) == [
        "version",
        "command",
        "findings",
        "summary",
        "host",
        "checked_at",
        "ports",
    ]
    assert document["summary"] == {
        "up": 1,
        "down": 1,
        "squatted": 0,
        "unexpected": 0,
        "unpublished": 0,
        "healthy": 0,
        "unhealthy": 0,
        "errors": 1,
        "warnings": 0,
        "infos": 0,
        "headline": "2 ports on host default: 1 up, 1 down, 0 squatted, 0 unexpected; 1 error, 0 warnings",
    }
    assert document["findings"][0]["rule"] == "PP501"
    assert document["ports"][0]["listeners"][0]["pid"] == holder.pid


def test_hosts() -> None:
    web = Service("web", host="web-1", ports=(_port("http", 1, 3),))
    db = Service("db", host="db-1", ports=(_port("pg", 2, 4),))
    topology = _topology(web, db)
    assert _rows(check_status(topology, StatusOptions(host="db-1", probes=False))) == [
        ("db.pg", "down")
    ]
    with pytest.raises(UsageError, match=r"several hosts \(db-1, web-1\); choose one with --host"):
        check_status(topology)
    with pytest.raises(UsageError, match="no host 'x' in the plan; hosts: db-1, web-1"):
        check_status(topology, StatusOptions(host="x"))
    single = _topology(web, hosts={"web-1": Host("web-1")})
    assert check_status(single, StatusOptions(probes=False)).host == "web-1"


def test_rule_table() -> None:
    assert {rule: (name, str(level)) for rule, (name, level) in RULES.items()} == {
        "PP501": ("port-down", "error"),
        "PP502": ("port-squatted", "error"),
        "PP503": ("unexpected-listener", "warning"),
        "PP504": ("unhealthy", "error"),
        "PP505": ("latency-over-target", "warning"),
        "PP506": ("latency-over-max", "error"),
    }


def test_watch_yields_fresh_reports(holder: Child) -> None:
    from portplan.live.status import watch

    gateway = Service("gateway", ports=(_port("http", holder.port, 3),))
    reports = watch(_topology(gateway), interval=0.01)
    first, second = next(reports), next(reports)
    assert _rows(first) == _rows(second) == [("gateway.http", "up")]
    assert second.checked_at >= first.checked_at


def test_describe_owners(holder: Child) -> None:
    report = check_status(_topology(Service("gateway", ports=(_port("http", holder.port, 3),))))
    listener = report.ports[0].listeners[0]
    assert listener.process is not None
    command = printable(listener.process.command)  # the holder's script spans lines
    assert "\n" in listener.process.command and "\n" not in command
    assert describe(listener) == f"process {holder.pid} ({command}, user {listener.user})"
    denied = Listener(listener.protocol, listener.address, listener.port, access=Access.DENIED)
    assert describe(denied) == "a process that cannot be inspected (permission denied)"


# ---------------------------------------------------------------------------
# Container ports: `published: false` and `target`


def test_an_unpublished_port_is_not_looked_for_on_the_host(
    holder: Child, http_server: HttpServer
) -> None:
    # the holder listens on the host on db's number, the server would fail db's check:
    # neither concerns a port bound on its container network only
    ports = (
        _port("postgresql", holder.port, 3, published=False),
        _port("http", http_server.port, 4, published=False, health=_health("/fail")),
        _port("admin", free_port(), 5, published=False, target=9000),
    )
    report = check_status(_topology(Service("db", ports=ports)))
    assert _rows(report) == [
        ("db.postgresql", "unpublished"),
        ("db.http", "unpublished"),
        ("db.admin", "unpublished"),
    ]
    assert [(row.listeners, row.holder, row.probe) for row in report.ports] == [
        ((), None, None)
    ] * 3
    assert report.findings == () and not report.failed
    assert report.headline() == (
        "3 ports on host default: 0 up, 0 down, 0 squatted, 0 unexpected, 3 unpublished; "
        "0 errors, 0 warnings"
    )
    assert report.summary()["unpublished"] == 3
    row = report.as_dict()["ports"][2]
    assert (row["port"], row["target"], row["published"], row["state"]) == (
        report.ports[2].port,
        9000,
        False,
        "unpublished",
    )


def test_a_listener_on_an_unpublished_ports_number_in_a_range_is_unexpected(
    holder: Child,
) -> None:
    span = PortRange(holder.port, holder.port)
    policy = RangePolicy("db", span, category="db", location=Location(FILE, 2, 3))
    db = Service("db", category="db", ports=(_port("postgresql", holder.port, 3, published=False),))
    report = check_status(_topology(db, ranges=(policy,)))
    assert _rows(report) == [("db.postgresql", "unpublished"), (f"tcp/{holder.port}", "unexpected")]
    owner = describe(report.ports[1].listeners[0])
    assert _findings(report) == [
        (
            "PP503",
            2,
            f"tcp 127.0.0.1:{holder.port} is inside range db ({span}) but no service "
            f"declares it; held by {owner}",
        )
    ]
    # out of every managed range, the same listener is nobody's business
    assert _rows(check_status(_topology(db))) == [("db.postgresql", "unpublished")]


def test_a_published_port_is_held_and_probed_on_its_host_number(http_server: HttpServer) -> None:
    mapped = _port("http", http_server.port, 3, target=80, health=_health("/ok"))
    report = check_status(_topology(Service("web", ports=(mapped,))))
    assert _rows(report) == [("web.http", "up")]
    probe = report.ports[0].probe
    assert probe is not None and probe.healthy and probe.detail == "200"
    assert report.as_dict()["ports"][0]["target"] == 80
    # the container side listening on the host does not make the host port up
    host = free_port()
    inverse = _port("http", host, 3, target=http_server.port, health=_health("/ok"))
    report = check_status(_topology(Service("web", ports=(inverse,))))
    assert _rows(report) == [("web.http", "down")]
    assert report.ports[0].probe is None
    assert _findings(report) == [("PP501", 3, f"web.http (tcp {host}) is down: nothing listens")]


def test_checks_started_before_the_owners_are_known_report_the_same(
    token_engine: Child, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many checks start in another process as soon as the sockets are known, while the owners are
    looked up: the report is the one of checks run after, and the check of a port found
    squatted (sent all the same) is not reported."""
    from portplan.live import status

    started: list[int] = []

    class Spy(status._EarlyChecks):
        def __init__(
            self, wanted: list[tuple[int, Target]], concurrency: int, **options: int
        ) -> None:
            started.append(len(wanted))
            super().__init__(wanted, concurrency, **options)

    monkeypatch.setattr(status, "_EarlyChecks", Spy)
    tcp = Health(kind="tcp", timeout_ms=60_000)
    with contextlib.ExitStack() as stack:
        held = [stack.enter_context(socket.socket()) for _ in range(status.EARLY_CHECKS)]
        for sock in held:
            sock.bind(("127.0.0.1", 0))
            sock.listen(8)  # a connect completes in the backlog: a healthy TCP check
        apps = [
            Service(f"app-{i:03}", ports=(_port("tcp", sock.getsockname()[1], i + 3, health=tcp),))
            for i, sock in enumerate(held)
        ]
        gateway = Service("gateway", ports=(_port("http", token_engine.port, 1, health=tcp),))
        engine = Service("token-engine", ports=(_port("grpc", free_port(), 2, health=tcp),))
        topology = _topology(gateway, engine, *apps)
        early = check_status(topology, StatusOptions(workers=1))
        monkeypatch.setattr(status, "EARLY_CHECKS", len(held) + 2)
        late = check_status(topology, StatusOptions(workers=1))
    assert started == [len(held) + 1]  # the squatted port's check too; then none early

    def shown(report: StatusReport) -> list[tuple[str, str, object]]:
        return [
            (row.label, row.state.value, row.probe and (row.probe.healthy, row.probe.detail))
            for row in report.ports
        ]

    assert shown(early) == shown(late)
    assert shown(early)[:2] == [
        ("gateway.http", "squatted", None),
        ("token-engine.grpc", "down", None),
    ]
    assert all(row.probe and row.probe.healthy for row in early.ports[2:])
    assert [f.rule for f in early.findings] == ["PP502", "PP501"]
