"""Listening sockets through psutil: the fallback off Linux (macOS, Windows).

psutil is imported here only, so Linux never pays its ~50 ms import.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from portplan.errors import UsageError
from portplan.live.owners import Access, Listener, Process, masked

_LISTENING = {"tcp": "LISTEN", "udp": "NONE"}


def listeners(
    protocols: Sequence[str], *, ports: Collection[int] | None = None, owners: bool = True
) -> list[Listener]:
    """Listening sockets of the given protocols (on `ports`, when given), with owners when
    psutil may read them."""
    psutil = _import_psutil()
    result: list[Listener] = []
    cache: dict[int, Process | None] = {}
    for protocol in protocols:
        try:
            connections = psutil.net_connections(kind=protocol)
        except psutil.AccessDenied:  # macOS without root
            raise UsageError("listing sockets needs root on this system") from None
        for conn in connections:
            if conn.status != _LISTENING[protocol] or not conn.laddr:
                continue
            if ports is None or conn.laddr[1] in ports:
                result.append(_listener(psutil, conn, protocol, owners, cache))
    return result


def _import_psutil() -> Any:
    try:
        import psutil
    except ImportError:
        raise UsageError("reading sockets off Linux needs psutil: pip install psutil") from None
    return psutil


def _listener(
    psutil: Any, conn: Any, protocol: str, owners: bool, cache: dict[int, Process | None]
) -> Listener:
    address, port = conn.laddr[0], conn.laddr[1]
    if not owners:
        return Listener(protocol, address, port)
    if conn.pid is None:
        return Listener(protocol, address, port, access=Access.DENIED)
    if conn.pid not in cache:
        cache[conn.pid] = _process(psutil, conn.pid)
    process = cache[conn.pid]
    access = Access.KNOWN if process else Access.UNKNOWN
    return Listener(protocol, address, port, access=access, process=process, pids=(conn.pid,))


def _process(psutil: Any, pid: int) -> Process | None:
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            return Process(
                pid,
                proc.name(),
                masked(tuple(_safe(proc.cmdline, []))),
                None,
                _safe(proc.username, None),
                _safe(proc.create_time, None),
            )
    except psutil.NoSuchProcess:
        return None


def _safe(getter: Any, default: Any) -> Any:
    try:
        return getter()
    except Exception:  # AccessDenied and friends: show what we can
        return default
