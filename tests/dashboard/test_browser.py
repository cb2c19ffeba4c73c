"""The dashboard in a real headless chromium against a real `portplan serve`: login, the
matrix's filters, a finding, a lease taken by the CLI appearing live, its release by an
admin, and another tenant's system nowhere."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import Any

from playwright.sync_api import expect

from tests.dashboard.conftest import Served, login

# the sum of the page's layout shifts, as the browser's performance timeline records them
SHIFTS = """() => new Promise(done => {
  let sum = 0;
  new PerformanceObserver(list => { for (const e of list.getEntries()) sum += e.value; })
    .observe({type: "layout-shift", buffered: true});
  setTimeout(() => done(sum), 50);
})"""


def test_a_page_without_a_session_goes_to_the_login_form_and_back(
    served: Served, browser: Any
) -> None:
    page = browser.new_page()
    page.goto(served.url + "/findings?system=shop")
    assert page.url == served.url + "/login?next=/findings%3Fsystem%3Dshop"
    page.fill("#token", "ppt_not-a-token")
    page.click("button[type=submit]")
    assert page.get_by_role("alert").inner_text() == "✖ Unknown or revoked token."
    page.fill("#token", served.tokens["reader"])
    page.keyboard.press("Enter")
    page.wait_for_url(served.url + "/findings?system=shop")
    assert page.locator("h1").inner_text() == "Findings shop · revision 2"
    assert served.tokens["reader"] not in page.content()
    cookie = next(c for c in browser.cookies() if c["name"] == "portplan_session")
    assert (cookie["httpOnly"], cookie["sameSite"], cookie["secure"]) == (True, "Lax", False)


def test_filter_the_matrix_by_keyboard(served: Served, browser: Any) -> None:
    page = browser.new_page()
    login(page, served, "reader")
    assert page.locator("tbody.service > tr > th").all_inner_texts() == [
        "gateway",
        "worker",
        "api",
        "cache",
        "postgres",
    ]
    # the skip link comes first, and focus is visible
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    page.focus("#category")
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.select_option("#category", "data")
    page.wait_for_url("**/matrix?system=shop&host=&category=data&exposure=&q=")
    assert page.locator("tbody.service > tr > th").all_inner_texts() == ["cache", "postgres"]
    page.select_option("#category", "")
    page.fill("#q", "800")
    expect(page.locator("tbody.service")).to_have_count(3)
    assert page.locator("tbody.service > tr > th").all_inner_texts() == ["gateway", "worker", "api"]
    page.select_option("#exposure", "public")
    expect(page.locator("tbody.service")).to_have_count(1)
    assert page.locator("tbody.service td.num").all_inner_texts() == ["80", "8001"]
    assert "public" in page.locator("tbody.service").inner_text()


def test_open_a_finding(served: Served, browser: Any) -> None:
    page = browser.new_page()
    login(page, served, "reader", "/findings")
    row = page.locator("tr.finding")
    assert row.count() == 1
    assert row.locator("td").nth(1).inner_text() == "PP108"
    row.get_by_role("link", name="line 15").click()
    page.wait_for_url("**/plan?system=shop&revision=2#L15")
    assert page.locator(".line:target").inner_text() == "15    ports: {http: 80, admin: 8001}"
    page.go_back()
    row.get_by_role("link", name="gateway").click()
    page.wait_for_url("**/matrix?system=shop&q=gateway#svc-gateway")
    assert page.locator("tbody.service > tr > th").all_inner_texts() == ["gateway"]


def test_a_lease_from_the_cli_appears_live_and_an_admin_releases_it(
    served: Served, browser: Any, tmp_path: Any
) -> None:
    page = browser.new_page()
    login(page, served, "admin", "/leases")
    matrix = browser.new_page()
    matrix.goto(served.url + "/matrix?system=shop&host=app-1")
    band = matrix.locator(".band-row .counts").first
    assert band.inner_text() == "4 used · 2 reserved · 0 leased · 14 free"
    segments = matrix.locator(".band").first.locator("li")
    assert segments.first.get_attribute("title") == "8000–8002 used (3)"
    env = {**os.environ, "PORTPLAN_TOKEN": served.tokens["admin"], "PORTPLAN_SERVER": served.url}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "portplan",
            "lease",
            "api",
            "http",
            "--system",
            "shop",
            "--ttl",
            "10m",
            "--holder",
            "ci-job-7",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    leased = time.monotonic()
    assert done.returncode == 0, done.stderr
    lease_id = done.stdout.split()[1]
    row = page.locator(f"#lease-{lease_id}")
    row.wait_for(timeout=1000)
    seen = time.monotonic() - leased
    assert seen < 1.0
    cells = row.locator("td").all_inner_texts()
    assert cells[:5] == ["● live", "app-1", "ci-job-7", "shop", "8000/tcp (api)"]
    assert cells[5] in ("10m 0s", "9m 59s", "9m 58s")
    expect(band).to_have_text("3 used · 2 reserved · 1 leased · 14 free", timeout=1000)
    assert segments.first.get_attribute("title") == "8000 leased (1)"
    assert "leased by ci-job-7" in matrix.locator("#svc-api").inner_text()
    assert page.evaluate(SHIFTS) == 0
    page.get_by_role("button", name="Release lease of ci-job-7 (8000/tcp (api))").click()
    page.wait_for_url(served.url + "/leases")
    assert row.locator("td").first.inner_text() == "○ released"
    assert served.call("admin", "GET", f"/v1/leases/{lease_id}").json()["state"] == "released"
    expect(band).to_have_text("4 used · 2 reserved · 0 leased · 14 free", timeout=1000)


def test_another_tenants_system_is_nowhere(served: Served, browser: Any) -> None:
    page = browser.new_page()
    login(page, served, "rival", "/leases")
    refetches: list[str] = []
    page.on("request", lambda r: refetches.append(r.url) if "/leases" in r.url else None)
    # acme changes things: rival's open page is told nothing
    lease = served.call(
        "admin",
        "POST",
        "/v1/leases",
        {"holder": "acme-ci", "host": "app-1", "ports": [{"candidates": [8015]}]},
    )
    assert lease.status_code == 201
    page.wait_for_timeout(1200)
    assert refetches == []
    assert "acme-ci" not in page.content()
    # its own change is (the control: the page does listen)
    served.call(
        "rival",
        "POST",
        "/v1/leases",
        {"holder": "eve-ci", "host": "h", "ports": [{"candidates": [9300]}]},
    )
    expect(page.locator("tr.lease")).to_contain_text(["eve-ci"], timeout=1000)
    assert len(refetches) == 1

    for path in ("/matrix", "/findings", "/graph", "/revisions", "/audit", "/leases"):
        page.goto(served.url + path)
        html = page.content()
        assert "shop" not in html and "acme" not in html and "gateway" not in html, path
        links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
        assert not [href for href in links if "shop" in href], path
    page.goto(served.url + "/matrix?system=hushhush&q=gateway")
    assert page.locator("#system option").all_inner_texts() == ["hushhush"]
    assert page.locator("tbody.service").count() == 0
    for path in ("/matrix?system=shop", "/plan?system=shop", "/revisions?system=shop&old=1&new=2"):
        answer = page.goto(served.url + path)
        assert answer is not None and answer.status == 404, path
        assert page.locator("h1").inner_text() == "No system named 'shop'."
    answer = page.goto(served.url + "/matrix?system=nosuch")
    assert answer is not None and answer.status == 404
    assert page.locator("h1").inner_text() == "No system named 'nosuch'."


def test_narrow_window_and_dark_theme(served: Served, playwright: Any, tmp_path: Any) -> None:
    from tests.dashboard.conftest import open_browser

    narrow = {"width": 420, "height": 800}
    context = open_browser(playwright, tmp_path / "p", viewport=narrow, color_scheme="dark")
    try:
        page = context.new_page()
        login(page, served, "reader")
        # the page itself never scrolls sideways: wide tables scroll in their own box
        assert page.evaluate("() => document.documentElement.scrollWidth") <= 420
        background = page.evaluate("() => getComputedStyle(document.body).backgroundColor")
        assert background == "rgb(13, 17, 23)"
        # every control is reachable by keyboard, the last one too
        page.locator("#q").focus()
        page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.textContent") == "Filter"
    finally:
        context.close()


def test_the_graph_by_keyboard(served: Served, browser: Any) -> None:
    page = browser.new_page()
    login(page, served, "reader", "/graph?system=shop")
    assert page.locator("svg.graph a").count() == 5  # one link per service
    assert "▲ 1 warning" in page.locator("svg.graph").text_content()
    page.locator("#system").focus()
    for _ in range(2):  # the Show button, then the first node of the graph
        page.keyboard.press("Tab")
    focused = page.evaluate("() => document.activeElement.closest('svg') !== null")
    assert focused
    page.keyboard.press("Enter")
    page.wait_for_url("**/matrix?system=shop&q=gateway")
    assert page.locator("tbody.service > tr > th").all_inner_texts() == ["gateway"]


LAYERED = """\
system: layered
include: [services/edge.yaml]
services:
  api:
    ports: {http: 8000}
"""
EDGE = """\
# the edge, kept by the network team
services:
  proxy:
    ports: {http: 80}
"""


def test_the_plan_page_shows_every_file_of_the_revision(served: Served, browser: Any) -> None:
    """A finding in an included file links to its line there, on the page of the revision."""
    from portplan.server import db, tenants

    engine = db.engine_for(served.database)
    made = db.write(engine, lambda c: tenants.create_token(c, "layers", "lee", "admin"))
    engine.dispose()
    served.tokens["layers"] = made
    body = {"text": LAYERED, "files": [{"path": "services/edge.yaml", "text": EDGE}]}
    assert served.call("layers", "PUT", "/v1/systems/layered/plan", body).is_success
    page = browser.new_page()
    login(page, served, "layers", "/findings?system=layered")
    row = page.locator("tr.finding")
    assert row.locator("td").nth(1).inner_text() == "PP108"
    row.get_by_role("link", name="services/edge.yaml line 4").click()
    page.wait_for_url("**/plan?system=layered&revision=1#services/edge.yaml-L4")
    assert page.locator(".line:target").inner_text() == "4    ports: {http: 80}"
    labels = page.locator("pre.plan").evaluate_all("els => els.map(e => e.ariaLabel)")
    assert labels == ["portplan.yaml, revision 1", "services/edge.yaml, revision 1"]
    assert page.locator("pre.plan").nth(1).inner_text().splitlines() == [
        f"{n}{line}" for n, line in enumerate(EDGE.splitlines(), 1)
    ]
    files = page.get_by_role("navigation", name="Files of revision 1")
    assert files.get_by_role("link").all_inner_texts() == ["portplan.yaml", "services/edge.yaml"]
    files.get_by_role("link", name="services/edge.yaml").click()
    page.wait_for_url("**/plan?system=layered&revision=1#services/edge.yaml")
    assert page.locator("h2:target").inner_text() == "services/edge.yaml"
