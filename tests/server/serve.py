"""A real `portplan serve` child process on a free loopback port, for the tests and the
benchmarks: started, then waited for until `/readyz` answers 200."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.server.postgres import free_port


def start(
    database: str, log: Path, workers: int | None = None, **env: str
) -> tuple[subprocess.Popen[bytes], str]:
    """The server process and its base URL; its output is appended to `log`. A server that
    is not ready within 30 s is killed and its log raised."""
    port = free_port()
    command = [sys.executable, "-m", "portplan", "serve", "--db", database]
    command += ["--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers)] if workers else []
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=log.open("a"), stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(log.read_text())
