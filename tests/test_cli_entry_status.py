"""`portplan status` without click (portplan._entry) against the click command: the same
report and exit code for every option it takes (a broken, missing or wrong plan:
tests/test_cli_entry_check.py); --watch, --interval and
anything unusual left to click."""

from __future__ import annotations

import contextlib
import io
import json
import re
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from portplan._entry import main as entry_main
from portplan._entry import plain_call
from portplan.cli import main as click_main
from tests.test_cli_entry_check import both_paths


def _plan(held: int, free: int, stray: int | None = None) -> str:
    """A port something listens on (the test's own socket), one nobody does, and with
    `stray` a managed range around a listener nobody declares."""
    ranged = f"ranges:\n  apps: {{ports: {stray}-{stray}}}\n" if stray else ""
    return (
        f"system: shop\n{ranged}services:\n"
        f"  ledger:\n    ports:\n      http: {{port: {held}}}\n"
        f"  quartz:\n    ports:\n      redis: {{port: {free}, health: {{tcp: true}}}}\n"
    )


@pytest.fixture
def ports() -> Iterator[tuple[int, int, int]]:
    with socket.socket() as held, socket.socket() as spare, socket.socket() as stray:
        for listening in (held, stray):
            listening.bind(("127.0.0.1", 0))
            listening.listen()
        spare.bind(("127.0.0.1", 0))  # bound, never listening: nobody answers there
        yield held.getsockname()[1], spare.getsockname()[1], stray.getsockname()[1]


def _run(func: Callable[[list[str]], int], args: list[str]) -> list[object]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = func(args)
    # the time of the check is the only thing two runs may tell apart
    text = re.sub(r'"checked_at": [0-9.e+-]+', '"checked_at": T', out.getvalue())
    return [code, text, err.getvalue()]


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["-f", "p.yaml"],
        ["--file=p.yaml", "--no-health"],
        ["--json"],
        ["--json", "--format", "json"],
        ["--format", "text"],
        ["--format=json", "--host", "db-1"],
        ["--concurrency", "5", "--workers=2"],
        ["--concurrency", "007"],
        ["--no-cache", "--json"],
    ],
)
def test_plain_options_take_the_plain_path(args: list[str]) -> None:
    assert plain_call(["status", *args]) is not None


@pytest.mark.parametrize(
    "args",
    [
        ["--watch"],
        ["--interval", "1"],
        ["--json", "--format", "text"],
        ["--concurrency", "0"],
        ["--concurrency", "+3"],
        ["--workers", "²"],
        ["--workers", "two"],
        ["--host"],
        ["--host", "-x"],
        ["-f", "."],
        ["--format", "sarif"],
        ["p.yaml"],
        ["--help"],
        ["--no-health", "--bogus"],
    ],
)
def test_anything_else_goes_to_click(args: list[str]) -> None:
    assert plain_call(["status", *args]) is None


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--no-health"],
        ["--json"],
        ["--format", "json", "--no-health"],
        ["--format=text", "--concurrency", "1", "--workers", "1"],
        ["--host=default", "--json", "--workers=3"],
        ["--no-cache"],
        ["--no-cache", "--no-health", "--json"],
    ],
)
@pytest.mark.parametrize("ranged", [False, True])
def test_both_paths_give_the_same_report(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    ports: tuple[int, int, int],
    args: list[str],
    ranged: bool,
) -> None:
    held, free, stray = ports
    (tmp_path / "p.yaml").write_text(_plan(held, free, stray if ranged else None))
    monkeypatch.chdir(tmp_path)
    argv = ["status", "-f", "p.yaml", *args]
    assert plain_call(argv) is not None
    plain, clicked = _run(entry_main, argv), _run(click_main, argv)
    assert plain == clicked
    assert plain[0] == 1 and plain[2] == ""  # the free port is down
    words = ("1 up, 1 down, 0 squatted", "1 unexpected" if ranged else "0 unexpected")
    assert all(word in str(plain[1]) for word in words), plain[1]


def test_an_unknown_host_is_the_same_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ports: tuple[int, int, int]
) -> None:
    files = {"portplan.yaml": _plan(*ports[:2])}
    assert both_paths(tmp_path, monkeypatch, files, ["status", "--host", "elsewhere"]) == [
        2,
        "",
        "portplan: error: no host 'elsewhere' in the plan; hosts: default\n",
    ]


def test_the_console_scripts_status_writes_all_and_exits_with_its_code(tmp_path: Path) -> None:
    """`status` from the console script ends without the interpreter's teardown, as `check`
    does: every line still arrives through a pipe (more than a pipe holds), with the code."""
    services = "".join(f"  s{i}: {{ports: {{http: {20000 + i}}}}}\n" for i in range(600))
    plan = tmp_path / "portplan.yaml"
    plan.write_text("services:\n" + services)
    run = [sys.executable, "-m", "portplan", "status", "-f", str(plan), "--json", "--no-health"]
    done = subprocess.run(run, capture_output=True, text=True)
    report = json.loads(done.stdout)
    # nothing is started on the ports: each is down (an error) or held by another (an error)
    assert report["summary"]["errors"] == 600 and done.returncode == 1, done.stderr
    assert len(report["ports"]) == 600 and len(done.stdout) > 65536
    with open("/dev/full", "w") as full:
        done = subprocess.run(run, stdout=full, stderr=subprocess.PIPE, text=True)
    assert (done.returncode, done.stderr) == (
        2,
        "portplan: error: standard output: cannot write: No space left on device\n",
    )
