"""The click group: every command, loaded lazily from portplan.cli._commands.COMMANDS."""

from __future__ import annotations

import importlib

import click

from portplan import __version__
from portplan.cli._commands import COMMANDS


class LazyGroup(click.Group):
    """A group whose commands are imported only when they run (or when help lists them)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(name for name in COMMANDS if _find_spec(name))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        module_name = COMMANDS.get(cmd_name)
        if module_name is None or not _find_spec(cmd_name):
            return None
        module = importlib.import_module(f"portplan.cli.{module_name}")
        command: click.Command = module.command
        return command


def _find_spec(name: str) -> bool:
    from importlib.util import find_spec

    return find_spec(f"portplan.cli.{COMMANDS[name]}") is not None


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="portplan")
def cli() -> None:
    """portplan: one source of truth for a system's ports and topology.

    \b
    Exit codes: 0 clean, 1 findings at or above --fail-on (or a stale/down result),
    2 unusable input or usage, 3 internal error (traceback in a log file), 130 interrupted.
    """
