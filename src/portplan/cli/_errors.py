"""One error handler at the edge: expected errors become a line and an exit code.

Anything unexpected becomes a short message plus a log file holding the traceback
(pre-commit's error_handler), never a traceback on the terminal.

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
        log = _write_crash_log()
        _say(f"portplan: unexpected error: {type(exc).__name__}: {exc} (traceback in {log})")
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


def _write_crash_log() -> str:
    import os
    import tempfile
    import traceback

    directory = os.environ.get("PORTPLAN_LOG_DIR") or tempfile.gettempdir()
    fd, path = tempfile.mkstemp(prefix="portplan-crash-", suffix=".log", dir=directory)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(traceback.format_exc())
    return path
