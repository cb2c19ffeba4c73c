"""Health probes against real HTTP and gRPC servers started by the tests."""

from __future__ import annotations

from typing import Any

import pytest

from portplan.live.probe import ProbeResult, Target, contains, probe_all
from portplan.model import Health
from tests.live.conftest import SLOW_SECONDS, GrpcServer, HttpServer, free_port


def _http(server: HttpServer, path: str, **options: Any) -> ProbeResult:
    health = Health(kind="http", path=path, **options)
    return probe_all([Target(server.host, server.port, health)])[0]


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
            'body {"status": "healthy"} does not contain {"status": "ok"}',
        ),
        ("/fail", {}, False, "status 500, expected 2xx"),
        ("/created", {}, True, "201"),
        ("/created", {"status": 200}, False, "status 201, expected 200"),
        ("/fail", {"status": 500}, True, "500"),
        ("/missing", {}, False, "status 404, expected 2xx"),
        ("/text", {}, True, "200"),
        ("/text", {"expect": {"status": "ok"}}, False, "body is not JSON: OK"),
        ("/chunked", {"expect": {"checks": {"db": "up"}}}, True, "200"),
    ],
)
def test_http(
    http_server: HttpServer, path: str, options: dict[str, Any], healthy: bool, detail: str
) -> None:
    result = _http(http_server, path, **options)
    assert (result.kind, result.healthy, result.detail) == ("http", healthy, detail)
    assert result.latency_ms is not None and result.latency_ms > 0


def test_http_over_ipv6(http_server6: HttpServer) -> None:
    assert _http(http_server6, "/ok", expect={"status": "ok"}).healthy


def test_http_timeout_gives_no_latency(http_server: HttpServer) -> None:
    timeout_ms = SLOW_SECONDS * 1000 / 5
    result = _http(http_server, "/slow", timeout_ms=timeout_ms)
    assert (result.healthy, result.detail, result.latency_ms) == (
        False,
        f"no answer within {timeout_ms:g} ms",
        None,
    )


def test_latency_is_measured(http_server: HttpServer) -> None:
    result = _http(http_server, "/slow")
    assert result.healthy and result.latency_ms is not None
    assert result.latency_ms >= SLOW_SECONDS * 1000


def test_refused_connections() -> None:
    port = free_port()
    for kind in ("http", "tcp"):
        result = probe_all([Target("127.0.0.1", port, Health(kind=kind, path="/"))])[0]
        assert (result.healthy, result.detail) == (False, "connection refused")


def test_tcp_connect(http_server: HttpServer) -> None:
    result = probe_all([Target(http_server.host, http_server.port, Health(kind="tcp"))])[0]
    assert (result.kind, result.healthy, result.detail) == ("tcp", True, "connected")


def test_many_probes_keep_their_order(http_server: HttpServer) -> None:
    paths = ["/ok", "/fail", "/healthy"] * 40
    targets = [Target(http_server.host, http_server.port, Health("http", p)) for p in paths]
    results = probe_all(targets, concurrency=16)
    assert [r.healthy for r in results] == [p != "/fail" for p in paths]
    assert probe_all([]) == []


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
