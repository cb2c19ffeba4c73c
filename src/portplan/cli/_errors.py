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

import errno
import sys

from portplan.errors import EXIT_INPUT, EXIT_INTERRUPTED, PortplanError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

EXIT_CRASH = 3
_STREAM_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def run_guarded(func: Callable[[], Any]) -> int:
    try:
        result = func()
        sys.stdout.flush()
    except PortplanError as exc:
        _say(f"portplan: error: {exc}")
        return exc.exit_code
    except KeyboardInterrupt:
        _say("portplan: interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        return 0
    except OSError as exc:
        if not _standard_output_failed(exc):
            return _crashed(exc)
        _say(f"portplan: error: standard output: cannot write: {exc.strerror or exc}")
        return EXIT_INPUT
    except Exception as exc:
        code = _click_exit(exc)
        return _crashed(exc) if code is None else code
    return result if isinstance(result, int) else 0


def _crashed(exc: Exception) -> int:
    _say(f"portplan: unexpected error: {type(exc).__name__} ({_crash_log(exc)})")
    return EXIT_CRASH


def _standard_output_failed(exc: OSError) -> bool:
    """Whether `exc` is standard output refusing what was written to it (a full disk,
    /dev/full, a closed terminal): raised writing to it (click.echo's `file`), or it still
    refuses to flush. Then what it holds is dropped, so that the interpreter's last flush
    does not fail a second time."""
    import os

    stream = sys.stdout
    if stream is None:
        return False
    frame = exc.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    streams = (stream, getattr(stream, "buffer", None))
    raised = frame is not None and any(
        value is s for value in frame.tb_frame.f_locals.values() for s in streams
    )
    try:
        stream.flush()
    except OSError:
        raised = True
    # a write of standard output's text layer loses the frame: known only by its errno
    raised = raised or (exc.filename is None and exc.errno in _STREAM_ERRORS)
    if raised:
        import contextlib

        with contextlib.suppress(OSError, ValueError):
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, stream.fileno())
            os.close(null)
    return raised


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
