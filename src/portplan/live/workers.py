"""Spread many probes over forked worker processes.

A loopback probe's cost is mostly the kernel's (connect, send, close run in the caller's
context), so one process saturates one core; with thousands of checks, forked workers put
every core to work. gRPC checks stay in the calling process (grpcio and fork do not mix),
and so does everything on systems without fork. A worker that fails is not trusted: its
share is probed again here.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Sequence

from portplan.live import forked
from portplan.live.probe import ProbeResult, Target
from portplan.live.probe_local import probe_here

MIN_PER_WORKER = 250  # below this, a fork costs more than it saves
_FORKABLE = frozenset({"http", "tcp"})


def split(targets: Sequence[Target], workers: int) -> list[list[int]]:
    """Indexes of the targets for each process; the first share is the caller's own."""
    spread = [i for i, t in enumerate(targets) if t.health.kind in _FORKABLE]
    count = min(workers, len(spread) // MIN_PER_WORKER) if hasattr(os, "fork") else 1
    if count <= 1:
        return [list(range(len(targets)))]
    shares = [spread[k::count] for k in range(count)]
    shares[0] = [i for i, t in enumerate(targets) if t.health.kind not in _FORKABLE] + shares[0]
    return shares


def probe_in_workers(
    targets: Sequence[Target], shares: list[list[int]], concurrency: int
) -> list[ProbeResult]:
    """Probe each share in its own process (the first here); results in target order."""
    each = max(1, concurrency // len(shares))
    children = [_spawn([targets[i] for i in share], each) for share in shares[1:]]
    results: dict[int, ProbeResult] = {}
    for share, found in zip(
        shares, _own_and_children(targets, shares, children, each), strict=True
    ):
        results.update(zip(share, found, strict=True))
    return [results[i] for i in range(len(targets))]


def _own_and_children(
    targets: Sequence[Target], shares: list[list[int]], children: list[tuple[int, int]], each: int
) -> list[list[ProbeResult]]:
    own = probe_here([targets[i] for i in shares[0]], concurrency=each)
    found = [own]
    for share, child in zip(shares[1:], children, strict=True):
        mine = [targets[i] for i in share]
        got = _collect(child)
        if got is None or len(got) != len(mine):
            got = probe_here(mine, concurrency=each)
        found.append(got)
    return found


def _spawn(targets: list[Target], concurrency: int) -> tuple[int, int]:
    return forked.start(lambda: pickle.dumps(probe_here(targets, concurrency=concurrency)))


def _collect(child: tuple[int, int]) -> list[ProbeResult] | None:
    data = forked.answer(child)
    if not data:
        return None
    results: list[ProbeResult] = pickle.loads(data)  # our own child's pickle
    return results
