"""`portplan allocate` through a registry, in a child process for tests/server/test_allocate_crash.py.

    python -m tests.server.allocate_child HOLD_SECONDS (leased|written|run) ALLOCATE_ARGS...

HOLD_SECONDS replaces the lease's hold while the plan is written. With `leased`, the child
prints `leased LEASE_ID PORT` the moment the registry has answered the lease, then waits
before writing the plan; with `written`, it prints `written` once the plan is written, then
waits before confirming the lease: the points where the parent kills it with SIGKILL.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from portplan.cli import main
from portplan.server.reservation import Reservation


def _stop_when_leased() -> None:
    lease = Reservation.__call__

    def leased_then_wait(
        self: Reservation, candidates: Sequence[int], host: str, protocol: str
    ) -> int:
        port = lease(self, candidates, host, protocol)
        assert self.lease is not None
        print(f"leased {self.lease['id']} {port}", flush=True)
        time.sleep(600)
        return port

    Reservation.__call__ = leased_then_wait  # type: ignore[method-assign]


def _stop_when_written() -> None:
    def written_then_wait(self: Reservation) -> None:
        assert self.lease is not None
        print(f"written {self.lease['id']}", flush=True)
        time.sleep(600)

    Reservation.confirm = written_then_wait  # type: ignore[method-assign]


if __name__ == "__main__":
    Reservation.hold_seconds = float(sys.argv[1])
    stops = {"leased": _stop_when_leased, "written": _stop_when_written}
    if sys.argv[2] in stops:
        stops[sys.argv[2]]()
    sys.exit(main(sys.argv[3:]))
