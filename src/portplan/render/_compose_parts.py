"""The pieces of a compose service section that both the written file (render.compose) and
the merge into a user's file (render._compose_merge) use: published or not, addresses,
`expose` entries and healthchecks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from portplan.model import Exposure, Health, Port, Service
from portplan.render._common import duration

INTERVAL: Final = "10s"


RETRIES: Final = 3


def is_published(service: Service, port: Port) -> bool:
    """Whether a port is bound on the host: not when internal, nor `published: false`."""
    return port.published and service.exposure_of(port) is not Exposure.INTERNAL


def planned_address(service: Service, port: Port) -> str | None:
    """The host address a published port is bound to: a local port on its loopback address
    (else 127.0.0.1), another on its stated address; None for every interface."""
    address = port.address
    if service.exposure_of(port) is Exposure.LOCAL:
        return address if address and address.startswith(("127.", "::1")) else "127.0.0.1"
    if address in (None, "", "0.0.0.0", "*"):
        return None
    return address


def expose_text(number: int, protocol: str) -> str:
    """'8080', '5353/udp'."""
    return str(number) if protocol == "tcp" else f"{number}/{protocol}"


def health_settings(health: Health) -> dict[str, Any]:
    """interval, timeout (the plan's) and retries of a healthcheck."""
    return {"interval": INTERVAL, "timeout": duration(health.timeout_ms), "retries": RETRIES}


def health_test(health: Health, target: int) -> list[str]:
    """The test of a health check on `target`, the port the program listens on inside its
    container (a healthcheck runs there)."""
    return _TESTS[health.kind](target, health)


def _http_test(target: int, health: Health) -> list[str]:
    address = f"http://localhost:{target}{health.path or '/'}"
    return ["CMD-SHELL", f"curl -fsS {address} || exit 1"]


def _tcp_test(target: int, health: Health) -> list[str]:
    return ["CMD-SHELL", f"nc -z localhost {target} || exit 1"]


def _grpc_test(target: int, health: Health) -> list[str]:
    test = ["CMD", "grpc_health_probe", f"-addr=localhost:{target}"]
    if health.grpc_service:
        test.append(f"-service={health.grpc_service}")
    return test


_TESTS: Final[dict[str, Callable[[int, Health], list[str]]]] = {
    "http": _http_test,
    "tcp": _tcp_test,
    "grpc": _grpc_test,
}
