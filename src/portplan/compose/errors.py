"""Errors of the compose dialect parsers: one base, one subclass per parser."""

from __future__ import annotations

from portplan.compose._text import go_quote
from portplan.errors import PortplanError

__all__ = [
    "ComposeSyntaxError",
    "DotenvError",
    "InterpolationError",
    "InterpolationPathError",
    "InvalidTemplateError",
    "MissingRequiredError",
    "PortSyntaxError",
]


class ComposeSyntaxError(PortplanError, ValueError):
    """Base of every error raised while reading compose-dialect text."""


class InterpolationError(ComposeSyntaxError):
    """A `${...}` template could not be substituted."""


class InvalidTemplateError(InterpolationError):
    """The template is malformed, e.g. `${`, `${ foo}` or `${foo!}`."""

    def __init__(self, template: str) -> None:
        super().__init__(f"Invalid template: {go_quote(template)}")
        self.template = template


class MissingRequiredError(InterpolationError):
    """`${VAR:?msg}` or `${VAR?msg}` met an unset (or, for `:?`, empty) variable."""

    def __init__(self, variable: str, reason: str) -> None:
        text = f"required variable {variable} is missing a value"
        super().__init__(f"{text}: {reason}" if reason else text)
        self.variable = variable
        self.reason = reason


class InterpolationPathError(InterpolationError):
    """An interpolation or type-cast error located at a dotted path of a config tree."""

    def __init__(self, path: str, message: str, cause: Exception | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.cause = cause


class DotenvError(ComposeSyntaxError):
    """A `.env` file could not be parsed; `line` and `column` are 1-based (column 0: not
    known)."""

    def __init__(self, line: int, what: str, column: int = 0) -> None:
        super().__init__(f"line {line}: {what}")
        self.line = line
        self.column = column
        self.what = what


class PortSyntaxError(ComposeSyntaxError):
    """A `ports:` entry (short or long syntax) or one of its parts is invalid."""
