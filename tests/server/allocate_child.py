"""`portplan allocate` through a registry, in a child process for tests/server/test_allocate_crash.py.

    python -m tests.server.allocate_child HOLD_SECONDS (stop|run) ALLOCATE_ARGS...

HOLD_SECONDS replaces the lease's hold while the plan is written. With `stop`, the child
prints `leased LEASE_ID PORT` the moment the registry has answered the lease, then waits
before writing the plan: the point where the parent kills it with SIGKILL.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence

from portplan.cli import main
from portplan.server import remote


def _stopping() -> None:
    lease = remote.Reservation.__call__

    def leased_then_wait(
        self: remote.Reservation, candidates: Sequence[int], host: str, protocol: str
    ) -> int:
        port = lease(self, candidates, host, protocol)
        assert self.lease is not None
        print(f"leased {self.lease['id']} {port}", flush=True)
        time.sleep(600)
        return port

    remote.Reservation.__call__ = leased_then_wait  # type: ignore[method-assign]


if __name__ == "__main__":
    remote.Reservation.hold_seconds = float(sys.argv[1])
    if sys.argv[2] == "stop":
        _stopping()
    sys.exit(main(sys.argv[3:]))
