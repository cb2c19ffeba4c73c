"""`portplan check` without click (portplan._entry) against the click command: the same
output and exit code for every format, exit level, plan and failure."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import click
import pytest

from portplan._entry import PLAIN_VALUES, plain_call
from portplan._entry import main as entry_main
from portplan.cli import cli
from portplan.cli import main as click_main

CLEAN = "system: shop\nservices:\n  api:\n    ports: {http: 8080}\n"
FINDINGS = (  # one error (a port claimed twice) and a warning (a well-known port)
    "system: shop\nservices:\n  api:\n    ports: {http: 8080}\n"
    "  web:\n    ports: {http: 8080}\n  cache:\n    ports: {http: 5432}\n"
)
WARNING = "system: shop\nservices:\n  cache:\n    ports: {http: 5432}\n"
BROKEN = "system: x\nservices:\n  web:\n    ports:\n      http: {port: 99999}\n"
OVERLAY = (
    "system: shop\nservices:\n  api:\n    ports: {http: 8080}\n"
    "environments:\n  prod:\n    services:\n      api:\n        ports: {http: 9090}\n"
)
FORMATS = ["text", "json", "sarif", "github"]


def _run(func: Callable[[list[str]], int], args: list[str]) -> list[object]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = func(args)
    return [code, out.getvalue(), err.getvalue()]


@pytest.mark.parametrize(
    ("name", "unplain"),
    [("check", {}), ("status", {"--interval": "interval"})],  # --interval: only with --watch
)
def test_plain_values_are_the_click_commands_other_options(
    name: str, unplain: dict[str, str]
) -> None:
    command = cli.get_command(None, name)  # type: ignore[arg-type]
    assert command is not None
    valued = {
        spelling: str(param.name)
        for param in command.params
        if isinstance(param, click.Option)
        and not param.is_flag
        and not isinstance(param.type, click.Choice)
        for spelling in param.opts
    }
    assert valued == {**PLAIN_VALUES[name], **unplain}
    assert PLAIN_VALUES["check"] == {"-f": "file", "--file": "file", "--env": "env"}


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["-f", "p.yaml"],
        ["--file", "p.yaml"],
        ["--file=p.yaml"],
        ["--env", "prod"],
        ["--env=prod", "-f", "p.yaml"],
        *[["--format", fmt] for fmt in FORMATS],
        ["--format=json", "--fail-on=warning"],
        ["--fail-on", "info", "-f", "p.yaml", "--format", "sarif"],
        ["-f", "a.yaml", "-f", "p.yaml"],
    ],
)
def test_plain_options_take_the_plain_path(args: list[str]) -> None:
    assert plain_call(["check", *args]) is not None


@pytest.mark.parametrize(
    "args",
    [
        ["-f"],
        ["-fp.yaml"],
        ["-f=p.yaml"],
        ["-f", "-"],
        ["-f", "--format"],
        ["--file="],
        ["--env"],
        ["--env", "-x"],
        ["-f", "."],
        ["p.yaml"],
        ["--json"],
        ["--format", "xml"],
        ["--format=JSON"],
        ["--fail-on", "never"],
        ["--"],
        ["--help"],
        ["-h"],
        ["-f", "p.yaml", "--bogus"],
    ],
)
def test_anything_else_goes_to_click(args: list[str]) -> None:
    assert plain_call(["check", *args]) is None


@pytest.mark.parametrize(
    ("plan", "args", "code"),
    [
        (CLEAN, [], 0),
        (FINDINGS, [], 1),
        (WARNING, [], 0),
        (WARNING, ["--fail-on", "warning"], 1),
        (WARNING, ["--fail-on=info"], 1),
        (FINDINGS, ["--fail-on", "error"], 1),
        (BROKEN, [], 2),
        (OVERLAY, ["--env", "prod"], 0),
        (OVERLAY, ["--env", "nowhere"], 2),
    ],
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_both_paths_give_the_same_report(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    plan: str,
    args: list[str],
    code: int,
    fmt: str,
) -> None:
    (tmp_path / "p.yaml").write_text(plan)
    monkeypatch.chdir(tmp_path)
    argv = ["check", "-f", "p.yaml", *args, "--format", fmt]
    assert plain_call(argv) is not None
    plain, clicked = _run(entry_main, argv), _run(click_main, argv)
    assert plain == clicked
    assert plain[0] == code
    assert plain[1] or (code == 2 and fmt == "text")  # text: the error on stderr only


@pytest.mark.parametrize(
    ("files", "args", "expected"),
    [
        ({"portplan.yaml": CLEAN}, ["check"], [0, "1 port in 1 service"]),
        *[
            (files, [command, *args], expected)
            for command in ("check", "status")  # status: tests/test_cli_entry_status.py
            for files, args, expected in [
                ({}, [], [2, "no portplan.yaml in this folder or any parent"]),
                ({}, ["-f", "missing.yaml"], [2, "missing.yaml"]),
                ({"sub/.keep": ""}, ["-f", "sub"], [2, "sub: is a folder, not a file"]),
                ({"p.yaml": BROKEN}, ["-f", "p.yaml"], [2, "p.yaml:5:20: "]),
                ({"portplan.yaml": BROKEN}, ["--format=json"], [2, "portplan.yaml:5:20: "]),
            ]
        ],
    ],
)
def test_a_found_broken_missing_or_wrong_plan_is_the_same(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    files: dict[str, str],
    args: list[str],
    expected: list[object],
) -> None:
    plain = both_paths(tmp_path, monkeypatch, files, args)
    code, text = expected
    assert plain[0] == code and text in str(plain[1]) + str(plain[2])


def both_paths(
    folder: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str], args: list[str]
) -> list[object]:
    """`args` run in `folder` holding `files`, by both paths: what they gave (the same)."""
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    monkeypatch.chdir(folder)
    plain, clicked = _run(entry_main, args), _run(click_main, args)
    assert plain == clicked
    return plain


@pytest.mark.parametrize(
    ("plan", "args", "expected"),
    [
        (CLEAN, ["check", "--format", "json"], ["False 0", '"services": 1']),
        # status: neither click, nor the runner (no stack of the plan is up), nor the secret
        # detector (a valid plan makes no message); on port 1 nothing listens
        (CLEAN.replace("8080", "1"), ["status", "--json", "--no-health"], ["False 1", '"down": 1']),
    ],
)
def test_the_plain_path_imports_no_click(
    tmp_path: Path, plan: str, args: list[str], expected: list[str]
) -> None:
    (tmp_path / "portplan.yaml").write_text(plan)
    script = (
        "import sys\n"
        "from portplan._entry import main\n"
        "code = main(sys.argv[1:])\n"
        "unused = ('click', 'portplan.run.stack')\n"
        # the secret detector may come with the masking of a listener's command line on
        # this machine (portplan.secretscan.argv), never for the plan
        "by_plan = 'portplan.secretscan.argv' not in sys.modules and sys.argv[1] == 'status'\n"
        "unused += ('portplan.secretscan.detect',) * by_plan\n"
        "print(any(name in sys.modules for name in unused), code, file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=tmp_path
    )
    code, text = expected
    assert done.stderr.splitlines()[-1] == code
    assert text in done.stdout


def test_the_console_scripts_check_writes_all_and_exits_with_its_code(tmp_path: Path) -> None:
    """`check` from the console script ends without the interpreter's teardown: every line
    still arrives through a pipe (more than a pipe holds), with the exit code."""
    services = "".join(f"  s{i}: {{ports: {{http: 8000}}}}\n" for i in range(600))
    plan = tmp_path / "portplan.yaml"
    plan.write_text("services:\n" + services)
    run = [sys.executable, "-m", "portplan", "check", "-f", str(plan), "--format", "json"]
    done = subprocess.run(run, capture_output=True, text=True)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert len(report["findings"]) == 599 and len(done.stdout) > 65536
    with open("/dev/full", "w") as full:
        done = subprocess.run(run, stdout=full, stderr=subprocess.PIPE, text=True)
    assert (done.returncode, done.stderr) == (
        2,
        "portplan: error: standard output: cannot write: No space left on device\n",
    )
