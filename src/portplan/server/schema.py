"""The registry's tables, once, in SQLAlchemy Core: the same schema on SQLite and PostgreSQL.

A port is held by a live lease exactly when it has a row in `lease_ports`, whose primary key
(tenant, host, protocol, port) is the no-duplicate rule: the database refuses a second holder.
Releasing or expiring a lease deletes its rows in the same transaction that ends it.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

tenants = Table(
    "tenants",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False, unique=True),
    # the tenant's feed counter: bumped in the transaction of each change (commit-ordered)
    Column("revision", BigInteger, nullable=False, server_default="0"),
    Column("created_at", Float, nullable=False),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("scope", String(10), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("revoked", Boolean, nullable=False, server_default="0"),
)

systems = Table(
    "systems",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("tenant_id", "name", name="uq_systems_tenant_name"),
)

plan_revisions = Table(
    "plan_revisions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("system_id", Integer, ForeignKey("systems.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("created_at", Float, nullable=False),
    # how many files the plan includes (their rows in plan_files): none, no query for them
    Column("file_count", Integer, nullable=False, server_default="0"),
    UniqueConstraint("system_id", "number", name="uq_plan_revisions_number"),
)

# the files a revision's plan includes, by their paths under the plan's folder
plan_files = Table(
    "plan_files",
    metadata,
    Column("revision_id", Integer, ForeignKey("plan_revisions.id"), nullable=False),
    Column("path", String(300), nullable=False),
    Column("text", Text, nullable=False),
    PrimaryKeyConstraint("revision_id", "path", name="pk_plan_files"),
)

leases = Table(
    "leases",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("tenant_id", Integer, ForeignKey("tenants.id"), nullable=False),
    Column("host", String(200), nullable=False),
    Column("holder", String(200), nullable=False),
    Column("system", String(200), nullable=True),
    Column("state", String(10), nullable=False),  # live | released | expired
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float, nullable=True),  # None: until released
    Column("ended_at", Float, nullable=True),
    Column("idempotency_key", String(200), nullable=True),
    Column("request_hash", String(64), nullable=True),
    Column("ports", Text, nullable=False),  # JSON list, kept after the lease ends
    UniqueConstraint("tenant_id", "idempotency_key", name="uq_leases_idempotency"),
)
Index("ix_leases_live", leases.c.tenant_id, leases.c.state, leases.c.expires_at)

lease_ports = Table(
    "lease_ports",
    metadata,
    Column("tenant_id", Integer, nullable=False),
    Column("host", String(200), nullable=False),
    Column("protocol", String(10), nullable=False),
    Column("port", Integer, nullable=False),
    Column("lease_id", String(32), ForeignKey("leases.id"), nullable=False),
    PrimaryKeyConstraint("tenant_id", "host", "protocol", "port", name="pk_lease_ports"),
)
Index("ix_lease_ports_lease", lease_ports.c.lease_id)

events = Table(
    "events",
    metadata,
    Column("tenant_id", Integer, nullable=False),
    Column("revision", BigInteger, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("data", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    PrimaryKeyConstraint("tenant_id", "revision", name="pk_events"),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("tenant_id", Integer, nullable=False),
    Column("actor", String(100), nullable=False),
    Column("action", String(40), nullable=False),
    Column("subject", String(300), nullable=False),
    Column("before", Text, nullable=True),
    Column("after", Text, nullable=True),
    Column("created_at", Float, nullable=False),
)
Index("ix_audit_tenant", audit.c.tenant_id, audit.c.id)

# a dashboard session: the SHA-256 of its id (the id itself is a credential, stored nowhere)
dashboard_sessions = Table(
    "dashboard_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),
    Column("token_hash", String(64), nullable=False),
    Column("expires_at", Float, nullable=False),
)
Index("ix_dashboard_sessions_expires", dashboard_sessions.c.expires_at)
