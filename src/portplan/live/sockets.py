"""Every listening socket on this machine, with its owner.

On Linux the kernel's socket tables are read directly: netlink sock_diag (one query per
family and protocol, well under a millisecond) with /proc/net/{tcp,tcp6,udp,udp6} as the
fallback, and /proc/*/fd for the owners. Elsewhere psutil is the portable fallback.
A TCP socket listens in state LISTEN; a UDP socket "listens" when it is bound and not
connected (state CLOSE), as `ss -lu` counts it.
"""

from __future__ import annotations

import _socket  # socket.py itself adds enums and selectors: 3 ms of start-up, unused here
import sys
from _operator import attrgetter  # as operator.py exports it, without importing that
from itertools import repeat

from portplan.errors import UsageError
from portplan.live._slotted import Slotted
from portplan.live.owners import Access, Listener, Process, find_owners, process_info

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing is not imported at run time (see _slotted)
    from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
    from typing import Any

PROTOCOLS = ("tcp", "udp")
_LISTEN, _CLOSE = 10, 7  # kernel TCP states: LISTEN; CLOSE is an unconnected UDP socket
_STATE = {"tcp": _LISTEN, "udp": _CLOSE}
_IPPROTO = {"tcp": _socket.IPPROTO_TCP, "udp": _socket.IPPROTO_UDP}
_AF_INET, _AF_INET6 = _socket.AF_INET, _socket.AF_INET6


class RawSocket(Slotted):
    """A socket as the kernel lists it, before its owner is known."""

    __slots__ = ("protocol", "address", "port", "inode", "uid")  # noqa: RUF023 - the fields in order

    def __init__(self, protocol: str, address: str, port: int, inode: int, uid: int | None):
        self.protocol = protocol
        self.address = address
        self.port = port
        self.inode = inode
        self.uid = uid


def listeners(
    protocols: Iterable[str] = ("tcp",),
    *,
    ports: Collection[int] | None = None,
    owners: bool = True,
    complete: bool = False,
    backend: str | None = None,
) -> list[Listener]:
    """The listening sockets of the given protocols, sorted by protocol, port and address.

    `ports` keeps only sockets on those port numbers (before their owners are looked up);
    `owners=False` skips the (costly) owner lookup; `complete=True` finds every process
    sharing a socket, not just the first. `backend` forces "netlink", "procnet" or "psutil".
    """
    wanted = _check_protocols(protocols)
    name = backend or default_backend()
    if name not in BACKENDS:
        raise UsageError(f"unknown socket backend '{name}'; expected one of {', '.join(BACKENDS)}")
    found = BACKENDS[name](wanted, ports, owners, complete)
    return sorted(found, key=_SORT_KEY)


_SORT_KEY = attrgetter("protocol", "port", "address")


def raw_listeners(protocols: Iterable[str] = ("tcp",)) -> list[RawSocket] | None:
    """The listening sockets of the given protocols before their owners are looked up
    (`with_owners` attaches them), in the order `listeners` gives; for a caller with work
    to do between the two. None where the owners come with the sockets (psutil)."""
    reader = READERS.get(default_backend())
    return None if reader is None else sorted(reader(_check_protocols(protocols)), key=_SORT_KEY)


def reads_raw() -> bool:
    """True where `raw_listeners` reads the sockets apart from their owners (Linux)."""
    return default_backend() in READERS


def _check_protocols(protocols: Iterable[str]) -> tuple[str, ...]:
    wanted = tuple(dict.fromkeys(protocols))
    for protocol in wanted:
        if protocol not in PROTOCOLS:
            raise UsageError(f"unknown protocol '{protocol}'; expected tcp or udp")
    return wanted


def default_backend() -> str:
    return "netlink" if sys.platform.startswith("linux") else "psutil"


# ---------------------------------------------------------------------------
# Linux: raw sockets from the kernel, then owners from /proc


def _linux(reader: Callable[[Sequence[str]], list[RawSocket]]) -> _Backend:
    def backend(
        protocols: Sequence[str], ports: Collection[int] | None, owners: bool, complete: bool
    ) -> list[Listener]:
        raw = reader(protocols)
        if ports is not None:
            raw = [sock for sock in raw if sock.port in ports]
        return with_owners(raw, owners=owners, complete=complete)

    return backend


def with_owners(
    raw: Sequence[RawSocket], *, owners: bool = True, complete: bool = False
) -> list[Listener]:
    """Attach owners (from /proc) to raw sockets."""
    if not owners:
        return [Listener(s.protocol, s.address, s.port, s.inode, s.uid) for s in raw]
    owner_map = find_owners([sock.inode for sock in raw if sock.inode], complete=complete)
    cache: dict[int, Process | None] = {}
    holders, unowned = owner_map.holders, owner_map.access(-1)
    result: list[Listener] = []
    for sock in raw:
        fields = (sock.protocol, sock.address, sock.port, sock.inode, sock.uid)
        pids = holders.get(sock.inode)
        if pids is None:
            result.append(Listener(*fields, unowned))
            continue
        process = cache[pids[0]] if pids[0] in cache else _cached_process(pids[0], cache)
        access = Access.KNOWN if process else Access.UNKNOWN  # UNKNOWN: exited since the scan
        result.append(Listener(*fields, access, process, tuple(pids)))
    return result


def _cached_process(pid: int, cache: dict[int, Process | None]) -> Process | None:
    if pid not in cache:
        cache[pid] = process_info(pid)
    return cache[pid]


# netlink sock_diag (linux/inet_diag.h)
_NETLINK_SOCK_DIAG = 4
_SOCK_DIAG_BY_FAMILY = 20
_NLM_F_REQUEST, _NLM_F_DUMP = 0x1, 0x300
_NLMSG_ERROR, _NLMSG_DONE = 2, 3
_ORDER = sys.byteorder  # netlink speaks the machine's own byte order (ports aside)
# A message is the netlink header (16 bytes) and an inet_diag_msg (72), then attributes.
# Counted in 32-bit words: 0 length; 2 sequence, 3 port id; 4 family, state, timer and
# retransmits; 6-9 the source address; 20 uid; 21 inode. In 16-bit halves: 2 the type,
# 3 the flags; 10 the source port (big-endian).
_MESSAGE = 88
_SOURCE, _UID, _INODE = 6, 20, 21  # words
_TYPE, _PORT = 2, 10  # halves
# The kernel fills a dump's buffers up to 32 KiB each (netlink_dump, max_recvmsg_len):
# twice that holds any of them. A larger buffer is allocated (mmap) and cut down at
# every read: 1 MiB cost a listing of 2,000 sockets 0.3 ms.
_BUFFER = 1 << 16


def read_netlink(protocols: Sequence[str]) -> list[RawSocket]:
    """Listening sockets from netlink sock_diag: IPv4 and IPv6 for each protocol."""
    nl = _socket.socket(_socket.AF_NETLINK, _socket.SOCK_RAW, _NETLINK_SOCK_DIAG)
    try:
        result: list[RawSocket] = []
        for sequence, (protocol, family) in enumerate(_queries(protocols), start=1):
            _send_query(nl, protocol, family, sequence)
            _receive(nl, protocol, _Addresses(family), result)
        return result
    finally:
        nl.close()


def _queries(protocols: Sequence[str]) -> Iterator[tuple[str, int]]:
    for protocol in protocols:
        yield protocol, _AF_INET
        yield protocol, _AF_INET6


def _send_query(nl: _socket.socket, protocol: str, family: int, sequence: int) -> None:
    """A dump request: every socket of the family and protocol in the listening state."""
    states = 1 << _STATE[protocol]
    body = bytes([family, _IPPROTO[protocol], 0, 0]) + states.to_bytes(4, _ORDER) + bytes(48)
    size, flags = 16 + len(body), _NLM_F_REQUEST | _NLM_F_DUMP
    header = size.to_bytes(4, _ORDER) + _SOCK_DIAG_BY_FAMILY.to_bytes(2, _ORDER)
    header += flags.to_bytes(2, _ORDER) + sequence.to_bytes(4, _ORDER) + bytes(4)
    nl.sendto(header + body, (0, 0))


def _receive(nl: _socket.socket, protocol: str, names: _Addresses, into: list[RawSocket]) -> None:
    """Read the answers to one dump query until NLMSG_DONE."""
    while True:
        data = nl.recv(_BUFFER)
        if not data:
            return
        if not _add_uniform(data, protocol, names, into) and _add_messages(
            data, protocol, names, into
        ):
            return


def _add_uniform(data: bytes, protocol: str, names: _Addresses, into: list[RawSocket]) -> bool:
    """Add the buffer's sockets when all its messages are socket records of one size (the
    usual case: a buffer holds a few hundred); False, adding none, otherwise.

    The buffer is read as columns of 32-bit words and 16-bit halves (memoryview.cast), one
    column a field, and the records made by C loops (map, zip): no Python code runs per
    socket, and struct (a shared library to load: 0.7 ms) is not needed."""
    if len(data) < _MESSAGE or len(data) % 4:
        return False
    words = memoryview(data).cast("I")
    length = words[0]
    step = (length + 3) & ~3
    if length < _MESSAGE or len(data) % step:
        return False
    halves = memoryview(data).cast("H")
    per_word, per_half = step // 4, step // 2
    lengths, kinds = words[::per_word].tolist(), halves[_TYPE::per_half].tolist()
    if set(lengths) != {length} or set(kinds) != {_SOCK_DIAG_BY_FAMILY}:
        return False
    ports = map(_socket.ntohs, halves[_PORT::per_half].tolist())
    addresses = map(names.__getitem__, names.keys_of(words, per_word))
    uids, inodes = words[_UID::per_word].tolist(), words[_INODE::per_word].tolist()
    into += map(RawSocket, repeat(protocol), addresses, ports, inodes, uids)
    return True


def _add_messages(data: bytes, protocol: str, names: _Addresses, into: list[RawSocket]) -> bool:
    """Walk a buffer message by message; True at NLMSG_DONE."""
    offset, end = 0, len(data)
    while offset < end:
        length = int.from_bytes(data[offset : offset + 4], _ORDER)
        kind = int.from_bytes(data[offset + 4 : offset + 6], _ORDER)
        if kind == _NLMSG_DONE:
            return True
        if kind == _NLMSG_ERROR:
            raise OSError("netlink sock_diag refused the query")
        step = (length + 3) & ~3
        if step < 16:  # no message is shorter than its header: the rest cannot be read
            raise OSError("netlink sock_diag: a message shorter than its header")
        _add_uniform(data[offset : offset + step], protocol, names, into)
        offset += step
    return False


if TYPE_CHECKING:
    _AddressMap = dict[Any, str]
else:
    _AddressMap = dict  # typing's Any is not imported at run time


class _Addresses(_AddressMap):
    """A family's source addresses, text by their words in a record (most sockets share a
    few addresses: each is written once)."""

    def __init__(self, family: int) -> None:
        super().__init__()
        self.family = family

    def keys_of(self, words: memoryview, per_word: int) -> Iterable[Any]:
        """The key of each record's source address: its first word (IPv4), or all four."""
        first = words[_SOURCE::per_word].tolist()
        if self.family == _AF_INET:
            return first
        rest = (words[_SOURCE + i :: per_word].tolist() for i in (1, 2, 3))
        return zip(first, *rest, strict=True)

    def __missing__(self, key: Any) -> str:
        words = (key,) if isinstance(key, int) else key
        packed = b"".join(word.to_bytes(4, _ORDER) for word in words)
        name = self[key] = _socket.inet_ntop(self.family, packed)
        return name


def read_procnet(protocols: Sequence[str]) -> list[RawSocket]:
    """Listening sockets from /proc/net/{tcp,tcp6,udp,udp6} (slower, always there)."""
    result: list[RawSocket] = []
    for protocol in protocols:
        state = f"{_STATE[protocol]:02X}"
        for suffix, family in (("", _AF_INET), ("6", _AF_INET6)):
            result.extend(_read_table(f"/proc/net/{protocol}{suffix}", protocol, family, state))
    return result


def _read_table(path: str, protocol: str, family: int, state: str) -> Iterator[RawSocket]:
    try:
        with open(path, encoding="ascii") as handle:
            lines = handle.readlines()[1:]
    except OSError:  # IPv6 disabled, or no /proc
        return
    for line in lines:
        fields = line.split()
        if fields[3] != state:
            continue
        address, port = _hex_endpoint(fields[1], family)
        if port:
            yield RawSocket(protocol, address, port, int(fields[9]), int(fields[7]))


def _hex_endpoint(text: str, family: int) -> tuple[str, int]:
    """'0100007F:1F90' -> ('127.0.0.1', 8080): each 32-bit word is in host byte order."""
    hex_address, hex_port = text.split(":")
    words = [hex_address[i : i + 8] for i in range(0, len(hex_address), 8)]
    packed = b"".join(int(word, 16).to_bytes(4, sys.byteorder) for word in words)
    return _socket.inet_ntop(family, packed), int(hex_port, 16)


def _netlink_or_procnet(protocols: Sequence[str]) -> list[RawSocket]:
    try:
        return read_netlink(protocols)
    except OSError:  # no AF_NETLINK (sandboxes, old kernels): the text tables still work
        return read_procnet(protocols)


# ---------------------------------------------------------------------------
# Elsewhere: psutil (macOS, Windows), imported only here


def _psutil_backend(
    protocols: Sequence[str], ports: Collection[int] | None, owners: bool, complete: bool
) -> list[Listener]:
    from portplan.live import _portable

    return _portable.listeners(protocols, ports=ports, owners=owners)


if TYPE_CHECKING:
    _Backend = Callable[[Sequence[str], Collection[int] | None, bool, bool], list[Listener]]

# the Linux readers of sockets before their owners
READERS: dict[str, Callable[[Sequence[str]], list[RawSocket]]] = {
    "netlink": _netlink_or_procnet,
    "procnet": read_procnet,
}
BACKENDS: dict[str, _Backend] = {
    **{name: _linux(reader) for name, reader in READERS.items()},
    "psutil": _psutil_backend,
}
