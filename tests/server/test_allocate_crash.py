"""`portplan allocate` through a registry, killed with SIGKILL between taking its lease and
writing the plan: the port is free again once the hold runs out by the database clock; an
allocate that completed keeps its port past the hold."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from portplan.server.client import Client, RegistryError
from portplan.server.remote import Reservation
from tests.server.serve import start
from tests.server.test_crash import _token
from tests.server.test_plans import PLAN

ROOT = Path(__file__).resolve().parents[2]
HOLD = 1.5


def _allocate(base: str, token: str, plan: Path, mode: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.server.allocate_child", str(HOLD), mode]
    command += ["allocate", "--offline", "--server", base, "-f", str(plan), "api", "grpc"]
    env = {**os.environ, "PORTPLAN_TOKEN": token, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)


def test_a_killed_allocate_leaks_its_port_only_until_the_hold_runs_out(
    database_url: str, tmp_path: Path
) -> None:
    token = _token(database_url, "admin")
    process, base = start(database_url, tmp_path / "server.log")
    http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
    try:
        assert http.put("/v1/systems/shop/plan", json={"text": PLAN}).status_code == 200
        plan = tmp_path / "portplan.yaml"
        plan.write_bytes(PLAN.encode())

        child = _allocate(base, token, plan, "stop")
        assert child.stdout is not None
        _, lease_id, port = child.stdout.readline().split()
        child.send_signal(signal.SIGKILL)  # leased, the plan not written yet
        assert child.wait(timeout=10) == -signal.SIGKILL
        assert (port, plan.read_bytes()) == ("8003", PLAN.encode())
        held = http.get(f"/v1/leases/{lease_id}").json()
        assert (held["state"], held["expires_at"] - held["created_at"]) == ("live", HOLD)
        # held until the database clock passes its hold, then expired: the port is free
        _wait_expired(http, lease_id)

        child = _allocate(base, token, plan, "run")
        out, _ = child.communicate(timeout=60)
        assert child.returncode == 0
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
        _a_hold_that_ran_out_is_taken_again(base, token, http)
    finally:
        http.close()
        process.terminate()
        process.wait(timeout=15)


def _wait_expired(http: httpx.Client, lease_id: str) -> None:
    deadline = time.monotonic() + 10
    while http.get(f"/v1/leases/{lease_id}").json()["state"] == "live":
        assert time.monotonic() < deadline
        time.sleep(0.1)


def _a_hold_that_ran_out_is_taken_again(base: str, token: str, http: httpx.Client) -> None:
    """A plan write slower than the hold: confirming leases the same port again, or says
    that another holder has it."""
    slow = Reservation(Client(base, token), "shop", holder="slow")
    slow.hold_seconds = 0.3
    assert slow([8004, 8005], "default", "tcp") == 8004
    first = str(slow.lease["id"])  # type: ignore[index]
    _wait_expired(http, first)
    slow.confirm()
    assert slow.lease is not None and slow.lease["id"] != first
    assert (slow.lease["ports"][0]["port"], slow.lease["expires_at"]) == (8004, None)

    assert slow([8005], "default", "tcp") == 8005
    _wait_expired(http, str(slow.lease["id"]))
    other = {"holder": "other", "host": "default", "ports": [{"candidates": [8005]}]}
    assert http.post("/v1/leases", json=other).status_code == 201
    with pytest.raises(RegistryError) as refused:
        slow.confirm()
    assert str(refused.value) == (
        "port 8005 is in the plan, but its hold on the registry ran out and another holder "
        "has it now; allocate again (the registry refused (409 no_free_port): no free port "
        "for this request)"
    )
