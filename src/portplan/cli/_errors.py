"""One error handler at the edge: expected errors become a line and an exit code.

Anything unexpected becomes a short message plus a log file holding the traceback
(pre-commit's error_handler), never a traceback on the terminal.

No secret value reaches the terminal or the log: an unexpected exception's message may
quote a value from the user's files (a library's `invalid literal for int(): 'S3CRET'`),
so the terminal shows its type and the log's path only, and the log keeps every frame and
every exception type of the chain but the message of portplan's own exceptions only (their
messages describe values by shape, never by quoting them).

click is not imported here: `portplan ports` runs without it (see portplan._entry), and
its exceptions can only be raised once something else has imported it.
"""

from __future__ import annotations

import sys

from portplan.errors import EXIT_INPUT, EXIT_INTERRUPTED, PortplanError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

EXIT_CRASH = 3


def run_guarded(func: Callable[[], Any]) -> int:
    try:
        result = func()
    except PortplanError as exc:
        _say(f"portplan: error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        _say("portplan: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except Exception as exc:
        code = _click_exit(exc)
        if code is not None:
            return code
        _say(f"portplan: unexpected error: {type(exc).__name__} ({_crash_log(exc)})")
        return EXIT_CRASH
    return result if isinstance(result, int) else 0


def _click_exit(exc: Exception) -> int | None:
    """The exit code of one of click's exceptions (shown as click shows it), else None."""
    if "click" not in sys.modules:
        return None
    import click

    if isinstance(exc, click.exceptions.Exit):
        return int(exc.exit_code)
    if isinstance(exc, click.Abort):
        _say("Aborted!")
        return EXIT_INTERRUPTED
    if isinstance(exc, click.ClickException):
        exc.show()
        return EXIT_INPUT if exc.exit_code == 2 else int(exc.exit_code)
    return None


def _say(text: str) -> None:
    print(text, file=sys.stderr)


def _crash_log(exc: BaseException) -> str:
    """Write the crash log of `exc`; where it is, or why there is none."""
    import os
    import tempfile

    directory = os.environ.get("PORTPLAN_LOG_DIR") or tempfile.gettempdir()
    try:
        fd, path = tempfile.mkstemp(prefix="portplan-crash-", suffix=".log", dir=directory)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(_crash_report(exc))
    except OSError as error:
        return f"no traceback log: cannot write in {directory}: {error.strerror}"
    return f"traceback in {path}"


def _crash_report(exc: BaseException) -> str:
    """The traceback of `exc` and of the exceptions it came from, without foreign messages."""
    import traceback

    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        current = current.__cause__ or (
            None if current.__suppress_context__ else current.__context__
        )
    parts: list[str] = []
    for index, item in enumerate(reversed(chain)):
        if index:
            parts.append("\nThe exception above led to this one:\n\n")
        parts.append("Traceback (most recent call last):\n")
        parts.extend(traceback.format_list(traceback.extract_tb(item.__traceback__)))
        parts.append(_headline(item) + "\n")
    return "".join(parts)


def _headline(exc: BaseException) -> str:
    kind = type(exc)
    name = (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )
    if isinstance(exc, PortplanError):
        return f"{name}: {exc}"
    return f"{name} (its message is left out: it may quote a value from the input)"
