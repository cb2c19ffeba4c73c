"""No secret of a command line is ever shown: `ports`, `ports --json`, `who`, `status`
(PP503) and `kill`'s confirmation, against a real child process whose command line holds
secrets (QA3 #2), and the masking itself (portplan.secretscan.argv.mask_argv)."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from portplan._entry import main as entry_main
from portplan.cli import main
from portplan.live import owners
from portplan.live.owners import is_running, process_info
from portplan.live.text import printable
from portplan.secretscan.argv import mask_argv
from portplan.secretscan.detect import SECRET_NAME
from tests.live.conftest import HOLDER, Child, start_holder, stop_child

Capture = pytest.CaptureFixture[str]

PLANTED = ("hunter2secret", "pw12345678", "nextsecret1", "bearertok99", "envsecret77")
LABELS = (
    "--db-password=hunter2secret",
    "DATABASE_URL=postgres://u:pw12345678@h/d",
    "--password",
    "nextsecret1",
    "-H",
    "Authorization: Bearer bearertok99",
    "API_TOKEN=envsecret77",
    "--port",
    "8005",
)
MASKED = (
    "--db-password=***",
    "DATABASE_URL=postgres://u:***@h/d",
    "--password",
    "***",
    "-H",
    "Authorization: Bearer ***",
    "API_TOKEN=***",
    "--port",
    "8005",
)
ARGV = (sys.executable, "-I", "-c", HOLDER, "plain")


@pytest.fixture
def secret_holder() -> Iterator[Child]:
    child = start_holder(*LABELS)
    yield child
    stop_child(child)


@pytest.fixture(autouse=True)
def _no_registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)


def _shown() -> str:
    return printable(" ".join((*ARGV, *MASKED)))


def _assert_nothing_planted(text: str) -> None:
    assert [planted for planted in PLANTED if planted in text] == []


def test_the_holder_runs_with_its_secrets(secret_holder: Child) -> None:
    with open(f"/proc/{secret_holder.pid}/cmdline", "rb") as handle:
        assert tuple(handle.read().decode().rstrip("\0").split("\0")) == (*ARGV, *LABELS)


@pytest.mark.parametrize("run", [main, entry_main], ids=["click", "entry"])
def test_ports_masks_the_command_line(secret_holder: Child, capsys: Capture, run: object) -> None:
    assert callable(run) and run(["ports"]) == 0
    out = capsys.readouterr().out
    _assert_nothing_planted(out)
    [row] = [line for line in out.splitlines() if f"  {secret_holder.port}  " in line]
    assert row.endswith(f"  {_shown()}")


def test_ports_json_masks_the_command_line(secret_holder: Child, capsys: Capture) -> None:
    assert main(["ports", "--json"]) == 0
    out = capsys.readouterr().out
    _assert_nothing_planted(out)
    [mine] = [s for s in json.loads(out)["listeners"] if s["port"] == secret_holder.port]
    assert mine["cmdline"] == [*ARGV, *MASKED]


def test_who_masks_the_command_line(secret_holder: Child, capsys: Capture) -> None:
    assert main(["who", str(secret_holder.port)]) == 0
    out = capsys.readouterr().out
    _assert_nothing_planted(out)
    # the holder's row (on a busy machine another process may listen on its port number
    # on another address)
    [row] = [line for line in out.splitlines() if f"  {secret_holder.pid}  " in line]
    assert row.endswith(f"  {_shown()}")
    assert main(["who", "--json", str(secret_holder.port)]) == 0
    out = capsys.readouterr().out
    _assert_nothing_planted(out)
    listeners = json.loads(out)["ports"][0]["listeners"]
    [listener] = [li for li in listeners if li["pid"] == secret_holder.pid]
    assert listener["cmdline"] == [*ARGV, *MASKED]


@pytest.mark.parametrize("as_json", [False, True])
def test_status_pp503_masks_the_command_line(
    tmp_path: Path, secret_holder: Child, capsys: Capture, as_json: bool
) -> None:
    port = secret_holder.port
    path = tmp_path / "portplan.yaml"
    path.write_text(f"ranges:\n  http: {{ports: {port}-{port}}}\nservices: {{}}\n")
    assert main(["status", "-f", str(path), *(["--json"] if as_json else [])]) == 0
    out = capsys.readouterr().out
    _assert_nothing_planted(out)
    user = process_info(secret_holder.pid).user  # type: ignore[union-attr]
    message = (
        f"tcp 127.0.0.1:{port} is inside range http ({port}) but no service declares "
        f"it; held by process {secret_holder.pid} ({_shown()}, user {user})"
    )
    if as_json:
        assert [f["message"] for f in json.loads(out)["findings"]] == [message]
    else:
        assert f"{path}:2:3: warning: {message} [PP503 unexpected-listener]" in out.splitlines()


def test_kill_confirmation_masks_the_command_line(
    secret_holder: Child, capsys: Capture, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = process_info(secret_holder.pid).user  # type: ignore[union-attr]
    monkeypatch.setattr("sys.stdin", io.StringIO("n\n"))
    assert main(["kill", str(secret_holder.port)]) == 1
    assert capsys.readouterr().out == (
        f"process {secret_holder.pid} ({_shown()}, user {user}) holds "
        f"tcp 127.0.0.1:{secret_holder.port}\nStop this process? [y/N]: Not stopped.\n"
    )
    assert is_running(secret_holder.pid)


def test_the_console_script_masks_too(secret_holder: Child) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "portplan", "who", str(secret_holder.port)],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "500"},
    )
    assert done.returncode == 0, done.stderr
    _assert_nothing_planted(done.stdout + done.stderr)
    assert done.stdout.splitlines()[1].endswith(f"  {_shown()}")


@pytest.mark.parametrize(
    ("argv", "masked"),
    [
        (["app", "--db-password=s1"], ["app", "--db-password=***"]),
        (["app", "--password", "s1", "--port", "80"], ["app", "--password", "***", "--port", "80"]),
        (["app", "--api-key", "s1"], ["app", "--api-key", "***"]),
        (["app", "-p", "8000", "--key=s1"], ["app", "-p", "8000", "--key=***"]),
        (["java", "-Dspring.datasource.password=s1"], ["java", "-Dspring.datasource.password=***"]),
        (["env", "JWT_SECRET=s1", "PORT=80"], ["env", "JWT_SECRET=***", "PORT=80"]),
        (["app", "postgres://u:s1@h:5432/d"], ["app", "postgres://u:***@h:5432/d"]),
        (["app", "--url=redis://:s1@cache/0"], ["app", "--url=redis://:***@cache/0"]),
        (["app", "http://host:8080/x"], ["app", "http://host:8080/x"]),
        (["curl", "-H", "Authorization: Bearer s1"], ["curl", "-H", "Authorization: Bearer ***"]),
        (["curl", "-H", "authorization: s1"], ["curl", "-H", "authorization: ***"]),
        (["curl", "Authorization:", "Bearer", "s1"], ["curl", "Authorization:", "Bearer", "***"]),
        (
            ["sh", "-c", "DB_PASSWORD=s1 API_KEY='s 2' A=1 ./run --secret=s3"],
            ["sh", "-c", "DB_PASSWORD=*** API_KEY=*** A=1 ./run --secret=***"],
        ),
        # references, placeholders, switches and flags without a value stay as they are
        (
            ["app", "--token=${TOKEN}", "JWT_SECRET=changeme"],
            ["app", "--token=${TOKEN}", "JWT_SECRET=changeme"],
        ),
        (
            ["app", "--password-file", "/run/secrets/db"],
            ["app", "--password-file", "/run/secrets/db"],
        ),
        (["mysql", "--password", "--verbose"], ["mysql", "--password", "--verbose"]),
        # issue 11: camelCase and colon flags, secrets inside an argument, the next argument
        (["app", "--dbPassword=s1"], ["app", "--dbPassword=***"]),
        (["app", "--awsSecretAccessKey=s1"], ["app", "--awsSecretAccessKey=***"]),
        (["app", "--secret:s1"], ["app", "--secret:***"]),
        (
            ["app", "--jdbc=jdbc:postgresql://db/app?user=app&password=s1"],
            ["app", "--jdbc=jdbc:postgresql://db/app?user=app&password=***"],
        ),
        (["app", "--auth=user:s1"], ["app", "--auth=***"]),
        (["curl", "--header", "X-Api-Key: s1"], ["curl", "--header", "X-Api-Key: ***"]),
        (["app", "--pass", "s1"], ["app", "--pass", "***"]),
        (["curl", "-u", "bob:s1", "http://h"], ["curl", "-u", "bob:***", "http://h"]),
        (["mysql", "-u", "root", "-h", "db"], ["mysql", "-u", "root", "-h", "db"]),
        (["app", "--db", "host=db password=s1"], ["app", "--db", "host=db password=***"]),
        (
            ["git", "clone", "https://ghp_Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6@github.com/a/b"],
            ["git", "clone", "https://***@github.com/a/b"],
        ),
        (["app", "--ci=ghp_Ab3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF3hJ6"], ["app", "--ci=***"]),
        (["app", "--keep", "x", "--monkey=y"], ["app", "--keep", "x", "--monkey=y"]),
        # a URL's user part: a password, a key (a Sentry DSN), or a plain user name
        (
            ["app", "--db", "postgresql://app:s1@db/app"],
            ["app", "--db", "postgresql://app:***@db/app"],
        ),
        (
            ["app", "--dsn=https://9f3c2a7b41d84e0c8a5b6d2e7f1a3c4b@o1.ingest.sentry.io/5"],
            ["app", "--dsn=https://***@o1.ingest.sentry.io/5"],
        ),
        (
            ["app", "--db", "postgresql://app@db:5432/app"],
            ["app", "--db", "postgresql://app@db:5432/app"],
        ),
        (["app", "mail@example.com", "http://h/x@y"], ["app", "mail@example.com", "http://h/x@y"]),
    ],
)
def test_mask_argv(argv: list[str], masked: list[str]) -> None:
    assert mask_argv(tuple(argv)) == tuple(masked)
    # the live commands load the patterns only for a command line that may hold a secret:
    # the same answer either way
    assert owners.masked(tuple(argv)) == tuple(masked)


def test_every_secret_name_holds_a_word_that_loads_the_masking() -> None:
    """owners.MAY_HOLD_SECRETS stays in step with PP111's SECRET_NAME."""
    words = {w.lower() for w in re.findall(r"[A-Z][A-Z_]*[A-Z]", SECRET_NAME.pattern)}
    assert words >= {"secret", "token", "password", "key", "credentials"}
    for word in words:
        assert any(hint in word for hint in owners.MAY_HOLD_SECRETS), word


@pytest.mark.parametrize(
    "args",
    [
        "('python3', '-m', 'http.server', '--bind', '127.0.0.1', '8000')",
        "('app', 'serve', '--db', 'postgresql://app@127.0.0.1:5432/app', '--bind', '0.0.0.0:80')",
    ],
)
def test_a_plain_command_line_is_left_as_it_is_without_loading_the_patterns(args: str) -> None:
    code = (
        "import sys; from portplan.live.owners import masked; "
        f"args = {args}; "
        "assert masked(args) == args; print('portplan.secretscan.argv' in sys.modules, 're' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout == "False False\n"
