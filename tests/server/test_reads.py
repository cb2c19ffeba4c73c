"""The read path: answers kept per plan text stay per tenant and per revision, free ports
split around live leases, lease reads shaped as their documented models, a revoked token
refused at once, and several requests on one keep-alive connection of a real server."""

from __future__ import annotations

import gc
import json
import socket
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from portplan.server import db, fast_reads, tenants
from portplan.server.api_leases import LeaseList, LeaseOut
from tests.server.conftest import Registry
from tests.server.serve import start
from tests.server.test_plans import PLAN, PLAN_2


def test_a_read_follows_the_newest_revision_and_stays_in_its_tenant(registry: Registry) -> None:
    acme = registry.client(registry.token("acme"))
    other = registry.client(registry.token("other"))
    acme.put("/v1/systems/shop/plan", json={"text": PLAN})
    ports = acme.get("/v1/systems/shop/ports").json()["ports"]
    assert [p["port"] for p in ports] == [8000, 8001]
    # the same text is known to the process now; another tenant still has no such system
    missing = other.get("/v1/systems/shop/ports")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    assert other.get("/v1/systems/shop/free").status_code == 404
    acme.put("/v1/systems/shop/plan", json={"text": PLAN_2})
    ports = acme.get("/v1/systems/shop/ports").json()["ports"]
    assert [p["port"] for p in ports] == [8000, 8003]
    other.put("/v1/systems/shop/plan", json={"text": PLAN})
    assert [p["port"] for p in other.get("/v1/systems/shop/ports").json()["ports"]] == [
        8000,
        8001,
    ]


def test_free_ports_are_split_around_live_leases(registry: Registry) -> None:
    acme = registry.client(registry.token("acme"))
    acme.put("/v1/systems/shop/plan", json={"text": PLAN})
    for port in (8005, 8009, 8003):
        lease = acme.post(
            "/v1/leases",
            json={"holder": "ci", "host": "default", "ports": [{"candidates": [port]}]},
        )
        assert lease.status_code == 201
    elsewhere = {"holder": "ci", "host": "build-2", "ports": [{"candidates": [8004]}]}
    assert acme.post("/v1/leases", json=elsewhere).status_code == 201
    free = acme.get("/v1/systems/shop/free").json()["ranges"][0]
    assert free == {
        "range": "web",
        "ports": "8000-8009",
        "hosts": ["default"],
        "leased": [8003, 8005, 8009],
        "free": ["8004", "8006-8008"],
        "free_count": 4,
    }


def test_lease_reads_answer_what_their_models_document(registry: Registry) -> None:
    acme = registry.client(registry.token("acme"))
    acme.put("/v1/systems/shop/plan", json={"text": PLAN})
    plain = {"holder": "ci", "host": "h", "ports": [{"candidates": [6000]}]}
    named = {"holder": "ci", "system": "shop", "ports": [{"service": "api", "port_name": "http"}]}
    ids = [acme.post("/v1/leases", json=body).json()["id"] for body in (plain, named)]
    first = acme.get(f"/v1/leases/{ids[0]}")
    assert first.headers["content-type"] == "application/json"
    assert first.json()["ports"] == [
        {"protocol": "tcp", "port": 6000, "service": None, "port_name": None, "env": None}
    ]
    second = acme.get(f"/v1/leases/{ids[1]}").json()
    assert second["ports"] == [
        {
            "protocol": "tcp",
            "port": 8000,
            "service": "api",
            "port_name": "http",
            "env": "API_HTTP_PORT",
        }
    ]
    assert second == LeaseOut.model_validate(second).model_dump(mode="json")
    listed = acme.get("/v1/leases", params={"holder": "ci"}).json()
    assert listed == LeaseList.model_validate(listed).model_dump(mode="json")
    assert [lease["id"] for lease in listed["leases"]] == ids
    assert acme.get("/v1/leases", params={"holder": "nobody"}).json() == {"leases": []}


def test_a_revoked_token_is_refused_by_the_next_read(registry: Registry) -> None:
    admin = registry.client(registry.token("acme"))
    admin.put("/v1/systems/shop/plan", json={"text": PLAN})
    reader = registry.client(registry.token("acme", "read", name="reader"))
    assert reader.get("/v1/systems/shop/ports").status_code == 200
    db.write(registry.engine, lambda c: tenants.revoke(c, "acme", "reader"))
    refused = reader.get("/v1/systems/shop/ports")
    assert (refused.status_code, refused.json()["error"]["message"]) == (
        401,
        "unknown or revoked token",
    )


def _exchange(sock: socket.socket, request: bytes) -> tuple[bytes, bytes]:
    """One request and its whole answer (status line and body) on a kept-alive socket."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += sock.recv(65536)
    assert len(body) == length  # nothing more: the next answer is the next request's
    return head.split(b"\r\n", 1)[0], body


@pytest.mark.parametrize("workers", [None, 2])
def test_several_reads_share_one_keep_alive_connection(tmp_path: Path, workers: int | None) -> None:
    url = f"sqlite:///{tmp_path / 'registry.db'}"
    engine = db.engine_for(url)
    db.migrate(engine)
    token = db.write(engine, lambda c: tenants.create_token(c, "acme", "ci", "admin"))
    engine.dispose()
    process, base = start(url, tmp_path / "server.log", workers)
    host, port = base.removeprefix("http://").split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=10) as sock:
            auth = f"Authorization: Bearer {token}\r\n".encode()
            body = json.dumps({"text": PLAN}).encode()
            put = (
                b"PUT /v1/systems/shop/plan HTTP/1.1\r\nHost: x\r\n"
                + auth
                + b"Content-Type: application/json\r\n"
                + f"Content-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            assert _exchange(sock, put)[0] == b"HTTP/1.1 200 OK"
            seen = []
            for path in ["/v1/systems/shop/ports", "/v1/systems/shop/free", "/v1/leases"] * 3:
                request = f"GET {path} HTTP/1.1\r\nHost: x\r\n".encode() + auth + b"\r\n"
                status, answer = _exchange(sock, request)
                seen.append((path, status, answer[:2]))
            assert all(s == b"HTTP/1.1 200 OK" and a == b'{"' for _, s, a in seen), seen
            metrics = _exchange(sock, b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")[1].decode()
    finally:
        process.terminate()
        process.wait()
    # one connection, one server process: the one that answers /metrics counted them all
    counted = 'portplan_requests_total{method="GET",route="/v1/systems/{system}/ports",'
    assert counted + 'status="200"} 3' in metrics


def test_the_fast_reads_answer_byte_for_byte_as_the_routes(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    acme = registry.client(registry.token("acme"))
    acme.put("/v1/systems/shop/plan", json={"text": PLAN})
    plain = {"holder": "ci", "host": "default", "ttl_seconds": 600, "ports": [{"range": "web"}]}
    lease = acme.post("/v1/leases", json={**plain, "system": "shop"}).json()["id"]
    reads = [
        *(f"/v1/systems/shop/{view}" for view in ("services", "hosts", "ports", "ranges")),
        "/v1/systems/shop/check",
        "/v1/systems/shop/free",
        "/v1/systems/shop/free?range=web",
        f"/v1/leases/{lease}",
        "/v1/leases",
        "/v1/leases?holder=ci&state=live",
        "/v1/leases?host=elsewhere",
    ]
    answered = []
    plan = fast_reads._plan

    def spy(path: str, query: bytes) -> object:
        found = plan(path, query)
        answered.append(found is not None)
        return found

    monkeypatch.setattr(fast_reads, "_plan", spy)
    fast = [acme.get(path) for path in reads]
    assert answered == [True] * len(reads)  # the fast path took every one of them
    monkeypatch.setattr(fast_reads, "_plan", lambda path, query: None)
    routed = [acme.get(path) for path in reads]
    for path, one, other in zip(reads, fast, routed, strict=True):
        assert (one.status_code, one.content, one.headers.items()) == (
            200,
            other.content,
            other.headers.items(),
        ), path


@pytest.mark.parametrize(
    ("path", "header", "status", "code"),
    [
        ("/v1/leases?stat=live", "Bearer {}", 422, "invalid_request"),
        ("/v1/leases?holder=a&holder=b", "Bearer {}", 422, "invalid_request"),
        ("/v1/leases?holder=", "Bearer {}", 422, "invalid_request"),
        ("/v1/leases?state=gone", "Bearer {}", 422, "invalid_request"),
        ("/v1/systems/shop/free?range=db", "Bearer {}", 404, "not_found"),
        ("/v1/systems/shop/ports?range=web", "Bearer {}", 422, "invalid_request"),
        ("/v1/systems/nowhere/ports", "Bearer {}", 404, "not_found"),
        ("/v1/leases/nosuchlease", "Bearer {}", 404, "not_found"),
        ("/v1/systems/shop/ports", "Basic {}", 401, "unauthenticated"),
        ("/v1/systems/shop/ports", "Bearer wrong{}", 401, "unauthenticated"),
        ("/v1/systems/shop/ports", "Bearer ", 401, "unauthenticated"),
    ],
)
def test_what_the_fast_reads_decline_the_routes_answer(
    registry: Registry, path: str, header: str, status: int, code: str
) -> None:
    token = registry.token("acme")
    registry.client(token).put("/v1/systems/shop/plan", json={"text": PLAN})
    answer = registry.client(None).get(path, headers={"Authorization": header.format(token)})
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)


def test_a_served_app_moves_its_start_up_objects_out_of_the_collectors_way(
    registry: Registry,
) -> None:
    gc.unfreeze()
    try:
        with TestClient(registry.app) as client:  # runs the lifespan, as a server does
            assert gc.get_freeze_count() > 20_000
            assert client.get("/healthz").json() == {"status": "ok"}
    finally:
        gc.unfreeze()
