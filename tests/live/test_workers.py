"""Many probes spread over forked workers: same results, same order."""

from __future__ import annotations

import os

import pytest

from portplan.live.probe import Target
from portplan.live.probing import probe_all
from portplan.live.workers import MIN_PER_WORKER, split
from portplan.model import Health
from tests.live.conftest import HttpServer

needs_fork = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")


def _targets(server: HttpServer, count: int, kinds: str = "http") -> list[Target]:
    paths = ["/ok", "/fail", "/healthy"]
    return [
        Target(
            server.host,
            server.port,
            Health(_kind(kinds, i), paths[i % 3], timeout_ms=60_000),
        )
        for i in range(count)
    ]


def _kind(kinds: str, index: int) -> str:
    if kinds != "mixed":
        return kinds
    return "grpc" if index % 7 == 0 else "http"


@needs_fork
def test_split_keeps_grpc_here_and_small_batches_whole(http_server: HttpServer) -> None:
    assert split(_targets(http_server, MIN_PER_WORKER), 4) == [list(range(MIN_PER_WORKER))]
    targets = _targets(http_server, MIN_PER_WORKER * 3, "mixed")
    shares = split(targets, 4)
    assert len(shares) == 2
    assert sorted(i for share in shares for i in share) == list(range(len(targets)))
    assert all(targets[i].health.kind == "http" for i in shares[1])
    assert all(targets[i].health.kind == "grpc" for i in shares[0] if i % 7 == 0)


@needs_fork
def test_workers_give_the_same_results_in_order(http_server: HttpServer) -> None:
    targets = _targets(http_server, MIN_PER_WORKER * 2)
    spread = probe_all(targets, concurrency=20, workers=2)
    assert [(r.healthy, r.detail) for r in spread] == [
        (
            t.health.path != "/fail",
            "status 500, expected 2xx" if t.health.path == "/fail" else "200",
        )
        for t in targets
    ]


@pytest.mark.parametrize(("cores", "workers"), [(None, 1), (1, 1), (2, 1), (3, 2), (5, 4), (64, 4)])
def test_default_workers_leave_a_core_to_the_servers(
    monkeypatch: pytest.MonkeyPatch, cores: int | None, workers: int
) -> None:
    from portplan.cli._status_run import default_workers

    monkeypatch.setattr(os, "cpu_count", lambda: cores)
    assert default_workers() == workers
