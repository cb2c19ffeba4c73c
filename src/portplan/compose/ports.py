"""Compose `ports:` entries, short and long syntax, as compose-go reads them.

Short syntax is `[HOST_IP:][PUBLISHED:]TARGET[/PROTOCOL]` where PUBLISHED and TARGET may
be ranges (`8000-8010:80-90`), HOST_IP may be IPv6 in brackets (`[::1]:80:80`), and a
host range with a single target (`8000-8010:80`) stays one entry whose `published` is
the range.  compose-go reads it with go-connections' `ParsePortSpec` (v0.4.0, hence the
capitalised error messages), which this module follows, with two exceptions taken from
newer go-connections (and docker-py): the legacy unbracketed IPv6 form (`::1:80:80`,
the last two `:` fields being the ports) is accepted, and a range with two dashes
(`1-2-3`) is an error.  Results come out in compose-go's order: sorted by the string
`"<target>/<protocol>"`.

Long syntax is a mapping with `target` (required), `published` (int, string or range),
`host_ip`, `protocol` (default `tcp`), `mode` (default `ingress`), `name`,
`app_protocol` and `x-*` extensions.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from portplan.compose._text import kind_of
from portplan.compose.errors import PortSyntaxError
from portplan.report import plural

__all__ = [
    "PROTOCOLS",
    "PortConfig",
    "format_port",
    "new_port",
    "number_offset",
    "parse_port",
    "parse_port_number",
    "parse_port_range",
    "parse_ports",
    "parse_ports_list",
    "port_bindings",
    "port_defaults",
    "published_range",
    "split_proto_port",
]

PROTOCOLS = frozenset({"tcp", "udp", "sctp"})
DEFAULT_PROTOCOL = "tcp"
DEFAULT_MODE = "ingress"

_INTEGER = re.compile(r"[+-]?[0-9]+")
_INT64_MAX = 2**63 - 1
_LONG_FIELDS = frozenset(
    {"target", "published", "host_ip", "protocol", "mode", "name", "app_protocol"}
)
_TEXT_FIELDS = ("host_ip", "protocol", "mode", "name", "app_protocol")
_OUT_OF_RANGE = "is out of range 0-65535"


@dataclass(frozen=True, kw_only=True)
class PortConfig:
    """One port of a service (compose-go `ServicePortConfig`).

    `published` is a string: a port, a range (`"8000-8010"`) or None when unpublished;
    `host_ip` is None when not given.
    """

    host_ip: str | None = None
    published: str | None = None
    target: int
    protocol: str = DEFAULT_PROTOCOL
    mode: str = DEFAULT_MODE
    name: str | None = None
    app_protocol: str | None = None
    extensions: Mapping[str, object] = field(default_factory=dict, hash=False)


# -- numbers and ranges (go-connections helpers) ----------------------------------------


def _number_problem(text: str) -> tuple[str, str] | None:
    """What is wrong with `text` as a port number, in portplan's words (which never quote
    it) and go-connections'; None when it is a port number."""
    if not text:
        return "is empty", "value is empty"
    if not _INTEGER.fullmatch(text):
        return "is not a number", "invalid syntax"
    number = int(text)
    if not -_INT64_MAX - 1 <= number <= _INT64_MAX:
        return _OUT_OF_RANGE, "value out of range"
    if not 0 <= number <= 0xFFFF:
        return _OUT_OF_RANGE, "value out of range (0–65535)"
    return None


def parse_port_number(text: str) -> int:
    """A port number 0-65535, strictly (go-connections `parsePortNumber`)."""
    problem = _number_problem(text)
    if problem is not None:
        raise PortSyntaxError(f"the port {problem[0]}", problem[1])
    return int(text)


def parse_port(text: str) -> int:
    """A port number, where "" means 0 (go-connections `ParsePort`)."""
    if not text:
        return 0
    problem = _number_problem(text)
    if problem is not None:
        raise PortSyntaxError(f"the port {problem[0]}", f"invalid port '{text}': {problem[1]}")
    return int(text)


def parse_port_range(text: str, *, allow_empty: bool = False) -> tuple[int, int]:
    """`"8000-9000"` -> (8000, 9000); `"80"` -> (80, 80) (go-connections `ParsePortRange`).

    With `allow_empty`, "" is (0, 0) as in `ParsePortRangeToInt`.
    """
    if not text:
        if allow_empty:
            return 0, 0
        raise PortSyntaxError("empty string specified for ports")
    start_text, dash, end_text = text.partition("-")
    start = _range_end(start_text, "start", bool(dash))
    if not dash or start_text == end_text:
        return start, start
    end = _range_end(end_text, "end", True)
    if end < start:
        peer = f"invalid port range: {text}"
        raise PortSyntaxError("invalid port range: it ends below its start", peer)
    return start, end


def _range_end(text: str, which: str, ranged: bool) -> int:
    problem = _number_problem(text)
    if problem is not None:
        subject = f"the {which} of the range" if ranged else "the port"
        peer = f"invalid {which} port '{text}': {problem[1]}"
        raise PortSyntaxError(f"{subject} {problem[0]}", peer)
    return int(text)


def split_proto_port(text: str) -> tuple[str, str]:
    """`"80/udp"` -> ("80", "udp"); no protocol means tcp; nothing is validated."""
    port, _, protocol = text.partition("/")
    if not port:
        return "", ""
    return port, protocol or DEFAULT_PROTOCOL


def new_port(protocol: str, port: str) -> str:
    """The `"<port>/<protocol>"` key of a port or range (go-connections `NewPort`)."""
    start, end = parse_port_range(port, allow_empty=True)
    return f"{start}/{protocol}" if start == end else f"{start}-{end}/{protocol}"


# -- short syntax -----------------------------------------------------------------------


def _split_parts(raw: str) -> tuple[str, str, str]:
    parts = raw.split(":")
    if len(parts) == 1:
        return "", "", parts[0]
    if len(parts) == 2:
        return "", parts[0], parts[1]
    return ":".join(parts[:-2]), parts[-2], parts[-1]


@lru_cache(maxsize=1024)
def _is_ip(text: str) -> bool:
    if "%" in text:  # Go's net.ParseIP takes no IPv6 zone
        return False
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _unbracket(raw_ip: str) -> str:
    """Go's `net.SplitHostPort(raw_ip + ":")` host part, for a bracketed address."""
    address = raw_ip + ":"
    end = address.find("]")
    why = None
    if end < 0:
        why = "missing ']' in address"
    elif end + 1 != len(address) - 1:
        why = "too many colons in address" if address[end + 1] == ":" else "missing port in address"
    elif "[" in address[1:]:
        why = "unexpected '[' in address"
    elif "]" in address[end + 1 :]:
        why = "unexpected ']' in address"
    if why:
        peer = f"Invalid ip address {raw_ip}: address {address}: {why}"
        raise PortSyntaxError(f"invalid host IP address in brackets: {why}", peer)
    return address[1:end]


def _host_ip(raw_ip: str) -> str | None:
    ip = _unbracket(raw_ip) if raw_ip.startswith("[") else raw_ip
    if ip and not _is_ip(ip):
        what = "invalid host IP address: expected an IPv4 address or an IPv6 one in brackets"
        raise PortSyntaxError(what, f"Invalid ip address: {ip}")
    return ip or None


_SPEC_WORDS = {"containerPort": "container port", "hostPort": "host port"}


def _spec_range(text: str, what: str) -> tuple[int, int]:
    try:
        return parse_port_range(text)
    except PortSyntaxError as err:
        message = f"invalid {_SPEC_WORDS[what]}: {err}"
        raise PortSyntaxError(message, f"Invalid {what}: {text}") from err


def _parse_short(raw: str) -> list[PortConfig]:
    raw_ip, host_port, container = _split_parts(raw)
    container, protocol = split_proto_port(container)
    host_ip = _host_ip(raw_ip)
    if not container:
        raise PortSyntaxError("no container port specified", f"No port specified: {raw}<empty>")
    start, end = _spec_range(container, "containerPort")
    host_start, host_end = _spec_range(host_port, "hostPort") if host_port else (0, 0)
    if host_port and end - start != host_end - host_start and end != start:
        raise PortSyntaxError(
            f"the host range has {plural(host_end - host_start + 1, 'port')} and the container "
            f"range {end - start + 1}",
            f"Invalid ranges specified for container and host Ports: {container} and {host_port}",
        )
    if protocol.lower() not in PROTOCOLS:
        what = "invalid protocol: expected tcp, udp or sctp"
        raise PortSyntaxError(what, f"Invalid proto: {protocol}")
    protocol = protocol.lower()
    ports = [
        PortConfig(
            host_ip=host_ip,
            published=_published(host_port, host_start + i, host_end, start == end),
            target=start + i,
            protocol=protocol,
        )
        for i in range(end - start + 1)
    ]
    return sorted(ports, key=lambda port: f"{port.target}/{port.protocol}")


def number_offset(raw: str) -> int:
    """Where the published port (or, when none is published, the target) starts in a
    short-syntax entry: 0 in `8080:80`, 10 in `127.0.0.1:8080:80`, 1 in `:80`."""
    if ":" not in raw:
        return 0
    raw_ip, host_port, _ = _split_parts(raw)
    start = len(raw_ip) + 1 if raw.count(":") >= 2 else 0
    return start if host_port else start + 1


def published_range(port: PortConfig) -> tuple[int, int] | None:
    """The host ports `port` publishes (first, last), None when unpublished; (0, 0) asks
    for any free port. The long syntax keeps `published` as written; this checks it is a
    port or a range of ports."""
    if port.published is None:
        return None
    try:
        return parse_port_range(port.published)
    except PortSyntaxError as err:
        message = f"invalid published port: {err}"
        raise PortSyntaxError(message, f"Invalid published port: {port.published}") from err


def _published(host_port: str, port: int, host_end: int, single_target: bool) -> str | None:
    if not host_port:
        return None
    if single_target and port != host_end:
        return f"{port}-{host_end}"
    return str(port)


# -- long syntax ------------------------------------------------------------------------


def port_defaults(entry: Mapping[str, object]) -> dict[str, object]:
    """A long-syntax mapping with compose-go's defaults filled in (protocol, mode)."""
    return {"protocol": DEFAULT_PROTOCOL, "mode": DEFAULT_MODE, **entry}


def _parse_long(entry: Mapping[str, object]) -> list[PortConfig]:
    unknown = sorted(str(key) for key in entry if key not in _LONG_FIELDS and not _is_x(key))
    if unknown:
        names = ", ".join(repr(key) for key in unknown)
        raise PortSyntaxError(f"additional properties {names} not allowed")
    texts = {key: _optional_text(entry, key) for key in _TEXT_FIELDS}
    return [
        PortConfig(
            host_ip=texts["host_ip"],
            published=_long_published(entry.get("published")),
            target=_long_target(entry.get("target")),
            protocol=texts["protocol"] or DEFAULT_PROTOCOL,
            mode=texts["mode"] or DEFAULT_MODE,
            name=texts["name"],
            app_protocol=texts["app_protocol"],
            extensions={str(k): v for k, v in entry.items() if _is_x(k)},
        )
    ]


def _is_x(key: object) -> bool:
    return isinstance(key, str) and key.startswith("x-")


def _optional_text(entry: Mapping[str, object], key: str) -> str | None:
    value = entry.get(key)
    if value is None or isinstance(value, str):
        return value
    peer = f"{key} must be a string, got {value!r}"
    raise PortSyntaxError(f"{key} must be a string, got {kind_of(value)}", peer)


def _long_target(value: object) -> int:
    if value is None:
        raise PortSyntaxError("missing property 'target'")
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and value.isascii() and value.isdigit():
        return int(value)
    got = "a string that is not a number" if isinstance(value, str) else kind_of(value)
    raise PortSyntaxError(
        f"target must be an integer, got {got}", f"target must be an integer, got {value!r}"
    )


def _long_published(value: object) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    what = "published must be a string or an integer"
    raise PortSyntaxError(f"{what}, got {kind_of(value)}", f"{what}, got {value!r}")


# -- entries and lists ------------------------------------------------------------------


def parse_ports(value: str | int | Mapping[str, object]) -> list[PortConfig]:
    """The ports of one `ports:` entry: a short-syntax string or int, or a mapping.

    >>> [(p.published, p.target) for p in parse_ports("127.0.0.1:8000-8001:80-81/udp")]
    [('8000', 80), ('8001', 81)]
    """
    if isinstance(value, bool):
        peer = f"invalid type bool for port: {value!r}"
        raise PortSyntaxError(f"invalid port: expected {_ENTRY}, got {kind_of(value)}", peer)
    if isinstance(value, int):
        return _parse_short(str(value))
    if isinstance(value, str):
        return _parse_short(value)
    if isinstance(value, Mapping):
        return _parse_long(value)
    peer = f"invalid type {type(value).__name__} for port: {value!r}"
    raise PortSyntaxError(f"invalid port: expected {_ENTRY}, got {kind_of(value)}", peer)


_ENTRY = "a string, an integer or a mapping"


def parse_ports_list(
    value: object, *, where: str = "ports", defer_unparsed: bool = False
) -> list[PortConfig] | None:
    """The ports of a whole `ports:` value, which must be a list of unique entries.

    With `defer_unparsed`, a string entry that cannot be parsed yet (typically before
    interpolation, `${HOST_IP}:80:80`) makes the result None, meaning "keep the raw
    list", as compose-go's `transformPorts(ignoreParseError=true)` does.
    """
    if not isinstance(value, list | tuple):
        raise PortSyntaxError(f"{where} contains an invalid type, it should be an array")
    _check_unique(value, where)
    ports: list[PortConfig] = []
    for entry in value:
        try:
            ports.extend(parse_ports(entry))
        except PortSyntaxError:
            if defer_unparsed and isinstance(entry, str):
                return None
            raise
    return ports


def _check_unique(entries: list[object] | tuple[object, ...], where: str) -> None:
    seen: dict[object, int] = {}
    for index, entry in enumerate(entries, 1):
        key = _freeze(entry)
        if key in seen:
            raise PortSyntaxError(
                f"{where} contains non-unique items: item {index} repeats item {seen[key]}",
                f"{where} contains non-unique items, please remove duplicates from {entries!r}",
            )
        seen[key] = index


def _freeze(value: object) -> object:
    if isinstance(value, Mapping):
        return ("map", tuple(sorted((str(k), _freeze(v)) for k, v in value.items())))
    if isinstance(value, list | tuple):
        return ("list", tuple(_freeze(item) for item in value))
    return (type(value).__name__, value)


# -- rendering and grouping -------------------------------------------------------------


def format_port(port: PortConfig, *, always_host: bool = False) -> str:
    """The short-syntax string of one port, e.g. `127.0.0.1:8080:80/tcp`.

    By default the parts that are not set are left out (`8080:80/tcp`, `80/tcp`), as
    compose v1 renders them.  `always_host=True` renders Docker's port-mapping form,
    which always has the host IP and published slots (`:8080:80/tcp`, `::80/tcp`).
    IPv6 hosts are bracketed.
    """
    host = port.host_ip or ""
    if ":" in host:
        host = f"[{host}]"
    target = f"{port.target}/{port.protocol}"
    if always_host:
        return f"{host}:{port.published or ''}:{target}"
    if port.published is not None:
        target = f"{port.published}:{target}"
    elif host:
        target = f":{target}"
    return f"{host}:{target}" if host else target


def port_bindings(
    entries: Iterable[str | int | Mapping[str, object]],
) -> dict[str, list[tuple[str | None, str | None]]]:
    """(host IP, published) bindings grouped by container port, in order of appearance.

    Keys are `"<target>"` for tcp and `"<target>/<protocol>"` otherwise, as docker-py's
    `build_port_bindings` keys them.
    """
    bindings: dict[str, list[tuple[str | None, str | None]]] = {}
    for entry in entries:
        for port in parse_ports(entry):
            key = (
                str(port.target)
                if port.protocol == DEFAULT_PROTOCOL
                else new_port(port.protocol, str(port.target))
            )
            bindings.setdefault(key, []).append((port.host_ip, port.published))
    return bindings
