"""The exceptions portplan raises; the CLI maps each to a message and an exit code."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_INPUT = 2
EXIT_INTERRUPTED = 130


class PortplanError(Exception):
    """Base of every error portplan raises on purpose."""

    exit_code = EXIT_INPUT

    def __str__(self) -> str:
        return self.message()

    def message(self) -> str:
        return super().__str__()


class InputError(PortplanError):
    """Unusable input: names the file, line and column, and what was expected."""

    def __init__(self, file: str, line: int | None, column: int | None, what: str) -> None:
        super().__init__(what)
        self.file = file
        self.line = line
        self.column = column
        self.what = what

    def message(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.what}"


class NotFoundError(PortplanError):
    """A file, service or port that was asked for does not exist."""


class UsageError(PortplanError):
    """The command was asked for something it cannot do."""
