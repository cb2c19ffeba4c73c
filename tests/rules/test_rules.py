"""Each rule: a table of topology snippets -> the exact findings (rule, line, column, message)."""

from __future__ import annotations

import textwrap

import pytest

from portplan import rules
from portplan.findings import Level
from portplan.model import PortRange
from portplan.plan.loader import load_text
from portplan.rules import Context

CTX = Context(ephemeral=PortRange(32768, 60999))


def findings(text: str, rule: str) -> list[tuple[int, int, str]]:
    topology = load_text(textwrap.dedent(text), "t.yaml")
    found = rules.run(topology, CTX, [rules.get(rule)])
    return [(f.location.line, f.location.column, f.message) for f in found if f.location]


CASES = [
    # PP101 duplicate-binding
    (
        "PP101",
        """
        services:
          api: {ports: {http: 8000}}
          web: {ports: {http: 8000}}
        """,
        [(4, 23, "port 8000/tcp on host default is bound by both api.http and web.http")],
    ),
    (
        "PP101",
        """
        services:
          api: {ports: {http: 8000}}
          dns: {ports: {http: {port: 8000, protocol: udp}}}
        """,
        [],
    ),
    (
        "PP101",
        """
        services:
          a: {ports: {http: {port: 40040, address: 127.0.0.1}}}
          b: {ports: {http: {port: 40040, address: 127.0.0.2}}}
        """,
        [],
    ),
    (
        "PP101",
        """
        services:
          a: {ports: {http: {port: 40040, address: 127.0.0.1}}}
          b: {ports: {http: {port: 40040, address: 0.0.0.0}}}
        """,
        [
            (
                4,
                28,
                "port 40040/tcp on host default is bound by both a.http on 127.0.0.1 "
                "and b.http on 0.0.0.0",
            )
        ],
    ),
    (
        "PP101",
        """
        services:
          a: {host: pc, ports: {http: 9001}}
          b: {host: server, ports: {http: 9001}}
        """,
        [],
    ),
    (
        "PP101",
        """
        services:
          a: {ports: {http: 8000, admin: 8000}}
        """,
        [(3, 34, "port 8000/tcp on host default is bound by both a.http and a.admin")],
    ),
    # PP102 port-outside-range
    (
        "PP102",
        """
        ranges:
          core: {ports: 8000-8009, category: core}
        services:
          api: {category: core, ports: {http: 8020}}
        """,
        [(5, 39, "api.http is 8020, outside its range core (8000-8009)")],
    ),
    (
        "PP102",
        """
        ranges:
          core: {ports: 8000-8009, category: core}
          grpc: {ports: 50051-50070, kind: grpc}
        services:
          api: {category: core, ports: {http: 8001, grpc: 50051}}
          db: {ports: {postgresql: 5432}}
        """,
        [],
    ),
    # PP103 reserved-port
    (
        "PP103",
        """
        reserved:
          - {ports: 8004-8006, reason: future expansion}
        services:
          api: {ports: {http: 8005}}
        """,
        [(5, 23, "api.http takes 8005, reserved 8004-8006 (future expansion)")],
    ),
    (
        "PP103",
        """
        reserved: [8010]
        services:
          later: {status: reserved, ports: {http: 8010}}
          api: {ports: {http: 8011}}
        """,
        [],
    ),
    # PP104 overlapping-ranges
    (
        "PP104",
        """
        ranges:
          http: {ports: 8080-8099, kind: http}
          ws: {ports: 8090-8099, kind: ws}
          pool: {ports: 8000-9000}
        """,
        [(4, 3, "range ws (8090-8099) overlaps range http (8080-8099) on 8090-8099")],
    ),
    # PP105 unknown-dependency
    (
        "PP105",
        """
        services:
          api:
            depends_on: [token engine, dbb]
          token-engine: {}
        """,
        [(4, 32, "api depends on dbb, which is not a service of this plan")],
    ),
    # PP106 dependency-cycle
    (
        "PP106",
        """
        services:
          a: {depends_on: [b]}
          b: {depends_on: [c]}
          c: {depends_on: [a]}
          d: {depends_on: [d]}
        """,
        [(5, 20, "dependency cycle: a -> b -> c -> a"), (6, 20, "dependency cycle: d -> d")],
    ),
    (
        "PP106",
        """
        services:
          a: {depends_on: [b, c]}
          b: {depends_on: [c]}
          c: {}
        """,
        [],
    ),
    # PP107 exposure-violation
    (
        "PP107",
        """
        services:
          db: {exposure: internal, ports: {postgresql: {port: 5432, address: 0.0.0.0}}}
          ui: {exposure: local, ports: {http: {port: 3000, address: 10.0.0.5}}}
          ok: {exposure: local, ports: {http: {port: 3001, address: 127.0.0.1}}}
        """,
        [
            (3, 55, "db.postgresql (5432) is internal but bound to every interface (0.0.0.0)"),
            (4, 46, "ui.http (3000) is local but bound to 10.0.0.5, not a loopback address"),
        ],
    ),
    (
        "PP107",
        """
        zones:
          internal: {exposure: internal}
        networks:
          backend: {zone: internal}
        services:
          api: {zone: internal, exposure: public, ports: {http: 8000}}
          web: {networks: [backend], ports: {http: {port: 80, exposure: public}}}
        """,
        [
            (7, 57, "api.http (8000) is public but its zone internal allows at most internal"),
            (8, 51, "web.http (80) is public but its zone internal allows at most internal"),
        ],
    ),
    # PP108 privileged-port
    (
        "PP108",
        """
        services:
          web: {ports: {http: 80, alt: 8080}}
        """,
        [
            (
                3,
                23,
                "web.http is 80, a privileged port (< 1024): binding it needs root or "
                "CAP_NET_BIND_SERVICE",
            )
        ],
    ),
    # PP109 ephemeral-port
    (
        "PP109",
        """
        services:
          api: {ports: {grpc: 50051, http: 8080}}
        """,
        [
            (
                3,
                23,
                "api.grpc is 50051, inside the ephemeral range 32768-60999 (this "
                "machine's): an outgoing connection may take it first",
            )
        ],
    ),
    (
        "PP109",
        """
        ephemeral: 49152-65535
        hosts:
          edge: {ephemeral: 40000-40100}
        services:
          api: {ports: {grpc: 50051}}
          gw: {host: edge, ports: {http: 40001}}
        """,
        [
            (
                6,
                23,
                "api.grpc is 50051, inside the ephemeral range 49152-65535 (declared): an "
                "outgoing connection may take it first",
            ),
            (
                7,
                34,
                "gw.http is 40001, inside the ephemeral range 40000-40100 (host edge): an "
                "outgoing connection may take it first",
            ),
        ],
    ),
    # PP110 well-known-port
    (
        "PP110",
        """
        services:
          billing: {ports: {http: 5432}}
          postgres: {ports: {postgresql: 5432}}
          cache: {technology: Redis, ports: {redis: 6379}}
          perf: {ports: {http: 9100}}
        """,
        [
            (3, 27, "billing.http is 5432, the well-known port of PostgreSQL"),
            (6, 24, "perf.http is 9100, the well-known port of Prometheus node exporter"),
        ],
    ),
    # PP111 hardcoded-secret
    (
        "PP111",
        """
        services:
          api:
            environment:
              JWT_SECRET: hunter2
              API_TOKEN: ${API_TOKEN}
              DATABASE_URL: postgresql://app:s3cret@db:5432/app
              CACHE_URL: redis://cache:6379
              USE_TOKEN: "true"
          worker:
            environment: ["DB_PASSWORD=swordfish", "REDIS_PASSWORD="]
          example:
            environment:
              API_KEY: <your-api-key>
              STRIPE_TOKEN: your_stripe_token_here
              ADMIN_PASSWORD: changeme
              SESSION_SECRET: xxxxxxxx
              MASKED_PASSWORD: "********"
              BROKER_URL: amqp://guest:<password>@rabbit:5672/
              DB_PASS: p4ssw0rd
              N8N_ENCRYPTION_KEY: changeEncryptionKey
              DB_USER_PASSWORD: password
          jobs:
            environment:
              JDBC_URL: jdbc:postgresql://db:5432/app?user=app&password=jdbcpw
              PG_CONN: host=db port=5432 password=libpqpw
              UPSTREAM_HEADER: Bearer upstream9
              CI_CHECKOUT: ghp_0123456789abcdefghijABCDEFGHIJ012345
        """,
        [
            (
                5,
                19,
                "api sets JWT_SECRET to a literal secret value; use a reference such as "
                "${JWT_SECRET} or a secret store",
            ),
            (
                7,
                21,
                "api sets DATABASE_URL to a password inside a URL; use a reference such "
                "as ${DATABASE_URL} or a secret store",
            ),
            (
                11,
                19,
                "worker sets DB_PASSWORD to a literal secret value; use a reference "
                "such as ${DB_PASSWORD} or a secret store",
            ),
            (
                20,
                16,
                "example sets DB_PASS to a literal secret value; use a reference "
                "such as ${DB_PASS} or a secret store",
            ),
            (
                25,
                17,
                "jobs sets JDBC_URL to a password inside a connection string; use a "
                "reference such as ${JDBC_URL} or a secret store",
            ),
            (
                26,
                16,
                "jobs sets PG_CONN to a password inside a connection string; use a "
                "reference such as ${PG_CONN} or a secret store",
            ),
            (
                27,
                24,
                "jobs sets UPSTREAM_HEADER to an authorization header value; use a "
                "reference such as ${UPSTREAM_HEADER} or a secret store",
            ),
            (
                28,
                20,
                "jobs sets CI_CHECKOUT to a GitHub token; use a reference such as "
                "${CI_CHECKOUT} or a secret store",
            ),
        ],
    ),
    (
        "PP111",
        """
        defaults:
          run:
            env: {SENTRY_DSN: "https://0123456789abcdef0123456789abcdef@o1.ingest.example.io/4"}
        services:
          api:
            run:
              command: [python, -m, api]
              env:
                API_TOKEN: ${API_TOKEN}
                DATABASE_URL: postgresql://app:${DATABASE_PASSWORD}@db:5432/app
                LOG_LEVEL: debug
                STRIPE_KEY: sk_live_4eC39HqLyjWDarjtT1zdp7dc
          worker:
            environment: {DB_PASSWORD: "${DB_PASSWORD}"}
            run:
              command: ./worker --queue jobs
              env: {DB_PASSWORD: swordfish, ADMIN_PASSWORD: changeme}
        """,
        [
            (
                4,
                23,
                "api sets SENTRY_DSN in run.env to a key inside a URL; use a reference "
                "such as ${SENTRY_DSN} or a secret store",
            ),
            (
                4,
                23,
                "worker sets SENTRY_DSN in run.env to a key inside a URL; use a reference "
                "such as ${SENTRY_DSN} or a secret store",
            ),
            (
                13,
                21,
                "api sets STRIPE_KEY in run.env to a Stripe live key; use a reference such as "
                "${STRIPE_KEY} or a secret store",
            ),
            (
                18,
                26,
                "worker sets DB_PASSWORD in run.env to a literal secret value; use a "
                "reference such as ${DB_PASSWORD} or a secret store",
            ),
        ],
    ),
    # PP112 unknown-reference
    (
        "PP112",
        """
        zones:
          dmz: {exposure: public}
        networks:
          front: {}
        services:
          web: {zone: dmx, networks: [front, back]}
        """,
        [
            (7, 3, "web names network 'back', which is not declared (known: front)"),
            (7, 3, "web names zone 'dmx', which is not declared (known: dmz)"),
        ],
    ),
    # Published and unpublished ports: the host rules see a published port's host side only
    (
        "PP101",
        """
        services:
          auth-db: {ports: {postgresql: {port: 5432, published: false}}}
          billing-db: {ports: {postgresql: {port: 5432, published: false}}}
          search-db: {ports: {postgresql: 5432}}
        """,
        [],
    ),
    (
        "PP101",
        """
        services:
          web: {ports: {http: {port: 8088, target: 80}}}
          proxy: {ports: {http: {port: 8089, target: 80}}}
          admin: {ports: {http: {port: 80, target: 8088}}}
        """,
        [],
    ),
    (
        "PP101",
        """
        services:
          web: {ports: {http: {port: 8088, target: 80}}}
          adminer: {ports: {http: 8088}}
        """,
        [(4, 27, "port 8088/tcp on host default is bound by both web.http and adminer.http")],
    ),
    (
        "PP101",
        """
        services:
          a: {ports: {http: {port: 8000, published: false}, admin: {port: 8000, published: false}}}
          b: {ports: {http: {port: 9000, published: false}, admin: 9000}}
        """,
        [(3, 67, "port 8000/tcp inside a (not published) is bound by both a.http and a.admin")],
    ),
    (
        "PP102",
        """
        ranges:
          core: {ports: 8000-8009, category: core}
        services:
          api: {category: core, ports: {http: {port: 8020, target: 8000}}}
          db: {category: core, ports: {postgresql: {port: 5432, published: false}}}
        """,
        [(5, 46, "api.http is 8020, outside its range core (8000-8009)")],
    ),
    (  # which ranges apply is asked once per category, kind and host: each answer its own
        "PP102",
        """
        ranges:
          a: {ports: 8000-8009, category: core, host: one}
          b: {ports: 9000-9009, kind: grpc}
        services:
          api: {category: core, host: one, ports: {http: 8020, grpc: 9001}}
          web: {category: core, host: two, ports: {http: 8020, grpc: 8001}}
          job: {category: core, host: one, ports: {http: 8001, grpc: 9020}}
        """,
        [
            (6, 50, "api.http is 8020, outside its range a (8000-8009)"),
            (7, 62, "web.grpc is 8001, outside its range b (9000-9009)"),
            (8, 62, "job.grpc is 9020, outside its range a (8000-8009), b (9000-9009)"),
        ],
    ),
    (  # the zones of a zone and its networks, asked once: each port's exposure its own
        "PP107",
        """
        zones: {inside: {exposure: internal, networks: [back]}}
        services:
          a: {networks: [back], ports: {http: 80}}
          b: {networks: [back], exposure: public, ports: {http: 81, admin: {port: 82, exposure: local}}}
          c: {networks: [back], ports: {http: {port: 83, exposure: public, address: 0.0.0.0}}}
        """,
        [
            (5, 57, "b.http (81) is public but its zone inside allows at most internal"),
            (6, 46, "c.http (83) is public but its zone inside allows at most internal"),
        ],
    ),
    (
        "PP103",
        """
        reserved: [8004-8006]
        services:
          api: {ports: {http: {port: 8003, target: 8005}}}
          worker: {ports: {http: {port: 8005, published: false}}}
          web: {ports: {http: {port: 8006, target: 80}}}
        """,
        [(6, 30, "web.http takes 8006, reserved 8004-8006")],
    ),
    (
        "PP107",
        """
        zones: {inside: {exposure: internal}}
        services:
          db:
            zone: inside
            ports:
              postgresql: {port: 5432, address: 0.0.0.0, published: false}
              admin: {port: 8080, exposure: public, published: false}
        """,
        [(8, 21, "db.admin (8080) is public but its zone inside allows at most internal")],
    ),
    (
        "PP108",
        """
        services:
          web: {ports: {http: {port: 8088, target: 80}, dns: {port: 53, published: false}}}
          tls: {ports: {https: {port: 443, target: 8443}}}
        """,
        [
            (
                4,
                31,
                "tls.https is 443, a privileged port (< 1024): binding it needs root or "
                "CAP_NET_BIND_SERVICE",
            )
        ],
    ),
    (
        "PP109",
        """
        services:
          api: {ports: {grpc: {port: 50051, published: false}, http: {port: 9090, target: 50052}}}
        """,
        [],
    ),
    (
        "PP110",
        """
        services:
          billing: {ports: {http: {port: 5432, published: false}}}
          ledger: {ports: {http: {port: 8080, target: 5432}}}
        """,
        [],
    ),
    # Only the host side is another product's port: a container listening on 3000 behind
    # host port 8080 is not Grafana's 3000 on the host; host port 3000 is, whatever its
    # container port.
    (
        "PP110",
        """
        services:
          web: {ports: {http: {port: 8080, target: 3000}}}
          dash: {ports: {http: {port: 3000, target: 8080}}}
          k: {ports: {http: {port: 3000, published: false}}}
        """,
        [(4, 31, "dash.http is 3000, the well-known port of Grafana")],
    ),
]


@pytest.mark.parametrize(("rule", "text", "expected"), CASES)
def test_rule(rule: str, text: str, expected: list[tuple[int, int, str]]) -> None:
    assert findings(text, rule) == expected


def test_every_rule_is_tested_and_documented() -> None:
    tested = {rule for rule, _, expected in CASES if expected}
    assert tested == set(rules.RULES)
    for rule in rules.RULES.values():
        assert "PASS:" in rule.doc and "FAIL:" in rule.doc, rule.id


def test_secret_values_never_appear() -> None:
    topology = load_text("services:\n  a: {environment: {X_SECRET: hunter2, U: 'p://u:pw@h'}}\n")
    text = repr(rules.run(topology, CTX))
    assert "hunter2" not in text and "pw@" not in text


def test_levels() -> None:
    levels = {r.id: r.level for r in rules.RULES.values()}
    assert levels["PP101"] is Level.ERROR and levels["PP109"] is Level.WARNING


def test_a_place_is_listed_once() -> None:
    """Two services sharing an anchored port map clash at one place: listed once."""
    text = "x-ports: &p {http: 8000}\nservices:\n  a: {ports: *p}\n  b: {ports: *p}\n"
    found = rules.run(load_text(text, "t.yaml"), CTX, [rules.get("PP101")])
    assert [(f.message, [str(loc) for loc in f.locations]) for f in found] == [
        ("port 8000/tcp on host default is bound by both a.http and b.http", ["t.yaml:1:20"])
    ]
