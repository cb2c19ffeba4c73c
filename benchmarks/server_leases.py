"""Lease allocations per second with 32 concurrent clients against `portplan serve` (a real
uvicorn process) on SQLite and on PostgreSQL, counting duplicates; and read latency.

    python benchmarks/server_leases.py [--clients 32] [--seconds 10]

Each client is a thread with its own HTTP connection, leasing one port of 10000-59999 on
one host in a loop. PostgreSQL is Debian's, started in a temporary folder (as the
`postgres` user when run as root), fsync on. The same workload then runs on etcd in the same
run (benchmarks/etcd_leases.py: one transaction `If(create_revision(key) == 0)
Then(Put(key, lease))` per port).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks import etcd_leases
from tests.server.postgres import Server
from tests.server.serve import start

from portplan.server import db, tenants


def token_for(url: str, scope: str = "lease") -> str:
    engine = db.engine_for(url)
    db.migrate(engine)
    token = db.write(engine, lambda c: tenants.create_token(c, "bench", "bench", scope))
    engine.dispose()
    return token


class _Cpu:
    """CPU seconds spent by the server process and by the database's processes (PostgreSQL:
    the postmaster's children, its backends) since `__init__`: on a shared machine, CPU per
    lease moves far less with the load than leases per second do."""

    def __init__(self, server: int, database: int | None) -> None:
        self.server, self.database = server, database
        self.start = self._now()

    def _now(self) -> dict[int, float]:
        import psutil

        processes = [psutil.Process(self.server)]
        if self.database is not None:
            processes += psutil.Process(self.database).children()
        found = {}
        for process in processes:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            found[process.pid] = times.user + times.system
        return found

    def spent(self) -> tuple[float, float]:
        """(server, database) CPU seconds since the start."""
        now = self._now()
        server = now.pop(self.server) - self.start[self.server]
        return server, sum(t - self.start.get(pid, 0.0) for pid, t in now.items())


def run(
    url: str, clients: int, seconds: float, folder: Path, database: int | None = None
) -> dict[str, float]:
    token = token_for(url)
    process, base = start(url, folder / "server.log")
    cpu = _Cpu(process.pid, database)
    headers = {"Authorization": f"Bearer {token}"}
    body = {"holder": "bench", "host": "ci", "ports": [{"first": 10000, "last": 59999}]}
    ports: list[int] = []
    latencies: list[float] = []
    errors = Counter[int]()
    stop = threading.Event()

    def client() -> None:
        with httpx.Client(headers=headers, timeout=30) as http:
            while not stop.is_set():
                started = time.perf_counter()
                answer = http.post(base + "/v1/leases", json=body)
                latencies.append(time.perf_counter() - started)
                if answer.status_code == 201:
                    ports.append(answer.json()["ports"][0]["port"])
                else:
                    errors[answer.status_code] += 1

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - began
    server_cpu, database_cpu = cpu.spent()
    reads = read_latency(base, headers)
    feed = feed_latency(base, headers)
    process.terminate()
    process.wait()
    duplicates = sum(n - 1 for n in Counter(ports).values() if n > 1)
    ordered = sorted(latencies)
    return {
        "leases": len(ports),
        "per_second": len(ports) / elapsed,
        "duplicates": duplicates,
        "errors": sum(errors.values()),
        "p50_ms": 1000 * statistics.median(ordered),
        "p99_ms": 1000 * ordered[int(len(ordered) * 0.99)],
        "read_p50_ms": reads[0],
        "read_p99_ms": reads[1],
        "feed_p50_ms": feed[0],
        "feed_p99_ms": feed[1],
        "server_cpu_ms": 1000 * server_cpu / max(1, len(ports)),
        "database_cpu_ms": 1000 * database_cpu / max(1, len(ports)),
    }


def read_latency(base: str, headers: dict[str, str], count: int = 400) -> tuple[float, float]:
    """GET /v1/leases/{id}-free read (`/v1/systems`), one client, sequential."""
    times = []
    with httpx.Client(headers=headers, timeout=30) as http:
        for _ in range(count):
            started = time.perf_counter()
            http.get(base + "/v1/systems")
            times.append(time.perf_counter() - started)
    times.sort()
    return 1000 * statistics.median(times), 1000 * times[int(count * 0.99)]


def feed_latency(base: str, headers: dict[str, str], count: int = 50) -> tuple[float, float]:
    """From sending a lease request to its `lease.granted` event on an open SSE stream."""
    last = 0
    with httpx.Client(headers=headers, timeout=30) as http:
        while True:
            page = http.get(base + "/v1/changes", params={"after": last, "limit": 1000}).json()
            if not page["events"]:
                break
            last = page["events"][-1]["revision"]
    seen: dict[str, float] = {}
    ready = threading.Event()

    def listen() -> None:
        stream_headers = {**headers, "Last-Event-ID": str(last)}
        with (
            httpx.Client(timeout=60) as http,
            http.stream("GET", base + "/v1/events", headers=stream_headers) as stream,
        ):
            for line in stream.iter_lines():
                ready.set()
                if line.startswith("data:") and '"lease.granted"' in line:
                    lease = line.split('"leases/', 1)[1].split('"', 1)[0]
                    seen[lease] = time.perf_counter()
                    if len(seen) >= count:
                        return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    ready.wait(10)
    body = {"holder": "feed", "host": "feed", "ports": [{"first": 10000, "last": 59999}]}
    sent: dict[str, float] = {}
    with httpx.Client(headers=headers, timeout=30) as http:
        for _ in range(count):
            started = time.perf_counter()
            lease = http.post(base + "/v1/leases", json=body).json()
            sent[lease["id"]] = started
            time.sleep(0.02)
    listener.join(10)
    times = sorted(1000 * (seen[k] - sent[k]) for k in sent if k in seen)
    if not times:
        return float("nan"), float("nan")
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--database", choices=["all", "sqlite", "postgresql", "etcd"], default="all"
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="portplan-bench-"))
    pg = Server(folder / "pg", durable=True)
    pg.start()
    try:
        urls = {
            "sqlite": f"sqlite:///{folder / 'registry.db'}",
            "postgresql": pg.create_database("bench"),
        }
        print(f"{args.clients} clients, {args.seconds:.0f} s each")
        columns = ["database", "leases", "leases/s", "duplicates", "errors", "p50 ms", "p99 ms"]
        columns += ["read p50 ms", "read p99 ms", "feed p50 ms", "feed p99 ms"]
        columns += ["server CPU ms/lease", "PostgreSQL CPU ms/lease"]
        print("| " + " | ".join(columns) + " |")
        print("|" + "---|" * len(columns))
        for name, url in urls.items():
            if args.database not in ("all", name):
                continue
            postmaster = pg.pid() if name == "postgresql" else None
            r = run(url, args.clients, args.seconds, folder, postmaster)
            print(
                f"| {name} | {r['leases']:.0f} | {r['per_second']:.0f} | {r['duplicates']:.0f} | "
                f"{r['errors']:.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
                f"{r['read_p50_ms']:.1f} | {r['read_p99_ms']:.1f} | "
                f"{r['feed_p50_ms']:.1f} | {r['feed_p99_ms']:.1f} | {r['server_cpu_ms']:.2f} | "
                + (f"{r['database_cpu_ms']:.2f} |" if postmaster else "- |")
            )
        if args.database not in ("all", "etcd"):
            return
        etcd = etcd_leases.Etcd(folder / "etcd")
        etcd.start()
        try:
            e = etcd_leases.run(etcd.url, args.clients, args.seconds)
        finally:
            etcd.stop()
        ordered = sorted(e.latencies)
        print(
            f"| etcd | {len(e.ports)} | {len(e.ports) / e.elapsed:.0f} | {e.duplicates()} | "
            f"0 | {1000 * statistics.median(ordered):.1f} | "
            f"{1000 * ordered[int(len(ordered) * 0.99)]:.1f} | - | - | - | - | - | - |"
        )
        print(f"etcd: {e.lost} transactions lost to another client (retried on the next port)")
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
