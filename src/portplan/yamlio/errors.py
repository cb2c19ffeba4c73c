"""libyaml's errors, reworded as one line at a file position that says what was expected."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from portplan.yamlio.tree import Mark, YAMLInputError, fail

TAB_MESSAGE: Final = "found a tab character where indentation is expected; YAML indents with spaces"

_Wording = Callable[[str, Mark, Mark | None], tuple[Mark, str]]


def _at(mark: Mark | None) -> str:
    return "" if mark is None else f"line {mark.line}, column {mark.column}"


def _unclosed_quote(char: str, problem: Mark, context: Mark | None) -> tuple[Mark, str]:
    start = context or problem
    return start, f"unclosed quoted string: no closing {char} before the end of the file"


def _block_mapping(char: str, problem: Mark, context: Mark | None) -> tuple[Mark, str]:
    what = (
        f"bad indentation or stray text: expected a key aligned with the mapping at {_at(context)}"
    )
    return problem, what


def _block_sequence(char: str, problem: Mark, context: Mark | None) -> tuple[Mark, str]:
    what = "bad indentation or stray text: expected a '- ' item aligned with the list at "
    what += _at(context)
    return problem, what


def _flow_sequence(char: str, problem: Mark, context: Mark | None) -> tuple[Mark, str]:
    return problem, f"expected ',' or ']' in the list opened at {_at(context)}"


def _flow_mapping(char: str, problem: Mark, context: Mark | None) -> tuple[Mark, str]:
    return problem, f"expected ',' or '}}' in the mapping opened at {_at(context)}"


def _colon(char: str, problem: Mark, context: Mark | None) -> tuple[Mark, str]:
    what = "unexpected ':' (a plain value cannot contain ': '; quote it, or check the indentation)"
    return problem, what


def _dash(char: str, problem: Mark, context: Mark | None) -> tuple[Mark, str]:
    return problem, "unexpected '- ' list item here: check the indentation"


def _bad_start(char: str, problem: Mark, context: Mark | None) -> tuple[Mark, str]:
    # The character is the value's own first one: the message names the set, not which.
    return problem, "a plain value cannot start with @ ` % | or > here: quote the value"


def _escape(char: str, problem: Mark, context: Mark | None) -> tuple[Mark, str]:
    what = "unknown escape in a double-quoted string: write '\\\\' for a backslash, or use '...'"
    return problem, what


def _simple_key(char: str, problem: Mark, context: Mark | None) -> tuple[Mark, str]:
    start = context or problem
    return start, "expected ':' after this key (a key must fit on one line)"


_WORDINGS: Final[dict[str, _Wording]] = {
    "found unexpected end of stream": _unclosed_quote,
    "did not find expected key": _block_mapping,
    "did not find expected '-' indicator": _block_sequence,
    "did not find expected ',' or ']'": _flow_sequence,
    "did not find expected ',' or '}'": _flow_mapping,
    "mapping values are not allowed in this context": _colon,
    "block sequence entries are not allowed in this context": _dash,
    "found character that cannot start any token": _bad_start,
    "found unknown escape character": _escape,
    "could not find expected ':'": _simple_key,
}


def translate(exc: Exception, filename: str, text: str) -> YAMLInputError:
    """A YAMLInputError for any exception PyYAML's C parser raises."""
    problem_mark = _to_mark(getattr(exc, "problem_mark", None))
    if problem_mark is None:
        # str(exc) may quote the text; the problem and reason are libyaml's fixed wording.
        reason = getattr(exc, "problem", None) or getattr(exc, "reason", None) or "unreadable"
        return YAMLInputError(filename, None, None, f"invalid YAML: {_one_line(str(reason))}")
    context_mark = _to_mark(getattr(exc, "context_mark", None))
    problem: str = getattr(exc, "problem", None) or "invalid YAML"
    context: str | None = getattr(exc, "context", None)
    if _char_at(text, problem_mark) == "\t":
        return fail(filename, problem_mark, TAB_MESSAGE)
    wording = _WORDINGS.get(problem)
    if wording is _unclosed_quote and context != "while scanning a quoted scalar":
        wording = None
    if wording is not None:
        char = _char_at(text, context_mark if wording is _unclosed_quote else problem_mark)
        mark, what = wording(char, problem_mark, context_mark)
        return fail(filename, mark, what)
    what = f"invalid YAML: {problem}"
    if context:
        what += f" ({context} that starts at {_at(context_mark)})" if context_mark else context
    return fail(filename, problem_mark, _one_line(what))


def _to_mark(raw: Any) -> Mark | None:
    return None if raw is None else Mark(raw.line + 1, raw.column + 1)


def _char_at(text: str, mark: Mark | None) -> str:
    if mark is None:
        return ""
    start = 0
    for _ in range(mark.line - 1):
        start = text.find("\n", start) + 1
        if start == 0:
            return ""
    index = start + mark.column - 1
    return text[index] if index < len(text) else ""


def _one_line(text: str) -> str:
    return " ".join(text.split())
