"""Concurrent health probes: HTTP/1.1, TCP connect and the gRPC health-checking protocol.

HTTP and TCP checks of IP addresses run on a plain selector loop (portplan.live.probe_loop);
gRPC checks, and those of host names, on asyncio here. Either way the HTTP client is a few
lines: one request per connection, no pool. General-purpose clients are far slower with
thousands of queued requests (see shared/BASELINES.md). grpcio is imported only when a gRPC
check runs.

Latency is the time from the start of the connect to the last byte of the answer, as the
prober sees it; with many probes in flight it includes some waiting on this process's
event loop, so `concurrency` trades speed for precision.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from portplan.model import Health

DEFAULT_CONCURRENCY = 100
_MAX_HEADER = 64 * 1024
_MAX_BODY = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Target:
    """Where to send one health check."""

    host: str
    port: int
    health: Health


@dataclass(frozen=True, slots=True)
class ProbeResult:
    """The outcome of one health check.

    `detail` says what was seen ("200", "SERVING", "connected") or what went wrong
    ("connection refused", "status 500, expected 2xx"). `latency_ms` is None when no
    answer came.
    """

    kind: str
    healthy: bool
    detail: str
    latency_ms: float | None = None

    def as_dict(self) -> dict[str, Any]:
        latency = None if self.latency_ms is None else round(self.latency_ms, 3)
        return {
            "kind": self.kind,
            "healthy": self.healthy,
            "detail": self.detail,
            "latency_ms": latency,
        }


class Unhealthy(Exception):
    """An answer came, but not the expected one."""


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
        rest = [targets[i] for i in others]
        results.update(
            zip(others, asyncio.run(gather_probes(rest, concurrency=concurrency)), strict=True)
        )
    return [results[i] for i in range(len(targets))]


async def gather_probes(
    targets: Sequence[Target], *, concurrency: int = DEFAULT_CONCURRENCY
) -> list[ProbeResult]:
    """The coroutine behind `probe_all`, for callers that already run an event loop."""
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


def timed_out(kind: str, timeout_ms: float) -> ProbeResult:
    return ProbeResult(kind, False, f"no answer within {timeout_ms:g} ms")


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def os_error(exc: OSError) -> str:
    """What went wrong, as a check's detail ("connection refused")."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    text = exc.strerror or str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]


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


# ---------------------------------------------------------------------------
# HTTP/1.1


async def _probe_http(target: Target) -> str:
    answer = await _exchange(target.host, target.port, target.health.path or "/")
    return http_verdict(target.health, answer)


def http_verdict(health: Health, answer: bytes) -> str:
    """The detail of a healthy answer ("200"); raises Unhealthy for any other."""
    status, body = _parse_response(answer)
    _check_status(status, health.status)
    if health.expect is not None:
        _check_body(body, health.expect)
    return str(status)


async def http_get(host: str, port: int, path: str) -> tuple[int, bytes]:
    """GET path over one fresh connection; (status, body)."""
    return _parse_response(await _exchange(host, port, path))


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


def is_complete(buffer: bytearray) -> bool:
    """True once the answer in `buffer` is whole (by Content-Length or the last chunk)."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return len(buffer) > _MAX_HEADER
    head = bytes(buffer[:end]).lower()
    if b"\r\ntransfer-encoding:" in head and b"chunked" in head:
        return buffer.endswith(b"0\r\n\r\n")
    at = head.find(b"\r\ncontent-length:")
    if at < 0:
        return len(buffer) - end - 4 >= _MAX_BODY  # read to the end of the connection
    length = head[at + 17 :].split(b"\r\n", 1)[0].strip()
    return not length.isdigit() or len(buffer) - end - 4 >= min(int(length), _MAX_BODY)


def http_request(host: str, port: int, path: str) -> bytes:
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    return (
        f"GET {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: portplan\r\n"
        "Accept: application/json\r\nConnection: close\r\n\r\n"
    ).encode("latin-1")


def _parse_response(raw: bytes) -> tuple[int, bytes]:
    head, separator, body = raw.partition(b"\r\n\r\n")
    if not separator:
        if not raw:
            raise Unhealthy("connection closed without an answer")
        raise Unhealthy("connection closed before a full answer")
    status, headers = _parse_head(head)
    if "chunked" in headers.get("transfer-encoding", "").lower():
        return status, _dechunk(body)
    length = headers.get("content-length", "")
    return status, body[: int(length)] if length.isdigit() else body[:_MAX_BODY]


def _parse_head(head: bytes) -> tuple[int, dict[str, str]]:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
        raise Unhealthy(f"not an HTTP answer: {lines[0][:60]!r}")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if value:
            headers[name.strip().lower()] = value.strip()
    return int(parts[1]), headers


def _dechunk(data: bytes) -> bytes:
    body, offset = bytearray(), 0
    while offset < len(data):
        line_end = data.find(b"\r\n", offset)
        if line_end < 0:
            break
        size = int(data[offset:line_end].split(b";")[0].strip() or b"0", 16)
        if size == 0:
            break
        body += data[line_end + 2 : line_end + 2 + size]
        offset = line_end + 2 + size + 2
    return bytes(body)


def _check_status(status: int, expected: int | None) -> None:
    if expected is None and not 200 <= status < 300:
        raise Unhealthy(f"status {status}, expected 2xx")
    if expected is not None and status != expected:
        raise Unhealthy(f"status {status}, expected {expected}")


def _check_body(body: bytes, expected: Mapping[str, Any]) -> None:
    try:
        document = json.loads(body)
    except ValueError:
        raise Unhealthy(f"body is not JSON: {_short(body.decode('utf-8', 'replace'))}") from None
    if not contains(document, expected):
        raise Unhealthy(f"body {_short(_dump(document))} does not contain {_dump(expected)}")


def contains(actual: object, expected: object) -> bool:
    """True when `expected` is a JSON subset of `actual`: objects recursively, the rest equal."""
    if isinstance(expected, Mapping):
        return isinstance(actual, Mapping) and all(
            key in actual and contains(actual[key], value) for key, value in expected.items()
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(contains(a, e) for a, e in zip(actual, expected, strict=True))
        )
    return type(actual) is type(expected) and actual == expected


def _dump(value: object) -> str:
    return json.dumps(value, separators=(", ", ": "), sort_keys=True, default=str)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
