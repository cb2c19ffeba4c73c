"""The change feed and audit log, and /healthz, /readyz, /metrics, /openapi.json."""

from __future__ import annotations

import pytest

from tests.server.conftest import Registry
from tests.server.test_plans import PLAN


def test_every_change_is_in_the_feed_and_the_audit_log(registry: Registry) -> None:
    client = registry.client(registry.token("acme"))
    client.put("/v1/systems/shop/plan", json={"text": PLAN})
    lease = client.post(
        "/v1/leases", json={"holder": "x", "host": "h", "ports": [{"candidates": [5000]}]}
    ).json()
    client.post(f"/v1/leases/{lease['id']}/renew", json={"ttl_seconds": 30})
    client.delete(f"/v1/leases/{lease['id']}")
    events = client.get("/v1/changes").json()["events"]
    assert [(e["revision"], e["kind"]) for e in events] == [
        (1, "plan.pushed"),
        (2, "lease.granted"),
        (3, "lease.renewed"),
        (4, "lease.released"),
    ]
    assert [
        e["revision"] for e in client.get("/v1/changes", params={"after": 2}).json()["events"]
    ] == [3, 4]
    entries = client.get("/v1/audit").json()["entries"]
    assert [(e["actor"], e["action"], e["subject"]) for e in entries] == [
        ("t", "plan.pushed", "systems/shop"),
        ("t", "lease.granted", f"leases/{lease['id']}"),
        ("t", "lease.renewed", f"leases/{lease['id']}"),
        ("t", "lease.released", f"leases/{lease['id']}"),
    ]
    released = entries[3]
    assert (released["before"]["state"], released["after"]["state"]) == ("live", "released")


def test_operations(registry: Registry) -> None:
    client = registry.client(None)
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json() == {"status": "ready", "schema": "0003"}
    client.get("/v1/leases")
    metrics = client.get("/metrics").text
    assert 'portplan_requests_total{method="GET",route="/v1/leases",status="401"} 1' in metrics
    assert 'portplan_leases{state="live"} 0' in metrics
    assert "portplan_request_seconds_count 3" in metrics
    document = client.get("/openapi.json").json()
    assert {
        "/v1/leases",
        "/v1/leases/{lease_id}/renew",
        "/v1/systems/{system}/plan",
        "/v1/events",
    } <= set(document["paths"])
    assert client.get("/nowhere").json() == {
        "error": {"code": "not_found", "message": "Not Found", "details": None}
    }


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("after=1&after=9", "query parameter 'after' is given more than once"),
        ("after=%2B0.0", "query parameter 'after' must be a whole number"),
        ("after=1.0", "query parameter 'after' must be a whole number"),
        ("afterr=1", "unknown query parameter 'afterr'"),
    ],
)
def test_a_query_that_could_mean_two_things_is_refused(
    registry: Registry, query: str, message: str
) -> None:
    client = registry.client(registry.token("acme"))
    answer = client.get(f"/v1/audit?{query}")
    assert answer.status_code == 422
    assert answer.json()["error"]["message"] == message
    assert client.get("/v1/audit?after=0").status_code == 200
