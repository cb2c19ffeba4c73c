"""The dashboard's matrix page for a system of 1,000 services: rendered server-side in under
200 ms, interactive in the browser in under 1 s.

    python benchmarks/dashboard.py [--services 1000] [--runs 20]

A real `portplan serve` (uvicorn, SQLite in a temporary folder) holds the generated plan
(10 hosts, 4 categories, two ports per service, one range per category) and 50 live leases.
Server side: the wall time of `GET /matrix?system=big` over loopback with a session cookie
(the first request compiles the templates; it is reported apart). Browser:
Debian's chromium through Playwright, a fresh load each run, from the performance timeline:
`domInteractive` of the navigation entry, and the `portplan:ready` mark the page sets once
htmx has loaded and processed it (the page is usable: filters, live updates).
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.dashboard.conftest import Served, open_browser, seed, start

CATEGORIES = ("web", "api", "data", "jobs")


def big_plan(count: int) -> str:
    lines = ["system: big", "ranges:"]
    for k, category in enumerate(CATEGORIES):
        first = 20000 + k * 2 * count
        lines.append(
            f"  {category}: {{ports: {first}-{first + 2 * count - 1}, category: {category}}}"
        )
    lines.append("services:")
    for i in range(count):
        category = CATEGORIES[i % len(CATEGORIES)]
        first = 20000 + CATEGORIES.index(category) * 2 * count
        lines += [
            f"  svc-{i:04d}:",
            f"    host: host-{i % 10}",
            f"    category: {category}",
            f"    ports: {{http: {first + i}, metrics: {first + count + i}}}",
        ]
    return "\n".join(lines) + "\n"


def session(served: Served) -> httpx.Client:
    client = httpx.Client(base_url=served.url, timeout=30)
    page = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf is not None
    client.post("/login", data={"csrf": csrf.group(1), "token": served.tokens["admin"]})
    return client


def server_side(client: httpx.Client, runs: int) -> tuple[float, list[float]]:
    def once() -> float:
        began = time.perf_counter()
        answer = client.get("/matrix?system=big")
        took = (time.perf_counter() - began) * 1000
        assert answer.status_code == 200 and answer.text.count('<tbody id="svc-') > 0
        return took

    cold = once()
    return cold, [once() for _ in range(runs)]


def browser(served: Served, runs: int, folder: Path) -> tuple[list[float], list[float], int]:
    from playwright.sync_api import sync_playwright

    interactive, ready = [], []
    size = 0
    with sync_playwright() as driver:
        context = open_browser(driver, folder / "profile")
        page = context.new_page()
        page.goto(served.url + "/login")
        page.fill("#token", served.tokens["admin"])
        page.click("button[type=submit]")
        for _ in range(runs):
            page.goto(served.url + "/matrix?system=big")
            page.wait_for_function("() => performance.getEntriesByName('portplan:ready').length")
            timing = page.evaluate(
                "() => [performance.getEntriesByType('navigation')[0].domInteractive,"
                " performance.getEntriesByName('portplan:ready')[0].startTime,"
                " document.querySelectorAll('tbody.service').length]"
            )
            interactive.append(timing[0])
            ready.append(timing[1])
            size = timing[2]
        context.close()
    return interactive, ready, size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="portplan-bench-"))
    database = f"sqlite:///{folder / 'registry.db'}"
    tokens = seed(database)
    process, url = start(database, folder / "server.log")
    served = Served(url, database, folder / "server.log", tokens)
    try:
        pushed = served.call(
            "admin", "PUT", "/v1/systems/big/plan", {"text": big_plan(args.services)}
        )
        assert pushed.status_code == 200, pushed.text
        for i in range(50):
            lease = {"holder": f"ci-{i}", "system": "big", "ports": [{"service": f"svc-{i:04d}"}]}
            assert served.call("admin", "POST", "/v1/leases", lease).status_code == 201
        client = session(served)
        cold, warm = server_side(client, args.runs)
        html = len(client.get("/matrix?system=big").content)
        interactive, ready, rows = browser(served, max(5, args.runs // 4), folder)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load average {load} (2 cores, shared with other jobs)")
    print(
        f"matrix of {args.services} services ({rows} service rows, {html / 1024:.0f} KiB of HTML)"
    )
    print(
        f"  server side: first {cold:.0f} ms (compiles the templates), then median "
        f"{statistics.median(warm):.0f} ms, max {max(warm):.0f} ms over {len(warm)} requests "
        f"(budget 200 ms)"
    )
    print(
        f"  browser: domInteractive median {statistics.median(interactive):.0f} ms "
        f"(max {max(interactive):.0f}), portplan:ready (htmx loaded) median "
        f"{statistics.median(ready):.0f} ms (max {max(ready):.0f}) over {len(ready)} loads "
        f"(budget 1000 ms)"
    )


if __name__ == "__main__":
    main()
