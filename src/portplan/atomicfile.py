"""Write a file atomically, the one way every command does it.

The new text goes to a temporary file in the target's folder, is flushed to disk, and then
renamed over the target, so a reader sees the old file or the new one, never half of one.
The temporary file gets the mode a plain `open(path, "w")` would give: a new file
`0o666 & ~umask`, an existing file its own mode and (where the user may set them) its owner
and group. A symbolic link stays a link: the file it points to is the one replaced.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile

NEW_FILE_MODE = 0o666


def write_atomic(path: str | os.PathLike[str], text: str) -> None:
    """Write `text` (UTF-8, line ends as given) to `path` atomically."""
    temp, target = temp_beside(path, text.encode("utf-8"))
    commit(temp, target)


def temp_beside(path: str | os.PathLike[str], data: bytes) -> tuple[str, str]:
    """A temporary file beside `path` holding `data`, with the mode and owner the target
    should end with; returns it and the file to rename it to (`path`, or where the link
    `path` points). OSError when it cannot be made; then nothing is left behind."""
    target = os.path.realpath(path) if os.path.islink(path) else os.fspath(path)
    try:
        current: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        current = None
    folder = os.path.dirname(target) or "."
    fd, temp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp", dir=folder)
    try:
        try:
            _write_all(fd, data)
            if current is not None:
                # Flushed before it replaces a file, so a crash cannot leave the old file's
                # name on an empty one. A new file has nothing to lose: it is not synced
                # (thousands of fsyncs are most of `generate` into an empty folder; a file
                # cut short by a crash is reported stale by `generate --check`).
                os.fsync(fd)
            _take_over(fd, current)
        finally:
            os.close(fd)
    except BaseException:
        os.unlink(temp)
        raise
    return temp, target


def commit(temp: str, target: str) -> None:
    """Rename `temp` over `target` (the second half of `temp_beside`)."""
    os.replace(temp, target)


def umask() -> int:
    """The process's file mode creation mask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _take_over(fd: int, current: os.stat_result | None) -> None:
    if current is None:
        os.fchmod(fd, NEW_FILE_MODE & ~umask())
        return
    if (current.st_uid, current.st_gid) != _owner(fd):
        # only root may give a file away: otherwise the new file stays the writer's
        with contextlib.suppress(PermissionError):
            os.fchown(fd, current.st_uid, current.st_gid)
    os.fchmod(fd, stat.S_IMODE(current.st_mode))


def _owner(fd: int) -> tuple[int, int]:
    status = os.fstat(fd)
    return status.st_uid, status.st_gid


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


__all__ = ["NEW_FILE_MODE", "commit", "temp_beside", "umask", "write_atomic"]
