"""The side and reference fields of port observations (`sources.base.PortObservation`):
a URL or host:port in an environment is a reference its owner makes to the service it
reaches, on the side its host says; a bind address is the owner's own port."""

from __future__ import annotations

from pathlib import Path

from portplan.sources.compose import read_compose

SIDES = Path(__file__).resolve().parents[1] / "resources" / "references" / "sides.compose.yaml"


def test_env_addresses_are_references_with_a_side() -> None:
    result = read_compose([str(SIDES)])
    rows = {
        (p.variable, p.number, p.reference, p.owner, p.host, p.side, p.location.line)
        for p in result.ports
        if p.variable is not None
    }
    assert rows == {
        ("API_URL", 9000, True, "web", "api", "container", 7),
        ("ASPNETCORE_URLS", 80, False, None, None, "unknown", 8),
        ("METRICS_ADDR", 9464, False, None, None, "unknown", 9),
        ("CALLBACK_URL", 8080, True, "web", "host.docker.internal", "published", 10),
        ("BROWSER_URL", 8080, True, "web", "localhost", "unknown", 11),
    }
