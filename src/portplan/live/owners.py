"""Which process holds a socket, and what that process is (Linux, from /proc).

The kernel's socket tables name a socket by its inode; only /proc/PID/fd links lead back
to the process. Scanning them is the main cost at scale, so `find_owners` stops as soon as
every wanted inode is found (unless every holder is asked for, as `kill` needs).
"""

from __future__ import annotations

import os

from portplan.live._slotted import Slotted

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time (see _slotted)
    from collections.abc import Collection
    from typing import Any, ClassVar

PROC = "/proc"
_OPEN_DIR = os.O_RDONLY | os.O_DIRECTORY


class Access(str):
    """What is known of a socket's owner: one of the three constants below, compared by
    identity. A str with a `value`, as an enum.StrEnum would be without the enum module,
    whose import costs `portplan ports` 3 ms."""

    __slots__ = ()
    KNOWN: ClassVar[Access]
    DENIED: ClassVar[Access]
    UNKNOWN: ClassVar[Access]

    @property
    def value(self) -> str:
        return str(self)


# the holding process was found
Access.KNOWN = Access("known")
# some process could not be inspected (permissions): maybe that one
Access.DENIED = Access("denied")
# no process holds it that we can see (another namespace, gone)
Access.UNKNOWN = Access("unknown")


class Process(Slotted):
    """Facts about one process; fields that could not be read are None or empty. The
    command line comes with its secrets masked."""

    __slots__ = ("pid", "name", "cmdline", "uid", "user", "started")  # noqa: RUF023 - the fields in order

    def __init__(
        self,
        pid: int,
        name: str,
        cmdline: tuple[str, ...] = (),
        uid: int | None = None,
        user: str | None = None,
        started: float | None = None,  # Unix time
    ) -> None:
        self.pid = pid
        self.name = name
        self.cmdline = cmdline
        self.uid = uid
        self.user = user
        self.started = started

    @property
    def command(self) -> str:
        """The command line as one string, or the name in brackets (kernel threads)."""
        return " ".join(self.cmdline) if self.cmdline else f"[{self.name}]"

    def as_dict(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "name": self.name,
            "cmdline": list(self.cmdline),
            "uid": self.uid,
            "user": self.user,
            "started": self.started,
        }


class OwnerMap:
    """inode -> PIDs holding it (ascending); `denied` lists PIDs we could not inspect."""

    __slots__ = ("denied", "holders")

    def __init__(self) -> None:
        self.holders: dict[int, list[int]] = {}
        self.denied: list[int] = []

    def access(self, inode: int) -> Access:
        if inode in self.holders:
            return Access.KNOWN
        return Access.DENIED if self.denied else Access.UNKNOWN


def find_owners(inodes: Collection[int], *, complete: bool = False) -> OwnerMap:
    """Map socket inodes to the PIDs holding them by scanning /proc/*/fd.

    With `complete=False` the scan stops once each inode has one holder (the lowest PID,
    usually the parent of forked workers); `complete=True` finds every holder.
    """
    # a descriptor's link reads "socket:[INODE]": links are matched whole, not parsed
    wanted = {f"socket:[{inode}]": inode for inode in inodes}
    result = OwnerMap()
    missing = len(wanted)
    if not missing:
        return result
    for pid in _pids():
        found = _scan_fds(pid, wanted, result)
        if found < 0:
            result.denied.append(pid)
            continue
        missing -= found
        if missing <= 0 and not complete:
            break
    return result


def _pids() -> list[int]:
    return sorted(int(name) for name in os.listdir(PROC) if name.isdigit())


def _scan_fds(pid: int, wanted: dict[str, int], result: OwnerMap) -> int:
    """Record pid as a holder of the wanted inodes it has open; return how many were new.

    Returns -1 when the process's descriptors cannot be read (permissions).
    """
    try:
        directory = os.open(f"{PROC}/{pid}/fd", _OPEN_DIR)
    except PermissionError:
        return -1
    except OSError:  # gone, or a kernel thread without descriptors
        return 0
    try:
        return _scan_dir(directory, pid, wanted, result)
    except PermissionError:
        return -1
    finally:
        os.close(directory)


def _scan_dir(directory: int, pid: int, wanted: dict[str, int], result: OwnerMap) -> int:
    new = 0
    readlink, match = os.readlink, wanted.get
    holders = result.holders
    for fd in os.listdir(directory):
        try:
            link = readlink(fd, dir_fd=directory)
        except PermissionError:
            raise
        except OSError:  # closed while we looked
            continue
        inode = match(link)
        if inode is None:
            continue
        pids = holders.setdefault(inode, [])
        if not pids:
            new += 1
        if not pids or pids[-1] != pid:
            pids.append(pid)
    return new


# ---------------------------------------------------------------------------
# Process facts


def process_info(pid: int) -> Process | None:
    """Facts about a process, or None when it no longer exists (or is a zombie)."""
    stat = _read(f"{PROC}/{pid}/stat")
    if stat is None:
        return None
    name, state, started = _parse_stat(stat)
    if state == "Z":
        return None
    uid = _real_uid(pid)
    return Process(
        pid=pid,
        name=name,
        cmdline=_cmdline(pid),
        uid=uid,
        user=user_name(uid),
        started=started,
    )


def is_running(pid: int) -> bool:
    """True while the process exists and is not a zombie waiting to be reaped."""
    stat = _read(f"{PROC}/{pid}/stat")
    return stat is not None and _parse_stat(stat)[1] != "Z"


def _read(path: str) -> str | None:
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return None


def _parse_stat(stat: str) -> tuple[str, str, float | None]:
    """(name, state, start time) from /proc/PID/stat; the name may contain ')' itself."""
    left, right = stat.find("("), stat.rfind(")")
    fields = stat[right + 2 :].split()
    ticks = int(fields[19]) if len(fields) > 19 else None
    return stat[left + 1 : right], fields[0] if fields else "?", _start_time(ticks)


def _start_time(ticks: int | None) -> float | None:
    boot = boot_time()
    if ticks is None or boot is None:
        return None
    return boot + ticks / _CLOCK_TICKS


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_BOOT: list[float | None] = []


def boot_time() -> float | None:
    """The machine's boot time (Unix time) from /proc/stat, read once."""
    if not _BOOT:
        text = _read(f"{PROC}/stat") or ""
        line = next((ln for ln in text.splitlines() if ln.startswith("btime ")), None)
        _BOOT.append(float(line.split()[1]) if line else None)
    return _BOOT[0]


def _cmdline(pid: int) -> tuple[str, ...]:
    """The command line, its secrets masked (`masked`): every command shows it only so."""
    text = _read(f"{PROC}/{pid}/cmdline") or ""
    return masked(tuple(text.rstrip("\0").split("\0"))) if text else ()


# Every secret portplan.secretscan.argv.mask_argv finds needs one of these in the command
# line (letter case aside): a word of a secret name (secretscan.detect's SECRET_NAME), an
# authorization word, curl's -u, or the start of a credential format; or a URL whose user
# part may hold one (`_url_may_hold_secret`). tests/live/test_secrets.py keeps them in step.
MAY_HOLD_SECRETS = (
    "secret", "token", "pass", "pwd", "key", "credential", "auth", "bearer",
    "-u", "--user", "--proxy-user", "akia", "asia", "abia", "acca", "ghp_", "gho_", "ghu_",
    "ghs_", "ghr_", "github_pat_", "glpat", "xox", "_live_", "aiza", "npm_", "sg.", "eyj",
    "private",
)  # fmt: skip
# secretscan.detect.high_entropy's shortest random-looking key (a Sentry DSN's user part)
_SHORTEST_KEY = 20


def masked(args: tuple[str, ...]) -> tuple[str, ...]:
    """`args` with their secrets masked (portplan.secretscan.argv.mask_argv). Its patterns
    (and `re`, ~8 ms of a `portplan ports` run) are loaded only for a command line that may
    hold one."""
    lowered = "\0".join(args).lower()
    if not any(word in lowered for word in MAY_HOLD_SECRETS) and not _url_may_hold_secret(lowered):
        return args
    from portplan.secretscan.argv import mask_argv

    return mask_argv(args)


def _url_may_hold_secret(text: str) -> bool:
    """True when a URL's user part (`scheme://USER@host`) may hold a secret: a password
    (`u:pw@`), or a key as long as a random one (`https://KEY@sentry.io`). A plain user name
    (`postgresql://app@db/app`, a server's usual command line) holds none: masking is
    then not loaded for it."""
    if "@" not in text:
        return False
    for rest in text.split("://")[1:]:
        user, at, _ = rest.split("/", 1)[0].partition("@")
        if at and (":" in user or len(user) >= _SHORTEST_KEY):
            return True
    return False


def _real_uid(pid: int) -> int | None:
    text = _read(f"{PROC}/{pid}/status") or ""
    start = text.find("\nUid:")
    if start < 0:
        return None
    return int(text[start + 5 :].split(None, 1)[0])


_USERS: dict[int, str] = {}


def user_name(uid: int | None) -> str | None:
    """The login name of a uid (its number when it has none); cached."""
    if uid is None:
        return None
    name = _USERS.get(uid)
    if name is None:
        name = _USERS[uid] = _lookup_user(uid)
    return name


def _lookup_user(uid: int) -> str:
    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError):
        return str(uid)


class Listener(Slotted):
    """A listening socket and, when it could be found, the process holding it.

    `access` says why `process` may be None: DENIED (a process could not be inspected,
    e.g. another user's without root) or UNKNOWN (no visible process holds it).
    `pids` lists every holder found (forked workers share a socket).
    """

    __slots__ = ("protocol", "address", "port", "inode", "uid", "access", "process", "pids")  # noqa: RUF023 - the fields in order

    def __init__(
        self,
        protocol: str,
        address: str,
        port: int,
        inode: int = 0,
        uid: int | None = None,
        access: Access = Access.UNKNOWN,
        process: Process | None = None,
        pids: tuple[int, ...] = (),
    ) -> None:
        self.protocol = protocol
        self.address = address
        self.port = port
        self.inode = inode
        self.uid = uid
        self.access = access
        self.process = process
        self.pids = pids

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    @property
    def name(self) -> str | None:
        return self.process.name if self.process else None

    @property
    def cmdline(self) -> tuple[str, ...]:
        return self.process.cmdline if self.process else ()

    @property
    def user(self) -> str | None:
        """The owner's user, or the socket's when the owner is not known."""
        if self.process and self.process.user:
            return self.process.user
        return user_name(self.uid)

    @property
    def started(self) -> float | None:
        return self.process.started if self.process else None

    @property
    def endpoint(self) -> str:
        """address:port, with IPv6 addresses in brackets."""
        return (
            f"[{self.address}]:{self.port}"
            if ":" in self.address
            else f"{self.address}:{self.port}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "address": self.address,
            "port": self.port,
            "inode": self.inode,
            "pid": self.pid,
            "pids": list(self.pids),
            "name": self.name,
            "cmdline": list(self.cmdline),
            "uid": self.process.uid if self.process and self.process.uid is not None else self.uid,
            "user": self.user,
            "started": self.started,
            "access": self.access.value,
        }
