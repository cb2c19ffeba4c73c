"""kill -9 of the server under a lease load, and two servers on one PostgreSQL database:
every acknowledged lease survives, none is doubled, and both feeds see every event."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from portplan.server import db, tenants
from tests.server.postgres import Server, free_port
from tests.server.serve import start


def _token(url: str, scope: str = "lease") -> str:
    engine = db.engine_for(url)
    db.migrate(engine)
    token = db.write(engine, lambda c: tenants.create_token(c, "acme", "load", scope))
    engine.dispose()
    return token


def _load(
    bases: list[str], token: str, acknowledged: list[dict[str, object]], stop: threading.Event
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    body = {"holder": "load", "host": "ci", "ports": [{"first": 40000, "last": 49999}]}
    # a request given up on by the client may still be granted: wait for every answer
    with httpx.Client(headers=headers, timeout=60) as client:
        n = 0
        while not stop.is_set():
            try:
                answer = client.post(bases[n % len(bases)] + "/v1/leases", json=body)
            except httpx.TransportError:
                return
            n += 1
            if answer.status_code == 201:
                acknowledged.append(answer.json())


def _held(base: str, token: str) -> list[dict[str, object]]:
    answer = httpx.get(
        base + "/v1/leases", params={"state": "live"}, headers={"Authorization": f"Bearer {token}"}
    )
    return list(answer.json()["leases"])


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'registry.db'}"
    server: Server = request.getfixturevalue("postgres")
    return server.create_database(f"crash{free_port()}")


def test_kill_9_under_load_loses_no_acknowledged_lease(url: str, tmp_path: Path) -> None:
    token = _token(url)
    log = tmp_path / "server.log"
    process, base = start(url, log)
    acknowledged: list[dict[str, object]] = []
    stop = threading.Event()
    threads = [
        threading.Thread(target=_load, args=([base], token, acknowledged, stop)) for _ in range(8)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(acknowledged) < 40 and time.monotonic() < deadline:
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    assert len(acknowledged) >= 40
    process, base = start(url, log)
    try:
        stored = {lease["id"]: lease for lease in _held(base, token)}
    finally:
        process.terminate()
        process.wait(timeout=15)
    for lease in acknowledged:
        assert stored[lease["id"]]["ports"] == lease["ports"]  # type: ignore[index]
    ports = Counter(p["port"] for lease in stored.values() for p in lease["ports"])  # type: ignore[attr-defined]
    assert [p for p, n in ports.items() if n > 1] == []


def test_two_servers_on_one_postgresql(postgres: Server, tmp_path: Path) -> None:
    url = postgres.create_database(f"two{free_port()}")
    token = _token(url)
    log = tmp_path / "server.log"
    # feeds poll only every 60 s here: another server's change can reach b only by NOTIFY
    first, a = start(url, log, PORTPLAN_FEED_POLL_SECONDS="60")
    second, b = start(url, log, PORTPLAN_FEED_POLL_SECONDS="60")
    headers = {"Authorization": f"Bearer {token}"}
    streams = {a: _Stream(a, headers), b: _Stream(b, headers)}
    try:
        for stream in streams.values():
            stream.start()
            assert stream.listening.wait(10)
        time.sleep(0.3)  # each stream has read the (empty) backlog and waits
        acknowledged: list[dict[str, object]] = []
        stop = threading.Event()
        threads = [
            threading.Thread(target=_load, args=([a, b], token, acknowledged, stop))
            for _ in range(8)
        ]
        for thread in threads:
            thread.start()
        # a while of load, and enough leases however slow the machine
        started = time.monotonic()
        while time.monotonic() - started < 1.5 or len(acknowledged) <= 10:
            assert time.monotonic() - started < 60, f"{len(acknowledged)} leases in 60 s"
            time.sleep(0.05)
        stop.set()
        for thread in threads:
            thread.join(timeout=120)
            assert not thread.is_alive()
        ports = Counter(p["port"] for lease in acknowledged for p in lease["ports"])  # type: ignore[attr-defined]
        assert len(acknowledged) > 10
        assert [p for p, n in ports.items() if n > 1] == []
        feeds = [
            [
                e["revision"]
                for e in httpx.get(
                    base + "/v1/changes", params={"limit": 1000}, headers=headers
                ).json()["events"]
            ]
            for base in (a, b)
        ]
        assert feeds[0] == feeds[1] == list(range(1, len(acknowledged) + 1))
        # each server's live stream got every event, its own and the other's, in order
        for stream in streams.values():
            stream.wait_for(len(acknowledged))
            assert stream.revisions == list(range(1, len(acknowledged) + 1))
        _notify_wakes_the_other_server(a, b, headers, len(acknowledged))
    finally:
        for stream in streams.values():
            stream.stop.set()
        for process in (first, second):
            process.terminate()
            process.wait(timeout=15)


class _Stream(threading.Thread):
    """A client of one server's SSE feed from revision 0, keeping the revisions it gets."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.base, self.headers = base, headers
        self.revisions: list[int] = []
        self.listening = threading.Event()
        self.stop = threading.Event()

    def run(self) -> None:
        headers = {**self.headers, "Last-Event-ID": "0"}
        with (
            httpx.Client(timeout=httpx.Timeout(5, read=30)) as http,
            http.stream("GET", self.base + "/v1/events", headers=headers) as stream,
        ):
            self.listening.set()
            for line in stream.iter_lines():
                if line.startswith("id:"):
                    self.revisions.append(int(line[3:]))
                if self.stop.is_set():
                    return

    def wait_for(self, count: int) -> None:
        deadline = time.monotonic() + 30
        while len(self.revisions) < count and time.monotonic() < deadline:
            time.sleep(0.05)


def _notify_wakes_the_other_server(a: str, b: str, headers: dict[str, str], last: int) -> None:
    arrived: list[str] = []
    listening = threading.Event()

    def listen() -> None:
        with (
            httpx.Client(timeout=httpx.Timeout(5, read=30)) as http,
            http.stream(
                "GET", b + "/v1/events", headers={**headers, "Last-Event-ID": str(last)}
            ) as stream,
        ):
            for line in stream.iter_lines():
                listening.set()
                if line.startswith("data:"):
                    arrived.append(line)
                    return

    listener = threading.Thread(target=listen)
    listener.start()
    assert listening.wait(10)
    time.sleep(0.3)  # the stream has read the (empty) backlog and waits
    body = {"holder": "n", "host": "ci", "ports": [{"first": 40000, "last": 49999}]}
    lease = httpx.post(a + "/v1/leases", json=body, headers=headers).json()
    listener.join(timeout=30)
    assert not listener.is_alive()
    assert f'"subject": "leases/{lease["id"]}"' in arrived[0]
