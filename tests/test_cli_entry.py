"""The console script (portplan._entry) against the click CLI (portplan.cli.main).

`portplan ports` and `portplan who PORT...` with plain flags take a click-free path.
These tests hold it to the click path: the same output and exit code for every
combination of the flags (listed in a network namespace of their own, where only the
test's sockets listen, so that two listings can be compared whole), the same errors, and
everything else handed to click.
"""

from __future__ import annotations

import contextlib
import io
import itertools
import json
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import click
import pytest

from portplan._entry import PLAIN_CHOICES, PLAIN_FLAGS, plain_call
from portplan._entry import main as entry_main
from portplan.cli import cli
from portplan.cli import main as click_main
from portplan.cli._types import PortType

HELD, FREE = "{held}", "{free}"  # stand-ins for port numbers known inside the namespace
BROKEN = "system: x\nservices:\n  web:\n    ports:\n      http: {port: 99999}\n"


def _click_flags(name: str) -> dict[str, str]:
    command = cli.get_command(None, name)  # type: ignore[arg-type]
    assert command is not None
    return {
        spelling: str(param.name)
        for param in command.params
        if isinstance(param, click.Option) and param.is_flag
        for spelling in param.opts
    }


def _click_choices(name: str) -> dict[str, tuple[str, tuple[str, ...]]]:
    command = cli.get_command(None, name)  # type: ignore[arg-type]
    assert command is not None
    return {
        spelling: (str(param.name), tuple(param.type.choices))
        for param in command.params
        if isinstance(param, click.Option) and isinstance(param.type, click.Choice)
        for spelling in param.opts
    }


def _orders(items: Sequence[str]) -> list[tuple[str, ...]]:
    """Every subset of `items`, in every order."""
    return [
        order for size in range(len(items) + 1) for order in itertools.permutations(items, size)
    ]


FORMATS = [["--format", "text"], ["--format", "json"], ["--format=text"], ["--format=json"]]


def _ports_cases() -> list[list[str]]:
    """`ports` with every subset of its flags, in every order; every spelling of --format
    at every place among the other flags; an option given twice."""
    cases = [["ports", *order] for order in _orders(sorted(_click_flags("ports")))]
    for order in _orders(["--udp", "--all-addresses"]):
        for spelling in FORMATS:
            for at in range(len(order) + 1):
                cases.append(["ports", *order[:at], *spelling, *order[at:]])
    return [
        *cases,
        ["ports", "--json", "--json"],
        ["ports", "--json", "--format", "json"],
        ["ports", "--format=json", "--json", "--udp"],
        ["ports", "--format", "text", "--format", "json"],
        ["ports", "--format", "json", "--format=text"],
    ]


def _split_format(args: Sequence[str]) -> tuple[list[str], list[str]]:
    """`args` without their --format options, and the words those give, in order."""
    rest: list[str] = []
    words: list[str] = []
    items = iter(args)
    for arg in items:
        if arg == "--format":
            words.append(next(items))
        elif arg.startswith("--format="):
            words.append(arg.removeprefix("--format="))
        else:
            rest.append(arg)
    return rest, words


def _wants_json(args: Sequence[str]) -> bool:
    """Whether `args` (plain flags) ask for JSON: --json, or the last --format says json."""
    return "--json" in args or _split_format(args)[1][-1:] == ["json"]


WHO_CASES = [
    ["who", HELD],
    ["who", HELD, "--json"],
    ["who", "--json", HELD],
    ["who", HELD, FREE],
    ["who", FREE],
    ["who", FREE, "--json"],
    ["who", HELD, HELD],
    ["who", f"00{HELD}"],
    ["who", "--json", "--json", HELD],
    ["who", HELD, "--format", "json"],
    ["who", "--format", "json", HELD],
    ["who", "--format=json", HELD, FREE],
    ["who", HELD, "--format", "text"],
    ["who", "--format=text", HELD],
    ["who", "--json", "--format=json", HELD],
]


def _with_numbers(args: Sequence[str], held: int, free: int) -> list[str]:
    return [arg.replace(HELD, str(held)).replace(FREE, str(free)) for arg in args]


def _run(func: Callable[[list[str]], int], args: list[str]) -> list[object]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = func(args)
    return [code, out.getvalue(), err.getvalue()]


# ---------------------------------------------------------------------------
# What takes the plain path


def test_plain_flags_are_the_click_commands_flags() -> None:
    assert {name: _click_flags(name) for name in PLAIN_FLAGS} == PLAIN_FLAGS


def test_plain_choices_are_the_click_commands_choices() -> None:
    assert {name: _click_choices(name) for name in PLAIN_FLAGS} == PLAIN_CHOICES
    assert PLAIN_CHOICES["ports"] == {"--format": ("fmt", ("text", "json"))}


def test_the_plain_path_reads_the_arguments_the_click_commands_take() -> None:
    def arguments(name: str) -> list[tuple[str | None, int, bool, object]]:
        command = cli.get_command(None, name)  # type: ignore[arg-type]
        assert command is not None
        return [
            (param.name, param.nargs, param.required, param.type)
            for param in command.params
            if isinstance(param, click.Argument)
        ]

    assert arguments("ports") == []
    [(name, nargs, required, kind)] = arguments("who")
    assert (name, nargs, required) == ("ports", -1, True)
    assert isinstance(kind, PortType)


@pytest.mark.parametrize("args", [*_ports_cases(), *WHO_CASES])
def test_every_combination_of_plain_flags_takes_the_plain_path(args: list[str]) -> None:
    assert plain_call(_with_numbers(args, 8080, 8081)) is not None


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--version"],
        ["--help", "check"],
        ["check", "--bogus"],
        ["status", "--watch"],
        ["ports", "--help"],
        ["ports", "-h"],
        ["ports", "-f", "portplan.yaml"],
        ["ports", "--file=portplan.yaml"],
        ["ports", "--jso"],
        ["ports", "--json=yes"],
        ["ports", "--"],
        ["ports", "8080"],
        ["ports", ""],
        ["ports", "--format"],
        ["ports", "--format="],
        ["ports", "--format", "xml"],
        ["ports", "--format=JSON"],
        ["ports", "--format", "--json"],
        ["ports", "--json", "--format", "text"],
        ["ports", "--format=text", "--json"],
        ["ports", "--udp=1"],
        ["ports", "--json=1"],
        ["who"],
        ["who", "--json"],
        ["who", "0"],
        ["who", "65536"],
        ["who", "+80"],
        ["who", "٨٠"],  # Arabic-Indic digits: int() takes them, click's message is its own
        ["who", "80", "-f", "portplan.yaml"],
        ["who", "80", "--udp"],
        ["who", "80", "--"],
        ["who", "--format", "80"],
        ["who", "80", "--format"],
        ["who", "--format=json"],
    ],
)
def test_anything_else_goes_to_click(args: list[str]) -> None:
    assert plain_call(args) is None


# ---------------------------------------------------------------------------
# Both paths, the same answers


@pytest.mark.parametrize(
    ("args", "code", "err"),
    [
        (["ports", "--bogus"], 2, "--bogus"),
        (
            ["who", "0"],
            2,
            "Error: Invalid value for 'PORTS...': '0' is not a port: a port is a number 1-65535 "
            "written in the digits 0-9",
        ),
        (["who"], 2, "Error: Missing argument 'PORTS...'."),
        (["ports", "--format", "xml"], 2, "'xml'"),
        (["ports", "--format"], 2, "'--format'"),
        (
            ["ports", "--json", "--format", "text"],
            2,
            "Error: --json is --format json: it cannot go with --format text",
        ),
        (
            ["who", "80", "--format=text", "--json"],
            2,
            "Error: --json is --format json: it cannot go with --format text",
        ),
    ],
)
def test_usage_errors_are_clicks_own(args: list[str], code: int, err: str) -> None:
    plain, clicked = _run(entry_main, args), _run(click_main, args)
    assert plain == clicked
    assert plain[0] == code and plain[1] == ""
    # click's own words (they vary between its releases) name what was wrong
    assert any(line.startswith("Error: ") and err in line for line in str(plain[2]).splitlines())


@pytest.mark.parametrize("name", sorted(PLAIN_FLAGS))
def test_help_is_clicks(name: str) -> None:
    plain, clicked = _run(entry_main, [name, "--help"]), _run(click_main, [name, "--help"])
    assert plain == clicked
    assert plain[0] == 0 and str(plain[1]).startswith(f"Usage: portplan {name} [OPTIONS]")


@pytest.mark.parametrize(
    "args",
    [
        ["ports"],
        ["ports", "--json", "--udp"],
        ["ports", "--format", "json"],
        ["who", "80"],
        ["who", "--format=json", "80"],
    ],
)
def test_an_unreadable_plan_is_the_same_error(
    args: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "portplan.yaml").write_text(BROKEN)
    monkeypatch.chdir(tmp_path)
    plain, clicked = _run(entry_main, args), _run(click_main, args)
    assert (
        plain
        == clicked
        == [
            2,
            "",
            "portplan: error: portplan.yaml:5:20: services.web.ports.http.port:"
            " expected an integer 1-65535, got an integer above 65535\n",
        ]
    )


def _can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0


needs_unshare = pytest.mark.skipif(
    not _can_unshare(), reason="needs `unshare -rn` (user and network namespaces)"
)


@needs_unshare
def test_both_paths_agree_on_every_combination(tmp_path: Path) -> None:
    cases = [*_ports_cases(), *WHO_CASES]
    command = ["unshare", "-rn", sys.executable, __file__, json.dumps(cases)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    held, other, udp, free = report["held"], report["other"], report["udp"], report["free"]
    answers = {}
    for args, (plain, clicked) in zip(cases, report["results"], strict=True):
        assert plain == clicked, args
        answers[" ".join(args)] = plain

    for args in _ports_cases():
        code, out, err = answers[" ".join(args)]
        assert (code, err) == (0, ""), args
        if _wants_json(args):
            counts = json.loads(out)["summary"]
            udps = 1 if "--udp" in args else 0
            assert counts == {"listeners": 3 + udps, "tcp": 3, "udp": udps}, args
        else:
            rows = [line.split()[:4] for line in out.splitlines()[1:]]
            assert rows == _expected_rows(args, held, other, udp, report["pid"]), args

    def who(args: list[str]) -> list[object]:
        return list(answers[" ".join(args)])

    pid = str(report["pid"])
    code, out, err = who(["who", HELD])
    assert (code, err) == (0, "")
    assert [line.split()[:4] for line in out.splitlines()] == [
        ["PORT", "PROTO", "ADDRESS", "PID"],
        [str(held), "tcp", "0.0.0.0,::", pid],
    ]
    assert who(["who", f"00{HELD}"]) == who(["who", HELD])
    code, out, _ = who(["who", HELD, FREE])
    assert code == 1 and re.split(r"\s{2,}", out.splitlines()[-1]) == [
        str(free),
        *"-" * 5,
        "(nothing listens)",
    ]
    assert who(["who", FREE])[0] == 1
    code, out, _ = who(["who", "--json", HELD])
    assert code == 0 and [p["port"] for p in json.loads(str(out))["ports"]] == [held]
    assert who(["who", HELD, "--json"]) == who(["who", "--json", HELD])
    assert who(["who", HELD, "--format", "json"]) == who(["who", "--json", HELD])
    assert who(["who", "--json", "--format=json", HELD]) == who(["who", "--json", HELD])
    assert who(["who", HELD, "--format", "text"]) == who(["who", HELD])
    code, out, _ = who(["who", "--format=json", HELD, FREE])
    assert code == 1 and [p["port"] for p in json.loads(str(out))["ports"]] == [held, free]
    # --format json is --json, --format text the default, whatever the other flags
    for args in _ports_cases():
        plain = _split_format(args)[0]
        alias = [*plain, "--json"] if _wants_json(args) and "--json" not in plain else plain
        assert answers[" ".join(args)] == answers[" ".join(alias)], args


def _expected_rows(args: list[str], held: int, other: int, udp: int, pid: int) -> list[list[str]]:
    """PROTO, ADDRESS, PORT, PID of each row `ports` shows for the namespace's sockets."""
    if "--all-addresses" in args:
        rows = [["tcp", "0.0.0.0", held], ["tcp", "::", held]]
    else:
        rows = [["tcp", "0.0.0.0,::", held]]
    rows.append(["tcp", "127.0.0.1", other])
    rows.sort(key=lambda row: int(row[2]))
    if "--udp" in args:
        rows.append(["udp", "0.0.0.0", udp])
    return [[*(str(cell) for cell in row), str(pid)] for row in rows]


# ---------------------------------------------------------------------------
# The installed script


def test_the_plain_path_imports_no_click_and_nothing_heavy() -> None:
    script = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "from portplan._entry import main\n"
        "main(sys.argv[1:])\n"
        "print(' '.join(sorted(set(sys.modules) - before)), file=sys.stderr)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "ports", "--udp", "--all-addresses"],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = set(done.stderr.split())
    assert "portplan.live.sockets" in imported
    # re (and the enum it imports) come with portplan.secretscan when a command line on this
    # machine may hold a secret (tests/live/test_secrets.py): not asserted either way here
    heavy = {"click", "typing", "dataclasses", "socket", "json", "inspect", "yaml"}
    assert imported & heavy == set()


def test_the_console_script_runs_the_entry() -> None:
    script = Path(sys.executable).parent / "portplan"
    if not script.exists():
        pytest.skip("portplan is not installed as a console script in this environment")
    done = subprocess.run([str(script), "ports", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.startswith("Usage: portplan ports [OPTIONS]")
    done = subprocess.run(
        [sys.executable, "-m", "portplan", "who", "--help"], capture_output=True, text=True
    )
    assert done.returncode == 0 and done.stdout.startswith("Usage: portplan who [OPTIONS] PORTS...")
    # the entry point of earlier installs (portplan.cli:entry) still works
    earlier = "import sys; from portplan.cli import entry; sys.argv[1:] = ['who', '1']; entry()"
    done = subprocess.run([sys.executable, "-c", earlier], capture_output=True, text=True)
    last = re.split(r"\s{2,}", done.stdout.splitlines()[-1])
    assert (done.returncode, last) == (1, ["1", *"-" * 5, "(nothing listens)"])


# ---------------------------------------------------------------------------
# Inside the namespace (run as a script by test_both_paths_agree_on_every_combination)


def _compare_in_namespace(cases: list[list[str]]) -> None:
    """Open the test's sockets, run every case through both paths, print the answers."""
    held = socket.socket(socket.AF_INET)  # 0.0.0.0 and :: on one port: one folded row
    held.bind(("0.0.0.0", 0))
    held.listen()
    number = held.getsockname()[1]
    held6 = socket.socket(socket.AF_INET6)
    held6.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    held6.bind(("::", number))
    held6.listen()
    other = socket.socket(socket.AF_INET)
    other.bind(("127.0.0.1", 0))
    other.listen()
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("0.0.0.0", 0))
    closed = socket.socket(socket.AF_INET)
    closed.bind(("0.0.0.0", 0))
    free = closed.getsockname()[1]
    closed.close()  # nothing else runs in this namespace: it stays free
    results = [
        [_run(main, _with_numbers(args, number, free)) for main in (entry_main, click_main)]
        for args in cases
    ]
    report = {
        "pid": os.getpid(),
        "held": number,
        "other": other.getsockname()[1],
        "udp": udp.getsockname()[1],
        "free": free,
        "results": results,
    }
    sys.stdout.write(json.dumps(report))


if __name__ == "__main__":
    _compare_in_namespace(json.loads(sys.argv[1]))
