"""Work done in a forked process, its answer sent back through a pipe.

`start` forks a process that runs a function and writes the bytes it returns to a pipe,
then leaves without cleanup (`os._exit`: nothing of the parent's is flushed or finalised
twice); `answer` reads them and reaps the process: None when it failed. What the bytes
hold is the caller's (`portplan.live.workers` pickles probe results, `portplan.live.early`
marshals plain tuples). Nothing is imported here that a forked `status` checking process
would not need (see `portplan.live.early`).
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def start(work: Callable[[], bytes]) -> tuple[int, int]:
    """(pid, read end of its pipe) of a forked process that runs `work` and sends what it
    returns; it ends with exit status 0 once all is written, 1 when `work` failed."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: work, send, leave without cleanup
        code = 1
        try:
            os.close(read)
            data = memoryview(work())
            while data:
                data = data[os.write(write, data) :]
            code = 0
        finally:
            os._exit(code)
    os.close(write)
    return pid, read


def answer(child: tuple[int, int]) -> bytes | None:
    """All the process `child` (from `start`) sent, once it ended; None when it failed."""
    pid, read = child
    chunks = []
    try:
        while chunk := os.read(read, 1 << 20):
            chunks.append(chunk)
    finally:
        os.close(read)
    _, status = os.waitpid(pid, 0)
    return b"".join(chunks) if status == 0 else None
