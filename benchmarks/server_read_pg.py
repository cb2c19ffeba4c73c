"""What a read of the registry's app costs on PostgreSQL, in-process (no HTTP server, no
client sockets: the app called as ASGI, one read at a time): round trips to the database
per read (libpq's own trace of the protocol), wall time and CPU per read (the least of
`--batches` batches of 100, the benchmark's four reads in turn). A real PostgreSQL on
loopback, the plan and 200 leases of `server_reads.py`.

Each checkout given is measured in a child process of its own, by PYTHONPATH, the
checkouts in turn, `--rounds` times (interleaved: a shared machine's load falls on all):

    python benchmarks/server_read_pg.py [--rounds 3] [--batches 10] [SRC ...]

SRC: a checkout's `src` folder (default: this one's).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _child(url: str, token: str, paths: list[str], batches: int) -> dict[str, float]:
    import anyio
    from benchmarks.server_read_cpu import _read
    from tests.server.postgres import round_trips

    from portplan.server.app import create_app
    from portplan.server.settings import Settings

    app = create_app(Settings(database_url=url))
    engine = app.state.engine

    async def reads(count: int) -> None:
        for i in range(count):
            await _read(app, paths[i % len(paths)], token)

    anyio.run(reads, 200)  # warm: caches, compiled statements, the pool
    cpu = wall = float("inf")
    for _ in range(batches):
        began, began_cpu = time.perf_counter(), time.process_time()
        anyio.run(reads, 100)
        wall = min(wall, (time.perf_counter() - began) / 100)
        cpu = min(cpu, (time.process_time() - began_cpu) / 100)
    with round_trips(engine) as sent:
        anyio.run(reads, 100)
        trips = len(sent()) / 100
    engine.dispose()
    return {"round_trips": trips, "wall_ms": 1000 * wall, "cpu_ms": 1000 * cpu}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("sources", nargs="*", default=[str(ROOT / "src")])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        url, token, paths = json.loads(args.child)
        print(json.dumps(_child(url, token, paths, args.batches)))
        return
    from benchmarks.server_reads import fill
    from fastapi.testclient import TestClient
    from tests.server.postgres import Server

    from portplan.server.app import create_app
    from portplan.server.settings import Settings

    pg = Server(Path(tempfile.mkdtemp(prefix="portplan-readpg-")) / "pg")
    pg.start()
    try:
        url = pg.create_database("reads")
        with TestClient(create_app(Settings(database_url=url))) as http:
            token, paths = fill(http, url)
        print("| checkout | round | round trips / read | wall ms / read | CPU ms / read |")
        print("|---|---|---|---|---|")
        for round_ in range(1, args.rounds + 1):
            for source in args.sources:
                env = {**os.environ, "PYTHONPATH": source}
                command = [sys.executable, __file__, "--batches", str(args.batches)]
                command += ["--child", json.dumps([url, token, paths])]
                done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
                found: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
                print(
                    f"| {source} | {round_} | {found['round_trips']:.2f} | "
                    f"{found['wall_ms']:.3f} | {found['cpu_ms']:.3f} |",
                    flush=True,
                )
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
