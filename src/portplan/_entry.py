"""The `portplan` console script.

`portplan ports` and `portplan who PORT...` with nothing but their flags run without
click, whose import alone costs a third of a `ports` listing (benchmarks/README.md,
"Live machine"). They call the same functions as their click commands
(portplan.live.commands) under the same error guard. Anything else (help, -f, an unknown
or misspelt option, every other command) goes to the click CLI, which parses it and
reports usage errors as always; tests/test_cli_entry.py holds both paths to the same
output and exit code for every combination of the flags.
"""

from __future__ import annotations

import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

# command -> its flags, spelt as its click command spells them -> parameter name
PLAIN_FLAGS: dict[str, dict[str, str]] = {
    "ports": {"--json": "as_json", "--udp": "udp", "--all-addresses": "all_addresses"},
    "who": {"--json": "as_json"},
}
_TAKES_PORTS = frozenset({"who"})  # PORT... arguments, 1-65535


def main(argv: Sequence[str] | None = None) -> int:
    """Run portplan; return the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    plain = plain_call(args)
    if plain is None:
        from portplan.cli import main as click_main

        return click_main(args)
    from portplan.cli._errors import run_guarded

    return run_guarded(plain)


def plain_call(args: Sequence[str]) -> Callable[[], int] | None:
    """The call `args` asks for when it is `ports` or `who` with plain flags (and ports);
    None when click must parse them."""
    if not args or args[0] not in PLAIN_FLAGS:
        return None
    name, flags = args[0], PLAIN_FLAGS[args[0]]
    chosen: dict[str, bool] = {}
    numbers: list[int] = []
    for arg in args[1:]:
        if arg in flags:
            chosen[flags[arg]] = True
        elif name in _TAKES_PORTS and _is_port(arg):
            numbers.append(int(arg))
        else:
            return None
    if name in _TAKES_PORTS:
        return (lambda: _who(numbers, chosen)) if numbers else None
    return lambda: _ports(chosen)


def _is_port(arg: str) -> bool:
    return arg.isascii() and arg.isdigit() and 1 <= int(arg) <= 65535


def _ports(chosen: dict[str, bool]) -> int:
    from portplan.live.commands import ports

    text, code = ports(**chosen, file=None)
    sys.stdout.write(text)
    return code


def _who(numbers: list[int], chosen: dict[str, bool]) -> int:
    from portplan.live.commands import who

    text, code = who(numbers, **chosen, file=None)
    sys.stdout.write(text)
    return code
