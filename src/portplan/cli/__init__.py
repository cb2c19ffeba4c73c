"""The `portplan` command: a thin shell over the library.

Commands are loaded lazily from a table, so `portplan check` never imports the code of
`portplan status` (start-up time is part of the speed budget). click itself is imported
only when the click group runs (portplan.cli._group): the console script
(portplan._entry) runs `ports` and `who` with plain flags without it.
"""

from __future__ import annotations

import sys

from portplan.cli._commands import BATCH
from portplan.cli._commands import COMMANDS as COMMANDS
from portplan.cli._errors import run_guarded
from portplan.collector import paused

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any

    import click


def main(argv: Sequence[str] | None = None) -> int:
    """Run the click CLI; return the exit code instead of raising SystemExit."""
    args: list[str] = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in BATCH:
        with paused():
            return run_guarded(_click_main(args))
    return run_guarded(_click_main(args))


def _click_main(args: list[str]) -> Callable[[], Any]:
    return lambda: group().main(args=args, prog_name="portplan", standalone_mode=False)


def group() -> click.Group:
    """The click group (imports click)."""
    from portplan.cli._group import cli

    return cli


def __getattr__(name: str) -> click.Group:
    """`portplan.cli.cli`, the click group, imported on first use."""
    if name == "cli":
        return group()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def entry() -> None:
    """Console-script entry point of earlier installs: the click CLI (portplan._entry, the
    entry point now, adds a click-free path for plain `ports`/`who`, same output)."""
    sys.exit(main())
