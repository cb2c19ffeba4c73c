"""`probe_all`: every health check of a status run, in this process or spread over forked
workers (portplan.live.workers)."""

from __future__ import annotations

from collections.abc import Sequence

from portplan.live.probe import DEFAULT_CONCURRENCY, ProbeResult, Target
from portplan.live.probe_local import probe_here


def probe_all(
    targets: Sequence[Target], *, concurrency: int = DEFAULT_CONCURRENCY, workers: int = 1
) -> list[ProbeResult]:
    """Run every check, at most `concurrency` at a time; results in the order of targets.

    `workers` > 1 lets thousands of HTTP/TCP checks spread over forked processes (see
    `portplan.live.workers`); gRPC checks always run here.
    """
    if not targets:
        return []
    if workers > 1:
        from portplan.live import workers as spread

        shares = spread.split(targets, workers)
        if len(shares) > 1:
            return spread.probe_in_workers(targets, shares, concurrency)
    return probe_here(targets, concurrency=concurrency)
