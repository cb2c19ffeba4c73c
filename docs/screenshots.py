"""Screenshots of the dashboard's main pages for the README and docs/dashboard.md.

    python docs/screenshots.py          # writes docs/images/dashboard-*.png

Starts a real `portplan serve` on a temporary SQLite database, pushes a small plan (two
revisions), takes a few leases, and photographs the pages in Debian's chromium
(`apt-get install chromium`) at 1280×800, one in the dark theme and one in a narrow window.
"""

from __future__ import annotations

import signal
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dashboard.conftest import Served, login, open_browser, seed, start  # noqa: E402
from tests.dashboard.plans import SHOP, SHOP_2  # noqa: E402

IMAGES = ROOT / "docs" / "images"
SHOTS = (
    ("matrix", "/matrix?system=shop", {}),
    ("findings", "/findings?system=shop", {}),
    ("graph", "/graph?system=shop", {}),
    ("leases", "/leases", {}),
    ("audit", "/audit", {}),
    ("revisions", "/revisions?system=shop&old=1&new=2", {}),
    ("matrix-dark", "/matrix?system=shop&host=app-1", {"color_scheme": "dark"}),
    ("matrix-narrow", "/matrix?system=shop&host=db-1", {"viewport": {"width": 420, "height": 800}}),
)
LEASES = (
    {
        "holder": "ci-job-1841",
        "system": "shop",
        "ttl_seconds": 1800,
        "ports": [{"range": "web"}],
        "host": "app-1",
    },
    {
        "holder": "alice@laptop",
        "system": "shop",
        "ttl_seconds": 7200,
        "ports": [{"service": "api", "port_name": "http"}],
    },
    {"holder": "ci-job-1842", "system": "shop", "ttl_seconds": 600, "ports": [{"range": "data"}]},
)


def prepare(served: Served) -> None:
    for text in (SHOP, SHOP_2):
        assert served.call("admin", "PUT", "/v1/systems/shop/plan", {"text": text}).is_success
    made = [served.call("admin", "POST", "/v1/leases", lease).json() for lease in LEASES]
    served.call("admin", "DELETE", f"/v1/leases/{made[2]['id']}")


def main() -> None:
    from playwright.sync_api import sync_playwright

    folder = Path(tempfile.mkdtemp(prefix="portplan-shots-"))
    database = f"sqlite:///{folder / 'registry.db'}"
    tokens = seed(database)
    process, url = start(database, folder / "server.log")
    served = Served(url, database, folder / "server.log", tokens)
    IMAGES.mkdir(parents=True, exist_ok=True)
    try:
        prepare(served)
        with sync_playwright() as driver:
            for name, path, options in SHOTS:
                context = open_browser(driver, folder / f"profile-{name}", **options)
                page = context.new_page()
                login(page, served, "admin", path)
                page.wait_for_function(
                    "() => performance.getEntriesByName('portplan:ready').length"
                )
                target = IMAGES / f"dashboard-{name}.png"
                page.screenshot(path=str(target), full_page=False)
                context.close()
                print(target.relative_to(ROOT))
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


if __name__ == "__main__":
    main()
