"""The lease workload of `server_leases.py` on etcd, for comparison: Debian's `etcd-server`
started on free loopback ports in a temporary folder, and clients that each take the lowest
free port of 10000-59999 on one host with one transaction per port,
`If(create_revision(key) == 0) Then(Put(key, lease))`, retried on the next free port when
another client's transaction won.

The clients speak etcd's v3 JSON gateway (`/v3/kv/range`, `/v3/kv/txn`) with httpx, the
HTTP client the registry's own benchmark uses: no further dependency, and no gRPC client
library (python-etcd3 has had no release since 2019 and fails with current protobuf).

    python benchmarks/etcd_leases.py [--clients 32] [--seconds 10]
"""

from __future__ import annotations

import argparse
import base64
import json
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

PREFIX = "/portplan/leases/ci/tcp/"
FIRST, LAST = 10000, 59999


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _key(port: int) -> str:
    return f"{PREFIX}{port:05d}"  # zero-padded: etcd orders keys as bytes


class Etcd:
    """An etcd server of its own: a temporary data folder, free loopback ports, fsync on
    (etcd's default, as the benchmark's PostgreSQL)."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("etcd")
        if binary is None:
            raise RuntimeError("etcd is not installed (apt-get install etcd-server)")
        self.binary = binary
        self.folder = folder
        self.url = f"http://127.0.0.1:{_free_port()}"
        self.peer = f"http://127.0.0.1:{_free_port()}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        command = [
            self.binary,
            "--name=bench",
            f"--data-dir={self.folder / 'data'}",
            f"--listen-client-urls={self.url}",
            f"--advertise-client-urls={self.url}",
            f"--listen-peer-urls={self.peer}",
            f"--initial-advertise-peer-urls={self.peer}",
            f"--initial-cluster=bench={self.peer}",
        ]
        log = (self.folder / "etcd.log").open("ab")
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=1).json().get("health") == "true":
                    return
            except (httpx.TransportError, ValueError):
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError((self.folder / "etcd.log").read_text()[-2000:])

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def held(http: httpx.Client, url: str) -> set[int]:
    """The ports whose keys exist (one range read of the host's prefix, keys only)."""
    end = PREFIX[:-1] + chr(ord(PREFIX[-1]) + 1)
    body = {"key": _b64(PREFIX), "range_end": _b64(end), "keys_only": True}
    answer = http.post(url + "/v3/kv/range", json=body)
    answer.raise_for_status()
    keys = answer.json().get("kvs", [])
    return {int(base64.b64decode(k["key"]).decode()[len(PREFIX) :]) for k in keys}


def take(http: httpx.Client, url: str, port: int, lease: dict[str, Any]) -> bool:
    """One transaction: create the port's key holding the lease, if no one has created it."""
    key = _b64(_key(port))
    body = {
        "compare": [{"key": key, "target": "CREATE", "create_revision": "0", "result": "EQUAL"}],
        "success": [{"request_put": {"key": key, "value": _b64(json.dumps(lease))}}],
    }
    answer = http.post(url + "/v3/kv/txn", json=body)
    answer.raise_for_status()
    return bool(answer.json().get("succeeded", False))  # proto3 JSON leaves out `false`


def allocate(http: httpx.Client, url: str, holder: str, spread: int = 0) -> tuple[int, int]:
    """A low free port: the `spread`-th free one, so that concurrent clients (each its own
    `spread`) do not all race for the lowest; returns (port, transactions lost)."""
    lost = 0
    taken = held(http, url)
    port, skip = FIRST, spread
    while port <= LAST:
        if port in taken:
            port += 1
            continue
        if skip:
            skip -= 1
        elif take(http, url, port, {"holder": holder, "port": port}):
            return port, lost
        else:
            lost += 1  # another client won this port: try the next free one
        port += 1
    raise RuntimeError("no free port")


@dataclass
class Result:
    ports: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    lost: int = 0
    elapsed: float = 0.0

    def duplicates(self) -> int:
        return sum(n - 1 for n in Counter(self.ports).values() if n > 1)


def run(url: str, clients: int, seconds: float) -> Result:
    """`clients` threads, each with its own HTTP connection, allocating for `seconds`."""
    result = Result()
    lock = threading.Lock()
    stop = threading.Event()

    def client(number: int) -> None:
        with httpx.Client(timeout=30) as http:
            while not stop.is_set():
                started = time.perf_counter()
                port, lost = allocate(http, url, f"bench-{number}", number)
                with lock:
                    result.latencies.append(time.perf_counter() - started)
                    result.ports.append(port)
                    result.lost += lost

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join()
    result.elapsed = time.perf_counter() - began
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    server = Etcd(Path(tempfile.mkdtemp(prefix="portplan-etcd-")))
    server.start()
    try:
        r = run(server.url, args.clients, args.seconds)
        with httpx.Client() as http:
            stored = held(http, server.url)
    finally:
        server.stop()
    print(
        f"etcd: {len(r.ports)} leases, {len(r.ports) / r.elapsed:.0f}/s, "
        f"{r.duplicates()} duplicates, {r.lost} transactions lost, "
        f"stored == acknowledged: {stored == set(r.ports)}"
    )


if __name__ == "__main__":
    main()
