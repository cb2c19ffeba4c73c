"""Health checks: HTTP/1.1, TCP connect and the gRPC health-checking protocol.

HTTP and TCP checks of IP addresses run on a plain selector loop (portplan.live.probe_loop);
gRPC checks, and those of host names, on asyncio (portplan.live.probe_async), imported only
when one is asked for. Either way the HTTP client is a few lines: one request per
connection, no pool; general-purpose clients are far slower with thousands of queued
requests (see shared/BASELINES.md). This module holds what both share: the records, the
HTTP request and the judging of answers.

Latency is the time from the start of the connect to the last byte of the answer, as the
prober sees it; with many probes in flight it includes some waiting on this process's
loop, so `concurrency` trades speed for precision.
"""

from __future__ import annotations

from collections.abc import Mapping

from portplan.live import jsontext
from portplan.live._slotted import Slotted

TYPE_CHECKING = False
if TYPE_CHECKING:  # neither is imported at run time: `status` starts its checks sooner
    # (nor dataclasses, json or re: a forked checking process imports this module first)
    from typing import Any

    from portplan.model import Health

DEFAULT_CONCURRENCY = 100
_MAX_HEADER = 64 * 1024
_MAX_BODY = 1024 * 1024


class Target(Slotted):
    """Where to send one health check."""

    __slots__ = ("host", "port", "health")  # noqa: RUF023 - in order

    def __init__(self, host: str, port: int, health: Health) -> None:
        self.host = host
        self.port = port
        self.health = health


class ProbeResult(Slotted):
    """The outcome of one health check.

    `detail` says what was seen ("200", "SERVING", "connected") or what went wrong
    ("connection refused", "status 500, expected 2xx"). `latency_ms` is None when no
    answer came.
    """

    __slots__ = ("kind", "healthy", "detail", "latency_ms")  # noqa: RUF023 - in order

    def __init__(
        self, kind: str, healthy: bool, detail: str, latency_ms: float | None = None
    ) -> None:
        self.kind = kind
        self.healthy = healthy
        self.detail = detail
        self.latency_ms = latency_ms

    def as_dict(self) -> dict[str, Any]:
        latency = None if self.latency_ms is None else round(self.latency_ms, 3)
        return {
            "kind": self.kind,
            "healthy": self.healthy,
            "detail": self.detail,
            "latency_ms": latency,
        }


_LOOPBACK = {"0.0.0.0": "127.0.0.1", "::": "::1", "*": "127.0.0.1", "": "127.0.0.1"}


def target_of(address: str, port: int, health: Health) -> Target:
    """A check goes to the listener's address (loopback for a wildcard one)."""
    return Target(_LOOPBACK.get(address, address), port, health)


class Unhealthy(Exception):
    """An answer came, but not the expected one."""


def timed_out(kind: str, timeout_ms: float) -> ProbeResult:
    return ProbeResult(kind, False, f"no answer within {timeout_ms:g} ms")


def os_error(exc: OSError) -> str:
    """What went wrong, as a check's detail ("connection refused")."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    text = exc.strerror or str(exc) or type(exc).__name__
    return text[:1].lower() + text[1:]


# ---------------------------------------------------------------------------
# HTTP/1.1


def http_verdict(health: Health, answer: bytes) -> str:
    """The detail of a healthy answer ("200"); raises Unhealthy for any other."""
    status, body = parse_response(answer)
    _check_status(status, health.status)
    if health.expect is not None:
        _check_body(body, health.expect)
    return str(status)


def is_complete(buffer: bytearray) -> bool:
    """True once the answer in `buffer` is whole (by Content-Length or the last chunk)."""
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return len(buffer) > _MAX_HEADER
    head = buffer[:end].lower()
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


def parse_response(raw: bytes) -> tuple[int, bytes]:
    """(status, body) of a whole answer; raises Unhealthy when it is not one."""
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
        # The first line is described, never quoted: a server may answer with anything.
        raise Unhealthy(f"not an HTTP answer (a first line of {len(lines[0])} characters)")
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
    """Raises Unhealthy unless the body holds `expected`. The message tells the values of
    the expected keys only, never other body content (a body may hold tokens)."""
    try:
        document = jsontext.decode(body)
    except ValueError:
        raise Unhealthy(f"body is not JSON ({len(body)} bytes)") from None
    if not contains(document, expected):
        raise Unhealthy("; ".join(_mismatches(document, expected, "")))


def _mismatches(actual: object, expected: Mapping[str, Any], path: str) -> list[str]:
    """`body has KEY VALUE, expected VALUE` or `body has no KEY` per expected key not met."""
    found = []
    for key, value in expected.items():
        where = f"{path}.{key}" if path else str(key)
        if not isinstance(actual, Mapping) or key not in actual:
            found.append(f"body has no {where}")
        elif isinstance(value, Mapping) and isinstance(actual[key], Mapping):
            found += _mismatches(actual[key], value, where)
        elif not contains(actual[key], value):
            shown = _shown(str(key), actual[key])
            found.append(f"body has {where} {shown}, expected {_short(_dump(value))}")
    return found


def _shown(key: str, value: object) -> str:
    """A body's value as a message shows it: a scalar (masked when PP111 takes it for a
    secret, and short), or only the kind of a list or object, whose content may be anything."""
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return f"a list of {len(value)}"
    if isinstance(value, str):
        from portplan.rules.pp111_secret import secret_kind

        if secret_kind(key, value) is not None:
            return '"***"'
    return _short(_dump(value))


def contains(actual: object, expected: object) -> bool:
    """True when `expected` is a JSON subset of `actual`: objects recursively, the rest equal."""
    if type(expected) is str or type(expected) is int:  # the usual leaves, without an ABC check
        return type(actual) is type(expected) and actual == expected
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
    import json

    return json.dumps(value, separators=(", ", ": "), sort_keys=True, default=str)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
