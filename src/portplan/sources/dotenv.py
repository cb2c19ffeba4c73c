"""`.env` files (compose dialect) as observations.

Values are read with `portplan.compose.parse_dotenv` (quotes, escapes, `export`, comments,
multi-line values, interpolation). Then each variable is interpreted by its name:

- `<PREFIX>_PORT=8081` is a port of the service the prefix names (`TOKEN_ENGINE_PORT` ->
  "TOKEN_ENGINE"; `TOKEN_ENGINE_GRPC_PORT` -> "TOKEN_ENGINE", port "grpc"; a bare
  `HTTP_PORT` belongs to the file's owner, if it has one);
- `<PREFIX>_URL=scheme://host:port/...` is a port of the service it reaches (the host when
  it is a name, else the prefix) and, when the file has an owner, a dependency on it;
- `<PREFIX>_ADDR` / `_ADDRESS` / `_HOST` holding `host:port` are read the same way.

Secret-named variables and URLs holding a password become `secret=True` observations whose
value is never kept. `interpret` is shared with the compose source (`environment:`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

from portplan.compose import DotenvError, parse_dotenv
from portplan.model import Location, normalize_name
from portplan.rules.pp111_secret import secret_kind
from portplan.sources.base import (
    DependencyObservation,
    PortObservation,
    SourceError,
    SourceResult,
    VariableObservation,
)

KIND = "dotenv"
_PORT_VAR: Final = re.compile(r"^(?P<prefix>.*?)_?PORT$", re.IGNORECASE)
_ADDRESS_VAR: Final = re.compile(
    r"^(?P<prefix>.*?)_?(?:URL|URI|ADDR|ADDRESS|HOST|ENDPOINT|DSN)$", re.IGNORECASE
)
_HOST_PORT: Final = re.compile(r"^\[?(?P<host>[A-Za-z0-9_.:-]*?)\]?:(?P<port>\d{1,5})$")
PORT_KINDS: Final = frozenset({"http", "https", "grpc", "ws", "wss", "metrics", "admin", "debug"})
# Schemes that name the service they reach, whatever the host is.
SCHEME_SERVICES: Final = {
    "postgres": "postgres",
    "postgresql": "postgres",
    "redis": "redis",
    "rediss": "redis",
    "nats": "nats",
    "mysql": "mysql",
    "mongodb": "mongodb",
    "amqp": "rabbitmq",
    "kafka": "kafka",
}
LOCAL_HOSTS: Final = frozenset({"localhost", "127.0.0.1", "0.0.0.0", "::1", "::", ""})


@dataclass(frozen=True, slots=True)
class Setting:
    """One variable: who sets it, its name, value and where the value is."""

    owner: str | None
    name: str
    value: str | None
    location: Location
    source: str


def read_dotenv(path: str, owner: str | None = None) -> SourceResult:
    """The observations of the `.env` file at `path`; unreadable files give a SourceError."""
    try:
        with open(path, encoding="utf-8") as stream:
            text = stream.read()
    except (OSError, UnicodeDecodeError) as exc:
        return _failed(path, exc)
    return parse_dotenv_source(text, path, owner)


def _failed(path: str, exc: Exception) -> SourceResult:
    why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    result = SourceResult(file=path, kind=KIND)
    result.errors.append(SourceError(Location(path), f"could not read {path}: {why}"))
    return result


def parse_dotenv_source(text: str, file: str, owner: str | None = None) -> SourceResult:
    """The observations of `.env` text; interpolation uses only the file's own keys."""
    result = SourceResult(file=file, kind=KIND)
    try:
        parsed = parse_dotenv(text)
    except DotenvError as exc:
        message = f"could not read {file}: {exc.what}"
        result.errors.append(SourceError(Location(file, exc.line), message))
        return result
    lines = text.splitlines()
    for name, value in parsed.values.items():
        line = parsed.lines.get(name, 0)
        column = _value_column(lines[line - 1] if 0 < line <= len(lines) else "", name)
        interpret(Setting(owner, name, value, Location(file, line, column), KIND), result)
    return result


def _value_column(line: str, name: str) -> int:
    at = line.find(name)
    if at < 0:
        return 0
    rest = line[at + len(name) :]
    offset = len(rest) - len(rest.lstrip(" \t=:"))
    return at + len(name) + offset + 1


def interpret(setting: Setting, result: SourceResult) -> None:
    """Add what one variable says (variable, port, dependency) to `result`."""
    kind = secret_kind(setting.name, setting.value)
    result.variables.append(
        VariableObservation(
            setting.owner,
            setting.name,
            setting.location,
            setting.source,
            value=None if kind else setting.value,
            secret=kind is not None,
        )
    )
    if setting.value is None:
        return
    value = setting.value.strip()
    if _PORT_VAR.match(setting.name) and value.isdigit():
        _port_variable(setting, int(value), result)
    elif _ADDRESS_VAR.match(setting.name):
        _address_variable(setting, value, result)


def _port_variable(setting: Setting, number: int, result: SourceResult) -> None:
    match = _PORT_VAR.match(setting.name)
    service, port_name = port_owner(match.group("prefix") if match else "", setting.owner)
    if service is None or not 1 <= number <= 65535:
        return
    result.ports.append(
        PortObservation(
            service,
            number,
            setting.location,
            setting.source,
            port_name=port_name,
            variable=setting.name,
        )
    )


def port_owner(prefix: str, owner: str | None) -> tuple[str | None, str | None]:
    """(service, port name) of `<prefix>_PORT`: `TOKEN_ENGINE_GRPC` -> (TOKEN_ENGINE, grpc);
    `HTTP` -> (owner, http); `GATEWAY` -> (GATEWAY, None); `` -> (owner, None)."""
    words = [word for word in prefix.split("_") if word]
    if not words:
        return owner, None
    last = words[-1].lower()
    kind = last if last in PORT_KINDS else None
    if kind and len(words) == 1:
        return owner, kind
    if owner and normalize_name("".join(words)).startswith(normalize_name(owner)):
        rest = normalize_name("".join(words))[len(normalize_name(owner)) :]
        return owner, rest or None
    if kind:
        return "_".join(words[:-1]), kind
    return "_".join(words), None


def _address_variable(setting: Setting, value: str, result: SourceResult) -> None:
    reach = address_of(setting.name, value)
    if reach is None:
        return
    target, port, port_name = reach
    if port is not None and 1 <= port <= 65535:
        result.ports.append(
            PortObservation(
                target,
                port,
                setting.location,
                setting.source,
                port_name=port_name,
                variable=setting.name,
            )
        )
    if setting.owner and normalize_name(setting.owner) != normalize_name(target):
        result.dependencies.append(
            DependencyObservation(
                setting.owner, target, setting.location, setting.source, via="env-url"
            )
        )


def address_of(name: str, value: str) -> tuple[str, int | None, str | None] | None:
    """(service, port, port name) an address variable reaches, or None."""
    prefix_match = _ADDRESS_VAR.match(name)
    prefix = prefix_match.group("prefix").strip("_") if prefix_match else ""
    if "://" in value:
        return _url_target(value, prefix)
    found = _HOST_PORT.match(value)
    if found is None:
        return None
    host = found.group("host")
    target = prefix if host.lower() in LOCAL_HOSTS or _is_ip(host) else host
    return (target, int(found.group("port")), None) if target else None


def _url_target(value: str, prefix: str) -> tuple[str, int | None, str | None] | None:
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.split("+")[0].lower()
    host = (parts.hostname or "").lower()
    if scheme in SCHEME_SERVICES:
        target = SCHEME_SERVICES[scheme]
    elif host and host not in LOCAL_HOSTS and not _is_ip(host):
        target = host
    else:
        target = prefix
    if not target:
        return None
    port_name = scheme if scheme in PORT_KINDS else None
    return target, port, "http" if port_name == "https" else port_name


def _is_ip(host: str) -> bool:
    return bool(re.fullmatch(r"[0-9.]+|[0-9a-fA-F:]*:[0-9a-fA-F:]*", host))


_GENERIC_STEMS: Final = frozenset(
    {"", "env", "local", "dev", "development", "prod", "production", "test", "staging",
     "example", "sample", "defaults", "default", "common", "shared", "base", "ports",
     "service-ports", "services", "config", "docker", "compose", "template"}
)  # fmt: skip


def owner_of(path: str) -> str | None:
    """The service a `<name>.env` file belongs to (`token-engine.env`), else None."""
    base = os.path.basename(path)
    if base.startswith(".env") or not base.endswith(".env"):
        return None
    stem = base[: -len(".env")]
    return None if stem.lower() in _GENERIC_STEMS else stem
