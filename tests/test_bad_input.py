"""Every kind of bad topology file: one line naming file:line:column, exit 2, no traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from portplan.cli import main

CASES = [
    ("malformed", "services:\n  api: {ports: [8000\n", None),
    ("tabs", "services:\n\tapi: {}\n", None),
    (
        "wrong type",
        "services:\n  api:\n    ports:\n      http: true\n",
        "bad.yaml:4:13: services.api.ports.http: expected an integer 1-65535, got a boolean",
    ),
    (
        "unknown key",
        "services:\n  api:\n    prots: {http: 8000}\n",
        "bad.yaml:3:5: services.api: unknown key 'prots' (did you mean 'ports'?); expected one of "
        "aliases, category, depends_on, description, environment, exposure, host, image, latency, "
        "networks, phase, ports, purpose, resources, run, status, technology, throughput, zone",
    ),
    (
        "unknown top key",
        "servcies: {}\n",
        "bad.yaml:1:1: unknown key 'servcies' (did you mean 'services'?); expected one of defaults, "
        "description, environments, ephemeral, hosts, include, networks, ranges, reserved, services, system, "
        "version, zones",
    ),
    (
        "port too big",
        "services:\n  api: {ports: {http: 70000}}\n",
        "bad.yaml:2:23: services.api.ports.http: expected an integer 1-65535, got an integer "
        "above 65535",
    ),
    (
        "port zero",
        "services:\n  api: {ports: {http: {port: 0}}}\n",
        "bad.yaml:2:30: services.api.ports.http.port: expected an integer 1-65535, got an "
        "integer below 1",
    ),
    (
        "port 80a",
        "services:\n  api:\n    ports:\n      http: 80a\n",
        "bad.yaml:4:13: services.api.ports.http: expected an integer 1-65535, got a string of 3 "
        "characters",
    ),
    (
        "grpc 5oo51",
        "services:\n  token-engine:\n    ports:\n      grpc: {port: 5oo51}\n",
        "bad.yaml:4:20: services.token-engine.ports.grpc.port: expected an integer 1-65535, "
        "got a string of 5 characters",
    ),
    (
        "target too big",
        "services:\n  web: {ports: {http: {port: 8088, target: 80800}}}\n",
        "bad.yaml:2:44: services.web.ports.http.target: expected an integer 1-65535, got an "
        "integer above 65535",
    ),
    (
        "target zero",
        "services:\n  web:\n    ports:\n      http: {port: 8088, target: 0}\n",
        "bad.yaml:4:34: services.web.ports.http.target: expected an integer 1-65535, got an "
        "integer below 1",
    ),
    (
        "target not a number",
        "services:\n  web: {ports: {http: {port: 8088, target: '80'}}}\n",
        "bad.yaml:2:44: services.web.ports.http.target: expected an integer 1-65535, got a "
        "string of 2 characters",
    ),
    (
        "published not a boolean",
        "services:\n  db: {ports: {pg: {port: 5432, published: no}}}\n",
        "bad.yaml:2:44: services.db.ports.pg.published: expected true or false, got a string "
        "of 2 characters",
    ),
    (
        "target in an environment overlay",
        "services:\n  web: {ports: {http: 8088}}\nenvironments:\n  prod:\n    services:\n"
        "      web: {ports: {http: {target: 70000}}}\n",
        "bad.yaml:6:36: environments.prod.services.web.ports.http.target: expected an integer "
        "1-65535, got an integer above 65535",
    ),
    ("empty", "", "bad.yaml:1:1: the file is empty; expected a mapping with 'services'"),
    (
        "list for mapping",
        "services:\n  - api\n  - web\n",
        "bad.yaml:2:3: services: expected a mapping, got a list",
    ),
    (
        "top-level list",
        "- a\n",
        "bad.yaml:1:1: expected a mapping (a portplan topology), got a list",
    ),
    (
        "bad status",
        "services:\n  api: {status: running}\n",
        "bad.yaml:2:17: services.api.status: expected one of active, planned, reserved, "
        "deprecated, got a string of 7 characters",
    ),
    (
        "bad range",
        "ranges:\n  core: {ports: 8009-8000, category: core}\n",
        "bad.yaml:2:17: ranges.core.ports: a range from 8009 down to 8000: expected the lower "
        "port first",
    ),
    (
        "unknown protocol",
        "services:\n  dns:\n    ports:\n      http: 53/icmp\n",
        "bad.yaml:4:13: services.dns.ports.http: expected a protocol tcp, udp or sctp after the "
        "port number, got a string of 4 characters",
    ),
    (
        "unknown protocol in an overlay",
        "services:\n  dns: {ports: {dns: 53}}\nenvironments:\n  prod:\n    services:\n"
        "      dns: {ports: {dns: 53/icmp}}\n",
        "bad.yaml:6:26: environments.prod.services.dns.ports.dns: expected a protocol tcp, udp "
        "or sctp after the port number, got a string of 4 characters",
    ),
    (
        "an x- key that is not at the top, in a service or in a port",
        "hosts:\n  a: {x-note: 1}\n",
        "bad.yaml:2:7: hosts.a: unknown key 'x-note'; expected one of address, description, "
        "ephemeral",
    ),
    (
        "bad duration",
        "services:\n  api: {latency: {target: fast}}\n",
        'bad.yaml:2:27: services.api.latency.target: expected a duration such as 10ms, "<50ms" '
        "or 0.5s, got a string of 4 characters",
    ),
]


@pytest.mark.parametrize(("name", "text", "message"), CASES, ids=[c[0] for c in CASES])
def test_bad_file(
    name: str,
    text: str,
    message: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.yaml").write_text(text)
    assert main(["check", "-f", "bad.yaml"]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("portplan: error: bad.yaml:")
    if message is not None:
        assert err == f"portplan: error: {message}\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("binary", b"\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00" + bytes(range(256))),
        (
            "alias bomb",
            (
                b'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
                + b"".join(
                    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]\n".encode()
                    for i in range(8)
                )
            ),
        ),
        ("deep nesting", b"services: " + b"[" * 5000 + b"]" * 5000 + b"\n"),
        ("duplicate key", b"services:\n  api: {}\n  api: {}\n"),
    ],
)
def test_hostile_file(
    name: str, data: bytes, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_bytes(data)
    assert main(["check", "-f", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"portplan: error: {path}")


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "-f", str(tmp_path / "nope.yaml")]) == 2
    assert capsys.readouterr().err == f"portplan: error: {tmp_path / 'nope.yaml'}: no such file\n"


def test_no_topology_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["check"]) == 2
    assert capsys.readouterr().err == (
        "portplan: error: no portplan.yaml in this folder or any parent; give one with -f FILE\n"
    )


def test_include_cycle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.yaml").write_text("include: [b.yaml]\n")
    (tmp_path / "b.yaml").write_text("include: [a.yaml]\n")
    assert main(["check", "-f", str(tmp_path / "a.yaml")]) == 2
    err = capsys.readouterr().err
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    assert err == f"portplan: error: {b}:1:11: include 'a.yaml' closes a cycle: {a} -> {b} -> {a}\n"


ENVIRONMENTS = (
    "services:\n"
    "  api: {ports: {http: 8001}}\n"
    "  admin: {ports: {web: 8002}}\n"
    "environments:\n"
    "  prod:\n"
    "    services:\n"
    "      {overlay}\n"
    "  dev: {}\n"
)


@pytest.mark.parametrize(
    ("overlay", "env", "message"),
    [
        (
            "apii: {ports: {http: 9001}}",
            "prod",
            "bad.yaml:7:7: environment 'prod' names service 'apii', which the plan does not "
            "define (did you mean 'api'?)",
        ),
        (
            "admin: {ports: {wbe: 9001}}",
            "prod",
            "bad.yaml:7:23: environment 'prod' names port 'wbe' of service 'admin', which the "
            "plan does not define (did you mean 'web'?)",
        ),
        (
            "zzz: {}",
            "prod",
            "bad.yaml:7:7: environment 'prod' names service 'zzz', which the plan does not define",
        ),
        (
            "admin: {}",
            "staging",
            "bad.yaml:4:1: no environment 'staging' (environments: dev, prod)",
        ),
        (
            None,
            "staging",
            "bad.yaml: no environment 'staging' (environments: none are declared)",
        ),
    ],
)
@pytest.mark.parametrize("command", ["check", "reconcile", "generate"])
def test_a_bad_environment_overlay(
    overlay: str | None,
    env: str,
    message: str,
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    plan = "services: {}\n" if overlay is None else ENVIRONMENTS.replace("{overlay}", overlay)
    Path("bad.yaml").write_text(plan)
    assert main([command, "-f", "bad.yaml", "--env", env]) == 2
    assert capsys.readouterr() == ("", f"portplan: error: {message}\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_check_and_reconcile_check_the_overlaid_plan(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """prod moves admin.web onto api.http's 8001: clean without --env, a PP101 with it."""
    monkeypatch.chdir(tmp_path)
    Path("portplan.yaml").write_text(
        ENVIRONMENTS.replace("{overlay}", "admin: {ports: {web: 8001}}")
    )
    Path("empty").mkdir()
    assert main(["check"]) == 0
    capsys.readouterr()
    assert main(["check", "--env", "prod", "--format", "json"]) == 1
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["rule"], f["message"]) for f in findings] == [
        ("PP101", "port 8001/tcp on host default is bound by both api.http and admin.web")
    ]
    assert (
        main(["reconcile", "empty", "-f", "portplan.yaml", "--env", "prod", "--format", "json"])
        == 1
    )
    findings = json.loads(capsys.readouterr().out)["findings"]
    assert [(f["rule"], f["message"]) for f in findings if f["rule"] != "PP203"] == [
        ("PP202", "port 8001/tcp is claimed by admin and api")
    ]


BAD_PORT = "services:\n  api:\n    ports:\n      http: true\n"
BAD_PORT_LINE = "bad.yaml:4:13: services.api.ports.http: expected an integer 1-65535, got a boolean"


@pytest.fixture
def bad_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """bad.yaml in the current folder: a plan whose port 4:13 is a boolean."""
    monkeypatch.chdir(tmp_path)
    Path("bad.yaml").write_text(BAD_PORT)


@pytest.mark.parametrize("command", ["check", "reconcile"])
def test_json_carries_the_error_of_an_unusable_plan(
    command: str,
    bad_plan: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main([command, "-f", "bad.yaml", "--format", "json"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out) == {
        "version": 1,
        "command": command,
        "findings": [],
        "error": {
            "message": BAD_PORT_LINE,
            "file": "bad.yaml",
            "line": 4,
            "column": 13,
            "exit_code": 2,
        },
    }
    assert err == f"portplan: error: {BAD_PORT_LINE}\n"


def test_sarif_of_an_unusable_plan_is_a_failed_invocation(
    bad_plan: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "-f", "bad.yaml", "--format", "sarif"]) == 2
    out, err = capsys.readouterr()
    document = json.loads(out)
    assert (document["version"], len(document["runs"])) == ("2.1.0", 1)
    run = document["runs"][0]
    assert (run["results"], run["tool"]["driver"]["name"]) == ([], "portplan")
    assert run["invocations"] == [
        {
            "executionSuccessful": False,
            "exitCode": 2,
            "toolExecutionNotifications": [
                {
                    "level": "error",
                    "message": {"text": BAD_PORT_LINE},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": "bad.yaml"},
                                "region": {"startLine": 4, "startColumn": 13},
                            }
                        }
                    ],
                }
            ],
        }
    ]
    assert err == f"portplan: error: {BAD_PORT_LINE}\n"


def test_an_error_without_a_place_has_no_location(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["reconcile", "-f", "nope.yaml", "--format", "sarif"]) == 2
    out, err = capsys.readouterr()
    assert json.loads(out)["runs"][0]["invocations"][0]["toolExecutionNotifications"] == [
        {"level": "error", "message": {"text": "nope.yaml: no such file"}}
    ]
    assert main(["reconcile", "-f", "nope.yaml", "--format", "github"]) == 2
    assert capsys.readouterr().out == "::error title=unusable input::nope.yaml: no such file\n"
    assert err == "portplan: error: nope.yaml: no such file\n"


def test_github_annotates_the_unusable_line(
    bad_plan: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "-f", "bad.yaml", "--format", "github"]) == 2
    out, err = capsys.readouterr()
    assert out == f"::error file=bad.yaml,line=4,col=13,title=unusable input::{BAD_PORT_LINE}\n"
    assert err == f"portplan: error: {BAD_PORT_LINE}\n"


def test_text_keeps_stdout_empty_on_an_unusable_plan(
    bad_plan: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "-f", "bad.yaml"]) == 2
    assert capsys.readouterr() == ("", f"portplan: error: {BAD_PORT_LINE}\n")


def test_import_dash_o_dash_writes_standard_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("compose.yaml").write_text("services:\n  web:\n    image: nginx\n    ports: ['8080:80']\n")
    assert main(["import", "-o", "-"]) == 0
    to_stdout = capsys.readouterr().out
    assert main(["import"]) == 0
    assert to_stdout == capsys.readouterr().out
    assert "  web:\n" in to_stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["compose.yaml"]
