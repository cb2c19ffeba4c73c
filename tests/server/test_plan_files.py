"""Plans that include files: pushed with them, checked as a whole by the loader `check`
uses, stored file by file, pulled back byte-identical, diffed, and refused with where when
the pushed files are not the plan's includes."""

from __future__ import annotations

from typing import Any

import pytest

from portplan.server import db
from tests.server.conftest import Registry

MAIN = """\
system: shop
include:
  - services/db.yaml
ranges:
  web: {ports: 8000-8009, category: web}
services:
  api:
    category: web
    ports: {http: 8000}
"""

DB = """\
# the data services, kept by the platform team\r
include: [cache.yaml]\r
services:\r
  db:\r
    ports: {postgres: 5432}\r
"""

CACHE = "services:\n  cache:\n    ports: {redis: 6379}\n"
FILES = [{"path": "services/db.yaml", "text": DB}, {"path": "services/cache.yaml", "text": CACHE}]


def _push(admin: Any, text: str = MAIN, files: list[dict[str, str]] = FILES) -> Any:
    return admin.put("/v1/systems/shop/plan", json={"text": text, "files": files})


def test_a_plan_and_its_included_files_round_trip(registry: Registry) -> None:
    admin = registry.client(registry.token("acme"))
    pushed = _push(admin)
    assert pushed.status_code == 200, pushed.text
    assert pushed.json()["files"] == ["portplan.yaml", "services/cache.yaml", "services/db.yaml"]
    assert admin.get("/v1/systems/shop/plan").content == MAIN.encode()
    for path, text in (("services/db.yaml", DB), ("services/cache.yaml", CACHE)):
        pulled = admin.get("/v1/systems/shop/plan", params={"file": path})
        assert (pulled.status_code, pulled.content) == (200, text.encode())
        assert pulled.headers["x-portplan-revision"] == "1"
    missing = admin.get("/v1/systems/shop/plan", params={"file": "services/none.yaml"})
    assert missing.json()["error"]["message"] == (
        "file 'services/none.yaml' of revision 1 of 'shop' not found"
    )
    services = admin.get("/v1/systems/shop/services").json()["services"]
    assert sorted(s["name"] for s in services) == ["api", "cache", "db"]
    # a lease of an included service's port: its planned port
    body = {"holder": "ci", "system": "shop", "ports": [{"service": "db", "port_name": "postgres"}]}
    assert admin.post("/v1/leases", json=body).json()["ports"][0]["port"] == 5432

    assert _push(admin).json()["changed"] is False
    changed = [FILES[0], {"path": "services/cache.yaml", "text": CACHE.replace("6379", "6380")}]
    assert _push(admin, files=changed).json()["revision"] == 2
    listed = admin.get("/v1/systems/shop/revisions").json()["revisions"]
    assert [r["files"] for r in listed] == [pushed.json()["files"]] * 2
    diff = admin.get("/v1/systems/shop/diff", params={"old": 1, "new": 2}).json()["diff"]
    assert diff == (
        "--- shop@1/services/cache.yaml\n+++ shop@2/services/cache.yaml\n@@ -1,3 +1,3 @@\n"
        " services:\n   cache:\n-    ports: {redis: 6379}\n+    ports: {redis: 6380}\n"
    )
    # back to one file: the included files are gone from the new revision
    single = MAIN.replace("include:\n  - services/db.yaml\n", "")
    assert _push(admin, single, []).json()["files"] == ["portplan.yaml"]
    diff = admin.get("/v1/systems/shop/diff", params={"old": 2, "new": 3}).json()["diff"]
    assert "--- shop@2/services/db.yaml\n+++ /dev/null\n" in diff
    old = admin.get("/v1/systems/shop/plan", params={"revision": 1, "file": "services/db.yaml"})
    assert old.content == DB.encode()


OUTSIDE = "is outside the plan's folder; the registry keeps only the files under it"


@pytest.mark.parametrize(
    ("text", "files", "code", "message"),
    [
        (
            MAIN,
            FILES[:1],
            "plan_includes",
            "services/db.yaml:2:11: include 'cache.yaml': not among the pushed files",
        ),
        (
            MAIN.replace("services/db.yaml", "../db.yaml"),
            [],
            "plan_includes",
            f"portplan.yaml:3:5: include '../db.yaml' {OUTSIDE}",
        ),
        (
            MAIN.replace("services/db.yaml", "/etc/passwd"),
            [],
            "plan_includes",
            f"portplan.yaml:3:5: include '/etc/passwd' {OUTSIDE}",
        ),
        (
            MAIN,
            [*FILES, {"path": "extra.yaml", "text": CACHE}],
            "plan_includes",
            "extra.yaml: pushed, but the plan does not include it",
        ),
        (
            MAIN,
            [*FILES, {"path": "services/../../x.yaml", "text": CACHE}],
            "plan_includes",
            "services/../../x.yaml: expected a relative path under the plan's folder, '/' "
            "between names, no '.' or '..'",
        ),
        (
            MAIN.replace("services/db.yaml", "services"),
            [{"path": "services", "text": DB}, {"path": "services/cache.yaml", "text": CACHE}],
            "plan_includes",
            "services/cache.yaml: its folder 'services' is a pushed file",
        ),
        (
            MAIN,
            [*FILES, {"path": "portplan.yaml/x.yaml", "text": CACHE}],
            "plan_includes",
            "portplan.yaml/x.yaml: its folder 'portplan.yaml' is a pushed file",
        ),
        (
            MAIN,
            [*FILES, {"path": "x" * 256 + ".yaml", "text": CACHE}],
            "plan_includes",
            "x" * 256 + ".yaml: expected names of at most 255 bytes between the '/'",
        ),
        (
            MAIN,
            [*FILES, {"path": "portplan.yaml", "text": MAIN}],
            "plan_includes",
            "portplan.yaml: is the plan itself; give it as `text`",
        ),
        (
            MAIN,
            [
                FILES[0],
                {
                    "path": "services/cache.yaml",
                    "text": "services:\n  cache:\n    ports: {redis: 6o}\n",
                },
            ],
            "invalid_plan",
            "services/cache.yaml:3:",
        ),
    ],
)
def test_pushed_files_must_be_the_plans_includes(
    registry: Registry, text: str, files: list[dict[str, str]], code: str, message: str
) -> None:
    admin = registry.client(registry.token("acme"))
    refused = _push(admin, text, files)
    assert refused.status_code == 422
    error = refused.json()["error"]
    assert (error["code"], error["message"][: len(message)]) == (code, message)
    assert "\n" not in error["message"]
    assert admin.get("/v1/systems").json() == {"systems": []}


def test_a_bundle_over_the_size_limit_is_refused(registry: Registry) -> None:
    admin = registry.client(registry.token("acme"))
    big = "# " + "x" * 3_000_000 + "\n"
    files = [
        {"path": f"p{n}.yaml", "text": big + CACHE.replace("cache", f"c{n}")} for n in range(3)
    ]
    text = MAIN.replace("  - services/db.yaml\n", "".join(f"  - p{n}.yaml\n" for n in range(3)))
    refused = _push(admin, text, files)
    assert refused.json()["error"]["message"] == (
        "portplan.yaml: the plan and its files exceed 8000000 characters"
    )


def test_an_old_database_keeps_its_plans_through_the_migration(registry: Registry) -> None:
    from alembic import command

    admin = registry.client(registry.token("acme"))
    single = MAIN.replace("include:\n  - services/db.yaml\n", "")
    assert admin.put("/v1/systems/shop/plan", json={"text": single}).status_code == 200
    with registry.engine.begin() as conn:
        command.downgrade(db.alembic_config(conn), "0002")
    db.migrate(registry.engine)
    assert admin.get("/v1/systems/shop/plan").content == single.encode()
    assert admin.get("/v1/systems/shop/revisions").json()["revisions"][0]["files"] == [
        "portplan.yaml"
    ]
