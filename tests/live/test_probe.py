"""Health probes against real HTTP and gRPC servers started by the tests."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from portplan.live import probe_loop
from portplan.live.probe import ProbeResult, Target, contains
from portplan.live.probe_async import gather_probes
from portplan.live.probing import probe_all
from portplan.model import Health
from tests.live.conftest import SLOW_SECONDS, GrpcServer, HttpServer, free_port

Engine = Callable[[list[Target]], list[ProbeResult]]


def _on_the_loop(targets: list[Target]) -> list[ProbeResult]:
    assert all(probe_loop.handles(target) for target in targets)
    return probe_loop.probe_many(targets, 8)


def _on_the_portable_loop(targets: list[Target]) -> list[ProbeResult]:
    """The loop with the poller of systems without epoll (selectors, level-triggered)."""
    chosen = probe_loop.POLLER
    probe_loop.POLLER = probe_loop._Selector
    try:
        return _on_the_loop(targets)
    finally:
        probe_loop.POLLER = chosen


def _on_asyncio(targets: list[Target]) -> list[ProbeResult]:
    return asyncio.run(gather_probes(targets, concurrency=8))


# HTTP and TCP checks of addresses run on the poll loop (epoll on Linux, selectors
# elsewhere), the rest on asyncio: every engine must give the same answers
@pytest.fixture(
    params=[_on_the_loop, _on_the_portable_loop, _on_asyncio], ids=["loop", "portable", "asyncio"]
)
def engine(request: pytest.FixtureRequest) -> Engine:
    chosen: Engine = request.param
    return chosen


def _http(server: HttpServer, path: str, engine: Engine = probe_all, **options: Any) -> ProbeResult:
    health = Health(kind="http", path=path, **options)
    return engine([Target(server.host, server.port, health)])[0]


@pytest.mark.parametrize(
    ("path", "options", "healthy", "detail"),
    [
        ("/ok", {}, True, "200"),
        ("/ok", {"expect": {"status": "ok"}}, True, "200"),
        ("/healthy", {"expect": {"status": "healthy"}}, True, "200"),
        (
            "/healthy",
            {"expect": {"status": "ok"}},
            False,
            'body has status "healthy", expected "ok"',
        ),
        ("/fail", {}, False, "status 500, expected 2xx"),
        ("/created", {}, True, "201"),
        ("/created", {"status": 200}, False, "status 201, expected 200"),
        ("/fail", {"status": 500}, True, "500"),
        ("/missing", {}, False, "status 404, expected 2xx"),
        ("/text", {}, True, "200"),
        ("/text", {"expect": {"status": "ok"}}, False, "body is not JSON (2 bytes)"),
        ("/text-secret", {"expect": {"status": "ok"}}, False, "body is not JSON (27 bytes)"),
        (
            "/leaky",
            {"expect": {"status": "healthy"}},
            False,
            'body has status "degraded", expected "healthy"',
        ),
        ("/leaky", {"expect": {"api_token": "t"}}, False, 'body has api_token "***", expected "t"'),
        (
            "/leaky",
            {"expect": {"database_url": "x"}},
            False,
            'body has database_url "***", expected "x"',
        ),
        ("/leaky", {"expect": {"checks": "ok"}}, False, 'body has checks an object, expected "ok"'),
        (
            "/leaky",
            {"expect": {"checks": {"db": "up", "cache": {"password": "p"}, "disk": "ok"}}},
            False,
            'body has checks.db "down", expected "up"; body has checks.cache.password "***", expected "p"; body has no checks.disk',
        ),
        (
            "/leaky",
            {"expect": {"version": "1"}},
            False,
            'body has version "' + "x" * 36 + '..., expected "1"',
        ),
        ("/leaky", {"expect": {"state": "up", "status": "degraded"}}, False, "body has no state"),
        (
            "/ok",
            {"expect": {"status": {"db": "up"}}},
            False,
            'body has status "ok", expected {"db": "up"}',
        ),
        ("/chunked", {"expect": {"checks": {"db": "up"}}}, True, "200"),
    ],
)
def test_http(
    http_server: HttpServer,
    engine: Engine,
    path: str,
    options: dict[str, Any],
    healthy: bool,
    detail: str,
) -> None:
    result = _http(http_server, path, engine, **options)
    assert (result.kind, result.healthy, result.detail) == ("http", healthy, detail)
    assert result.latency_ms is not None and result.latency_ms > 0


def test_http_over_ipv6(http_server6: HttpServer, engine: Engine) -> None:
    assert _http(http_server6, "/ok", engine, expect={"status": "ok"}).healthy


def test_http_timeout_gives_no_latency(http_server: HttpServer, engine: Engine) -> None:
    timeout_ms = SLOW_SECONDS * 1000 / 5
    result = _http(http_server, "/slow", engine, timeout_ms=timeout_ms)
    assert (result.healthy, result.detail, result.latency_ms) == (
        False,
        f"no answer within {timeout_ms:g} ms",
        None,
    )


def test_latency_is_measured(http_server: HttpServer, engine: Engine) -> None:
    result = _http(http_server, "/slow", engine)
    assert result.healthy and result.latency_ms is not None
    assert result.latency_ms >= SLOW_SECONDS * 1000


def test_refused_connections(engine: Engine) -> None:
    port = free_port()
    for kind in ("http", "tcp"):
        result = engine([Target("127.0.0.1", port, Health(kind=kind, path="/"))])[0]
        assert (result.healthy, result.detail, result.latency_ms) == (
            False,
            "connection refused",
            None,
        )


def test_tcp_connect(http_server: HttpServer, engine: Engine) -> None:
    result = engine([Target(http_server.host, http_server.port, Health(kind="tcp"))])[0]
    assert (result.kind, result.healthy, result.detail) == ("tcp", True, "connected")


def _answering(reply: bytes) -> Iterator[int]:
    """A TCP server that reads each request, sends `reply` (maybe nothing) and closes."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:  # closed: the test is over
                return
            with conn:
                conn.recv(65536)
                conn.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.close()


@pytest.fixture
def hang_up() -> Iterator[int]:
    """A TCP server that reads the request, then closes without a word."""
    yield from _answering(b"")


def test_an_answer_that_never_comes(hang_up: int, engine: Engine) -> None:
    result = engine([Target("127.0.0.1", hang_up, Health(kind="http", path="/"))])[0]
    assert (result.healthy, result.detail) == (False, "connection closed without an answer")
    assert result.latency_ms is not None


@pytest.fixture
def banner() -> Iterator[int]:
    """A TCP server that answers every request with an SSH banner, not HTTP."""
    yield from _answering(b"SSH-2.0-OpenSSH_9.2 s3cr3t-banner\r\n\r\n")


def test_not_an_http_answer_is_described_not_quoted(banner: int, engine: Engine) -> None:
    result = engine([Target("127.0.0.1", banner, Health(kind="http", path="/"))])[0]
    assert (result.healthy, result.detail) == (
        False,
        "not an HTTP answer (a first line of 33 characters)",
    )


def test_many_probes_keep_their_order(http_server: HttpServer, engine: Engine) -> None:
    paths = ["/ok", "/fail", "/healthy"] * 40
    targets = [Target(http_server.host, http_server.port, Health("http", p)) for p in paths]
    assert [r.healthy for r in engine(targets)] == [p != "/fail" for p in paths]
    assert [r.healthy for r in probe_all(targets, concurrency=1)] == [p != "/fail" for p in paths]
    assert probe_all([]) == []


def test_the_loop_takes_http_and_tcp_checks_of_addresses() -> None:
    def handles(host: str, kind: str = "http") -> bool:
        return probe_loop.handles(Target(host, 80, Health(kind=kind)))

    assert handles("127.0.0.1") and handles("::1") and handles("10.0.0.7", "tcp")
    assert not handles("localhost")  # a name: resolved on asyncio
    assert not handles("fe80::1%lo")  # a scoped address: resolved on asyncio
    assert not handles("127.0.0.1", "grpc")


def test_engines_mixed_keep_the_order(http_server: HttpServer) -> None:
    targets = [
        Target(http_server.host, http_server.port, Health("http", "/ok")),
        Target("localhost", http_server.port, Health("tcp")),
        Target("127.0.0.1", 1, Health("smtp")),
        Target(http_server.host, http_server.port, Health("http", "/fail")),
    ]
    assert [(r.kind, r.healthy, r.detail) for r in probe_all(targets)] == [
        ("http", True, "200"),
        ("tcp", True, "connected"),
        ("smtp", False, "unknown health check kind 'smtp'"),
        ("http", False, "status 500, expected 2xx"),
    ]


def test_unknown_kind() -> None:
    result = probe_all([Target("127.0.0.1", 1, Health(kind="smtp"))])[0]
    assert (result.healthy, result.detail) == (False, "unknown health check kind 'smtp'")


@pytest.mark.parametrize(
    ("service", "healthy", "detail"),
    [
        ("", True, "SERVING"),
        ("ledger", True, "SERVING"),
        ("settlement", False, "NOT_SERVING, expected SERVING"),
        ("nope", False, "NOT_FOUND: the server reports no health status for service 'nope'"),
    ],
)
def test_grpc_health(grpc_server: GrpcServer, service: str, healthy: bool, detail: str) -> None:
    health = Health(kind="grpc", grpc_service=service)
    result = probe_all([Target("127.0.0.1", grpc_server.port, health)])[0]
    assert (result.kind, result.healthy, result.detail) == ("grpc", healthy, detail)


def test_grpc_on_a_plain_http_port_is_unhealthy(http_server: HttpServer) -> None:
    health = Health(kind="grpc", timeout_ms=5000)
    result = probe_all([Target(http_server.host, http_server.port, health)])[0]
    assert not result.healthy
    assert result.detail.startswith(("UNAVAILABLE", "UNKNOWN", "INTERNAL"))


@pytest.mark.parametrize(
    ("actual", "expected", "result"),
    [
        ({"status": "ok", "v": 1}, {"status": "ok"}, True),
        ({"status": "healthy"}, {"status": "ok"}, False),
        ({"a": {"b": 1, "c": 2}}, {"a": {"b": 1}}, True),
        ({"a": {"b": 2}}, {"a": {"b": 1}}, False),
        ({"a": [1, 2]}, {"a": [1, 2]}, True),
        ({"a": [1, 2, 3]}, {"a": [1, 2]}, False),
        ({"up": True}, {"up": 1}, False),
        ([], {"status": "ok"}, False),
        ({}, {}, True),
    ],
)
def test_json_subset(actual: object, expected: object, result: bool) -> None:
    assert contains(actual, expected) is result


def test_result_as_dict() -> None:
    result = ProbeResult("http", True, "200", 1.23456)
    assert result.as_dict() == {
        "kind": "http",
        "healthy": True,
        "detail": "200",
        "latency_ms": 1.235,
    }


def test_a_host_name_is_resolved(http_server: HttpServer) -> None:
    result = probe_all([Target("localhost", http_server.port, Health(kind="tcp"))])[0]
    assert (result.healthy, result.detail) == (True, "connected")
