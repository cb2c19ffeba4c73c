"""Every line of every process, prefixed with its service's name (coloured on a terminal,
as honcho and docker compose do), and written to the service's log file.

The runner's own lines (`ready in 0.41s`, `exited with code 1`) go to the terminal and
to the supervisor's log; a detached supervisor has no terminal, only the files.
"""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Sequence
from typing import IO, TextIO

from portplan.run.state import StateDir

_COLOURS = (36, 33, 32, 35, 34, 96, 93, 92, 95, 94)
RUNNER = "portplan"


class Output:
    """A sink for the lines of a stack; thread-safe."""

    def __init__(
        self, state: StateDir, names: Sequence[str], stream: TextIO | None, colour: bool = False
    ) -> None:
        self._state = state
        self._stream = stream
        self._colour = colour
        self._width = max((len(n) for n in (*names, RUNNER)), default=len(RUNNER))
        self._codes = {name: _COLOURS[i % len(_COLOURS)] for i, name in enumerate(names)}
        self._files: dict[str, IO[str]] = {}
        self._lock = threading.Lock()
        state.create()
        for old in (state.path / "logs").glob("*.log"):  # a new run, new logs
            old.unlink()
        self._runner_log = open(state.supervisor_log, "a", encoding="utf-8", buffering=1)  # noqa: SIM115

    def line(self, service: str, text: str) -> None:
        """One line of a service's output."""
        with self._lock:
            self._file(service).write(text + "\n")
            self._show(service, text)

    def note(self, text: str) -> None:
        """One line of the runner's own."""
        with self._lock:
            stamp = time.strftime("%Y-%m-%dT%H:%M:%S")
            self._runner_log.write(f"{stamp} {text}\n")
            self._show(RUNNER, text)

    def _show(self, name: str, text: str) -> None:
        if self._stream is None:
            return
        label = name.ljust(self._width)
        if self._colour:
            code = self._codes.get(name, 1)
            label = f"\x1b[{code}m{label} |\x1b[0m"
        else:
            label += " |"
        try:
            self._stream.write(f"{label} {text}\n")
            self._stream.flush()
        except (OSError, ValueError):  # the terminal went away: the log files remain
            self._stream = None

    def _file(self, service: str) -> IO[str]:
        handle = self._files.get(service)
        if handle is None:
            path = self._state.log_file(service)
            handle = self._files[service] = open(path, "a", encoding="utf-8", buffering=1)  # noqa: SIM115
        return handle

    def close(self) -> None:
        with self._lock:
            for handle in (*self._files.values(), self._runner_log):
                handle.close()
            self._files.clear()


def use_colour(stream: TextIO) -> bool:
    """Colour when the stream is a terminal and NO_COLOR is not set."""
    import os

    return stream.isatty() and not os.environ.get("NO_COLOR") and sys.platform != "win32"
