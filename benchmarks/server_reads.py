"""Read latency of `portplan serve` at a fixed request rate (seed 001's gateway budget:
p99 < 50 ms at 1,000 requests/s), on SQLite and PostgreSQL.

    python benchmarks/server_reads.py [--rate 1000] [--seconds 60] [--connections 64]
                                      [--database sqlite|postgresql|both]

The load is open-loop, as a gateway's traffic is: request i is due at start + i/rate whatever
the answers before it did, and its latency counts from when it was due, so a server that
falls behind shows it (no coordinated omission, which a closed-loop tool such as wrk hides).
A bounded asyncio client sends them over `--connections` keep-alive HTTP/1.1 connections
(raw streams: httpx would need a core of its own at this rate). The reads rotate over a
system's ports, its free ports per range, one lease, and the leases of one holder, with a
plan pushed and 200 leases live.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

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
    admin = token_for(url, "admin")
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {admin}"}) as http:
        http.put("/v1/systems/shop/plan", json={"text": PLAN}).raise_for_status()
        ids = []
        for n in range(200):
            body = {
                "holder": f"ci-{n % 20}",
                "host": "ci",
                "ports": [{"first": 20000, "last": 29999}],
            }
            answer = http.post("/v1/leases", json=body)
            answer.raise_for_status()
            ids.append(answer.json()["id"])
    paths = [
        "/v1/systems/shop/ports",
        "/v1/systems/shop/free",
        f"/v1/leases/{ids[17]}",
        "/v1/leases?holder=ci-7",
    ]
    return token_for(url, "read"), paths


async def _connection(
    host: str,
    port: int,
    token: str,
    paths: list[str],
    due: asyncio.Queue[tuple[float, int]],
    latencies: list[float],
    errors: list[str],
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    requests = [
        (f"GET {p} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n").encode()
        for p in paths
    ]
    while True:
        at, index = await due.get()
        if index < 0:
            break
        writer.write(requests[index % len(requests)])
        status = await reader.readline()
        length = 0
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        await reader.readexactly(length)
        latencies.append(time.perf_counter() - at)
        if not status.startswith(b"HTTP/1.1 200"):
            errors.append(status.decode().strip())
    writer.close()


async def load(
    base: str, token: str, paths: list[str], rate: float, seconds: float, connections: int
) -> tuple[list[float], list[str], float]:
    host, port = base.removeprefix("http://").split(":")
    due: asyncio.Queue[tuple[float, int]] = asyncio.Queue()
    latencies: list[float] = []
    errors: list[str] = []
    workers = [
        asyncio.create_task(_connection(host, int(port), token, paths, due, latencies, errors))
        for _ in range(connections)
    ]
    total = int(rate * seconds)
    began = time.perf_counter()
    for i in range(total):
        at = began + i / rate
        delay = at - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        due.put_nowait((at, i))
    for _ in workers:
        due.put_nowait((0.0, -1))
    await asyncio.gather(*workers)
    return latencies, errors, time.perf_counter() - began


def measure(url: str, args: argparse.Namespace, folder: Path, name: str) -> None:
    process, base = start(url, folder / f"{name}.log", args.workers)
    try:
        token, paths = prepare(base, url)
        latencies, errors, elapsed = asyncio.run(
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
