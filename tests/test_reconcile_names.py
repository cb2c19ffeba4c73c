"""Names against a plan: environment-variable prefixes and products named after a scheme."""

from __future__ import annotations

import pytest

from portplan._reconcile_names import build_names, kind_service, variable_service
from portplan.loader import load_text
from portplan.model import Location
from portplan.sources.base import PortObservation, SourceResult

PLAN = load_text(
    """\
services:
  token-engine: {ports: {http: 8081}}
  token-engine-worker: {ports: {http: 8082, admin-2: 8083}}
  elasticsearch: {aliases: [Elastic], ports: {http: 9200, transport: 9300}}
  db: {ports: {postgresql: 5432}}
  broker: {ports: {amqp: 5672}}
  cache-a: {ports: {redis: 6379}}
  cache-b: {ports: {redis: 6380}}
"""
)
KNOWN = {"tokenengine": "token-engine", "tokenengineworker": "token-engine-worker"}


@pytest.mark.parametrize(
    ("spellings", "service"),
    [
        (["TOKEN_ENGINE_WORKER_ADMIN_2"], "token-engine-worker"),  # the longest prefix
        (["TOKEN_ENGINE_ADMIN"], "token-engine"),
        (["TOKEN_ENGINE_WORKER"], "token-engine"),  # a whole name is not its own prefix
        (["TOKEN_ENGINEX_ADMIN"], None),  # whole words, not characters
        (["token-engine-admin"], None),  # a service's name, not a variable's
        (["TOKEN_ENGINE_ADMIN", "token_engine_admin"], None),
        (["LEDGER_HTTP"], None),
        ([], None),
    ],
)
def test_variable_service(spellings: list[str], service: str | None) -> None:
    assert variable_service(spellings, KNOWN) == service


@pytest.mark.parametrize(
    ("key", "service"),
    [
        ("postgres", "db"),  # port kind postgresql
        ("rabbitmq", "broker"),  # amqp
        ("redis", None),  # two services serve redis
        ("nats", None),  # none does
        ("ledger", None),  # not a product
    ],
)
def test_kind_service(key: str, service: str | None) -> None:
    assert kind_service(key, PLAN) == service


def _port(service: str, number: int) -> PortObservation:
    return PortObservation(service, number, Location("service-ports.env", 1, 1), "dotenv")


def test_build_names_maps_prefixes_and_products_and_reports_the_rest() -> None:
    result = SourceResult(file="service-ports.env", kind="dotenv")
    result.ports = [
        _port("ELASTICSEARCH_TRANSPORT", 9300),
        _port("ELASTIC_TRANSPORT", 9300),  # through the alias
        _port("postgres", 5432),
        _port("JAEGER_COLLECTOR", 14268),
    ]
    names = build_names([result], PLAN)
    assert names.key("ELASTICSEARCH_TRANSPORT") == "elasticsearch"
    assert names.key("ELASTIC_TRANSPORT") == "elasticsearch"
    assert names.key("postgres") == "db"
    assert names.key("JAEGER_COLLECTOR") is None
    assert names.unknown == {"JAEGER_COLLECTOR": [Location("service-ports.env", 1, 1)]}
