"""The database: the engine for a URL (SQLite in WAL mode, PostgreSQL through psycopg 3 with
a pool), Alembic migrations, the database clock, and write transactions that retry."""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError, IntegrityError, OperationalError

from portplan.errors import PortplanError

T = TypeVar("T")
MIGRATIONS = Path(__file__).parent / "migrations"
_WRITE = "portplan_write"
_WRITERS: weakref.WeakKeyDictionary[Engine, threading.Lock] = weakref.WeakKeyDictionary()


class DatabaseError(PortplanError):
    """The database cannot be used (unreachable, unknown URL scheme, a migration failed)."""


def engine_for(url: str, pool_size: int = 10) -> Engine:
    """An engine for `url`: `sqlite:///PATH` (folder created, WAL, writers queue with
    BEGIN IMMEDIATE) or `postgresql://...` (psycopg 3, a pool of `pool_size`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite(url)
    if parsed.get_backend_name() == "postgresql":
        real = parsed.set(drivername="postgresql+psycopg")
        engine = create_engine(real, pool_size=pool_size, max_overflow=pool_size)
        _ping_when_idle(engine)
        return _queued(engine)
    raise DatabaseError(f"unsupported database URL scheme {parsed.drivername!r}")


# a pooled connection used this recently is taken as alive: no ping before its next use
IDLE_BEFORE_PING = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pre-ping, but only for a connection idle for over IDLE_BEFORE_PING
    seconds: a busy server's connections, checked out again within milliseconds, would
    otherwise pay a round trip (`SELECT 1`) per request. A connection found dead is
    replaced before use, as by the pre-ping; one that dies in that second fails its
    request (a read is tried again once: `readers.run`)."""

    @event.listens_for(engine, "connect")
    def _connected(_dbapi: Any, record: Any) -> None:
        record.info["used"] = time.monotonic()

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi: Any, record: Any) -> None:
        if record is not None:
            record.info["used"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi: Any, record: Any, _proxy: Any) -> None:
        if time.monotonic() - record.info.get("used", 0.0) <= IDLE_BEFORE_PING:
            return
        try:
            alive = engine.dialect.do_ping(dbapi)  # the pre-ping's own `SELECT 1`
        except Exception:  # the driver's error: the pool connects again
            alive = False
        if not alive:
            raise DisconnectionError("the pooled connection is gone")


def _sqlite(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        folder = Path(parsed.database).parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise DatabaseError(
                f"cannot make the database's folder {folder}: {exc.strerror}"
            ) from None
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi: Any, _record: Any) -> None:
        dbapi.isolation_level = None  # let the begin hook below open transactions
        cursor = dbapi.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")  # an acknowledged lease survives power loss
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # a writer takes the write lock first: no deadlock between two upgrading readers;
        # a reader reads its snapshot and waits for no writer (WAL)
        writes = conn.get_execution_options().get(_WRITE, False)
        # on the driver's connection: the statement path would cost a read a third more
        conn.connection.driver_connection.execute(  # type: ignore[union-attr]
            "BEGIN IMMEDIATE" if writes else "BEGIN DEFERRED"
        )

    return _queued(engine)


def _queued(engine: Engine) -> Engine:
    """The write transactions of this process queue on one lock, each handed it in turn:
    they would serialize in the database anyway (SQLite has one writer; every change takes
    its tenant's revision row), and waiting here costs neither SQLite's busy handler, which
    polls with sleeps of up to 100 ms, nor, on PostgreSQL, a wait for the interpreter lock
    at each round trip of a transaction that holds the database's locks."""
    _WRITERS[engine] = threading.Lock()
    return engine


_NOW = {
    "sqlite": text("SELECT (julianday('now') - 2440587.5) * 86400.0"),
    "postgresql": text("SELECT extract(epoch from clock_timestamp())::float8"),
}


def now(conn: Connection) -> float:
    """The database clock, in seconds since the epoch: the one clock leases expire by."""
    return float(conn.execute(_NOW[conn.dialect.name]).scalar_one())


def write(engine: Engine, work: Callable[[Connection], T], attempts: int = 20) -> T:
    """Run `work` in one transaction; a transaction that lost a race on a unique key (or a
    serialization/lock failure) is rolled back and run again from the start."""
    queue = _WRITERS.get(engine) or contextlib.nullcontext()
    for attempt in range(attempts):
        try:
            with queue, engine.connect() as conn:
                conn.execution_options(**{_WRITE: True})
                with conn.begin():
                    return work(conn)
        except (IntegrityError, OperationalError) as error:
            if attempt == attempts - 1 or not _retryable(error):
                raise
            time.sleep(0.002 * (attempt + 1))
    raise AssertionError("unreachable")


def _retryable(error: Exception) -> bool:
    if isinstance(error, IntegrityError):
        return True
    message = str(error).lower()
    return any(m in message for m in ("locked", "deadlock", "serializ", "busy"))


def alembic_config(conn: Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    config.attributes["connection"] = conn
    return config


def head() -> str:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("path_separator", "os")
    found = ScriptDirectory.from_config(config).get_current_head()
    return found or ""


def current(conn: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(conn).get_current_revision()


def migrate(engine: Engine) -> None:
    """Upgrade the schema to the newest migration (creates it in an empty database)."""
    from alembic import command

    try:
        with engine.begin() as conn:
            command.upgrade(alembic_config(conn), "head")
    except OperationalError as error:
        raise DatabaseError(f"cannot migrate the database: {error.orig}") from None


def is_current(engine: Engine) -> bool:
    with engine.connect() as conn:
        return current(conn) == head()
