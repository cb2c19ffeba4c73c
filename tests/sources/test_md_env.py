"""Hosts in URLs and `host:port` values: the system's own services, the host machine, or
external endpoints (`portplan.names`)."""

from __future__ import annotations

import pytest

from portplan.names import (
    host_service,
    is_external_host,
    is_host_machine,
    parse_url,
    url_service,
    variable_protocol,
)
from portplan.sources.dotenv import parse_dotenv_source
from portplan.sources.markdown import parse_markdown
from portplan.sources.markdown.env import parse_assignment, port_owner

# host -> (the service it names, the host machine, external)
HOSTS = [
    ("payments", "payments", False, False),
    ("payments.default.svc.cluster.local", "payments", False, False),
    ("payments.default.svc", "payments", False, False),
    ("payments.default", "payments", False, False),  # a namespace qualifies it
    ("payments.svc.cluster.local", "payments", False, False),
    ("payments.svc", "payments", False, False),
    ("Payments.Default.SVC", "Payments", False, False),
    ("payments.default.svc.prod.acme.example", "payments", False, False),  # a cluster domain
    ("kafka-0.kafka-headless.kafka.svc.cluster.local", "kafka-headless", False, False),
    ("payments.backend", "payments", False, False),  # a compose network qualifies it
    ("db.internal", "db", False, False),
    ("printer.local", "printer", False, False),
    ("nas.lan", "nas", False, False),
    ("cache.example", "cache", False, False),
    ("localhost", None, True, False),
    ("127.0.0.1", None, True, False),
    ("::1", None, True, False),
    ("0.0.0.0", None, True, False),
    ("10.0.0.5", None, True, False),
    ("host.docker.internal", None, True, False),
    ("gateway.docker.internal", None, True, False),
    ("host.containers.internal", None, True, False),
    ("api.localhost", None, True, False),
    ("LOCALHOST", None, True, False),
    ("localhost.localdomain", None, True, False),
    ("ip6-localhost", None, True, False),
    ("o1.ingest.sentry.io", None, False, True),
    ("api.stripe.com", None, False, True),
    ("smtp.gmail.com", None, False, True),
    ("stripe.com", None, False, True),
    ("acme.de", None, False, True),  # a country's domain
    ("db.abc123.us-east-1.rds.amazonaws.com", None, False, True),
    (None, None, True, False),
]


@pytest.mark.parametrize(("host", "service", "machine", "external"), HOSTS)
def test_hosts(host: str | None, service: str | None, machine: bool, external: bool) -> None:
    assert (host_service(host), is_host_machine(host), is_external_host(host)) == (
        service,
        machine,
        external,
    )


@pytest.mark.parametrize(
    ("variable", "url", "service"),
    [
        # a product scheme names the product, wherever in the cluster it runs
        ("DATABASE_URL", "postgres://u@db.default.svc.cluster.local:5432/app", "postgres"),
        # an external endpoint is named as written whatever its scheme: not our postgres
        (
            "DATABASE_URL",
            "postgres://u@db.abc123.us-east-1.rds.amazonaws.com:5432/app",
            "db.abc123.us-east-1.rds.amazonaws.com",
        ),
        ("SENTRY_DSN", "https://abc@o1.ingest.sentry.io/42", "o1.ingest.sentry.io"),
        # a cluster name as written: reconcile's names match it (portplan.reconcile.names)
        (
            "PAYMENTS_URL",
            "http://payments.default.svc.cluster.local:8081",
            "payments.default.svc.cluster.local",
        ),
        # the host machine: the service the prefix names, as for localhost
        ("TOKEN_ENGINE_URL", "http://host.docker.internal:8081", "TOKEN_ENGINE"),
        ("TOKEN_ENGINE_URL", "http://gateway.docker.internal:8081", "TOKEN_ENGINE"),
        ("TOKEN_ENGINE_URL", "http://localhost:8081", "TOKEN_ENGINE"),
        ("URL", "http://localhost:8081", None),
        # on a local host the prefix of an address variable names the service before the
        # scheme does (a generated AUTH_DB_URL reaches auth-db); else the scheme's product
        ("AUTH_DB_URL", "postgresql://localhost:5432", "AUTH_DB"),
        ("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0", "CELERY_BROKER"),
        ("DATABASE_URL", "postgresql://localhost:5432", "postgres"),
        ("URL", "postgresql://localhost:5432", "postgres"),
        ("LOCAL_DB", "postgresql://localhost:5432", "postgres"),
        # a host the prefix names is that service (generate's URL to an unpublished port)
        ("AUTH_DB_URL", "postgresql://auth-db:5432", "auth-db"),
        ("DATABASE_URL", "postgresql://auth-db:5432", "postgres"),
    ],
)
def test_url_service(variable: str, url: str, service: str | None) -> None:
    parsed = parse_url(url)
    assert parsed is not None
    assert url_service(parsed, variable) == service


ENV_BLOCK = """\
## Web (Port 3000)
```env
PAYMENTS_URL=http://payments.default.svc.cluster.local:8081
SENTRY_DSN=https://abc@o1.ingest.sentry.io/42
SMTP_SERVER=smtp.gmail.com:587
API_URL=http://host.docker.internal:8080
CACHE_ADDR=host.docker.internal:6379
```
"""


def test_env_block_hosts() -> None:
    """Hosts are recorded as written (names are matched by reconcile); the host machine is
    a port of the service the prefix names but no dependency of the block's service."""
    result = parse_markdown(ENV_BLOCK, "doc.md")
    assert [
        (p.service, p.number, p.port_name, p.variable, p.location.line, p.location.column)
        for p in result.ports
    ] == [
        ("Web", 3000, None, None, 1, 14),
        ("payments.default.svc.cluster.local", 8081, "http", "PAYMENTS_URL", 3, 56),
        ("smtp.gmail.com", 587, None, "SMTP_SERVER", 5, 28),
        ("API", 8080, "http", "API_URL", 6, 37),
        ("redis", 6379, None, "CACHE_ADDR", 7, 33),
    ]
    assert [
        (d.service, d.target, d.via, d.location.line, d.location.column)
        for d in result.dependencies
    ] == [
        ("Web", "payments.default.svc.cluster.local", "env-url", 3, 14),
        ("Web", "o1.ingest.sentry.io", "env-url", 4, 12),
        ("Web", "smtp.gmail.com", "env-url", 5, 13),
    ]


def test_env_file_hosts() -> None:
    """The same in a service's `.env` file (and so in compose `environment:` and
    Kubernetes `env:`, read by the same `interpret`)."""
    text = ENV_BLOCK.split("```env\n")[1].removesuffix("```\n")
    result = parse_dotenv_source(text, "web.env", owner="web")
    assert [(p.service, p.number, p.location.line, p.location.column) for p in result.ports] == [
        ("payments.default.svc.cluster.local", 8081, 1, 56),
        ("smtp.gmail.com", 587, 3, 28),
        ("API", 8080, 4, 37),
        ("redis", 6379, 5, 33),
    ]
    assert [(d.service, d.target, d.location.line) for d in result.dependencies] == [
        ("web", "payments.default.svc.cluster.local", 1),
        ("web", "o1.ingest.sentry.io", 2),
        ("web", "smtp.gmail.com", 3),
    ]


@pytest.mark.parametrize(
    ("variable", "owner", "service", "name", "protocol"),
    [
        ("RTP_UDP_PORT", None, "RTP", None, "udp"),
        ("RTP_PORT_10001_UDP_PORT", None, "RTP_PORT_10001", None, "udp"),
        ("RTP_PORT_10001_UDP_PORT", "rtp", "rtp", "port_10001", "udp"),
        ("UDP_PORT", "rtp", "rtp", None, "udp"),
        ("SIP_SCTP_PORT", None, "SIP", None, "sctp"),
        ("WEB_HTTP_PORT", None, "WEB", "http", "tcp"),
        ("UDPX_PORT", None, "UDPX", None, "tcp"),
    ],
)
def test_a_port_variable_states_its_protocol_before_port(
    variable: str, owner: str | None, service: str, name: str | None, protocol: str
) -> None:
    """Generate writes a udp port's variable with `_UDP_PORT`; the protocol is no name."""
    prefix = variable.removesuffix("PORT").rstrip("_")
    assert port_owner(prefix, owner) == (service, name)
    assert variable_protocol(variable) == protocol


@pytest.mark.parametrize(
    ("variable", "owner", "service", "name"),
    [
        ("API_LISTEN_PORT", "gallery", "gallery", None),  # where the owner listens
        ("HTTP_BIND_PORT", "gallery", "gallery", None),
        ("DJANGO_EMAIL_PORT", "django", None, None),  # django's mail server's port
        ("DJANGO_DB_PORT", "django", None, None),
        ("DJANGO_ADMIN_PORT", "django", "django", "admin"),  # its own admin port
        ("ZOOKEEPER_CLIENT_PORT", "zookeeper", "zookeeper", "client"),
        # the last words of the owner's name (of a numbered copy too): its own port
        ("FRONTEND_GRPC_PORT", "workflow-frontend", "workflow-frontend", "grpc"),
        ("FRONTEND_GRPC_PORT", "workflow-frontend2", "workflow-frontend2", "grpc"),
        ("FRONTEND_MEMBERSHIP_PORT", "workflow-frontend2", "workflow-frontend2", "membership"),
        ("FRONTEND_PORT", "workflow-frontend", "workflow-frontend", None),
        ("FRONTEND_DB_PORT", "workflow-frontend", "FRONTEND_DB", None),  # a server it talks to
        ("FRONTEND_GRPC_PORT", "workflow-history", "FRONTEND", "grpc"),  # another service's
    ],
)
def test_whose_port_a_variable_of_a_services_environment_is(
    variable: str, owner: str, service: str | None, name: str | None
) -> None:
    assert port_owner(variable.removesuffix("_PORT"), owner) == (service, name)


@pytest.mark.parametrize(
    ("text", "name", "value", "column"),
    [
        (
            "ADMIN_USER='admin' ADMIN_PASSWORD='s3cr3t' docker compose up -d",
            "ADMIN_USER",
            "admin",
            13,
        ),
        ("JAVA_OPTS=-Xmx1g -Xms1g", "JAVA_OPTS", "-Xmx1g -Xms1g", 11),
        ("export PORT=8080 # the web port", "PORT", "8080", 13),
    ],
)
def test_an_assignment_is_one_word_of_several(
    text: str, name: str, value: str, column: int
) -> None:
    """Assignments that prefix a command each hold one word; a value with spaces alone on
    its line is one value."""
    found = parse_assignment(text, 1)
    assert found is not None
    assert (found.name, found.value, found.value_index + 1) == (name, value, column)
