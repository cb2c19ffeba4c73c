"""Errors of the compose dialect parsers: one base, one subclass per parser.

An error's message (`str()`) never quotes the text that was read: it says what is wrong
by position and shape ("unterminated double-quoted value", "the host port is not a
number"), because that text may hold a secret. Variable names may appear; values may not.
`peer_message` is the message compose-go (or go-connections) gives for the same input,
which may quote it: it is kept for the conformance tests only and is never shown.
"""

from __future__ import annotations

from portplan.compose._text import go_quote
from portplan.errors import PortplanError

__all__ = [
    "CastError",
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

    def __init__(self, message: str, peer_message: str | None = None) -> None:
        super().__init__(message)
        self.peer_message = message if peer_message is None else peer_message


class InterpolationError(ComposeSyntaxError):
    """A `${...}` template could not be substituted; `offset` is where the reference that
    failed starts in the template (the outermost one, for nested templates)."""

    offset = 0


TEMPLATE_RULE = (
    '"${" must be followed by a variable name, then "}" or an operator (:- - :? ? :+ +); '
    'write "$$" for a "$"'
)


class InvalidTemplateError(InterpolationError):
    """The template is malformed, e.g. `${`, `${ foo}` or `${foo!}`."""

    def __init__(self, template: str, offset: int = 0) -> None:
        super().__init__(
            f"invalid interpolation: {TEMPLATE_RULE}", f"Invalid template: {go_quote(template)}"
        )
        self.template = template
        self.offset = offset


class ExpansionTooLargeError(InterpolationError):
    """The variables of one value expand to more than `limit` characters (an expansion bomb:
    `A1=${A0}${A0}${A0}${A0}`, fifteen times over, is gigabytes). Compose bounds nothing
    but the nesting of `${}`; portplan refuses the value instead of filling memory."""

    def __init__(self, limit: int) -> None:
        size = f"{limit >> 20} MiB" if limit % (1 << 20) == 0 else f"{limit} characters"
        super().__init__(f"the value's variables expand to more than {size}")
        self.limit = limit


class MissingRequiredError(InterpolationError):
    """`${VAR:?msg}` or `${VAR?msg}` met an unset (or, for `:?`, empty) variable.

    The message names the variable only: `reason` (the template's own message, which may
    interpolate other variables) is kept as an attribute."""

    def __init__(self, variable: str, reason: str) -> None:
        text = f"required variable {variable} is missing a value"
        super().__init__(text, f"{text}: {reason}" if reason else text)
        self.variable = variable
        self.reason = reason


class InterpolationPathError(InterpolationError):
    """An interpolation or type-cast error located at a dotted path of a config tree."""

    def __init__(
        self,
        path: str,
        message: str,
        cause: Exception | None = None,
        peer_message: str | None = None,
    ) -> None:
        super().__init__(message, peer_message)
        self.path = path
        self.cause = cause
        if isinstance(cause, InterpolationError):
            self.offset = cause.offset


class CastError(ComposeSyntaxError):
    """An interpolated value is not of the type its field needs (compose-go's casts)."""


class DotenvError(ComposeSyntaxError):
    """A `.env` file could not be parsed; `line` and `column` are 1-based (column 0: not
    known). `what` is the message without the line."""

    def __init__(self, line: int, what: str, column: int = 0, peer_what: str | None = None) -> None:
        super().__init__(f"line {line}: {what}", f"line {line}: {peer_what or what}")
        self.line = line
        self.column = column
        self.what = what


class PortSyntaxError(ComposeSyntaxError):
    """A `ports:` entry (short or long syntax) or one of its parts is invalid."""
