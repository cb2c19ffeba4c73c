"""Health checks on asyncio: gRPC (the health-checking protocol), and HTTP and TCP checks
of host names, which need the event loop's resolver.

HTTP and TCP checks of IP addresses, the usual case by far, run on a plain selector loop
instead (portplan.live.probe_loop); this module, and asyncio with it (tens of ms to
import: it loads ssl), is imported only when some check needs it. The answers are
judged by the same code (portplan.live.probe).
"""

from __future__ import annotations

import asyncio
import os
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from portplan.live.probe import (
    DEFAULT_CONCURRENCY,
    ProbeResult,
    Target,
    Unhealthy,
    http_request,
    http_verdict,
    is_complete,
    os_error,
    parse_response,
    timed_out,
)


async def gather_probes(
    targets: Sequence[Target], *, concurrency: int = DEFAULT_CONCURRENCY
) -> list[ProbeResult]:
    """Run the checks on asyncio, at most `concurrency` at a time; results in order.
    (`probe_all` is the entry point; this coroutine serves callers with an event loop.)"""
    results: list[ProbeResult] = []
    slots: dict[int, ProbeResult] = {}
    pending = iter(enumerate(targets))

    async def worker() -> None:  # workers share one queue: no semaphore to contend for
        for index, target in pending:
            slots[index] = await probe(target)

    await asyncio.gather(*(worker() for _ in range(max(1, min(concurrency, len(targets))))))
    results.extend(slots[i] for i in range(len(targets)))
    return results


async def probe(target: Target) -> ProbeResult:
    """One check, within its timeout; never raises for a failed check."""
    health = target.health
    check = PROBES.get(health.kind)
    if check is None:
        return ProbeResult(health.kind, False, f"unknown health check kind '{health.kind}'")
    started = time.perf_counter()
    try:
        async with asyncio.timeout(health.timeout_ms / 1000):
            detail = await check(target)
    except Unhealthy as exc:
        return ProbeResult(health.kind, False, str(exc), _since(started))
    except TimeoutError:
        return timed_out(health.kind, health.timeout_ms)
    except OSError as exc:
        return ProbeResult(health.kind, False, os_error(exc))
    return ProbeResult(health.kind, True, detail, _since(started))


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


# ---------------------------------------------------------------------------
# TCP


async def _probe_tcp(target: Target) -> str:
    connection = await connect(target.host, target.port)
    connection.close()
    return "connected"


# Raw non-blocking sockets on the running loop's selector: a third less CPU per probe
# than asyncio's transports and protocols, which matters with thousands of probes.


async def connect(host: str, port: int) -> socket.socket:
    """A connected non-blocking TCP socket (raises OSError, e.g. ConnectionRefusedError)."""
    loop = asyncio.get_running_loop()
    family, address = await _address(loop, host, port)
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        try:
            sock.connect(address)
        except BlockingIOError:
            await _ready(loop.add_writer, loop.remove_writer, sock)
            error = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if error:
                raise OSError(error, os.strerror(error)) from None  # errno picks the subclass
    except BaseException:
        sock.close()
        raise
    return sock


async def _address(
    loop: asyncio.AbstractEventLoop, host: str, port: int
) -> tuple[int, tuple[Any, ...]]:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        socket.inet_pton(family, host)
    except OSError:  # a name: resolve it (listeners give addresses, users may not)
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        return infos[0][0], infos[0][4]
    return family, (host, port)


async def _ready(
    add: Callable[..., None], remove: Callable[[int], object], sock: socket.socket
) -> None:
    """Wait until the selector says `sock` is ready (add_reader or add_writer)."""
    future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    fd = sock.fileno()
    add(fd, _resolve, future)
    try:
        await future
    finally:
        remove(fd)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


async def _send_all(sock: socket.socket, data: bytes) -> None:
    loop = asyncio.get_running_loop()
    view = memoryview(data)
    while view:
        try:
            view = view[sock.send(view) :]
        except BlockingIOError:
            await _ready(loop.add_writer, loop.remove_writer, sock)


async def _probe_http(target: Target) -> str:
    answer = await _exchange(target.host, target.port, target.health.path or "/")
    return http_verdict(target.health, answer)


async def http_get(host: str, port: int, path: str) -> tuple[int, bytes]:
    """GET path over one fresh connection; (status, body)."""
    return parse_response(await _exchange(host, port, path))


async def _exchange(host: str, port: int, path: str) -> bytes:
    """The raw answer to a GET of path over one fresh connection."""
    sock = await connect(host, port)
    try:
        await _send_all(sock, http_request(host, port, path))
        loop = asyncio.get_running_loop()
        answer = bytearray()
        while not is_complete(answer):
            # wait first: an answer is never there the instant the request has left
            await _ready(loop.add_reader, loop.remove_reader, sock)
            data = _recv_ready(sock)
            if not data:
                if data is None:
                    continue
                break
            answer += data
    finally:
        sock.close()
    return bytes(answer)


def _recv_ready(sock: socket.socket) -> bytes | None:
    """What a readable socket holds (b"" at the end), or None on a spurious wake-up."""
    try:
        return sock.recv(65536)
    except BlockingIOError:
        return None


# ---------------------------------------------------------------------------
# gRPC health checking (grpc.health.v1.Health/Check), imported on first use


async def _probe_grpc(target: Target) -> str:
    grpc, health_pb2, health_pb2_grpc = _grpc_modules()
    host = f"[{target.host}]" if ":" in target.host else target.host
    async with grpc.aio.insecure_channel(f"{host}:{target.port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        request = health_pb2.HealthCheckRequest(service=target.health.grpc_service)
        try:
            response = await stub.Check(request)
        except grpc.aio.AioRpcError as exc:
            raise Unhealthy(_rpc_error(exc, target.health.grpc_service)) from None
    status: str = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    if status != "SERVING":
        raise Unhealthy(f"{status}, expected SERVING")
    return status


def _rpc_error(exc: Any, service: str) -> str:
    code: str = exc.code().name
    details = exc.details() or _RPC_HINTS.get(code, "").format(service=service)
    return f"{code}: {details}" if details else code


_RPC_HINTS = {
    "NOT_FOUND": "the server reports no health status for service '{service}'",
    "UNIMPLEMENTED": "the server does not implement grpc.health.v1.Health",
}


def _grpc_modules() -> tuple[Any, Any, Any]:
    try:
        import grpc
        from grpc_health.v1 import health_pb2, health_pb2_grpc
    except ImportError:
        raise Unhealthy(
            "gRPC checks need grpcio and grpcio-health-checking: pip install 'portplan[grpc]'"
        ) from None
    return grpc, health_pb2, health_pb2_grpc


PROBES: dict[str, Callable[[Target], Awaitable[str]]] = {
    "http": _probe_http,
    "tcp": _probe_tcp,
    "grpc": _probe_grpc,
}


def probe_on_asyncio(targets: Sequence[Target], concurrency: int) -> list[ProbeResult]:
    """`gather_probes` run to completion on a fresh event loop."""
    return asyncio.run(gather_probes(targets, concurrency=concurrency))
