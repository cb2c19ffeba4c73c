"""`portplan serve` as a real process (uvicorn on a free loopback port), driven by the CLI
clients: token create, push, lease, release, pull (--watch, --generate), allocate through
the registry, and the SSE feed with Last-Event-ID."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from portplan.cli import main
from portplan.plan import loader
from portplan.server.client import Client, RegistryError
from tests.server.postgres import Server, free_port
from tests.server.test_plans import PLAN, PLAN_2

Capture = pytest.CaptureFixture[str]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def live_database(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """One database per backend for this module: each test works as a tenant of its own."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('live') / 'registry.db'}"
    server: Server = request.getfixturevalue("postgres")
    return server.create_database("live", template="portplan_template")


@pytest.fixture(scope="module")
def served_log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("log") / "server.log"


@pytest.fixture(scope="module")
def served(live_database: str, served_log: Path) -> Iterator[str]:
    """`portplan serve` started once per backend (its start-up is most of the cost)."""
    port = free_port()
    log = served_log.open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "portplan",
            "serve",
            "--db",
            live_database,
            "--bind",
            f"127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(url + "/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.05)
        else:
            raise AssertionError(served_log.read_text())
        yield url
    finally:
        process.terminate()
        # a graceful shutdown: uvicorn finishes, then re-raises SIGTERM for the exit status
        assert process.wait(timeout=15) == -signal.SIGTERM
        assert "Traceback" not in served_log.read_text()


def _token(database_url: str, capsys: Capture, tenant: str) -> str:
    command = [
        "serve",
        "--db",
        database_url,
        "token",
        "create",
        "--tenant",
        tenant,
        "--scope",
        "admin",
    ]
    assert main(command) == 0
    return capsys.readouterr().out.strip()


def test_the_clients_against_a_real_server(
    served: str,
    live_database: str,
    served_log: Path,
    tmp_path: Path,
    capsys: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    token = _token(live_database, capsys, "clients")
    monkeypatch.setenv("PORTPLAN_TOKEN", token)
    monkeypatch.setenv("PORTPLAN_SERVER", served)
    plan = tmp_path / "portplan.yaml"
    plan.write_bytes(PLAN.encode())
    assert main(["push", "-f", str(plan)]) == 0
    assert capsys.readouterr().out == "pushed shop: revision 1\n"

    assert main(["lease", "api", "http", "-f", str(plan), "--ttl", "30m", "--format", "env"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1] == "API_HTTP_PORT=8000"
    lease_id = lines[0].split("=", 1)[1]
    assert main(["lease", "api", "--system", "shop", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["command"], document["lease"]["ports"][0]["port"]) == ("lease", 8003)
    assert main(["release", lease_id]) == 0
    assert capsys.readouterr().out == f"released {lease_id}\n"
    assert main(["release", lease_id]) == 2
    error = capsys.readouterr().err
    assert (
        error
        == f"portplan: error: the registry refused (409 lease_ended): lease '{lease_id}' is released\n"
    )

    pulled = tmp_path / "pulled" / "portplan.yaml"
    pulled.parent.mkdir()
    assert main(["pull", "-f", str(pulled), "--system", "shop"]) == 0
    assert pulled.read_bytes() == PLAN.encode()
    out, err = capsys.readouterr()
    assert token not in out + err + served_log.read_text()


def test_a_refused_push_names_the_findings(
    served: str,
    live_database: str,
    tmp_path: Path,
    capsys: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORTPLAN_TOKEN", _token(live_database, capsys, "refused"))
    plan = tmp_path / "portplan.yaml"
    plan.write_text(PLAN.replace("ports: {http: 8001}", "ports: {http: 8000}"))
    assert main(["push", "-f", str(plan), "--server", served]) == 2
    err = capsys.readouterr().err
    assert err.startswith("PP101: ")
    assert err.endswith(
        "portplan: error: the registry refused (422 plan_has_errors): the plan has errors\n"
    )


def test_a_value_the_api_refuses_is_one_line_naming_its_field(
    served: str,
    live_database: str,
    tmp_path: Path,
    capsys: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PORTPLAN_TOKEN", _token(live_database, capsys, "fields"))
    monkeypatch.setenv("PORTPLAN_SERVER", served)
    plan = tmp_path / "portplan.yaml"
    plan.write_bytes(PLAN.encode())
    refused = "portplan: error: the registry refused (422 invalid_request): the request does not fit the API"
    assert main(["push", "-f", str(plan), "--system", "s" * 201]) == 2
    assert capsys.readouterr() == (
        "",
        f"{refused}: system: String should have at most 200 characters\n",
    )
    assert main(["push", "-f", str(plan)]) == 0
    capsys.readouterr()
    assert main(["lease", "api", "http", "-f", str(plan), "--holder", "h" * 201]) == 2
    assert capsys.readouterr().err == (
        f"{refused}: holder: String should have at most 200 characters\n"
    )
    client = Client(served, os.environ["PORTPLAN_TOKEN"])
    with pytest.raises(RegistryError) as caught:
        client.call("POST", "/v1/leases", {"holder": "x", "ports": [{"first": "a"}]})
    assert str(caught.value) == (
        f"{refused.removeprefix('portplan: error: ')}: ports[0].first: Input should be a "
        "valid integer"
    )


def test_push_and_pull_carry_the_files_a_plan_includes(
    served: str,
    live_database: str,
    tmp_path: Path,
    capsys: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from tests.server.test_plan_files import CACHE, DB, MAIN

    monkeypatch.setenv("PORTPLAN_TOKEN", _token(live_database, capsys, "bundles"))
    monkeypatch.setenv("PORTPLAN_SERVER", served)
    here = tmp_path / "here"
    (here / "services").mkdir(parents=True)
    (here / "portplan.yaml").write_bytes(MAIN.encode())
    (here / "services" / "db.yaml").write_bytes(DB.encode())
    (here / "services" / "cache.yaml").write_bytes(CACHE.encode())
    assert main(["push", "-f", str(here / "portplan.yaml")]) == 0
    assert capsys.readouterr().out == "pushed shop: revision 1 (with 2 included files)\n"
    there = tmp_path / "there" / "portplan.yaml"
    there.parent.mkdir()
    assert main(["pull", "-f", str(there), "--system", "shop"]) == 0
    for name in ("portplan.yaml", "services/db.yaml", "services/cache.yaml"):
        assert (there.parent / name).read_bytes() == (here / name).read_bytes()
    assert sorted(loader.load(there).services) == ["api", "cache", "db"]

    # an include outside the plan's folder is not sent
    (tmp_path / "shared.yaml").write_text(CACHE.replace("cache", "queue"))
    (here / "portplan.yaml").write_text(MAIN.replace("services/db.yaml", "../shared.yaml"))
    assert main(["push", "-f", str(here / "portplan.yaml")]) == 2
    assert capsys.readouterr().err == (
        f"portplan: error: {here / 'portplan.yaml'}:3:5: include '../shared.yaml' is outside "
        "the plan's folder; the registry keeps only the files under it\n"
    )


def test_pull_deletes_what_a_newer_revision_no_longer_includes(
    served: str,
    live_database: str,
    tmp_path: Path,
    capsys: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As `git checkout`: a file an earlier pull wrote and that is unchanged here goes; one
    changed here, or one no pull wrote, is never deleted, nor one changed here overwritten."""
    from tests.server.test_plan_files import CACHE, DB, MAIN

    client = Client(served, _token(live_database, capsys, "pruning"))
    monkeypatch.setenv("PORTPLAN_TOKEN", client.token)
    monkeypatch.setenv("PORTPLAN_SERVER", served)
    files = [
        {"path": "services/db.yaml", "text": DB},
        {"path": "services/cache.yaml", "text": CACHE},
    ]
    client.call("PUT", "/v1/systems/shop/plan", {"text": MAIN, "files": files})
    there = tmp_path / "there" / "portplan.yaml"
    there.parent.mkdir()
    (there.parent / "notes.yaml").write_text("mine\n")  # no pull wrote it
    pull = ["pull", "-f", str(there), "--system", "shop"]
    assert main(pull) == 0
    assert (there.parent / "services" / "cache.yaml").read_text() == CACHE

    # revision 2: db.yaml no longer includes cache.yaml
    lean = DB.replace("include: [cache.yaml]\r\n", "")
    client.call(
        "PUT", "/v1/systems/shop/plan", {"text": MAIN, "files": [files[0] | {"text": lean}]}
    )
    assert main(pull) == 0
    assert capsys.readouterr().out.endswith(f"pulled shop revision 2 into {there}\n")
    assert sorted(str(p.relative_to(there.parent)) for p in there.parent.rglob("*.yaml")) == [
        "notes.yaml",
        "portplan.yaml",
        "services/db.yaml",
    ]
    assert (there.parent / "services" / "db.yaml").read_bytes() == lean.encode()

    # revision 3: no include at all, but db.yaml was changed here: refused, nothing written
    plain = MAIN.replace("include:\n  - services/db.yaml\n", "")
    client.call("PUT", "/v1/systems/shop/plan", {"text": plain})
    (there.parent / "services" / "db.yaml").write_text(lean + "# mine\n")
    assert main(pull) == 2
    assert capsys.readouterr().err == (
        f"portplan: error: {there.parent / 'services' / 'db.yaml'}: changed here since "
        "portplan pull wrote it, and revision 3 no longer includes it: not deleted (move it "
        "away, or undo the change), nothing pulled\n"
    )
    assert there.read_bytes() == MAIN.encode()
    (there.parent / "services" / "db.yaml").write_bytes(lean.encode())  # the change undone
    assert main(pull) == 0
    assert there.read_bytes() == plain.encode()
    assert sorted(p.name for p in there.parent.iterdir()) == [
        ".portplan.yaml.pulled.json",  # what pull wrote: the plan
        "notes.yaml",
        "portplan.yaml",
    ]
    capsys.readouterr()

    # nor is a file changed here overwritten by a revision that changes it too
    client.call("PUT", "/v1/systems/shop/plan", {"text": plain + "# revision 4\n"})
    there.write_text(plain + "# mine\n")
    assert main(pull) == 2
    assert capsys.readouterr().err == (
        f"portplan: error: {there}: changed here since portplan pull wrote it, and "
        "revision 4 changes it too: not overwritten (move it away, or undo the change), "
        "nothing pulled\n"
    )
    there.write_text(plain + "# revision 4\n")  # changed here as the revision changes it
    assert main(pull) == 0
    assert there.read_bytes() == (plain + "# revision 4\n").encode()


def test_the_feed_resumes_from_last_event_id_and_pull_watch_follows(
    served: str, live_database: str, tmp_path: Path, capsys: Capture
) -> None:
    client = Client(served, _token(live_database, capsys, "feed"))
    client.call("PUT", "/v1/systems/shop/plan", {"text": PLAN})
    client.call(
        "POST", "/v1/leases", {"holder": "x", "host": "h", "ports": [{"candidates": [5000]}]}
    )
    seen = []
    for event in client.events(0):
        seen.append((event["revision"], event["kind"]))
        if len(seen) == 2:
            break
    assert seen == [(1, "plan.pushed"), (2, "lease.granted")]
    # resume after 1: only what came later
    assert next(iter(client.events(1)))["revision"] == 2

    target = tmp_path / "watched.yaml"
    revisions: list[int] = []
    env = {**os.environ, "PORTPLAN_TOKEN": client.token, "PORTPLAN_SERVER": served}
    watcher = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "portplan",
            "pull",
            "--watch",
            "--generate",
            "--system",
            "shop",
            "-f",
            str(target),
        ],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert watcher.stdout is not None
        revisions.append(_next_revision(watcher.stdout))
        pushing = threading.Timer(
            0.2, lambda: client.call("PUT", "/v1/systems/shop/plan", {"text": PLAN_2})
        )
        pushing.start()
        revisions.append(_next_revision(watcher.stdout))
        # then the generated files of revision 2: web's port changed, api's did not
        written = [watcher.stdout.readline().strip() for _ in range(2)]
        pushing.join()
    finally:
        watcher.terminate()
        watcher.wait(timeout=10)
    assert revisions == [1, 2]
    assert target.read_bytes() == PLAN_2.encode()
    assert "wrote env/web.env" in written
    assert "HTTP_PORT=8003\n" in (tmp_path / "env" / "web.env").read_text()


def _next_revision(lines: Any) -> int:
    """The revision of the watcher's next `pulled` line (past its `wrote` lines)."""
    for line in lines:
        if line.startswith("pulled "):
            return int(line.split()[3])
    raise AssertionError("the watcher stopped")


def test_allocate_writes_a_port_the_registry_leased(
    served: str,
    live_database: str,
    tmp_path: Path,
    capsys: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = Client(served, _token(live_database, capsys, "allocating"))
    monkeypatch.setenv("PORTPLAN_TOKEN", client.token)
    client.call("PUT", "/v1/systems/shop/plan", {"text": PLAN})
    # two machines, each with its own copy of the plan: 8003 is the first free port of both
    plans = []
    for machine in ("a", "b"):
        (tmp_path / machine).mkdir()
        plans.append(tmp_path / machine / "portplan.yaml")
        plans[-1].write_bytes(PLAN.encode())
    command = ["allocate", "--offline", "--server", served, "-f"]
    assert main([*command, str(plans[0]), "api", "grpc"]) == 0
    first = capsys.readouterr().out.splitlines()
    assert main([*command, str(plans[1]), "web", "admin"]) == 0
    second = capsys.readouterr().out.splitlines()
    assert first[0] == f"{plans[0]}: api.grpc = 8003/tcp (range web 8000-8009)"
    assert second[0] == f"{plans[1]}: web.admin = 8004/tcp (range web 8000-8009)"
    assert loader.load(plans[0]).services["api"].port("grpc").number == 8003  # type: ignore[union-attr]
    assert loader.load(plans[1]).services["web"].port("admin").number == 8004  # type: ignore[union-attr]
    live = client.call("GET", "/v1/leases?state=live")["leases"]
    assert [(lease["id"], lease["ports"][0]["port"]) for lease in live] == [
        (first[1].removeprefix("leased from the registry: lease "), 8003),
        (second[1].removeprefix("leased from the registry: lease "), 8004),
    ]
    # --format json names the lease
    assert main([*command, str(plans[1]), "web", "debug", "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert (document["port"], document["written"]) == (8005, True)
    assert client.call("GET", f"/v1/leases/{document['lease']}")["ports"][0]["port"] == 8005
    # a dry run leases nothing
    assert main([*command, str(plans[0]), "api", "metrics", "--dry-run"]) == 0
    assert "+    ports: {http: 8000, grpc: 8003, metrics: 8004}\n" in capsys.readouterr().out
    assert len(client.call("GET", "/v1/leases?state=live")["leases"]) == 3


def test_pull_generate_rewrites_what_the_new_revision_changes(
    served: str,
    live_database: str,
    tmp_path: Path,
    capsys: Capture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = Client(served, _token(live_database, capsys, "generating"))
    monkeypatch.setenv("PORTPLAN_TOKEN", client.token)
    monkeypatch.chdir(tmp_path)
    client.call("PUT", "/v1/systems/shop/plan", {"text": PLAN})
    pull = ["pull", "--generate", "--server", served, "--system", "shop"]
    assert main(pull) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"pulled shop revision 1 into {tmp_path / 'portplan.yaml'}"
    assert {"wrote env/api.env", "wrote env/web.env", "wrote PORTS.md"} <= set(out[1:])
    assert "HTTP_PORT=8001\n" in (tmp_path / "env" / "web.env").read_text()

    client.call("PUT", "/v1/systems/shop/plan", {"text": PLAN_2})
    assert main(pull) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"pulled shop revision 2 into {tmp_path / 'portplan.yaml'}"
    assert "wrote env/web.env" in out
    assert "wrote env/api.env" not in out  # api's ports did not change
    assert "HTTP_PORT=8003\n" in (tmp_path / "env" / "web.env").read_text()
    assert main(["generate", "--check"]) == 0
