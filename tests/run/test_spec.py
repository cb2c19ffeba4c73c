"""The `run:` section: parsed into a RunSpec, checked with located errors, published in
the JSON Schema generated from the same specs."""

from __future__ import annotations

import pytest

from portplan.cli import main
from portplan.errors import InputError
from portplan.model import Readiness, RestartPolicy, StopPolicy
from portplan.plan import schema
from portplan.plan.loader import load_text

BASE = "services:\n  db:\n    ports: {postgresql: 5432}\n  api:\n    depends_on: [db]\n"


def test_a_full_run_section() -> None:
    text = BASE + (
        "    run:\n"
        "      command: [python3, app.py]\n"
        "      cwd: api\n"
        "      env: {LOG_LEVEL: debug, TOKEN: '${API_TOKEN}', WORKERS: 4, DEBUG: true}\n"
        "      ready: {log: 'listening on \\d+', timeout: 5s, interval: 20ms}\n"
        "      restart: {policy: always, backoff: 1s, max: 3, with_dependency: true}\n"
        "      stop: {signal: INT, grace: 2s}\n"
        "      wait_for: {db: started}\n"
    )
    run = load_text(text).services["api"].run
    assert run is not None
    assert run.command == ("python3", "app.py")
    assert run.cwd == "api"
    assert [(v.name, v.value) for v in run.env] == [
        ("LOG_LEVEL", "debug"),
        ("TOKEN", "${API_TOKEN}"),
        ("WORKERS", "4"),
        ("DEBUG", "true"),
    ]
    assert run.ready == Readiness("log", None, r"listening on \d+", 5000.0, 20.0)
    assert run.restart == RestartPolicy("always", True, 1000.0, 3)
    assert run.stop == StopPolicy("SIGINT", 2000.0)
    assert run.condition("db") == "started"
    assert str(run.location) == "portplan.yaml:7:7"


@pytest.mark.parametrize(
    ("run", "expected"),
    [
        ("{command: x}", (Readiness(), RestartPolicy(), StopPolicy())),
        (
            "{command: x, ready: tcp, restart: on-failure}",
            (Readiness("tcp"), RestartPolicy("on-failure"), StopPolicy()),
        ),
        (
            "{command: x, ready: {exec: pg_isready}, restart: with-dependency}",
            (
                Readiness("exec", "pg_isready"),
                RestartPolicy("on-failure", with_dependency=True),
                StopPolicy(),
            ),
        ),
        (
            "{command: x, restart: 'no', stop: {signal: SIGQUIT}}",
            (Readiness(), RestartPolicy("no"), StopPolicy("SIGQUIT")),
        ),
    ],
)
def test_short_forms(run: str, expected: tuple[object, ...]) -> None:
    spec = load_text(BASE + f"    run: {run}\n").services["api"].run
    assert spec is not None
    assert (spec.ready, spec.restart, spec.stop) == expected
    assert spec.command == "x" and spec.condition("db") == "ready"


def test_defaults_run_is_merged_under_each_service() -> None:
    text = (
        "defaults:\n  run: {command: [serve], env: {A: '1', B: '2'}, stop: {grace: 1s}}\n"
        + BASE
        + "    run: {env: {B: '3'}, restart: always}\n"
    )
    services = load_text(text).services
    api, db = services["api"].run, services["db"].run
    assert api is not None and db is not None
    assert api.command == ("serve",) and db.command == ("serve",)
    assert [(v.name, v.value) for v in api.env] == [("A", "1"), ("B", "3")]
    assert api.restart.policy == "always" and db.restart.policy == "no"
    assert api.stop.grace_ms == 1000.0


def test_no_run_section_no_spec() -> None:
    assert load_text(BASE).services["api"].run is None


@pytest.mark.parametrize(
    ("run", "message"),
    [
        (
            "{comand: x}",
            "portplan.yaml:6:11: services.api.run: unknown key 'comand' (did you mean "
            "'command'?); expected one of command, cwd, env, ready, restart, stop, wait_for",
        ),
        (
            "{command: 5}",
            "portplan.yaml:6:20: services.api.run.command: expected a command: a shell string "
            "or a list of arguments, got an integer",
        ),
        (
            "{command: x, restart: sometimes}",
            "portplan.yaml:6:32: services.api.run.restart: expected one of no, on-failure, "
            "always, with-dependency, got a string of 9 characters",
        ),
        (
            "{command: x, stop: {signal: SIGFOO}}",
            "portplan.yaml:6:38: services.api.run.stop.signal: expected a signal name such as "
            "SIGTERM or INT, got a string of 6 characters",
        ),
        (
            "{command: x, ready: {log: '(unclosed'}}",
            "portplan.yaml:6:36: services.api.run.ready.log: not a regular expression: missing "
            "), unterminated subpattern",
        ),
        (
            "{command: x, ready: {tcp: true, log: up}}",
            "portplan.yaml:6:30: services.api.run.ready: choose one of health, tcp, exec, log; "
            "got tcp, log",
        ),
        (
            "{command: x, wait_for: {dbb: completed}}",
            "portplan.yaml:6:34: services.api.run.wait_for: 'dbb' is not a dependency of this "
            "service (did you mean 'db'?); depends_on: db",
        ),
        (
            "{command: x, wait_for: {db: healthy}}",
            "portplan.yaml:6:38: services.api.run.wait_for.db: expected one of started, ready, "
            "completed, got a string of 7 characters",
        ),
        (
            "{cwd: here}",
            "portplan.yaml:6:10: services.api.run: expected a mapping with the key 'command' "
            "(here or in defaults.run), got a mapping without it",
        ),
    ],
)
def test_bad_run_sections(run: str, message: str) -> None:
    with pytest.raises(InputError) as caught:
        load_text(BASE + f"    run: {run}\n")
    assert str(caught.value) == message


def test_check_reports_a_bad_run_section_with_exit_2(
    tmp_path: object, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pathlib

    assert isinstance(tmp_path, pathlib.Path)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "portplan.yaml").write_text(BASE + "    run: {command: x, stop: {grace: soon}}\n")
    assert main(["check"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "portplan: error: portplan.yaml:6:37: services.api.run.stop.grace: expected a duration "
        'such as 10ms, "<50ms" or 0.5s, got a string of 4 characters\n'
    )


def test_json_schema_publishes_run() -> None:
    document = schema.json_schema()
    run = document["properties"]["services"]["additionalProperties"]["properties"]["run"]
    assert sorted(run["properties"]) == [
        "command",
        "cwd",
        "env",
        "ready",
        "restart",
        "stop",
        "wait_for",
    ]
    assert run["additionalProperties"] is False
    defaults = document["properties"]["defaults"]["properties"]["run"]
    assert sorted(defaults["properties"]) == sorted(run["properties"])


def test_json_schema_accepts_what_the_loader_accepts() -> None:
    import jsonschema
    import yaml

    text = BASE + (
        "    run:\n      command: x\n      ready: {exec: ['true'], timeout: 2s}\n"
        "      restart: {policy: on-failure, max: 2}\n      wait_for: {db: completed}\n"
    )
    load_text(text)
    jsonschema.validate(yaml.safe_load(text), schema.json_schema())
    bad = yaml.safe_load(BASE + "    run: {command: x, restart: sometimes}\n")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema.json_schema())
