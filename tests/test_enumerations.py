"""Enumerations in prose pair names with ports ("..., respectively"), and a name that only
adds a version digit to another (apache, apache2) is matched to it (PP208 says so)."""

from __future__ import annotations

from pathlib import Path

import pytest

from portplan.reconcile.core import reconcile_paths
from portplan.sources.markdown import parse_markdown


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "1. The nginx, msql and apache containers expose ports 80, 8000 and 3306 "
            "respectively on the host.",
            [("nginx", 80, 55), ("msql", 8000, 59), ("apache", 3306, 68)],
        ),
        (
            "`web` and `api` listen on ports `8080` and `9090`, respectively.",
            [("web", 8080, 34), ("api", 9090, 45)],
        ),
        ("The web and api services expose ports 80, 81 and 82 respectively.", []),  # 2 vs 3
        ("The web and api services expose ports 80 and 81.", []),  # no "respectively"
    ],
)
def test_respectively(text: str, expected: list[tuple[str, int, int]]) -> None:
    found = parse_markdown(text + "\n", "README.md")
    assert [(p.service, p.number, p.location.column) for p in found.ports] == expected


def test_an_enumeration_against_compose(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(
        "services:\n  apache2:\n    image: httpd:2.4\n    ports:\n      - '8000:80'\n"
        "  nginx:\n    image: nginx:1.27\n    ports:\n      - '80:80'\n"
    )
    (tmp_path / "README.md").write_text(
        "# Stack\n\nThe nginx and apache containers expose ports 80 and 3306 respectively.\n"
    )
    found = reconcile_paths([tmp_path]).findings
    assert [(f.rule, f.level.name, f.message) for f in found] == [
        ("PP201", "ERROR", "apache2: port is 3306 here but 8000 in compose.yaml:5"),
        ("PP208", "INFO", "apache and apache2 are taken to be one service (similar names)"),
    ]
