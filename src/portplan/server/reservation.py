"""The lease `portplan allocate` takes on the registry for the port it writes into the plan,
crash-safe: held for a short time while the plan is written, then kept; a journal beside
the plan lets the next allocate finish what a killed one left."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from portplan.errors import UsageError
from portplan.server.client import Client, RegistryError
from portplan.server.remote import default_holder, release


class Reservation:
    """Leases the first of the plan's free ports that no live lease holds.

    In steps, each safe to be killed after: the port is leased for `hold_seconds` only (by
    the database clock) and the lease noted in a journal beside the plan
    (`.portplan.yaml.lease-ID.json`); the plan is written; the lease is made permanent
    (`confirm`) and the journal removed. An allocate killed before its write leaks nothing
    past the hold; one killed after it leaves a journal, and the next allocate on that plan
    (under the plan's lock) keeps the lease if the plan has the port, else releases it. An
    allocate that completed keeps its port until someone releases the lease."""

    hold_seconds = 120.0

    def __init__(self, client: Client, system: str, plan: Path, holder: str | None = None) -> None:
        self.client = client
        self.system = system
        self.plan = plan
        self.holder = holder or default_holder()
        self.lease: dict[str, Any] | None = None
        self.recovered: list[str] = []  # what was done for an interrupted allocate

    def __call__(self, candidates: Sequence[int], host: str, protocol: str) -> int:
        """Lease one of `candidates` (run under the plan's lock, after its read)."""
        self._recover()
        if not candidates:
            raise UsageError("the range has no free port left to lease")
        wish = {"candidates": list(candidates), "protocol": protocol}
        body = {
            "holder": self.holder,
            "system": self.system,
            "host": host,
            "ports": [wish],
            "ttl_seconds": self.hold_seconds,
        }
        self.lease = self.client.call("POST", "/v1/leases", body)
        port = int(self.lease["ports"][0]["port"])
        self._note(str(self.lease["id"]), host, protocol, port)
        return port

    def confirm(self) -> None:
        """The plan holds the port now: keep the lease until it is released."""
        if self.lease is None:
            return
        port = self.lease["ports"][0]
        lease_id = str(self.lease["id"])
        self.lease = self._keep(lease_id, self.lease["host"], port["protocol"], port["port"])
        self._journal(lease_id).unlink(missing_ok=True)

    def undo(self) -> None:
        """Release the lease (the plan could not be written)."""
        if self.lease is not None:
            lease_id = str(self.lease["id"])
            release(self.client, lease_id)
            self._journal(lease_id).unlink(missing_ok=True)
            self.lease = None

    def _keep(self, lease_id: str, host: str, protocol: str, port: int) -> dict[str, Any]:
        """The lease renewed without a time limit; one whose hold ran out meanwhile is taken
        again for the same port, if no one else has it."""
        try:
            kept: dict[str, Any] = self.client.call(
                "POST", f"/v1/leases/{self.client.quote(lease_id)}/renew", {}
            )
            return kept
        except RegistryError as error:
            if error.code not in ("lease_ended", "not_found"):
                raise
        wish = {"candidates": [port], "protocol": protocol}
        body = {"holder": self.holder, "system": self.system, "host": host, "ports": [wish]}
        try:
            again: dict[str, Any] = self.client.call("POST", "/v1/leases", body)
        except RegistryError as error:
            raise RegistryError(
                f"port {port} is in the plan, but its hold on the registry ran out "
                f"and another holder has it now; allocate again ({error})"
            ) from None
        return again

    def _journal(self, lease_id: str) -> Path:
        return self.plan.parent / f".{self.plan.name}.lease-{lease_id}.json"

    def _note(self, lease_id: str, host: str, protocol: str, port: int) -> None:
        from portplan.atomicfile import write_atomic

        entry: dict[str, Any] = {
            "server": self.client.server,
            "system": self.system,
            "lease": lease_id,
        }
        entry |= {"host": host, "protocol": protocol, "port": port}
        write_atomic(self._journal(lease_id), json.dumps(entry) + "\n")

    def _recover(self) -> None:
        """Finish the allocates of this plan that were killed after their lease: keep each
        lease whose port the plan assigns now, release the others."""
        from portplan.files import UnreadableFile, safe_read

        for journal in _journals(self.plan):
            try:
                entry = json.loads(safe_read(journal))
            except (UnreadableFile, ValueError):
                continue
            if (entry.get("server"), entry.get("system")) != (self.client.server, self.system):
                continue
            self.recovered.append(self._finish(entry))
            journal.unlink(missing_ok=True)

    def _finish(self, entry: dict[str, Any]) -> str:
        host, protocol, port = str(entry["host"]), str(entry["protocol"]), int(entry["port"])
        lease_id = str(entry["lease"])
        if (host, protocol, port) in _bindings(self.plan):
            kept = self._keep(lease_id, host, protocol, port)
            return f"an interrupted allocate wrote port {port}: kept (lease {kept['id']})"
        try:
            release(self.client, lease_id)
        except RegistryError as error:
            if error.code not in ("lease_ended", "not_found"):
                raise
        return f"an interrupted allocate did not write port {port}: lease {lease_id} ended"


def recover(client: Client, system: str, plan: Path) -> list[str]:
    """Finish the allocates of `plan` that were killed after their lease, under the plan's
    lock (an allocate still running holds it: it is waited for, never undone): `push` and
    `lease` do it first, so that what allocate reserved is held on the registry before they
    send a plan that has the port or lease one themselves. Returns what was done."""
    from portplan.atomicfile import locked

    if not plan.is_file() or not _journals(plan):
        return []
    with locked(plan):
        reservation = Reservation(client, system, plan)
        reservation._recover()
    return reservation.recovered


def _journals(plan: Path) -> list[Path]:
    return sorted(plan.parent.glob(f".{plan.name}.lease-*.json"))


def _bindings(plan: Path) -> set[tuple[str, str, int]]:
    from portplan.plan import loader

    return {(b.host, b.protocol, b.port) for b in loader.load(plan).bindings()}
