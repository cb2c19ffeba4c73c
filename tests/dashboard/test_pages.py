"""The dashboard's server side, in-process: cookie flags, CSRF refusals, scopes, the same 404
for another tenant's objects as for missing ones, and no token in any page."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from portplan.server import db, tenants
from portplan.server.app import create_app
from portplan.server.settings import Settings
from tests.dashboard.plans import RIVAL, SHOP, SHOP_2

PAGES = ("/matrix", "/findings", "/graph", "/revisions", "/leases", "/audit", "/plan")


class Site:
    def __init__(self, url: str) -> None:
        self.app = create_app(Settings(database_url=url, sweep_seconds=0.2))
        self.tokens = {
            who: db.write(
                self.app.state.engine, lambda c, t=t, w=who, s=s: tenants.create_token(c, t, w, s)
            )
            for who, t, s in (
                ("admin", "acme", "admin"),
                ("reader", "acme", "read"),
                ("rival", "rival", "admin"),
            )
        }

    def client(self, base_url: str = "http://testserver") -> TestClient:
        return TestClient(self.app, base_url=base_url, follow_redirects=False)

    def api(self, who: str, method: str, path: str, body: object = None) -> object:
        with self.client() as c:
            headers = {"Authorization": f"Bearer {self.tokens[who]}"}
            return c.request(method, path, json=body, headers=headers).json()


@pytest.fixture
def site(database_url: str) -> Iterator[Site]:
    found = Site(database_url)
    for who, system, text in (
        ("admin", "shop", SHOP),
        ("admin", "shop", SHOP_2),
        ("rival", "hushhush", RIVAL),
    ):
        found.api(who, "PUT", f"/v1/systems/{system}/plan", {"text": text})
    yield found
    found.app.state.engine.dispose()


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def signed_in(site: Site, who: str, base_url: str = "http://testserver") -> TestClient:
    client = site.client(base_url)
    csrf = _csrf(client.get("/login").text)
    answer = client.post(
        "/login", data={"csrf": csrf, "token": site.tokens[who], "next": "/leases"}
    )
    assert (answer.status_code, answer.headers["location"]) == (303, "/leases")
    return client


def test_the_session_cookie_is_httponly_samesite_and_secure_over_https(site: Site) -> None:
    for base, secure in (("http://testserver", False), ("https://testserver", True)):
        client = site.client(base)
        login = client.get("/login")
        assert "portplan_login=" in login.headers["set-cookie"]
        answer = client.post(
            "/login", data={"csrf": _csrf(login.text), "token": site.tokens["reader"]}
        )
        cookie = next(
            h for h in answer.headers.get_list("set-cookie") if h.startswith("portplan_session=")
        )
        flags = {part.strip().lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite=lax", "path=/", "max-age=43200"} <= flags
        assert ("secure" in flags) is secure
        assert site.tokens["reader"] not in cookie


def test_login_refusals(site: Site) -> None:
    client = site.client()
    client.get("/login?next=/audit")
    no_csrf = client.post("/login", data={"token": site.tokens["admin"]})
    assert no_csrf.status_code == 403
    assert "The form expired: please sign in again." in no_csrf.text
    csrf = _csrf(no_csrf.text)  # each form rendered has a token of its own
    wrong = client.post("/login", data={"csrf": csrf, "token": site.tokens["admin"] + "x"})
    assert wrong.status_code == 401
    assert "Unknown or revoked token." in wrong.text
    assert site.tokens["admin"] not in wrong.text
    # `next` leads only to a page of this site
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        csrf = _csrf(client.get("/login").text)
        answer = client.post(
            "/login", data={"csrf": csrf, "token": site.tokens["admin"], "next": evil}
        )
        assert answer.headers["location"] == "/"


def test_pages_redirect_to_login_without_a_session(site: Site) -> None:
    client = site.client()
    for path in PAGES:
        answer = client.get(path + "?system=shop")
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/login?next={path}%3Fsystem%3Dshop"
    assert client.get("/live").status_code == 204


def test_every_page_renders_with_security_headers_and_no_token(site: Site) -> None:
    client = signed_in(site, "admin")
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-security-policy"].startswith("default-src 'self'; ")
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert all(token not in answer.text for token in site.tokens.values()), path
        assert '<script src="/static/htmx.min.js" defer></script>' in answer.text
    assert client.get("/static/htmx.min.js").text.startswith("/*! htmx 2.0.11 ")


def test_changing_forms_need_the_csrf_token_and_this_origin(site: Site) -> None:
    lease = site.api(
        "admin",
        "POST",
        "/v1/leases",
        {"holder": "ci", "host": "app-1", "ports": [{"candidates": [8015]}]},
    )
    assert isinstance(lease, dict)
    client = signed_in(site, "admin")
    csrf = _csrf(client.get("/leases").text)
    url = f"/leases/{lease['id']}/release"
    assert client.post(url).status_code == 403
    assert client.post(url, data={"csrf": "forged"}).status_code == 403
    foreign = client.post(url, data={"csrf": csrf}, headers={"Origin": "https://evil.example"})
    assert foreign.status_code == 403
    assert "This form has expired or did not come from this dashboard." in foreign.text
    assert client.post("/logout").status_code == 403
    assert site.api("admin", "GET", f"/v1/leases/{lease['id']}")["state"] == "live"  # type: ignore[index]
    done = client.post(url, data={"csrf": csrf}, headers={"Origin": "http://testserver"})
    assert (done.status_code, done.headers["location"]) == (303, "/leases")
    assert site.api("admin", "GET", f"/v1/leases/{lease['id']}")["state"] == "released"  # type: ignore[index]
    again = client.post(url, data={"csrf": csrf})
    assert again.status_code == 409
    # sign out ends the session
    assert client.post("/logout", data={"csrf": csrf}).status_code == 303
    assert client.get("/leases").status_code == 303


def test_release_takes_an_admin_and_the_tenants_own_lease(site: Site) -> None:
    lease = site.api(
        "admin",
        "POST",
        "/v1/leases",
        {"holder": "ci", "host": "app-1", "ports": [{"candidates": [8016]}]},
    )
    assert isinstance(lease, dict)
    reader = signed_in(site, "reader")
    csrf = _csrf(reader.get("/leases").text)
    assert "Release" not in reader.get("/leases").text.split("<tbody>")[1]
    refused = reader.post(f"/leases/{lease['id']}/release", data={"csrf": csrf})
    assert refused.status_code == 403
    assert "Releasing another holder&#39;s lease takes an admin token." in refused.text
    assert reader.get("/audit").status_code == 403
    rival = signed_in(site, "rival")
    csrf = _csrf(rival.get("/leases").text)
    hidden = rival.post(f"/leases/{lease['id']}/release", data={"csrf": csrf})
    missing = rival.post("/leases/000000000000000000000000/release", data={"csrf": csrf})
    assert hidden.status_code == missing.status_code == 404
    assert hidden.text == missing.text.replace("000000000000000000000000", lease["id"])


def test_another_tenants_system_answers_as_a_missing_one(site: Site) -> None:
    rival = signed_in(site, "rival")
    for path in ("/matrix", "/findings", "/graph", "/revisions", "/plan"):
        other = rival.get(f"{path}?system=shop")
        missing = rival.get(f"{path}?system=shoq")
        assert other.status_code == missing.status_code == 404, path
        assert other.text == missing.text.replace("shoq", "shop")
    for path in PAGES:
        html = rival.get(path).text
        assert "shop" not in html and "gateway" not in html and "acme" not in html, path


def test_a_revoked_token_ends_its_sessions(site: Site) -> None:
    client = signed_in(site, "reader")
    assert client.get("/matrix").status_code == 200
    db.write(site.app.state.engine, lambda c: tenants.revoke(c, "acme", "reader"))
    assert client.get("/matrix").headers["location"] == "/login?next=/matrix"
    assert client.get("/live").status_code == 204


def test_the_live_feed_tells_the_tenants_own_changes_only(site: Site) -> None:
    client = signed_in(site, "reader")
    with client.stream("GET", "/live") as stream:
        lines = stream.iter_lines()
        assert next(lines) == "retry: 1000"
        site.api(
            "rival",
            "POST",
            "/v1/leases",
            {"holder": "x", "host": "h", "ports": [{"candidates": [9000]}]},
        )
        site.api(
            "admin",
            "POST",
            "/v1/leases",
            {"holder": "y", "host": "h", "ports": [{"candidates": [9000]}]},
        )
        seen = [line for line in (next(lines) for _ in range(4)) if line]
    # acme's revisions: 2 plan pushes, then this lease (rival's change is not told)
    assert seen == ["event: change", "data: 3"]


def test_revisions_diff_between_any_two(site: Site) -> None:
    client = signed_in(site, "reader")
    page = client.get("/revisions?system=shop&old=2&new=1").text
    assert '<span class="line del">-    ports: {metrics: 8004}</span>' in page
    assert '<span class="line add">+    ports: {metrics: 8003}</span>' in page
    assert client.get("/revisions?system=shop&old=1&new=9").status_code == 404


def test_the_audit_log_filters(site: Site) -> None:
    site.api(
        "admin",
        "POST",
        "/v1/leases",
        {"holder": "ci", "host": "h", "ports": [{"candidates": [9100]}]},
    )
    client = signed_in(site, "admin")
    rows = re.findall(r"<td><code>([a-z.]+)</code></td>", client.get("/audit").text)
    assert rows == ["plan.pushed", "plan.pushed", "lease.granted"]
    only = client.get("/audit?action=lease.granted").text
    assert re.findall(r"<td><code>([a-z.]+)</code></td>", only) == ["lease.granted"]
    assert "ci on h: 9100" in only
    by_subject = client.get("/audit?subject=systems/shop").text
    assert re.findall(r"<td><code>([a-z.]+)</code></td>", by_subject) == ["plan.pushed"] * 2
    assert "Nothing matches." in client.get("/audit?actor=nobody").text
