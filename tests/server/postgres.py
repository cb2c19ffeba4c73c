"""A real PostgreSQL server for the tests: initdb + pg_ctl in a temporary folder, on a free
loopback port, run as the `postgres` user when the tests run as root (it refuses root)."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def binaries() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).parent
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(versions[-1]).parent if versions else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, folder: Path, durable: bool = False) -> None:
        self.durable = durable  # fsync on (benchmarks); the tests skip it
        bin_dir = binaries()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = bin_dir
        self.folder = folder
        self.data = folder / "data"
        self.port = free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            self.prefix = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self.prefix, *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.prefix:
            shutil.chown(self.folder, "postgres", "postgres")
            # its parents must be passable for the postgres user too
            for parent in self.folder.parents:
                if parent == Path(tempfile.gettempdir()):
                    break
                os.chmod(parent, os.stat(parent).st_mode | 0o711)
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "portplan")
        options = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1"
        options += " -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        log = str(self.folder / "log")
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start"
        )

    def stop(self) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")

    def pid(self) -> int:
        """The postmaster's process id (its first line of postmaster.pid)."""
        return int((self.data / "postmaster.pid").read_text().split()[0])

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://portplan@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, template: str | None = None) -> str:
        import psycopg

        with psycopg.connect(
            self.url().replace("postgresql://", "postgresql://", 1), autocommit=True
        ) as conn:
            extra = f" TEMPLATE {template}" if template else ""
            conn.execute(f"CREATE DATABASE {name}{extra}")  # type: ignore[arg-type]
        return self.url(name)


@contextmanager
def round_trips(engine: Any) -> Iterator[Callable[[], list[str]]]:
    """Count what the engine's PostgreSQL connections send, by libpq's own trace of the
    protocol: the block gets a function that returns, so far, each message that ends a
    round trip (`Query` for a simple query such as BEGIN, `Sync` for one with
    parameters), with the statement of a simple query. The pool is emptied first, so that
    every connection used is a new one, traced."""
    from sqlalchemy import event

    engine.dispose()
    log = Path(tempfile.mkstemp(prefix="portplan-pq-", suffix=".trace")[1])
    sink = log.open("w")
    traced: list[Any] = []

    def trace(dbapi: Any, _record: Any) -> None:
        dbapi.pgconn.trace(sink.fileno())
        dbapi.pgconn.set_trace_flags(pq_flags())
        traced.append(dbapi.pgconn)

    def sent() -> list[str]:
        sink.flush()
        found = []
        for line in log.read_text().splitlines():
            parts = line.split("\t")
            if parts[0] == "F" and len(parts) > 2 and parts[2] in ("Query", "Sync"):
                found.append(f"Query {parts[3].strip()}" if parts[2] == "Query" else "Sync")
        return found

    event.listen(engine, "connect", trace)
    try:
        yield sent
    finally:
        event.remove(engine, "connect", trace)
        engine.dispose()
        sink.close()
        log.unlink()


def pq_flags() -> Any:
    from psycopg import pq

    return pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE
