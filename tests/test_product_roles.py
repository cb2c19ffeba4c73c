"""Unnamed ports of a product with several ports are named by what the product serves on
each container port, so each is compared with the same port elsewhere (maildev's web UI
with the web UI, its SMTP port with the SMTP port), never both with the first."""

from __future__ import annotations

from pathlib import Path

import pytest

from portplan.reconcile.core import reconcile_paths

TREE = Path(__file__).parent / "resources" / "product_roles"


def test_unnamed_compose_ports_take_the_product_roles(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(TREE)
    found = [f for f in reconcile_paths(["."]).findings if f.rule == "PP201"]
    assert [(f.message, dict(f.facts)) for f in found] == [
        (
            "mail: http port is 80 here but 5500 in compose.yaml:5",
            {"service": "mail", "port_name": "http", "value": 80, "expected": 5500},
        ),
        (
            "mail: smtp port is 25 here but 1025 in compose.yaml:6",
            {"service": "mail", "port_name": "smtp", "value": 25, "expected": 1025},
        ),
    ]


def test_the_container_port_of_a_drifting_mapping_is_a_fact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the compose mapping is the side that disagrees (a Service states the chart's
    port too), its container port is told with it."""
    for name in ("compose.yaml", "mail.yaml"):
        (tmp_path / name).write_text((TREE / name).read_text())
    (tmp_path / "service.yaml").write_text(
        "apiVersion: v1\nkind: Service\nmetadata: {name: mail}\nspec:\n"
        "  selector: {app: mail}\n  ports:\n    - {name: http, port: 80, targetPort: 80}\n"
    )
    monkeypatch.chdir(tmp_path)
    found = next(f for f in reconcile_paths(["."]).findings if f.facts.get("port_name") == "http")
    assert (found.message, dict(found.facts)) == (
        "mail: http port is 5500 here but 80 in mail.yaml:16 (and 1 more)",
        {
            "service": "mail",
            "port_name": "http",
            "value": 5500,
            "expected": 80,
            "container_port": 1080,
        },
    )
