"""Write a file atomically, the one way every command does it.

The new text goes to a temporary file in the target's folder, is flushed to disk, and then
renamed over the target, so a reader sees the old file or the new one, never half of one.
The temporary file gets the mode a plain `open(path, "w")` would give: a new file
`0o666 & ~umask`, an existing file its own mode and (where the user may set them) its owner
and group.

Before anything is written the target is checked, and refused with an `OutputError`
(exit 2, one line naming the file) when it:

- exists and is not a regular file (a device, a FIFO, a socket, a folder): a rename
  would replace the node itself;
- resolves, through a symbolic link anywhere on its path, outside the output root (the
  folder the file is named in, `--out` for `generate`), unless `follow_links` is given
  (`--follow-symlinks`); a link inside the root stays a link and its file is replaced;
- is read-only by its mode bits (checked from the bits, since root may write anything),
  or immutable or append-only (`chattr +i`/`+a`);
- has more than one hard link: replacing it would split the links, and writing it in
  place could leave it half-written, so it is refused.

Any error of the write itself (a read-only file system, a full disk, a quota, a folder
that refuses new files) becomes an `OutputError` naming the file, with nothing left
behind. Temporary files are named `.NAME.PID.XXXXXXXX.portplan.tmp`; those of runs that
were killed (their process is gone) are removed by the next write beside them.
"""

from __future__ import annotations

import array
import contextlib
import errno
import hashlib
import os
import re
import stat
import sys
import tempfile
import time
from collections.abc import Collection, Iterator
from dataclasses import dataclass

from portplan.errors import PortplanError

NEW_FILE_MODE = 0o666
LOCK_TIMEOUT = 30.0
TEMP_SUFFIX = ".portplan.tmp"
FOLLOW_OPTION = "--follow-symlinks"
STANDARD_OUTPUT = frozenset({"-", "/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"})

_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>[0-9]+)\.[A-Za-z0-9_]{8}\.portplan\.tmp$")
_OLD_TEMP = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp$")  # before 0.x: mkstemp's names
# Flags the system has (a FIFO opens without waiting; no terminal is taken over); Windows
# lacks some, and has no advisory locks: there writes stay atomic but are not serialized.
READ_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
)
FOLDER_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0)
_IMMUTABLE = 0x10 | 0x20  # FS_IMMUTABLE_FL | FS_APPEND_FL
_GETFLAGS = 0x80086601  # FS_IOC_GETFLAGS
_KINDS = {
    stat.S_IFDIR: "a folder",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
}


class OutputError(PortplanError):
    """A file could not be written, or may not be; nothing was changed."""

    def __init__(self, path: str | os.PathLike[str], what: str) -> None:
        super().__init__(f"{os.fspath(path)}: {what}")
        self.path = os.fspath(path)


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A file as it was read: its identity and a digest of its bytes. `commit` refuses to
    replace a file that no longer matches it (another program wrote it meanwhile)."""

    device: int
    inode: int
    size: int
    mtime_ns: int
    digest: str

    @classmethod
    def of(cls, status: os.stat_result, data: bytes) -> Snapshot:
        digest = hashlib.sha256(data).hexdigest()
        return cls(status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns, digest)


def write_atomic(
    path: str | os.PathLike[str],
    text: str,
    *,
    encoding: str = "utf-8",
    root: str | os.PathLike[str] | None = None,
    follow_links: bool = False,
    expect: Snapshot | None = None,
    durable: bool = True,
) -> None:
    """Write `text` (in `encoding`, line ends as given) to `path` atomically.

    `root` is the folder the file must stay in (default: the folder `path` is named in);
    `expect` the file as it was read, when it must not have changed since; `durable=False`
    skips the flush to disk before the replace (a file of running processes' state,
    rewritten many times a second, that means nothing after a crash)."""
    temp = ""
    with terminate_as_interrupt():
        try:
            with interrupts_held():  # made and known as one step: ^C cannot leave it behind
                temp, target = temp_beside(
                    path,
                    text.encode(encoding),
                    root=root,
                    follow_links=follow_links,
                    durable=durable,
                )
            commit(temp, target, expect=expect, shown=os.fspath(path))
        finally:
            with contextlib.suppress(FileNotFoundError):
                if temp:
                    os.unlink(temp)


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (`kill`, a cancelled CI job) stops a write as ^C does: KeyboardInterrupt, so
    the temporary files are removed on the way out and the exit code is 130. Only where
    SIGTERM has its default action (`up`'s supervisor and `serve` handle it themselves)."""
    import signal
    import threading

    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def _interrupt(_signal: int, _frame: object) -> None:
    raise KeyboardInterrupt


@contextlib.contextmanager
def interrupts_held() -> Iterator[None]:
    """^C and SIGTERM held back, and delivered once the block is done: a set of renames
    runs whole (kill -9, which cannot be held, is what the journal of `fileset` is for)."""
    import signal

    if not hasattr(signal, "pthread_sigmask"):  # Windows
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def temp_beside(
    path: str | os.PathLike[str],
    data: bytes,
    *,
    root: str | os.PathLike[str] | None = None,
    follow_links: bool = False,
    durable: bool = True,
) -> tuple[str, str]:
    """A temporary file beside `path` holding `data`, with the mode and owner the target
    should end with; returns it and the file to rename it to (`path`, or where the link
    `path` points). OutputError when the target is refused or the file cannot be made;
    then nothing is left behind."""
    shown = os.fspath(path)
    target, current = checked_target(path, root=root, follow_links=follow_links)
    folder = os.path.dirname(target) or "."
    remove_leftovers(folder, {os.path.basename(target)})
    prefix = f".{os.path.basename(target)}.{os.getpid()}."
    try:
        fd, temp = tempfile.mkstemp(prefix=prefix, suffix=TEMP_SUFFIX, dir=folder)
    except OSError as exc:
        raise write_error(shown, exc) from None
    try:
        try:
            _write_all(fd, data)
            if current is not None and durable:
                # Flushed before it replaces a file, so a crash cannot leave the old file's
                # name on an empty one. A new file has nothing to lose: it is not synced
                # (thousands of fsyncs are most of `generate` into an empty folder; a file
                # cut short by a crash is reported stale by `generate --check`).
                os.fsync(fd)
            _take_over(fd, current)
        finally:
            os.close(fd)
    except OSError as exc:
        os.unlink(temp)
        raise write_error(shown, exc) from None
    except BaseException:
        os.unlink(temp)
        raise
    return temp, target


def commit(
    temp: str, target: str, *, expect: Snapshot | None = None, shown: str | None = None
) -> None:
    """Rename `temp` over `target` (the second half of `temp_beside`); with `expect`,
    only when `target` is still the file that was read."""
    name = shown or target
    if expect is not None and not _unchanged(target, expect):
        raise OutputError(name, "changed since portplan read it; nothing written (run again)")
    try:
        os.replace(temp, target)
    except OSError as exc:
        raise write_error(name, exc) from None


def _unchanged(target: str, expect: Snapshot) -> bool:
    try:
        now = os.stat(target)
    except OSError:
        return False
    if (now.st_dev, now.st_ino, now.st_size) != (expect.device, expect.inode, expect.size):
        return False  # replaced or resized: no need to read it
    return snapshot(target) == expect


def snapshot(path: str | os.PathLike[str]) -> Snapshot | None:
    """The file at `path` as it is now (None when there is none)."""
    try:
        fd = os.open(path, READ_FLAGS)
    except FileNotFoundError:
        return None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            return Snapshot(status.st_dev, status.st_ino, -1, status.st_mtime_ns, "")
        return Snapshot.of(status, _read_fd(fd))
    finally:
        os.close(fd)


def checked_target(
    path: str | os.PathLike[str],
    *,
    root: str | os.PathLike[str] | None = None,
    follow_links: bool = False,
) -> tuple[str, os.stat_result | None]:
    """The file a write to `path` replaces (where a link inside the root points) and its
    status (None: it does not exist yet); OutputError when it may not be replaced."""
    shown = os.fspath(path)
    real = os.path.realpath(path)
    target = real if os.path.islink(path) else shown
    try:
        current: os.stat_result | None = os.stat(target)
    except FileNotFoundError:
        current = None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError(shown, "is a loop of symbolic links") from None
        raise write_error(shown, exc) from None
    kind = None if current is None else _KINDS.get(stat.S_IFMT(current.st_mode))
    if kind is not None:
        raise OutputError(shown, f"is {kind}; refusing to replace it")
    if not follow_links:
        _inside(shown, real, os.path.dirname(os.path.abspath(path)) if root is None else root)
    if current is not None:
        _replaceable(shown, target, current)
    _folder_writable(shown, os.path.dirname(target) or ".")
    return target, current


def write_error(path: str, exc: OSError) -> OutputError:
    """The one line an OSError of a write becomes."""
    reason = exc.strerror or str(exc)
    if exc.errno == errno.EPERM:
        reason += " (is it immutable or append-only?)"
    return OutputError(path, f"cannot write: {reason}; nothing written")


def is_standard_output(name: str) -> bool:
    """Whether the output `name` means standard output (`-`, `/dev/stdout`, a path to the
    pipe, terminal or device standard output is): it is written, never replaced."""
    if name in STANDARD_OUTPUT:
        return True
    try:
        named, out = os.stat(name), os.fstat(1)
    except OSError:
        return False
    same = (named.st_dev, named.st_ino) == (out.st_dev, out.st_ino)
    return same and not stat.S_ISREG(named.st_mode)


def remove_leftovers(folder: str, names: Collection[str] | None = None) -> list[str]:
    """Remove the temporary files runs that were killed left in `folder` (of the files
    `names`, or of every file); the names removed. A temporary file of a process that is
    still running is kept: that process is writing it."""
    try:
        entries = os.listdir(folder)
    except OSError:
        return []
    removed = []
    for entry in entries:
        if _leftover(entry, names):
            with contextlib.suppress(OSError):
                if stat.S_ISREG(os.lstat(os.path.join(folder, entry)).st_mode):
                    os.unlink(os.path.join(folder, entry))
                    removed.append(entry)
    return removed


@contextlib.contextmanager
def locked(path: str | os.PathLike[str], timeout: float = LOCK_TIMEOUT) -> Iterator[Locked]:
    """Hold an exclusive advisory lock (`flock`) on the file at `path`.

    Every portplan writer of the file takes it, from its read to its rename: a second
    writer waits (up to `timeout` seconds, then OutputError) and then reads what the first
    one wrote. The lock is on the file itself, so nothing is left beside it; a writer that
    waited on a file another one has since replaced locks the new file instead."""
    shown = os.fspath(path)
    deadline = time.monotonic() + timeout
    while True:
        fd = _open_locked(shown, deadline)
        status = os.fstat(fd)
        try:
            now = os.stat(path)
        except OSError:
            now = None
        if now is not None and (now.st_dev, now.st_ino) == (status.st_dev, status.st_ino):
            break
        os.close(fd)  # replaced while we waited: lock the file that is there now
    try:
        yield Locked(status)
    finally:
        os.close(fd)


@dataclass(frozen=True, slots=True)
class Locked:
    """The locked file's status when the lock was taken."""

    status: os.stat_result

    def snapshot(self, data: bytes) -> Snapshot:
        """The snapshot `commit` compares with, of `data` read under the lock."""
        return Snapshot.of(self.status, data)


def _open_locked(shown: str, deadline: float) -> int:
    try:
        fd = os.open(shown, READ_FLAGS)
    except OSError as exc:
        raise OutputError(shown, f"cannot open: {exc.strerror}") from None
    kind = _KINDS.get(stat.S_IFMT(os.fstat(fd).st_mode))
    if kind is not None:
        os.close(fd)
        raise OutputError(shown, f"is {kind}, not a file; nothing written")
    while not take_lock(fd, wait=False):
        if time.monotonic() >= deadline:
            os.close(fd)
            raise OutputError(
                shown, "another portplan has been writing it for too long; nothing written"
            )
        time.sleep(0.01)
    return fd


def take_lock(fd: int, *, wait: bool) -> bool:
    """Take an exclusive `flock` on `fd`: False when another holds it and not `wait`.
    True where the system has no such locks (Windows)."""
    try:
        import fcntl
    except ImportError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _read_fd(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def umask() -> int:
    """The process's file mode creation mask."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def is_temporary(name: str) -> bool:
    """Whether `name` is the name of one of portplan's temporary files."""
    return _TEMP.match(name) is not None


def _leftover(entry: str, names: Collection[str] | None) -> bool:
    match = _TEMP.match(entry)
    if match is not None:
        return (names is None or match["name"] in names) and not _running(int(match["pid"]))
    old = _OLD_TEMP.match(entry)
    return old is not None and names is not None and old["name"] in names


def _running(pid: int) -> bool:
    if pid == os.getpid() or sys.platform == "win32":
        return True  # this process's own (it may be staging a set); on Windows a signal 0 kills
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def _inside(shown: str, real: str, root: str | os.PathLike[str]) -> None:
    base = os.path.realpath(root)
    if real == base or real.startswith(base.rstrip(os.sep) + os.sep):
        return
    raise OutputError(
        shown,
        f"resolves to {real}, outside {os.fspath(root)} (a symbolic link); "
        f"refusing to write there ({FOLLOW_OPTION} allows it)",
    )


def _replaceable(shown: str, target: str, current: os.stat_result) -> None:
    if not stat.S_ISREG(current.st_mode):
        raise OutputError(shown, "is not a regular file; refusing to replace it")
    if not _writable_bits(current):
        mode = f"{stat.S_IMODE(current.st_mode):04o}"
        raise OutputError(shown, f"is read-only (mode {mode}); nothing written")
    if _immutable(target):
        raise OutputError(shown, "is immutable or append-only (chattr); nothing written")
    if current.st_nlink > 1:
        raise OutputError(
            shown,
            f"has {current.st_nlink} hard links; replacing it would split them "
            "(write it through one of them after removing the others); nothing written",
        )


def _folder_writable(shown: str, folder: str) -> None:
    try:
        status = os.stat(folder)
    except OSError:
        return  # not there yet: making it says what is wrong
    if stat.S_ISDIR(status.st_mode) and not _writable_bits(status):
        raise OutputError(shown, f"its folder {folder} is read-only; nothing written")


def _writable_bits(status: os.stat_result) -> bool:
    """Whether the mode bits let this process write (root: whether anyone may)."""
    mode = status.st_mode
    geteuid = getattr(os, "geteuid", None)
    if geteuid is None:  # Windows: the read-only attribute is the owner's write bit
        return bool(mode & stat.S_IWUSR)
    uid = geteuid()
    if uid == 0:
        return bool(mode & 0o222)
    if status.st_uid == uid:
        return bool(mode & stat.S_IWUSR)
    if status.st_gid == os.getegid() or status.st_gid in os.getgroups():
        return bool(mode & stat.S_IWGRP)
    return bool(mode & stat.S_IWOTH)


def _immutable(target: str) -> bool:
    try:
        import fcntl
    except ImportError:
        return False
    try:
        fd = os.open(target, READ_FLAGS)
    except OSError:
        return False
    try:
        flags = array.array("i", [0])
        fcntl.ioctl(fd, _GETFLAGS, flags, True)
    except OSError:
        return False  # the file system has no such flags
    finally:
        os.close(fd)
    return bool(flags[0] & _IMMUTABLE)


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


__all__ = [
    "FOLLOW_OPTION",
    "NEW_FILE_MODE",
    "Locked",
    "OutputError",
    "Snapshot",
    "checked_target",
    "commit",
    "is_standard_output",
    "is_temporary",
    "locked",
    "remove_leftovers",
    "snapshot",
    "take_lock",
    "temp_beside",
    "umask",
    "write_atomic",
    "write_error",
]
