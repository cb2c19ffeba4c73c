"""`ports:` entries: short and long syntax, IPv6, ranges, rendering and exact errors."""

from __future__ import annotations

import pytest

from portplan.compose.errors import PortSyntaxError
from portplan.compose.ports import (
    PortConfig,
    format_port,
    parse_port_range,
    parse_ports,
    parse_ports_list,
    port_bindings,
    published_range,
)


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        (8080, [PortConfig(target=8080)]),
        ("8080:80", [PortConfig(published="8080", target=80)]),
        (
            "127.0.0.1:8080:80/UDP",
            [PortConfig(host_ip="127.0.0.1", published="8080", target=80, protocol="udp")],
        ),
        ("[::1]:8080:80", [PortConfig(host_ip="::1", published="8080", target=80)]),
        ("[fe80::1]::80", [PortConfig(host_ip="fe80::1", target=80)]),
        ("::1:8080:80", [PortConfig(host_ip="::1", published="8080", target=80)]),
        ("8000-8010:80", [PortConfig(published="8000-8010", target=80)]),
        ("8000-8000:80", [PortConfig(published="8000", target=80)]),
        (
            "0.0.0.0:8000-8001:80-81",
            [
                PortConfig(host_ip="0.0.0.0", published="8000", target=80),
                PortConfig(host_ip="0.0.0.0", published="8001", target=81),
            ],
        ),
        # compose-go's order: sorted as "<target>/<protocol>" strings
        ("9-10", [PortConfig(target=10), PortConfig(target=9)]),
    ],
)
def test_short_syntax(entry: str | int, expected: list[PortConfig]) -> None:
    assert parse_ports(entry) == expected


@pytest.mark.parametrize(
    ("entry", "message", "peer"),
    [
        ("", "no container port specified", "No port specified: <empty>"),
        ("80:", "no container port specified", "No port specified: 80:<empty>"),
        ("80/xyz", "invalid protocol: expected tcp, udp or sctp", "Invalid proto: xyz"),
        (
            "70000",
            "invalid container port: the port is out of range 0-65535",
            "Invalid containerPort: 70000",
        ),
        ("8o:80", "invalid host port: the port is not a number", "Invalid hostPort: 8o"),
        (
            "8000-80x1:80",
            "invalid host port: the end of the range is not a number",
            "Invalid hostPort: 8000-80x1",
        ),
        (
            "8000-8001:80-82",
            "the host range has 2 ports and the container range 3",
            "Invalid ranges specified for container and host Ports: 80-82 and 8000-8001",
        ),
        (
            "localhost:80:80",
            "invalid host IP address: expected an IPv4 address or an IPv6 one in brackets",
            "Invalid ip address: localhost",
        ),
        (
            "127.0.1:80:80",
            "invalid host IP address: expected an IPv4 address or an IPv6 one in brackets",
            "Invalid ip address: 127.0.1",
        ),
        (
            "[::1:80:80",
            "invalid host IP address in brackets: missing ']' in address",
            "Invalid ip address [::1: address [::1:: missing ']' in address",
        ),
        (
            "[::1]x:80:80",
            "invalid host IP address in brackets: missing port in address",
            "Invalid ip address [::1]x: address [::1]x:: missing port in address",
        ),
        (
            True,
            "invalid port: expected a string, an integer or a mapping, got a boolean",
            "invalid type bool for port: True",
        ),
    ],
)
def test_short_syntax_errors(entry: str | bool, message: str, peer: str) -> None:
    """portplan's message never quotes the entry (an interpolated value may be a secret);
    compose-go's wording is `peer_message`."""
    with pytest.raises(PortSyntaxError) as info:
        parse_ports(entry)
    assert (str(info.value), info.value.peer_message) == (message, peer)


def test_long_syntax() -> None:
    entry = {
        "name": "web",
        "target": 80,
        "published": 8080,
        "host_ip": "::1",
        "app_protocol": "http",
        "x-note": "public",
    }
    assert parse_ports(entry) == [
        PortConfig(
            name="web",
            target=80,
            published="8080",
            host_ip="::1",
            app_protocol="http",
            extensions={"x-note": "public"},
        )
    ]


@pytest.mark.parametrize(
    ("entry", "message", "peer"),
    [
        ({"published": 80}, "missing property 'target'", None),
        (
            {"target": "eighty"},
            "target must be an integer, got a string that is not a number",
            "target must be an integer, got 'eighty'",
        ),
        (
            {"target": 80, "published": 1.5},
            "published must be a string or an integer, got a number",
            "published must be a string or an integer, got 1.5",
        ),
        ({"target": 80, "protcol": "udp"}, "additional properties 'protcol' not allowed", None),
        (
            {"target": 80, "mode": 1},
            "mode must be a string, got an integer",
            "mode must be a string, got 1",
        ),
        (
            {"target": 80, "published": "80x"},
            "invalid published port: the port is not a number",
            "Invalid published port: 80x",
        ),
    ],
)
def test_long_syntax_errors(entry: dict[str, object], message: str, peer: str | None) -> None:
    with pytest.raises(PortSyntaxError) as info:
        for port in parse_ports(entry):
            published_range(port)
    assert (str(info.value), info.value.peer_message) == (message, peer or message)


@pytest.mark.parametrize(
    ("value", "message", "peer"),
    [
        ("8080:80", "ports contains an invalid type, it should be an array", None),
        (
            ["80", 80, "80"],
            "ports contains non-unique items: item 3 repeats item 1",
            "ports contains non-unique items, please remove duplicates from ['80', 80, '80']",
        ),
    ],
)
def test_ports_list_errors(value: object, message: str, peer: str | None) -> None:
    with pytest.raises(PortSyntaxError) as info:
        parse_ports_list(value)
    assert (str(info.value), info.value.peer_message) == (message, peer or message)


def test_ports_list_defers_uninterpolated_entries() -> None:
    assert parse_ports_list(["${IP}:${PORT}:80", 81], defer_unparsed=True) is None
    assert parse_ports_list(["80", 81]) == [PortConfig(target=80), PortConfig(target=81)]


@pytest.mark.parametrize(
    ("entry", "compose", "docker"),
    [
        ("80", "80/tcp", "::80/tcp"),
        ("8080:80/udp", "8080:80/udp", ":8080:80/udp"),
        ("127.0.0.1::80", "127.0.0.1::80/tcp", "127.0.0.1::80/tcp"),
        ("::1:8080:80", "[::1]:8080:80/tcp", "[::1]:8080:80/tcp"),
    ],
)
def test_format_port_round_trips(entry: str, compose: str, docker: str) -> None:
    (port,) = parse_ports(entry)
    assert (format_port(port), format_port(port, always_host=True)) == (compose, docker)
    assert parse_ports(compose) == parse_ports(docker) == [port]


def test_port_bindings_group_by_container_port() -> None:
    assert port_bindings(["1.2.3.4:80:80", "8080:80", "53:53/udp"]) == {
        "80": [("1.2.3.4", "80"), (None, "8080")],
        "53/udp": [(None, "53")],
    }


@pytest.mark.parametrize(
    ("text", "message", "peer"),
    [
        ("", "empty string specified for ports", "empty string specified for ports"),
        ("80-", "the end of the range is empty", "invalid end port '': value is empty"),
        ("90-80", "invalid port range: it ends below its start", "invalid port range: 90-80"),
        ("1-2-3", "the end of the range is not a number", "invalid end port '2-3': invalid syntax"),
        (
            "65536",
            "the port is out of range 0-65535",
            "invalid start port '65536': value out of range (0–65535)",
        ),
    ],
)
def test_port_range_errors(text: str, message: str, peer: str) -> None:
    with pytest.raises(PortSyntaxError) as info:
        parse_port_range(text)
    assert (str(info.value), info.value.peer_message) == (message, peer)
