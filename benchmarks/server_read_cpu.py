"""CPU per read of the registry's app, in-process: no HTTP server, no socket, no client, so
that a shared machine's load changes the figure little (the least of `--batches` batches of
100 reads is kept). The same plan, leases and reads as `server_reads.py`; SQLite.

    python benchmarks/server_read_cpu.py [--batches 15]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.server_leases import token_for
from benchmarks.server_reads import fill

from portplan.server.app import create_app
from portplan.server.settings import Settings


async def _read(app: Any, path: str, token: str) -> None:
    route, _, query = path.partition("?")
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"registry"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8765),
        "state": {},
    }
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    assert sent[0]["status"] == 200, (path, sent)


async def _least(app: Any, paths: list[str], token: str, batches: int) -> float:
    for path in paths * 50:  # warm: caches, compiled statements
        await _read(app, path, token)
    best = float("inf")
    for _ in range(batches):
        began = time.process_time()
        for i in range(100):
            await _read(app, paths[i % len(paths)], token)
        best = min(best, (time.process_time() - began) / 100)
    return best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--batches", type=int, default=15)
    args = parser.parse_args()
    url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='portplan-cpu-')) / 'registry.db'}"
    app = create_app(Settings(database_url=url))
    with TestClient(app) as http:
        _, paths = fill(http, url)
        token = token_for(url, "read")
        print("| read | CPU ms |\n|---|---|")
        for path in [*paths, None]:
            chosen = [path] if path else paths
            least = http.portal.call(_least, app, chosen, token, args.batches)
            print(f"| {path or 'the four in turn'} | {1000 * least:.2f} |")


if __name__ == "__main__":
    main()
