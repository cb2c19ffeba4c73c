"""The `portplan` console script.

`portplan --version`, `portplan --help` (while the help click last wrote holds:
portplan._startup), `portplan ports` and `portplan who PORT...` with nothing but their
flags and `--format text|json`, `portplan check` with nothing but `-f`, `--env`,
`--format` and `--fail-on`, and `portplan status` without `--watch` or `--interval` run
without click, whose import alone costs a third of a `ports` listing
(benchmarks/README.md, "Live machine"). They call the same functions as their click
commands (portplan.live.commands, portplan.plan.check.run_check,
portplan.cli._status_run.run_status) under the same error guard. Anything else (help, an
unknown or misspelt option, every other command) goes to the click CLI, which parses it
and reports usage errors as always; tests/test_cli_entry*.py hold both paths to the same
output and exit code for every combination of the options.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any, NoReturn, TextIO

# command -> its flags, spelt as its click command spells them -> parameter name
PLAIN_FLAGS: dict[str, dict[str, str]] = {
    "ports": {"--json": "as_json", "--udp": "udp", "--all-addresses": "all_addresses"},
    "who": {"--json": "as_json"},
    "check": {},
    "status": {
        "--json": "as_json",
        "--watch": "watch",
        "--no-health": "no_health",
        "--no-cache": "no_cache",
    },
}
# command -> its options taking one word of a few (`--format json`, `--format=json`) ->
# parameter name and the words
PLAIN_CHOICES: dict[str, dict[str, tuple[str, tuple[str, ...]]]] = {
    "ports": {"--format": ("fmt", ("text", "json"))},
    "who": {"--format": ("fmt", ("text", "json"))},
    "check": {
        "--format": ("fmt", ("text", "json", "sarif", "github")),
        "--fail-on": ("fail_on", ("error", "warning", "info")),
    },
    "status": {"--format": ("fmt", ("text", "json"))},
}
# command -> its options taking any word (`-f FILE`, `--file FILE`, `--file=FILE`) ->
# parameter name; a word that is empty or begins with `-` is left to click
PLAIN_VALUES: dict[str, dict[str, str]] = {
    "ports": {},
    "who": {},
    "check": {"-f": "file", "--file": "file", "--env": "env"},
    "status": {
        "-f": "file",
        "--file": "file",
        "--host": "host",
        "--concurrency": "concurrency",
        "--workers": "workers",
    },
}
_TAKES_PORTS = frozenset({"who"})  # PORT... arguments, 1-65535


def main(argv: Sequence[str] | None = None) -> int:
    """Run portplan; return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    quick = _quick_answer(args)
    if quick is not None:
        try:
            _write(sys.stdout, quick)
        except OSError as exc:  # a full disk, a closed pipe: reported as click's path does
            from portplan.cli._errors import run_guarded

            error = exc
            return run_guarded(lambda: _reraise(error))
        return 0
    plain = plain_call(args)
    if plain is None:
        from portplan.cli import main as click_main

        return click_main(args)
    from portplan.cli._errors import run_guarded

    code = run_guarded(plain)
    if argv is None and args[0] in _ENDS_AT_ONCE:
        _exit_at_once(code)
    return code


# the plain commands that end holding no file, thread (status's checks are joined) or child
_ENDS_AT_ONCE = frozenset({"check", "status", "ports", "who"})


def _exit_at_once(code: int) -> None:
    """End the console script's `check`, `status`, `ports` or `who` here: the interpreter's
    teardown would free every object of the plan (25 ms of a 440 ms check of 5,000
    services), of thousands of sockets and of each module one by one, for a process that
    holds no file, thread or child. Standard output and error are flushed first; when that
    fails, the usual exit reports it as always."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):
        return
    os._exit(code)


def _quick_answer(args: Sequence[str]) -> str | None:
    """What `portplan --version` and `portplan --help` print, made without click (the
    help as click last printed it, while that still holds: portplan._startup); None when
    click must answer."""
    if args == ["--version"]:
        from portplan import __version__

        return f"portplan, version {__version__}\n"
    if len(args) == 1 and args[0] in ("--help", "-h"):
        from portplan._startup import cached_help

        return cached_help()
    return None


def _write(stream: TextIO, text: str) -> None:
    stream.write(text)
    stream.flush()


def _reraise(exc: BaseException) -> NoReturn:
    raise exc


def plain_call(args: Sequence[str]) -> Callable[[], int] | None:
    """The call `args` asks for when it is `ports` or `who` with plain flags and options
    (and ports); None when click must parse them."""
    if not args or args[0] not in PLAIN_FLAGS:
        return None
    name = args[0]
    parsed = _parse(name, args[1:])
    if parsed is None:
        return None
    chosen, words, numbers = parsed
    if name == "check":
        return _check_call(words)
    if name == "status":
        return _status_call(chosen, words)
    fmt = words.get("fmt")
    if chosen.get("as_json") and fmt not in (None, "json"):
        return None  # --json with --format text: click's usage error
    chosen["as_json"] = chosen.get("as_json", False) or fmt == "json"
    if name in _TAKES_PORTS:
        return (lambda: _who(numbers, chosen)) if numbers else None
    return lambda: _ports(chosen)


def _parse(
    name: str, args: Sequence[str]
) -> tuple[dict[str, bool], dict[str, str], list[int]] | None:
    """The flags, option words (the last one given wins, as in click) and port numbers of
    `args`; None at anything else."""
    flags, options, valued = PLAIN_FLAGS[name], PLAIN_CHOICES[name], PLAIN_VALUES[name]
    chosen: dict[str, bool] = {}
    words: dict[str, str] = {}
    numbers: list[int] = []
    rest = iter(args)
    for arg in rest:
        option, equals, value = arg.partition("=")
        if equals and not option.startswith("--"):
            option = ""  # `-f=x` gives `=x` to -f: click's to read
        if arg in flags:
            chosen[flags[arg]] = True
        elif option in options:
            value = value if equals else next(rest, "")
            if value not in options[option][1]:
                return None
            words[options[option][0]] = value
        elif option in valued:
            value = value if equals else next(rest, "")
            if not value or value.startswith("-"):
                return None
            words[valued[option]] = value
        elif name in _TAKES_PORTS and _is_port(arg):
            numbers.append(int(arg))
        else:
            return None
    return chosen, words, numbers


def _check_call(words: dict[str, str]) -> Callable[[], int] | None:
    file = words.get("file")
    if file is not None and os.path.isdir(file):
        return None  # click's usage error: -f is a file
    fmt, fail_on = words.get("fmt", "text"), words.get("fail_on", "error")
    return lambda: _check(file, words.get("env"), fmt, fail_on)


def _status_call(chosen: dict[str, bool], words: dict[str, str]) -> Callable[[], int] | None:
    """`status` once (not --watch), its counts plain positive numbers; None for click."""
    file, fmt = words.get("file"), words.get("fmt")
    counts = [words.get("concurrency", "100"), words.get("workers", "1")]
    if chosen.get("watch") or (file is not None and os.path.isdir(file)):
        return None  # --watch, or click's usage error: -f is a file
    if not all(word.isascii() and word.isdigit() and int(word) >= 1 for word in counts):
        return None  # click's to read (and to refuse)
    if chosen.get("as_json") and fmt not in (None, "json"):
        return None  # --json with --format text: click's usage error
    fmt = "json" if chosen.get("as_json") else fmt or "text"
    workers = int(words["workers"]) if "workers" in words else None
    options = {"file": file, "fmt": fmt, "host": words.get("host"), "workers": workers}
    options["concurrency"] = int(counts[0])
    options["no_health"] = chosen.get("no_health", False)
    options["cache"] = not chosen.get("no_cache", False)
    return lambda: _status(options)


_HELD: list[object] = []  # what a command leaves to the process's end (_exit_at_once)


def _status(options: dict[str, Any]) -> int:
    from portplan.cli._status_run import run_status

    _HELD.clear()  # one run's, when called again (tests)
    return run_status(**options, write=sys.stdout.write, hold=_HELD)


def _check(file: str | None, env: str | None, fmt: str, fail_on: str) -> int:
    from portplan.collector import paused
    from portplan.plan.check import run_check

    with paused():
        return run_check(file, env, fmt, fail_on, sys.stdout.write)


def _is_port(arg: str) -> bool:
    from portplan.portnumber import port_number

    return port_number(arg) is not None


def _ports(chosen: dict[str, bool]) -> int:
    from portplan.collector import paused
    from portplan.live.commands import ports

    with paused():  # thousands of sockets, owners and rows, none in a cycle: 2 ms at 5,000
        text, code = ports(**chosen, file=None)
    sys.stdout.write(text)
    return code


def _who(numbers: list[int], chosen: dict[str, bool]) -> int:
    from portplan.collector import paused
    from portplan.live.commands import who

    with paused():
        text, code = who(numbers, **chosen, file=None)
    sys.stdout.write(text)
    return code
