"""A client of the registry for the CLI (`lease`, `release`, `push`, `pull`), on the
standard library only: it needs none of the server's dependencies.

The token goes in the Authorization header and nowhere else: no message, error or log line
of this module contains it.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from portplan.errors import PortplanError, UsageError


class RegistryError(PortplanError):
    """The registry refused a request (its error code and message), or cannot be reached."""

    def __init__(self, message: str, status: int = 0, code: str = "", details: Any = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.details = details


@dataclass(frozen=True)
class Client:
    server: str
    token: str = field(repr=False)  # never in a repr, a log line or a traceback's locals
    timeout: float = 30.0

    @classmethod
    def from_environment(cls, server: str | None, token: str | None = None) -> Client:
        """--server (else $PORTPLAN_SERVER) and $PORTPLAN_TOKEN."""
        url = server or os.environ.get("PORTPLAN_SERVER")
        if not url:
            raise UsageError("no registry: give --server URL or set PORTPLAN_SERVER")
        secret = token or os.environ.get("PORTPLAN_TOKEN")
        if not secret:
            raise UsageError("no token: set PORTPLAN_TOKEN")
        _check_url(url)
        if not all("!" <= char <= "~" for char in secret):  # it goes in a header line
            raise UsageError(
                "PORTPLAN_TOKEN: expected a token of printable characters without spaces, "
                f"got a string of {len(secret)} characters holding a space or a control character"
            )
        return cls(url.rstrip("/"), secret)

    def _open(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.server + path, data=data, method=method)
        request.add_header("Authorization", f"Bearer {self.token}")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            raise _refusal(error) from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise RegistryError(f"{self.server}: cannot reach the registry: {reason}") from None

    def call(self, method: str, path: str, body: Any = None) -> Any:
        with self._open(method, path, body) as answer:
            return json.loads(answer.read())

    def text(self, path: str) -> tuple[str, dict[str, str]]:
        with self._open("GET", path) as answer:
            return answer.read().decode(), dict(answer.headers.items())

    def events(self, after: int) -> Iterator[dict[str, Any]]:
        """Follow the feed from revision `after` (Server-Sent Events), one event at a time."""
        headers = {"Accept": "text/event-stream", "Last-Event-ID": str(after)}
        with self._open("GET", "/v1/events", headers=headers) as stream:
            data: list[str] = []
            for raw in stream:
                line = raw.decode().rstrip("\r\n")
                if line.startswith("data:"):
                    data.append(line[5:].strip())
                elif not line and data:
                    yield json.loads("\n".join(data))
                    data = []

    def quote(self, name: str) -> str:
        return urllib.parse.quote(name, safe="")


def _check_url(url: str) -> None:
    """A registry's URL is quoted by the errors that name it: one that may hold a secret (a
    password, a query) is refused, by its length."""
    try:
        parts = urllib.parse.urlsplit(url)
        plain = parts.scheme in ("http", "https") and bool(parts.hostname) and parts.port != 0
    except ValueError:  # a port that is no number or out of range, a bad IPv6 address
        plain = False
    if not plain or "@" in parts.netloc or parts.query or parts.fragment:
        raise UsageError(
            f"the registry's URL (not shown: {len(url)} characters): expected "
            "http(s)://HOST[:PORT][/PATH], without a user, password, query or fragment "
            "(the token goes in PORTPLAN_TOKEN)"
        )


def _refusal(error: urllib.error.HTTPError) -> RegistryError:
    try:
        body = json.loads(error.read())["error"]
    except (ValueError, KeyError, TypeError):
        return RegistryError(f"the registry answered {error.code}", error.code)
    details = body.get("details")
    message = f"the registry refused ({error.code} {body.get('code')}): {body.get('message')}"
    return RegistryError(message + _field(details), error.code, str(body.get("code")), details)


def _field(details: Any) -> str:
    """`: FIELD: what` of a refused request's first invalid value (the API's `loc`, as
    `system` or `ports[0].first`), so that the one line names the field; else nothing."""
    first = details[0] if isinstance(details, list) and details else None
    if not isinstance(first, dict) or not isinstance(first.get("loc"), list):
        return ""
    name = ""
    for part in first["loc"][1:]:  # past where it was: path, query, body
        name += f"[{part}]" if isinstance(part, int) else f".{part}"
    return f": {name.lstrip('.') or 'the body'}: {first.get('message')}"
