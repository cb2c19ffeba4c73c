"""`portplan allocate` through a registry, killed with SIGKILL between taking its lease and
writing the plan (the port is free again once the hold runs out by the database clock), or
between writing the plan and keeping the lease (the next allocate keeps it from the
journal); an allocate that completed keeps its port past the hold."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from portplan.server.client import Client, RegistryError
from portplan.server.reservation import Reservation
from tests.server.serve import start
from tests.server.test_crash import _token
from tests.server.test_plans import PLAN

ROOT = Path(__file__).resolve().parents[2]
HOLD = 1.5


def _allocate(
    base: str, token: str, plan: Path, mode: str, port: str = "api.grpc"
) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.server.allocate_child", str(HOLD), mode]
    command += ["allocate", "--offline", "--server", base, "-f", str(plan), *port.split(".")]
    env = {**os.environ, "PORTPLAN_TOKEN": token, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def _journals(plan: Path) -> list[str]:
    return sorted(p.name for p in plan.parent.glob(".portplan.yaml.lease-*"))


@contextmanager
def _served(database_url: str, folder: Path) -> Iterator[tuple[str, str, httpx.Client, Path]]:
    """A real server with the shop's plan pushed, and a copy of the plan in `folder`: the
    base URL, an admin token, a client with it, and the plan's path."""
    token = _token(database_url, "admin")
    process, base = start(database_url, folder / "server.log")
    http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
    try:
        assert http.put("/v1/systems/shop/plan", json={"text": PLAN}).status_code == 200
        plan = folder / "portplan.yaml"
        plan.write_bytes(PLAN.encode())
        yield base, token, http, plan
    finally:
        http.close()
        process.terminate()
        process.wait(timeout=15)


def test_a_killed_allocate_leaks_its_port_only_until_the_hold_runs_out(
    database_url: str, tmp_path: Path
) -> None:
    with _served(database_url, tmp_path) as (base, token, http, plan):
        child = _allocate(base, token, plan, "leased")
        assert child.stdout is not None
        _, lease_id, port = child.stdout.readline().split()
        child.send_signal(signal.SIGKILL)  # leased, the plan not written yet
        assert child.wait(timeout=10) == -signal.SIGKILL
        assert (port, plan.read_bytes()) == ("8003", PLAN.encode())
        assert _journals(plan) == [f".portplan.yaml.lease-{lease_id}.json"]
        held = http.get(f"/v1/leases/{lease_id}").json()
        assert (held["state"], held["expires_at"] - held["created_at"]) == ("live", HOLD)
        # held until the database clock passes its hold, then expired: the port is free
        _wait_expired(http, lease_id)

        child = _allocate(base, token, plan, "run")
        out, err = child.communicate(timeout=60)
        assert (child.returncode, _journals(plan)) == (0, [])
        assert err == (
            f"portplan: an interrupted allocate did not write port 8003: lease {lease_id} ended\n"
        )
        lines = out.splitlines()
        assert lines[0] == f"{plan}: api.grpc = 8003/tcp (range web 8000-8009)"
        kept = lines[1].removeprefix("leased from the registry: lease ")
        time.sleep(HOLD + 0.5)  # past the hold: a completed allocate keeps its port
        lease = http.get(f"/v1/leases/{kept}").json()
        assert (lease["state"], lease["expires_at"], lease["ports"][0]["port"]) == (
            "live",
            None,
            8003,
        )
        taken = http.post(
            "/v1/leases",
            json={"holder": "other", "host": "default", "ports": [{"candidates": [8003]}]},
        )
        assert (taken.status_code, taken.json()["error"]["code"]) == (409, "no_free_port")
        assert http.get(f"/v1/leases/{lease_id}").json()["state"] == "expired"
        _killed_after_the_write(base, token, http, plan)
        _a_hold_that_ran_out_is_taken_again(base, token, http, tmp_path / "slow")


def _wait_expired(http: httpx.Client, lease_id: str) -> None:
    deadline = time.monotonic() + 10
    while http.get(f"/v1/leases/{lease_id}").json()["state"] == "live":
        assert time.monotonic() < deadline
        time.sleep(0.1)


def _killed_after_the_write(base: str, token: str, http: httpx.Client, plan: Path) -> None:
    """Killed once the plan has the port, before the lease is kept: the next allocate on the
    plan keeps it (taken again, its hold having run out), from the journal."""
    _killed_written(base, token, http, plan, "web.admin")
    assert "    ports: {http: 8001, admin: 8004}\n" in plan.read_text()
    child = _allocate(base, token, plan, "run", "api.metrics")
    out, err = child.communicate(timeout=60)
    assert (child.returncode, _journals(plan)) == (0, [])
    kept = err.removeprefix("portplan: an interrupted allocate wrote port 8004: kept (lease ")
    lease = http.get(f"/v1/leases/{kept.removesuffix(')' + chr(10))}").json()
    assert (lease["state"], lease["expires_at"], lease["ports"][0]["port"]) == ("live", None, 8004)
    assert out.startswith(f"{plan}: api.metrics = 8005/tcp")


def _a_hold_that_ran_out_is_taken_again(
    base: str, token: str, http: httpx.Client, folder: Path
) -> None:
    """A plan write slower than the hold: confirming leases the same port again, or says
    that another holder has it."""
    folder.mkdir()
    slow = Reservation(Client(base, token), "shop", folder / "portplan.yaml", holder="slow")
    slow.hold_seconds = 0.3
    assert slow([8006, 8007], "default", "tcp") == 8006
    first = str(slow.lease["id"])  # type: ignore[index]
    _wait_expired(http, first)
    slow.confirm()
    assert slow.lease is not None and slow.lease["id"] != first
    assert (slow.lease["ports"][0]["port"], slow.lease["expires_at"]) == (8006, None)

    assert slow([8007], "default", "tcp") == 8007
    _wait_expired(http, str(slow.lease["id"]))
    other = {"holder": "other", "host": "default", "ports": [{"candidates": [8007]}]}
    assert http.post("/v1/leases", json=other).status_code == 201
    with pytest.raises(RegistryError) as refused:
        slow.confirm()
    assert str(refused.value) == (
        "port 8007 is in the plan, but its hold on the registry ran out and another holder "
        "has it now; allocate again (the registry refused (409 no_free_port): no free port "
        "for this request)"
    )


def _portplan(base: str, token: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PORTPLAN_TOKEN": token, "PORTPLAN_SERVER": base}
    command = [sys.executable, "-m", "portplan", *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)


def _killed_written(base: str, token: str, http: httpx.Client, plan: Path, port: str) -> str:
    """An allocate killed once the plan has the port, its hold then run out: its lease id."""
    child = _allocate(base, token, plan, "written", port)
    assert child.stdout is not None
    _, lease_id = child.stdout.readline().split()
    child.send_signal(signal.SIGKILL)
    assert child.wait(timeout=10) == -signal.SIGKILL
    _wait_expired(http, lease_id)
    return lease_id


def test_push_and_lease_finish_a_killed_allocate_first(database_url: str, tmp_path: Path) -> None:
    """What a killed allocate wrote is held on the registry before `lease` leases a port or
    `push` sends the plan that has it: no two tools hand out one port."""
    with _served(database_url, tmp_path) as (base, token, http, plan):
        _killed_written(base, token, http, plan, "api.grpc")
        assert "    ports: {http: 8000, grpc: 8003}\n" in plan.read_text()
        # 8003 is free on the registry now; the lease must not be given it
        leased = _portplan(base, token, "lease", "api", "grpc", "-f", str(plan))
        assert leased.returncode == 0, leased.stderr
        kept = leased.stderr.removeprefix(
            "portplan: an interrupted allocate wrote port 8003: kept (lease "
        )
        assert (
            http.get(f"/v1/leases/{kept.removesuffix(')' + chr(10))}").json()["ports"][0]["port"]
            == 8003
        )
        assert leased.stdout.endswith(" on default: grpc 8004\n")
        assert _journals(plan) == []

        # another holder took the port while the allocate was dead: the push is refused
        _killed_written(base, token, http, plan, "web.admin")
        assert "    ports: {http: 8001, admin: 8005}\n" in plan.read_text()
        other = {"holder": "other", "host": "default", "ports": [{"candidates": [8005]}]}
        taken = http.post("/v1/leases", json=other).json()["id"]
        pushed = _portplan(base, token, "push", "-f", str(plan))
        assert (pushed.returncode, pushed.stdout, pushed.stderr) == (
            2,
            "",
            "portplan: error: port 8005 is in the plan, but its hold on the registry ran out "
            "and another holder has it now; allocate again (the registry refused (409 "
            "no_free_port): no free port for this request)\n",
        )
        assert len(_journals(plan)) == 1
        assert http.get("/v1/systems/shop/plan").headers["x-portplan-revision"] == "1"
        assert http.delete(f"/v1/leases/{taken}").status_code == 200
        pushed = _portplan(base, token, "push", "-f", str(plan))
        assert (pushed.returncode, pushed.stdout) == (0, "pushed shop: revision 2\n")
        assert pushed.stderr.startswith("portplan: an interrupted allocate wrote port 8005: kept")
        assert _journals(plan) == []
