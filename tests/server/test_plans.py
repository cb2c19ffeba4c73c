"""Plans on the registry: push (validated as `check` does), pull byte-identical, revisions,
diff, and the read endpoints."""

from __future__ import annotations

from tests.server.conftest import Registry

PLAN = """\
# the shop, as its team keeps it\r
system: shop
ranges:
  web: {ports: 8000-8009, category: web}
reserved:
  - {ports: 8002, reason: legacy admin}
services:
  api:
    category: web
    ports: {http: 8000}
  web:
    category: web
    ports: {http: 8001}
"""

PLAN_2 = PLAN.replace("ports: {http: 8001}", "ports: {http: 8003}")

DUPLICATE = """\
system: shop
services:
  api:
    ports: {http: 8000}
  web:
    ports: {http: 8000}
"""


def test_push_then_pull_is_byte_identical(registry: Registry) -> None:
    admin = registry.client(registry.token("acme"))
    pushed = admin.put("/v1/systems/shop/plan", json={"text": PLAN})
    assert pushed.status_code == 200, pushed.text
    assert (pushed.json()["revision"], pushed.json()["changed"]) == (1, True)
    pulled = admin.get("/v1/systems/shop/plan")
    assert pulled.status_code == 200
    assert pulled.content == PLAN.encode()
    assert pulled.headers["x-portplan-revision"] == "1"
    again = admin.put("/v1/systems/shop/plan", json={"text": PLAN})
    assert (again.json()["revision"], again.json()["changed"]) == (1, False)


def test_revisions_and_diff(registry: Registry) -> None:
    admin = registry.client(registry.token("acme"))
    admin.put("/v1/systems/shop/plan", json={"text": PLAN})
    admin.put("/v1/systems/shop/plan", json={"text": PLAN_2})
    listed = admin.get("/v1/systems/shop/revisions").json()["revisions"]
    assert [r["revision"] for r in listed] == [1, 2]
    assert admin.get("/v1/systems/shop/plan", params={"revision": 1}).content == PLAN.encode()
    diff = admin.get("/v1/systems/shop/diff", params={"old": 1, "new": 2}).json()["diff"]
    assert "-    ports: {http: 8001}\n+    ports: {http: 8003}\n" in diff
    assert diff.startswith("--- shop@1/portplan.yaml\n+++ shop@2/portplan.yaml\n")
    assert admin.get("/v1/systems").json() == {"systems": [{"name": "shop", "revision": 2}]}


def test_a_plan_with_errors_is_refused_with_its_findings(registry: Registry) -> None:
    admin = registry.client(registry.token("acme"))
    refused = admin.put("/v1/systems/shop/plan", json={"text": DUPLICATE})
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert (error["code"], error["message"]) == ("plan_has_errors", "the plan has errors")
    assert [(f["rule"], f["locations"][0]["line"]) for f in error["details"]] == [("PP101", 6)]
    assert admin.get("/v1/systems/shop/plan").status_code == 404


def test_a_plan_that_does_not_parse_is_refused_with_a_location(registry: Registry) -> None:
    admin = registry.client(registry.token("acme"))
    refused = admin.put(
        "/v1/systems/shop/plan", json={"text": "services:\n  api:\n    ports: {http: 5oo0}\n"}
    )
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert error["code"] == "invalid_plan"
    assert error["details"][0]["line"] == 3
    assert error["message"].startswith("portplan.yaml:3:")


def test_read_endpoints(registry: Registry) -> None:
    admin = registry.client(registry.token("acme"))
    admin.put("/v1/systems/shop/plan", json={"text": PLAN})
    services = admin.get("/v1/systems/shop/services").json()["services"]
    assert [(s["name"], s["ports"][0]["number"]) for s in services] == [
        ("api", 8000),
        ("web", 8001),
    ]
    ports = admin.get("/v1/systems/shop/ports").json()["ports"]
    assert [(p["service"], p["port"]) for p in ports] == [("api", 8000), ("web", 8001)]
    assert admin.get("/v1/systems/shop/ranges").json()["ranges"][0]["ports"] == "8000-8009"
    assert admin.get("/v1/systems/shop/hosts").json() == {"hosts": ["default"]}
    free = admin.get("/v1/systems/shop/free").json()["ranges"][0]
    assert (free["free"], free["free_count"]) == (["8003-8009"], 7)
    assert admin.get("/v1/systems/shop/free", params={"range": "db"}).status_code == 404
    assert admin.get("/v1/systems/shop/check").json() == {"findings": []}
