"""The seed systems as examples: `check` shows what is really wrong in each plan, exactly."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from portplan.cli import main
from portplan.plan import schema
from tests.conftest import EXAMPLES

DELTRAN_SECRET = "  {}   error    {} sets DATABASE_URL to a password inside a URL; use a reference such as ${{DATABASE_URL}} or a secret store  [PP111 hardcoded-secret]"
EPHEMERAL = "  {}   warning  {}.grpc is {}, inside the ephemeral range 32768-60999 (this machine's): an outgoing connection may take it first  [PP109 ephemeral-port]"

DELTRAN_TEXT = "\n".join(
    [
        "examples/deltran/portplan.yaml",
        "  20:3     warning  range websocket (8090-8099) overlaps range http (8080-8099) on 8090-8099  [PP104 overlapping-ranges]",
        "           also: examples/deltran/portplan.yaml:10:3",
        "  72:19    error    gateway sets JWT_SECRET to a literal secret value; use a reference such as ${JWT_SECRET} or a secret store  [PP111 hardcoded-secret]",
        EPHEMERAL.format("85:20 ", "token-engine", 50051),
        DELTRAN_SECRET.format("90:21 ", "token-engine"),
        EPHEMERAL.format("105:20", "obligation-engine", 50052),
        DELTRAN_SECRET.format("110:21", "obligation-engine"),
        DELTRAN_SECRET.format("128:21", "liquidity-router"),
        DELTRAN_SECRET.format("144:21", "risk-engine"),
        DELTRAN_SECRET.format("160:21", "clearing-engine"),
        DELTRAN_SECRET.format("176:21", "compliance-engine"),
        EPHEMERAL.format("190:20", "settlement-engine", 50056),
        DELTRAN_SECRET.format("195:21", "settlement-engine"),
        DELTRAN_SECRET.format("212:21", "reporting-engine"),
        DELTRAN_SECRET.format("231:21", "notification-engine"),
        "",
        "20 ports in 14 services on 1 host: 10 errors, 4 warnings",
        "",
    ]
)

EXPECTED_TEXT = {
    "deltran": (1, DELTRAN_TEXT),
    "hybrid-ai-trading": (0, "27 ports in 25 services on 2 hosts: 0 errors, 0 warnings\n"),
    "ai-trading-platform": (
        0,
        "examples/ai-trading-platform/portplan.yaml\n"
        "  81:19    warning  performance.http is 9100, the well-known port of Prometheus node "
        "exporter  [PP110 well-known-port]\n\n"
        "14 ports in 13 services on 1 host: 0 errors, 1 warning\n",
    ),
}


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(EXAMPLES.parent)


@pytest.mark.parametrize("name", sorted(EXPECTED_TEXT))
def test_check_text(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, text = EXPECTED_TEXT[name]
    assert main(["check", "-f", f"examples/{name}/portplan.yaml"]) == code
    assert capsys.readouterr().out == text


def test_deltran_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "-f", "examples/deltran/portplan.yaml", "--format", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["summary"] == {
        "file": "examples/deltran/portplan.yaml",
        "system": "deltran",
        "services": 14,
        "ports": 20,
        "hosts": 1,
        "errors": 10,
        "warnings": 4,
        "infos": 0,
        "headline": "20 ports in 14 services on 1 host: 10 errors, 4 warnings",
    }
    first = document["findings"][0]
    assert first == {
        "rule": "PP104",
        "name": "overlapping-ranges",
        "level": "warning",
        "message": "range websocket (8090-8099) overlaps range http (8080-8099) on 8090-8099",
        "locations": [
            {"file": "examples/deltran/portplan.yaml", "line": 20, "column": 3},
            {"file": "examples/deltran/portplan.yaml", "line": 10, "column": 3},
        ],
        "ranges": ["http", "websocket"],
        "overlap": "8090-8099",
    }
    rules = [f["rule"] for f in document["findings"]]
    assert rules.count("PP111") == 10 and rules.count("PP109") == 3


def test_secrets_never_printed(capsys: pytest.CaptureFixture[str]) -> None:
    for fmt in ("text", "json", "sarif", "github"):
        main(["check", "-f", "examples/deltran/portplan.yaml", "--format", fmt])
        out = capsys.readouterr().out
        assert "deltran_secure_pass_2024" not in out
        assert "deltran-secret-key-change-in-production" not in out


def test_github_annotations(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["check", "-f", "examples/ai-trading-platform/portplan.yaml", "--format", "github"])
        == 0
    )
    assert capsys.readouterr().out == (
        "::warning file=examples/ai-trading-platform/portplan.yaml,line=81,col=19,"
        "title=PP110 well-known-port::performance.http is 9100, the well-known port of "
        "Prometheus node exporter\n"
        "14 ports in 13 services on 1 host: 0 errors, 1 warning\n"
    )


def test_sarif(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "-f", "examples/deltran/portplan.yaml", "--format", "sarif"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["version"] == "2.1.0"
    run = document["runs"][0]
    rule_ids = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rule_ids == [f"PP1{n:02d}" for n in range(1, 13)]
    result = run["results"][0]
    assert result == {
        "ruleId": "PP104",
        "ruleIndex": 3,
        "level": "warning",
        "message": {
            "text": "range websocket (8090-8099) overlaps range http (8080-8099) on 8090-8099"
        },
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": {"uri": "examples/deltran/portplan.yaml"},
                    "region": {"startLine": 20, "startColumn": 3},
                }
            }
        ],
        "relatedLocations": [
            {
                "id": 1,
                "physicalLocation": {
                    "artifactLocation": {"uri": "examples/deltran/portplan.yaml"},
                    "region": {"startLine": 10, "startColumn": 3},
                },
            }
        ],
    }
    assert len(run["results"]) == 14


def test_fail_on_warning(capsys: pytest.CaptureFixture[str]) -> None:
    path = "examples/ai-trading-platform/portplan.yaml"
    assert main(["check", "-f", path, "--fail-on", "warning"]) == 1
    assert main(["check", "-f", path, "--fail-on", "error"]) == 0


@pytest.mark.parametrize("name", sorted(EXPECTED_TEXT))
def test_examples_match_published_schema(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == 0
    published = json.loads(capsys.readouterr().out)
    assert published == schema.json_schema()
    document = yaml.safe_load((EXAMPLES / name / "portplan.yaml").read_text())
    jsonschema.Draft202012Validator(published).validate(document)


def test_schema_rejects_what_the_loader_rejects() -> None:
    validator = jsonschema.Draft202012Validator(schema.json_schema())
    bad = {"services": {"api": {"prots": {"http": 8000}}}}
    assert [e.message for e in validator.iter_errors(bad)] == [
        "'prots' does not match any of the regexes: '^x-'"
    ]


def test_discovers_nearest_parent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "portplan.yaml").write_text("services:\n  a: {ports: {http: 8000}}\n")
    nested = tmp_path / "x" / "y"
    nested.mkdir(parents=True)
    monkeypatch.chdir(nested)
    assert main(["check"]) == 0
    assert capsys.readouterr().out == "1 port in 1 service on 1 host: 0 errors, 0 warnings\n"
