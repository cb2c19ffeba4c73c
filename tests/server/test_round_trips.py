"""The statements a lease sends to the database: on PostgreSQL each is a round trip, and a
lease's rate under load is bounded by how long its transaction holds the tenant's row."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from portplan.server import db, feed, leases, tenants
from portplan.server.settings import Settings
from tests.server.conftest import Registry
from tests.server.postgres import Server, round_trips

# grant: the host's lock with the clock, the expired leases, the tenant's plans, the lowest
# free port, then the lease, its ports, the audit entry, the revision, the event and the
# NOTIFY in one statement (SQLite, in-process: the clock and one statement each)
GRANT = {"postgresql": 5, "sqlite": 9}
# renew, release: the clock, the expired leases, the lease, then the change with its feed
# (SQLite: the change, the audit entry, the revision and the event apart)
RENEW = {"postgresql": 4, "sqlite": 7}
RELEASE = {"postgresql": 4, "sqlite": 8}


@contextmanager
def _statements(registry: Registry) -> Iterator[list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(registry.engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(registry.engine, "before_cursor_execute", count)


def _write(registry: Registry, work: Callable[[Any], Any]) -> Any:
    return db.write(registry.engine, work)


def test_a_lease_is_five_statements_on_postgresql(registry: Registry) -> None:
    token = registry.token("acme", "lease")
    with registry.engine.connect() as conn:
        caller = tenants.caller(conn, token)
    assert caller is not None
    wish = leases.Wish(first=20000, last=20009)
    request = leases.Request(holder="ci", wishes=(wish,), host="ci", ttl_seconds=60)
    _write(registry, lambda c: leases.grant(c, caller, request))
    dialect = registry.engine.dialect.name
    with _statements(registry) as seen:
        lease, _ = _write(registry, lambda c: leases.grant(c, caller, request))
    assert len(seen) == GRANT[dialect], seen
    assert [p["port"] for p in lease["ports"]] == [20001]
    with _statements(registry) as seen:
        renewed = _write(registry, lambda c: leases.renew(c, caller, lease["id"], None))
    assert (len(seen), renewed["expires_at"]) == (RENEW[dialect], None)
    with _statements(registry) as seen:
        released = _write(registry, lambda c: leases.release(c, caller, lease["id"]))
    assert (len(seen), released["state"]) == (RELEASE[dialect], "released")
    # what the feed and the audit log recorded, and the lease as stored, match the answers
    with registry.engine.connect() as conn:
        stored = leases.get(conn, caller, lease["id"])
        audit = [(e["action"], e["after"]) for e in feed.audit_log(conn, caller.tenant_id)]
    assert stored == released
    assert audit[-3:] == [
        ("lease.granted", lease),
        ("lease.renewed", renewed),
        ("lease.released", released),
    ]


def test_a_lease_reads_the_tenants_plans_in_one_statement(registry: Registry) -> None:
    """A lease skips the ports every stored plan of the tenant assigns: one query for the
    newest revision of all its systems, not one a system."""
    from tests.server.test_plans import PLAN

    admin = registry.client(registry.token("acme"))
    for system in ("shop", "blog", "wiki"):
        text = PLAN.replace("system: shop", f"system: {system}")
        assert admin.put(f"/v1/systems/{system}/plan", json={"text": text}).status_code == 200
    with registry.engine.connect() as conn:
        caller = tenants.caller(conn, registry.token("acme", "lease"))
    assert caller is not None
    wish = leases.Wish(range="web")
    request = leases.Request(holder="ci", wishes=(wish,), system="shop")
    with _statements(registry) as seen:
        lease, _ = _write(registry, lambda c: leases.grant(c, caller, request))
    # and the system's own plan, read first
    assert len(seen) == GRANT[registry.engine.dialect.name] + 1, seen
    assert lease["ports"][0]["port"] == 8003


def test_a_read_is_two_round_trips_on_postgresql(postgres: Server) -> None:
    """The token, then the answer: no ping of a connection in use a moment ago, no BEGIN,
    no ROLLBACK (each statement of a read is a transaction of its own); 5 before."""
    from tests.server.test_plans import PLAN

    url = postgres.create_database("reads_round_trips", template="portplan_template")
    registry = Registry(Settings(database_url=url))
    try:
        admin = registry.client(registry.token("acme"))
        assert admin.put("/v1/systems/shop/plan", json={"text": PLAN}).status_code == 200
        assert admin.get("/v1/systems/shop/ports").status_code == 200  # its answers kept
        clock = 'Query "SELECT extract(epoch from clock_timestamp())::float8"'
        expected = {  # the token, then the answer (leases: the database clock, the leases)
            "/v1/systems/shop/ports": ["Sync", "Sync"],
            "/v1/leases": ["Sync", clock, "Sync"],
        }
        with round_trips(registry.engine) as sent:
            for path in ("/v1/systems/shop/ports", "/v1/systems/shop/ports", "/v1/leases"):
                before = len(sent())
                assert admin.get(path).status_code == 200
                assert sent()[before:] == expected[path], path
    finally:
        registry.engine.dispose()


def test_a_read_on_connections_the_database_ended_is_answered(postgres: Server) -> None:
    """Pooled connections the server ended (a restart, an administrator) are found out,
    by the ping of an idle one or by the read itself, which runs again on a new one:
    never an error answer."""
    import psycopg

    url = postgres.create_database("reads_ended", template="portplan_template")
    registry = Registry(Settings(database_url=url))
    try:
        reader = registry.client(registry.token("acme", "read"))
        for idle in (0.0, 1.5):  # used a moment ago (no ping), then idle (pinged)
            assert reader.get("/v1/leases").status_code == 200
            with psycopg.connect(postgres.url("postgres"), autocommit=True) as admin:
                admin.execute(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = 'reads_ended' AND pid <> pg_backend_pid()"
                )
            time.sleep(idle)
            assert reader.get("/v1/leases").status_code == 200, idle
    finally:
        registry.engine.dispose()
