"""Read the files portplan is given, safely: regular files only, and never more than a limit.

Every reader of user input goes through `safe_read`: a FIFO would block the read forever,
`/dev/zero` or `/dev/urandom` would fill memory, a folder is no file. The file is opened
with O_NONBLOCK|O_NOCTTY (opening a FIFO never waits for a writer) and judged by `fstat` on
the open descriptor (no window between the check and the read). A file over the input
limit is refused before it is read: 16 MiB by default, set by the environment variable
`PORTPLAN_MAX_INPUT` (a number of bytes, or with a K, M or G suffix: `64M`).
"""

from __future__ import annotations

import errno
import os
import stat
from contextvars import ContextVar

from portplan.errors import InputError

TYPE_CHECKING = False
if TYPE_CHECKING:  # neither typing nor re is imported at run time: `status` starts sooner
    from typing import Final

DEFAULT_LIMIT: Final = 16 * 1024 * 1024
LIMIT_VARIABLE: Final = "PORTPLAN_MAX_INPUT"
_CHUNK: Final = 1 << 16
_SIZE: Final = r"([0-9]{1,15})\s*([kmg]?)(?:i?b)?"  # a size in bytes, K, M or G (any case)
_UNITS: Final = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30}
_FLAGS: Final = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
_KINDS: Final = (
    (stat.S_ISDIR, "is a folder, not a file"),
    (stat.S_ISFIFO, "is a FIFO (named pipe), not a regular file"),
    (stat.S_ISCHR, "is a character device, not a regular file"),
    (stat.S_ISBLK, "is a block device, not a regular file"),
    (stat.S_ISSOCK, "is a socket, not a regular file"),
)


class UnreadableFile(InputError):
    """A file that cannot be read: missing, not a regular file, too large, or refused by
    the system. `what` says why without quoting the file's content; `missing` is True when
    there is no file at the path at all."""

    def __init__(self, file: str, what: str, *, missing: bool = False) -> None:
        super().__init__(file, None, None, what)
        self.missing = missing

    def message(self) -> str:
        """One wording wherever it reaches the user: `FILE: no such file`, `FILE: is a
        folder, not a file` (what kind of file it is), else `FILE: cannot read: REASON`."""
        if self.missing:
            return f"{self.file}: no such file"
        if self.what.startswith("is "):
            return f"{self.file}: {self.what}"
        return f"{self.file}: cannot read: {self.what}"


def input_limit() -> int:
    """The largest file portplan reads, in bytes: PORTPLAN_MAX_INPUT, else 16 MiB.

    An unusable value of the variable is an InputError (exit 2), never silently ignored."""
    text = os.environ.get(LIMIT_VARIABLE, "").strip()
    if not text:
        return DEFAULT_LIMIT
    import re

    found = re.fullmatch(_SIZE, text, re.IGNORECASE)
    if found is None or int(found.group(1)) == 0:
        what = "expected a size in bytes, such as 16777216 or 64M"
        raise InputError(LIMIT_VARIABLE, None, None, what)
    return int(found.group(1)) * _UNITS[found.group(2).lower()]


def kind_problem(mode: int) -> str | None:
    """Why a file of `mode` (st_mode) is not read, None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    for test, what in _KINDS:
        if test(mode):
            return what
    return "is not a regular file"


def safe_read(path: str | os.PathLike[str], *, limit: int | None = None) -> bytes:
    """The bytes of the regular file at `path`, at most `limit` (default `input_limit()`).

    Raises UnreadableFile naming the file: missing, a folder, FIFO, device or socket, a
    loop of symbolic links, over the limit, or an error of the system (its words)."""
    name = os.fspath(path)
    most = input_limit() if limit is None else limit
    fd = _open(name)
    try:
        size = _check(name, os.fstat(fd), most)
        data = _read(fd, size, most)
    except OSError as exc:
        raise UnreadableFile(name, _words(exc)) from None
    finally:
        os.close(fd)
    if len(data) > most:  # it grew while it was read
        raise UnreadableFile(name, _too_large(most))
    log = _READS.get()
    if log is not None:
        log.append((name, data))
    return data


_READS: ContextVar[list[tuple[str, bytes]] | None] = ContextVar("portplan_reads", default=None)


class ReadLog:
    """`with ReadLog() as reads:` lists (path, bytes) of every file `safe_read` reads in
    the block (in this thread or task): what a result made from them depends on (the plan
    cache, portplan.plan.cache, keeps a plan's includes so)."""

    def __enter__(self) -> list[tuple[str, bytes]]:
        reads: list[tuple[str, bytes]] = []
        self._token = _READS.set(reads)
        return reads

    def __exit__(self, *_: object) -> None:
        _READS.reset(self._token)


def safe_head(path: str | os.PathLike[str], size: int) -> bytes:
    """The first `size` bytes of the regular file at `path` (to tell its kind): the same
    refusals as `safe_read`, except that a large file is not one."""
    name = os.fspath(path)
    fd = _open(name)
    try:
        _check(name, os.fstat(fd), None)
        return os.read(fd, size)
    except OSError as exc:
        raise UnreadableFile(name, _words(exc)) from None
    finally:
        os.close(fd)


def nul_position(text: str) -> tuple[int, int] | None:
    """(line, column) of the first NUL character of `text`, None when there is none: a
    text format (.env, Markdown) with a NUL is a binary file, not one to read in part."""
    index = text.find("\0")
    if index < 0:
        return None
    return text.count("\n", 0, index) + 1, index - text.rfind("\n", 0, index)


BINARY: Final = "is a binary file (a NUL character), not text"


def _open(name: str) -> int:
    try:
        # judged before opening too: opening a device can act (a tape rewinds)
        problem = kind_problem(os.stat(name).st_mode)
        if problem is not None:
            raise UnreadableFile(name, problem)
        return os.open(name, _FLAGS)
    except OSError as exc:
        missing = exc.errno == errno.ENOENT
        raise UnreadableFile(name, _words(exc), missing=missing) from None
    except (ValueError, RuntimeError):  # a NUL in the name; a loop seen by pathlib
        raise UnreadableFile(name, "not a usable file name") from None


def _check(name: str, status: os.stat_result, limit: int | None) -> int:
    problem = kind_problem(status.st_mode)
    if problem is not None:
        raise UnreadableFile(name, problem)
    if limit is not None and status.st_size > limit:
        raise UnreadableFile(name, _too_large(limit))
    return status.st_size


def _read(fd: int, size: int, limit: int) -> bytes:
    chunks = [os.read(fd, size + 1)] if size else []
    total = sum(map(len, chunks))
    while total <= limit:
        chunk = os.read(fd, _CHUNK)
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> str:
    return f"is larger than the input limit of {_shown(limit)} (set {LIMIT_VARIABLE} to raise it)"


def _shown(size: int) -> str:
    for unit, factor in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def _words(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
