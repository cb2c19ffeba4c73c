"""Leases: lowest free port, never a planned/reserved/leased one, all-or-nothing,
idempotency, renew, release, expiry by the database clock, and the database constraint."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from portplan.server.schema import lease_ports
from tests.server.conftest import Registry
from tests.server.test_plans import PLAN


def _lease(client: object, **body: object) -> object:
    return client.post("/v1/leases", json={"holder": "ci-1", **body})  # type: ignore[attr-defined]


def test_lowest_free_port_of_a_range_skips_planned_reserved_and_leased(registry: Registry) -> None:
    client = registry.client(registry.token("acme"))
    client.put("/v1/systems/shop/plan", json={"text": PLAN})
    ports = []
    for _ in range(3):
        answer = _lease(client, system="shop", ports=[{"range": "web"}])
        assert answer.status_code == 201, answer.text
        ports.append(answer.json()["ports"][0]["port"])
    # 8000, 8001 assigned, 8002 reserved
    assert ports == [8003, 8004, 8005]
    free = client.get("/v1/systems/shop/free").json()["ranges"][0]
    assert (free["leased"], free["free"], free["free_count"]) == (
        [8003, 8004, 8005],
        ["8006-8009"],
        4,
    )


def test_explicit_range_candidates_and_exhaustion(registry: Registry) -> None:
    client = registry.client(registry.token("acme"))
    first = _lease(client, host="ci-7", ports=[{"first": 9000, "last": 9001}])
    assert first.json()["ports"] == [
        {"protocol": "tcp", "port": 9000, "service": None, "port_name": None, "env": None}
    ]
    second = _lease(client, host="ci-7", ports=[{"candidates": [9000, 9001, 9005]}])
    assert second.json()["ports"][0]["port"] == 9001
    other_host = _lease(client, host="ci-8", ports=[{"candidates": [9000]}])
    assert other_host.json()["ports"][0]["port"] == 9000
    udp = _lease(client, host="ci-7", ports=[{"candidates": [9000], "protocol": "udp"}])
    assert udp.status_code == 201
    full = _lease(client, host="ci-7", ports=[{"first": 9000, "last": 9001}])
    assert full.status_code == 409
    assert full.json()["error"]["code"] == "no_free_port"


def test_several_ports_are_all_or_nothing(registry: Registry) -> None:
    client = registry.client(registry.token("acme"))
    _lease(client, host="h", ports=[{"candidates": [7001]}])
    refused = _lease(client, host="h", ports=[{"candidates": [7000]}, {"candidates": [7001]}])
    assert refused.status_code == 409
    assert (
        client.get("/v1/leases", params={"state": "live"}).json()["leases"][0]["ports"][0]["port"]
        == 7001
    )
    both = _lease(
        client, host="h", ports=[{"first": 7000, "last": 7010}, {"first": 7000, "last": 7010}]
    )
    assert [p["port"] for p in both.json()["ports"]] == [7000, 7002]


def test_a_service_port_by_name(registry: Registry) -> None:
    client = registry.client(registry.token("acme"))
    client.put("/v1/systems/shop/plan", json={"text": PLAN})
    own = _lease(client, system="shop", ports=[{"service": "api", "port_name": "http"}])
    assert own.json()["ports"] == [
        {
            "protocol": "tcp",
            "port": 8000,
            "service": "api",
            "port_name": "http",
            "env": "API_HTTP_PORT",
        }
    ]
    assert own.json()["host"] == "default"
    # the planned port is held now: the next lease for it gets the range's next free port
    second = _lease(client, system="shop", ports=[{"service": "api", "port_name": "http"}])
    assert second.json()["ports"][0]["port"] == 8003
    missing = _lease(client, system="shop", ports=[{"service": "nope", "port_name": "http"}])
    assert missing.status_code == 404


def test_idempotency_key_returns_the_same_lease(registry: Registry) -> None:
    client = registry.client(registry.token("acme"))
    body = {"host": "h", "ports": [{"first": 6000, "last": 6100}], "idempotency_key": "job-42"}
    first = _lease(client, **body)
    again = _lease(client, **body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    other = _lease(client, **{**body, "holder": "ci-2"})
    assert other.status_code == 409
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    by_header = client.post(
        "/v1/leases",
        json={"holder": "x", "host": "h", "ports": [{"first": 6000, "last": 6100}]},
        headers={"Idempotency-Key": "job-43"},
    )
    assert by_header.json()["ports"][0]["port"] == 6001


def test_renew_release_and_list(registry: Registry) -> None:
    client = registry.client(registry.token("acme"))
    lease = _lease(client, host="h", ttl_seconds=60, ports=[{"candidates": [5000]}]).json()
    renewed = client.post(f"/v1/leases/{lease['id']}/renew", json={"ttl_seconds": 3600}).json()
    assert renewed["expires_at"] - lease["expires_at"] > 3000
    released = client.delete(f"/v1/leases/{lease['id']}")
    assert released.json()["state"] == "released"
    assert client.delete(f"/v1/leases/{lease['id']}").json()["error"]["code"] == "lease_ended"
    again = _lease(client, host="h", ports=[{"candidates": [5000]}])
    assert again.status_code == 201
    states = [item["state"] for item in client.get("/v1/leases").json()["leases"]]
    assert states == ["released", "live"]
    assert len(client.get("/v1/leases", params={"state": "live"}).json()["leases"]) == 1


def test_an_expired_lease_frees_its_port(registry: Registry) -> None:
    client = registry.client(registry.token("acme"))
    # long enough for the next request to come before it ends on a loaded machine
    short = _lease(client, host="h", ttl_seconds=2, ports=[{"candidates": [5000]}]).json()
    assert _lease(client, host="h", ports=[{"candidates": [5000]}]).status_code == 409
    deadline = time.monotonic() + 30
    while client.get(f"/v1/leases/{short['id']}").json()["state"] == "live":
        assert time.monotonic() < deadline, "the lease did not end by its database time"
        time.sleep(0.2)
    assert _lease(client, host="h", ports=[{"candidates": [5000]}]).status_code == 201
    assert client.get(f"/v1/leases/{short['id']}").json()["state"] == "expired"
    renew = client.post(f"/v1/leases/{short['id']}/renew", json={"ttl_seconds": 10})
    assert renew.status_code == 409


def test_the_database_refuses_a_second_holder(registry: Registry) -> None:
    client = registry.client(registry.token("acme"))
    lease = _lease(client, host="h", ports=[{"candidates": [5000]}]).json()
    row = {"tenant_id": 1, "host": "h", "protocol": "tcp", "port": 5000, "lease_id": lease["id"]}
    with pytest.raises(IntegrityError), registry.engine.begin() as conn:
        conn.execute(insert(lease_ports).values(**row))


def test_validation_errors_have_the_one_shape(registry: Registry) -> None:
    client = registry.client(registry.token("acme"))
    bad = client.post("/v1/leases", json={"holder": "", "ports": []})
    assert bad.status_code == 422
    error = bad.json()["error"]
    assert error["code"] == "invalid_request"
    assert sorted(d["loc"][-1] for d in error["details"]) == ["holder", "ports"]
    named = _lease(client, ports=[{"range": "web"}])
    assert named.json()["error"] == {
        "code": "system_required",
        "message": "a named range needs `system`",
        "details": None,
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"host": "h", "ttl_seconds": True, "ports": [{"candidates": [5000]}]}, "ttl_seconds"),
        ({"host": "h", "ttl_seconds": "60", "ports": [{"candidates": [5000]}]}, "ttl_seconds"),
        ({"host": "h", "ports": [{"first": True, "last": 5010}]}, "first"),
        ({"host": "h", "ports": [{"first": "5000", "last": 5010}]}, "first"),
        ({"host": "h", "ports": [{"candidates": [True]}]}, 0),
        ({"host": 7, "ports": [{"candidates": [5000]}]}, "host"),
    ],
)
def test_a_value_of_another_json_type_is_refused_not_converted(
    registry: Registry, body: dict[str, object], field: object
) -> None:
    """The document says integer, number or string: JSON `true` or "60" where a number is
    meant is a 422 naming the field, never read as 1 or 60."""
    client = registry.client(registry.token("acme"))
    bad = _lease(client, **body)
    assert bad.status_code == 422, bad.text
    assert [d["loc"][-1] for d in bad.json()["error"]["details"]] == [field]
    assert client.get("/v1/leases").json()["leases"] == []


def test_a_renewal_of_another_json_type_is_refused(registry: Registry) -> None:
    client = registry.client(registry.token("acme"))
    lease = _lease(client, host="h", ttl_seconds=60, ports=[{"candidates": [5000]}]).json()
    renew = client.post(f"/v1/leases/{lease['id']}/renew", json={"ttl_seconds": True})
    assert renew.status_code == 422, renew.text
    assert [d["loc"][-1] for d in renew.json()["error"]["details"]] == ["ttl_seconds"]
    assert client.get(f"/v1/leases/{lease['id']}").json()["expires_at"] == lease["expires_at"]
