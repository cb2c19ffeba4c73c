"""Probes run in this process: HTTP and TCP checks of addresses on the selector loop
(portplan.live.probe_loop), the others (gRPC, host names) on asyncio (portplan.live.probe_async),
imported only when one is asked for."""

from __future__ import annotations

from collections.abc import Sequence

from portplan.live.probe import DEFAULT_CONCURRENCY, ProbeResult, Target


def probe_here(
    targets: Sequence[Target], *, concurrency: int = DEFAULT_CONCURRENCY
) -> list[ProbeResult]:
    """`probe_all` in this process: HTTP and TCP checks of addresses on the selector loop,
    then the others (gRPC, host names) on asyncio; results in the order of targets."""
    from portplan.live import probe_loop

    direct = [i for i, target in enumerate(targets) if probe_loop.handles(target)]
    found = probe_loop.probe_many([targets[i] for i in direct], concurrency)
    results = dict(zip(direct, found, strict=True))
    others = [i for i in range(len(targets)) if i not in results]
    if others:
        from portplan.live.probe_async import probe_on_asyncio

        found = probe_on_asyncio([targets[i] for i in others], concurrency)
        results.update(zip(others, found, strict=True))
    return [results[i] for i in range(len(targets))]
