"""Read latency of `portplan serve` at a fixed request rate (seed 001's gateway budget:
p99 < 50 ms at 1,000 requests/s), on SQLite and PostgreSQL.

    python benchmarks/server_reads.py [--rate 1000] [--seconds 60] [--connections 64]
                                      [--database sqlite|postgresql|both]

The load is open-loop, as a gateway's traffic is: request i is due at start + i/rate whatever
the answers before it did, and its latency counts from when it was due, so a server that
falls behind shows it (no coordinated omission, which a closed-loop tool such as wrk hides).
A bounded asyncio client sends them over `--connections` keep-alive HTTP/1.1 connections
(asyncio protocols parsing the answers' bytes, on uvloop when installed: httpx would need a
core of its own at this rate, and the client shares the machine with the server). The reads
rotate over a system's ports, its free ports per range, one lease, and the leases of one
holder, with a plan pushed and 200 leases live.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.server_leases import start, token_for
from tests.server.postgres import Server

PLAN = """\
system: shop
ranges:
  web: {ports: 8000-8999, category: web}
services:
""" + "".join(f"  svc{n}:\n    category: web\n    ports: {{http: {8000 + n}}}\n" for n in range(30))


def prepare(base: str, url: str) -> tuple[str, list[str]]:
    """A plan and 200 leases; returns the read token and the paths to read."""
    with httpx.Client(base_url=base) as http:
        return fill(http, url)


def fill(http: httpx.Client, url: str) -> tuple[str, list[str]]:
    """`prepare` through any client of the server (a TestClient too)."""
    admin = {"Authorization": f"Bearer {token_for(url, 'admin')}"}
    http.put("/v1/systems/shop/plan", json={"text": PLAN}, headers=admin).raise_for_status()
    ids = []
    for n in range(200):
        body = {"holder": f"ci-{n % 20}", "host": "ci", "ports": [{"first": 20000, "last": 29999}]}
        answer = http.post("/v1/leases", json=body, headers=admin)
        answer.raise_for_status()
        ids.append(answer.json()["id"])
    paths = [
        "/v1/systems/shop/ports",
        "/v1/systems/shop/free",
        f"/v1/leases/{ids[17]}",
        "/v1/leases?holder=ci-7",
    ]
    return token_for(url, "read"), paths


class _Connection(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection that sends a request when it is free: the answers
    are parsed from the bytes as they come (status line, Content-Length, body), the least
    a client can do per request, so that the client's own CPU takes little from the server
    on a shared machine."""

    def __init__(self, load: _Load) -> None:
        self.load = load
        self.transport: Any = None
        self.buffer = b""
        self.due = 0.0
        self.busy = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # uvloop's is no asyncio.Transport subclass

    def send(self, due: float, request: bytes) -> None:
        self.due, self.busy = due, True
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        found = _LENGTH.search(self.buffer, 0, end)
        whole = end + 4 + (int(found.group(1)) if found else 0)
        if len(self.buffer) < whole:
            return
        status, self.buffer = self.buffer[:12], self.buffer[whole:]
        self.busy = False
        self.load.answered(self, status, time.perf_counter() - self.due)

    def connection_lost(self, exc: Exception | None) -> None:
        self.load.lost(self)


_LENGTH = re.compile(rb"(?i)\r\ncontent-length:\s*(\d+)")


class _Load:
    """Requests due at fixed times handed to free connections, or queued until one is."""

    def __init__(self, requests: list[bytes]) -> None:
        self.requests = requests
        # first in, first out: every connection keeps being used (uvicorn closes one that
        # is idle for 5 s)
        self.idle: deque[_Connection] = deque()
        self.waiting: deque[tuple[float, int]] = deque()
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.unanswered = 0
        self.open = 0

    def due(self, at: float, index: int) -> None:
        if self.idle:
            self.idle.popleft().send(at, self.requests[index % len(self.requests)])
        else:
            self.waiting.append((at, index))

    def answered(self, connection: _Connection, status: bytes, latency: float) -> None:
        self.latencies.append(latency)
        if status != b"HTTP/1.1 200":
            self.errors.append(status.decode(errors="replace"))
        if self.waiting:
            at, index = self.waiting.popleft()
            connection.send(at, self.requests[index % len(self.requests)])
        else:
            self.idle.append(connection)

    def lost(self, connection: _Connection) -> None:
        self.open -= 1
        if connection in self.idle:
            self.idle.remove(connection)
        if connection.busy:  # the server closed it under a request: an error, not a wait
            self.errors.append("connection closed")
            self.unanswered += 1


async def load(
    base: str, token: str, paths: list[str], rate: float, seconds: float, connections: int
) -> tuple[list[float], list[str], float]:
    """Open-loop: request i is due at start + i/rate; its latency counts from then."""
    host, port = base.removeprefix("http://").split(":")
    loop = asyncio.get_running_loop()
    requests = [
        (f"GET {p} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n").encode()
        for p in paths
    ]
    state = _Load(requests)
    for _ in range(connections):
        _, connection = await loop.create_connection(lambda: _Connection(state), host, int(port))
        state.idle.append(connection)
        state.open += 1
    total = int(rate * seconds)
    began = time.perf_counter()
    for i in range(total):
        at = began + i / rate
        delay = at - time.perf_counter()
        if delay > 0.0005:
            await asyncio.sleep(delay)
        state.due(at, i)
    deadline = time.perf_counter() + 60
    while len(state.latencies) + state.unanswered < total and time.perf_counter() < deadline:
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - began
    for connection in list(state.idle):
        connection.transport.close()
    return state.latencies, state.errors, elapsed


def _loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when it is installed (with the server extra): a cheaper client."""
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def measure(url: str, args: argparse.Namespace, folder: Path, name: str) -> None:
    process, base = start(url, folder / f"{name}.log", args.workers)
    try:
        token, paths = prepare(base, url)
        with asyncio.Runner(loop_factory=_loop_factory()) as runner:
            latencies, errors, elapsed = runner.run(
                load(base, token, paths, args.rate, args.seconds, args.connections)
            )
    finally:
        process.terminate()
        process.wait()
    ordered = sorted(latencies)

    def at(q: float) -> float:
        return 1000 * ordered[min(len(ordered) - 1, int(len(ordered) * q))]

    print(
        f"| {name} | {len(ordered)} | {len(ordered) / elapsed:.0f} | {len(errors)} | "
        f"{1000 * statistics.median(ordered):.1f} | {at(0.9):.1f} | {at(0.99):.1f} | "
        f"{1000 * ordered[-1]:.1f} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=None, help="portplan serve --workers")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="portplan-reads-"))
    print(
        f"{args.rate:.0f} requests/s for {args.seconds:.0f} s over {args.connections} connections"
    )
    print("| database | requests | per second | errors | p50 ms | p90 ms | p99 ms | max ms |")
    print("|---|---|---|---|---|---|---|---|")
    if args.database in ("sqlite", "both"):
        measure(f"sqlite:///{folder / 'registry.db'}", args, folder, "sqlite")
    if args.database in ("postgresql", "both"):
        pg = Server(folder / "pg", durable=True)
        pg.start()
        try:
            measure(pg.create_database("reads"), args, folder, "postgresql")
        finally:
            pg.stop()


if __name__ == "__main__":
    main()
