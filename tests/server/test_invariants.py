"""The no-duplicate rule under concurrency and under random sequences, and the schema that
the migrations build against the one `schema.py` declares."""

from __future__ import annotations

import threading
from collections import Counter

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select

from portplan.server import db, leases, tenants
from portplan.server.schema import lease_ports, metadata
from tests.server.conftest import Registry


def test_the_migrations_build_the_declared_schema(registry: Registry) -> None:
    with registry.engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
        assert differences == []
        assert db.current(conn) == db.head() == "0003"


def test_32_concurrent_clients_never_share_a_port(registry: Registry) -> None:
    token = registry.token("acme", "lease")
    with registry.engine.connect() as conn:
        caller = tenants.caller(conn, token)
    assert caller is not None
    granted: list[int] = []
    errors: list[BaseException] = []
    wish = leases.Wish(first=20000, last=20999)

    def client(n: int) -> None:
        try:
            for i in range(4):
                request = leases.Request(holder=f"c{n}-{i}", wishes=(wish,), host="ci")
                lease, _ = db.write(
                    registry.engine, lambda c, r=request: leases.grant(c, caller, r)
                )
                granted.append(lease["ports"][0]["port"])
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(32)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(granted) == 128
    assert [p for p, n in Counter(granted).items() if n > 1] == []
    assert sorted(granted) == list(range(20000, 20128))


class LeaseMachine(RuleBasedStateMachine):
    """Random leases, renewals, releases and expiries: no two live leases share a
    (host, protocol, port), and every acknowledged live lease is readable with its ports."""

    registry: Registry

    def __init__(self) -> None:
        super().__init__()
        engine = self.registry.engine
        tenant = f"t{id(self)}"
        token = db.write(engine, lambda c: tenants.create_token(c, tenant, "m", "lease"))
        with engine.connect() as conn:
            found = tenants.caller(conn, token)
        assert found is not None
        self.caller = found
        self.live: dict[str, dict[str, object]] = {}

    def _write(self, work: object) -> object:
        return db.write(self.registry.engine, work)  # type: ignore[arg-type]

    @rule(
        host=st.sampled_from(["a", "b"]),
        protocol=st.sampled_from(["tcp", "udp"]),
        count=st.integers(1, 3),
        ttl=st.sampled_from([None, 0.05, 60.0]),
    )
    def lease(self, host: str, protocol: str, count: int, ttl: float | None) -> None:
        wishes = tuple(
            leases.Wish(first=30000, last=30005, protocol=protocol) for _ in range(count)
        )
        request = leases.Request(holder="m", wishes=wishes, host=host, ttl_seconds=ttl)
        try:
            lease, _ = self._write(lambda c: leases.grant(c, self.caller, request))  # type: ignore[misc]
        except Exception as error:
            assert getattr(error, "code", "") == "no_free_port"
            return
        if ttl is None or ttl > 1:
            self.live[lease["id"]] = lease

    @precondition(lambda self: self.live)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        lease_id = data.draw(st.sampled_from(sorted(self.live)))
        self._write(lambda c: leases.release(c, self.caller, lease_id))
        del self.live[lease_id]

    @invariant()
    def no_duplicates_and_acknowledged_leases_are_there(self) -> None:
        with self.registry.engine.connect() as conn:
            rows = conn.execute(
                select(
                    lease_ports.c.host,
                    lease_ports.c.protocol,
                    lease_ports.c.port,
                    lease_ports.c.lease_id,
                ).where(lease_ports.c.tenant_id == self.caller.tenant_id)
            ).all()
            keys = Counter((r[0], r[1], r[2]) for r in rows)
            assert [k for k, n in keys.items() if n > 1] == []
            for lease_id, lease in self.live.items():
                stored = leases.get(conn, self.caller, lease_id)
                assert stored["state"] == "live"
                assert stored["ports"] == lease["ports"]
                held = {(r[0], r[1], r[2]) for r in rows if r[3] == lease_id}
                assert held == {(lease["host"], p["protocol"], p["port"]) for p in lease["ports"]}  # type: ignore[index, union-attr]


def test_the_lease_state_machine(registry: Registry) -> None:
    LeaseMachine.registry = registry
    test = LeaseMachine.TestCase
    test.settings = settings(
        max_examples=8,
        stateful_step_count=10,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
    )
    test().runTest()


def test_an_old_database_waits_for_migrate_then_is_upgraded(database_url: str) -> None:
    """A database at an older revision (here: before the first) is not migrated behind the
    operator's back: /readyz says so until `serve --migrate` upgrades it."""
    from alembic import command

    from portplan.server.app import create_app
    from portplan.server.settings import Settings
    from tests.server.conftest import _Sync

    engine = db.engine_for(database_url)
    db.migrate(engine)
    with engine.begin() as conn:
        command.downgrade(db.alembic_config(conn), "base")
    engine.dispose()

    import httpx

    stale = create_app(Settings(database_url=database_url))
    answer = _Sync(httpx.ASGITransport(app=stale), {}).get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["error"] == {
        "code": "migrations_pending",
        "message": "the database schema is not current",
        "details": {"current": None, "head": "0003"},
    }
    stale.state.engine.dispose()
    upgraded = create_app(Settings(database_url=database_url, migrate=True))
    assert _Sync(httpx.ASGITransport(app=upgraded), {}).get("/readyz").status_code == 200
    upgraded.state.engine.dispose()
