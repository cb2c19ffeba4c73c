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
    is not ready within 30 s is killed and its log raised; one that lost its free port to
    another program before it bound it is started again on another."""
    for _ in range(3):
        started = _start(database, log, workers, env)
        if started is not None:
            return started
    raise RuntimeError(log.read_text())


def _start(
    database: str, log: Path, workers: int | None, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], str] | None:
    port = free_port()
    command = [sys.executable, "-m", "portplan", "serve", "--db", database]
    command += ["--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers)] if workers else []
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=log.open("a"), stderr=subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if process.poll() is not None:  # exited: the port was taken meanwhile
            return None
        try:
            if httpx.get(base + "/readyz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(log.read_text())
