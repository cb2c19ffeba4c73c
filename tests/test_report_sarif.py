"""SARIF 2.1.0 locations: artifactLocation.uri is an RFC 3986 URI reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portplan.cli import main
from portplan.findings import Finding, Level
from portplan.model import Location
from portplan.report import Report, render
from portplan.report.sarif import uri


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("./x#y/read me.md", "./x%23y/read%20me.md"),
        ("docs/100%.md", "docs/100%25.md"),
        ("docs/Überblick/ports.md", "docs/%C3%9Cberblick/ports.md"),
        ("a:b/compose.yaml", "a%3Ab/compose.yaml"),
        ("q?x[1].md", "q%3Fx%5B1%5D.md"),
        ("k8s/app-v1_2~x/web.yaml", "k8s/app-v1_2~x/web.yaml"),
        ("/srv/my app/#1/.env", "file:///srv/my%20app/%231/.env"),
    ],
)
def test_paths_become_percent_encoded_uri_references(path: str, expected: str) -> None:
    assert uri(path) == expected


def test_every_location_of_a_result_is_encoded() -> None:
    finding = Finding(
        "PP201",
        "port-mismatch",
        Level.ERROR,
        "web: http port is 8080 here but 8088 in b c.env:1",
        (Location("a#b/read me.md", 3, 7), Location("b c.env", 1, 10)),
    )
    run = json.loads(render(Report([finding], "1 file"), "sarif"))["runs"][0]
    result = run["results"][0]
    assert result["locations"] == [
        {
            "physicalLocation": {
                "artifactLocation": {"uri": "a%23b/read%20me.md"},
                "region": {"startLine": 3, "startColumn": 7},
            }
        }
    ]
    assert result["relatedLocations"] == [
        {
            "id": 1,
            "physicalLocation": {
                "artifactLocation": {"uri": "b%20c.env"},
                "region": {"startLine": 1, "startColumn": 10},
            },
        }
    ]


def test_reconcile_names_an_odd_path_by_its_encoded_uri(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["reconcile", "./x#y/read me.md", "--format", "sarif"]) == 1
    result = json.loads(capsys.readouterr().out)["runs"][0]["results"][0]
    assert result["ruleId"] == "PP209"
    assert result["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "./x%23y/read%20me.md"}
    }
