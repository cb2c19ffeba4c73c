"""Tokens and tenants: scopes, and isolation on every endpoint (another tenant's objects
answer 404, never their data)."""

from __future__ import annotations

import pytest

from portplan.server import tenants
from tests.server.conftest import Registry
from tests.server.test_plans import PLAN


def test_tokens_are_stored_hashed(registry: Registry) -> None:
    token = registry.token("acme", "read")
    with registry.engine.connect() as conn:
        stored = [row[0] for row in conn.exec_driver_sql("SELECT token_hash FROM tokens")]
    assert stored == [tenants.hash_token(token)] and token not in stored


@pytest.mark.parametrize(
    ("header", "status", "code"),
    [
        (None, 401, "unauthenticated"),
        ("Bearer ppt_unknown", 401, "unauthenticated"),
        ("Basic abc", 401, "unauthenticated"),
    ],
)
def test_requests_need_a_known_token(
    registry: Registry, header: str | None, status: int, code: str
) -> None:
    client = registry.client(None)
    headers = {"Authorization": header} if header else {}
    answer = client.get("/v1/leases", headers=headers)
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)


def test_scopes(registry: Registry) -> None:
    reader = registry.client(registry.token("acme", "read"))
    leaser = registry.client(registry.token("acme", "lease"))
    body = {"holder": "x", "host": "h", "ports": [{"candidates": [5000]}]}
    assert reader.post("/v1/leases", json=body).json()["error"] == {
        "code": "forbidden",
        "message": "this token's scope is read, not lease",
        "details": None,
    }
    assert leaser.post("/v1/leases", json=body).status_code == 201
    assert leaser.put("/v1/systems/shop/plan", json={"text": PLAN}).status_code == 403
    assert leaser.get("/v1/audit").status_code == 403
    assert reader.get("/v1/leases").status_code == 200


READS = [
    "/v1/systems/shop/plan",
    "/v1/systems/shop/revisions",
    "/v1/systems/shop/services",
    "/v1/systems/shop/ports",
    "/v1/systems/shop/ranges",
    "/v1/systems/shop/hosts",
    "/v1/systems/shop/free",
    "/v1/systems/shop/check",
    "/v1/systems/shop/diff?old=1&new=1",
    "/v1/leases/{lease}",
]


def _two_tenants(registry: Registry) -> tuple[object, object, str]:
    a = registry.client(registry.token("acme"))
    b = registry.client(registry.token("globex"))
    assert a.put("/v1/systems/shop/plan", json={"text": PLAN}).status_code == 200
    lease = a.post(
        "/v1/leases", json={"holder": "x", "system": "shop", "ports": [{"range": "web"}]}
    )
    return a, b, lease.json()["id"]


@pytest.mark.parametrize("path", READS)
def test_another_tenant_reads_nothing(registry: Registry, path: str) -> None:
    a, b, lease = _two_tenants(registry)
    url = path.format(lease=lease)
    assert a.get(url).status_code == 200  # type: ignore[attr-defined]
    answer = b.get(url)  # type: ignore[attr-defined]
    assert answer.status_code == 404
    assert answer.json()["error"]["code"] == "not_found"
    assert "8003" not in answer.text and "shop:" not in answer.text


def test_another_tenant_changes_nothing_and_lists_nothing(registry: Registry) -> None:
    a, b, lease = _two_tenants(registry)
    assert b.post(f"/v1/leases/{lease}/renew", json={"ttl_seconds": 5}).status_code == 404  # type: ignore[attr-defined]
    assert b.delete(f"/v1/leases/{lease}").status_code == 404  # type: ignore[attr-defined]
    assert a.get(f"/v1/leases/{lease}").json()["state"] == "live"  # type: ignore[attr-defined]
    assert b.get("/v1/leases").json() == {"leases": []}  # type: ignore[attr-defined]
    assert b.get("/v1/systems").json() == {"systems": []}  # type: ignore[attr-defined]
    assert b.get("/v1/changes").json() == {"events": []}  # type: ignore[attr-defined]
    assert b.get("/v1/audit").json() == {"entries": []}  # type: ignore[attr-defined]
    # a lease by system name refers to the caller's own systems only
    refused = b.post(
        "/v1/leases", json={"holder": "x", "system": "shop", "ports": [{"range": "web"}]}
    )  # type: ignore[attr-defined]
    assert refused.status_code == 404
    # hosts are per tenant: globex may hold the port acme holds on its host "default"
    same = b.post("/v1/leases", json={"holder": "x", "ports": [{"candidates": [8003]}]})  # type: ignore[attr-defined]
    assert same.status_code == 201
    # pushing a system of the same name makes globex its own, not acme's
    assert b.put("/v1/systems/shop/plan", json={"text": PLAN}).json()["revision"] == 1  # type: ignore[attr-defined]
    assert a.get("/v1/systems/shop/revisions").json()["revisions"][0]["actor"] == "t"  # type: ignore[attr-defined]
    assert len(a.get("/v1/systems/shop/revisions").json()["revisions"]) == 1  # type: ignore[attr-defined]


def test_token_create_and_revoke_by_command(
    registry: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    from portplan.cli import main

    url = registry.settings.url()
    assert (
        main(
            [
                "serve",
                "--db",
                url,
                "token",
                "create",
                "--tenant",
                "acme",
                "--scope",
                "lease",
                "--name",
                "ci",
            ]
        )
        == 0
    )
    token = capsys.readouterr().out.strip()
    assert token.startswith("ppt_") and len(token) > 40
    client = registry.client(token)
    assert client.get("/v1/leases").status_code == 200
    assert main(["serve", "--db", url, "token", "revoke", "--tenant", "acme", "--name", "ci"]) == 0
    assert capsys.readouterr().out == "revoked 1 token of acme\n"
    assert client.get("/v1/leases").json()["error"]["message"] == "unknown or revoked token"
    assert main(["serve", "--db", url, "token", "revoke", "--tenant", "acme", "--name", "ci"]) == 2
    assert (
        capsys.readouterr().err == "portplan: error: tenant 'acme' has no live token named 'ci'\n"
    )
