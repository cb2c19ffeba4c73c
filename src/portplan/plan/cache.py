"""Loaded plans kept between runs, as mypy and ruff keep their caches.

`load` returns what `portplan.plan.loader.load` returns for the same plan, from the cache
when an entry still holds: a 2,000-service plan takes about 100 ms to read (parse, schema,
model) and about a quarter of that to unpickle, and the parser, the schema and the loader
are then not even imported (`portplan status` is the first user: benchmarks/live.py).

One entry per plan (its absolute path, the path as given, the environment overlay), in
`$XDG_CACHE_HOME/portplan/plans/` (`~/.cache/portplan/plans/`). An entry records the
SHA-256 of every file its load read (the plan and each include, `files.ReadLog`) and of
the model it holds, and what it was made by (portplan's version, the size and time of the
modules that read plans, Python's version); it is used only while all of them still
match, so an edit of the plan or of any include is read afresh. A missing, corrupt,
foreign (another user's, or writable by others) or stale entry is ignored and written
again; an entry is written whole or not at all (a temporary file renamed over it), and a
cache folder that cannot be written is no error. `PORTPLAN_NO_CACHE=1` (or
`status --no-cache`) turns it off.
"""

from __future__ import annotations

import os
import stat
import sys

from portplan import __version__
from portplan.collector import paused
from portplan.files import ReadLog, safe_read

TYPE_CHECKING = False
if TYPE_CHECKING:
    import io
    import pickle
    from collections.abc import Callable, Sequence
    from typing import Any

    from portplan.model import Topology

NO_CACHE_VARIABLE = "PORTPLAN_NO_CACHE"
_MAGIC = b"portplan plan cache 1\n"
_SIZE_BYTES = 4  # the length of the header (little-endian) after the magic
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
# the modules that turn files into a Topology: a change to any of them is another model
_CODE = ("", "plan", "yamlio")


def enabled() -> bool:
    """False when PORTPLAN_NO_CACHE is set (to anything but 0 or nothing)."""
    return os.environ.get(NO_CACHE_VARIABLE, "").strip() in ("", "0")


def folder() -> str:
    """Where entries are kept: $XDG_CACHE_HOME/portplan/plans, else ~/.cache/portplan/plans."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(base):
        base = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "portplan", "plans")


def load(path: str | os.PathLike[str], env: str | None = None, *, cache: bool = True) -> Topology:
    """`portplan.plan.loader.load(path, env)`, from the cache while its entry holds."""
    path = os.fspath(path)
    if not (cache and enabled()):
        return _load(path, env)
    identity = _identity(path, env)
    entry = _entry(identity)
    found = _read_entry(entry, identity)
    if found is not None:
        return found
    with ReadLog() as reads:
        topology = _load(path, env)
    _write_entry(entry, identity, reads, topology)
    return topology


def entry(path: str | os.PathLike[str], env: str | None = None) -> tuple[str, str] | None:
    """(the entry's file, the SHA-256 of the model it holds) while the entry of the plan
    `path` holds (the files it read unchanged), nothing unpickled; None otherwise (or with
    the cache off). What else is kept for this plan (`portplan.live.checklist`) is kept
    beside the entry under the model's digest."""
    path = os.fspath(path)
    if not enabled():
        return None
    identity = _identity(path, env)
    name = _entry(identity)
    data = _own_file(name)
    if data is None or not data.startswith(_MAGIC):
        return None
    try:
        found = _holds(memoryview(data)[len(_MAGIC) :], identity)
    except Exception:  # a corrupt or foreign entry
        return None
    return None if found is None else (name, found[0])


def _entry(identity: str) -> str:
    return os.path.join(folder(), sha256(identity.encode())[:40] + ".pickle")


def _load(path: str, env: str | None) -> Topology:
    from portplan.plan.loader import load as load_plan

    return load_plan(path, env)


def _identity(path: str, env: str | None) -> str:
    """Everything besides the files' bytes that the loaded plan depends on."""
    limit = os.environ.get("PORTPLAN_MAX_INPUT", "")
    parts = [__version__, sys.version, os.path.abspath(path), path, env or "", limit]
    return "\0".join(parts + _code_stamp())


def _code_stamp() -> list[str]:
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    stamps = []
    for name in _CODE:
        with os.scandir(os.path.join(here, name)) as found:
            for item in found:
                if item.name.endswith(".py"):
                    status = item.stat()
                    stamps.append(f"{name}/{item.name} {status.st_size} {status.st_mtime_ns}")
    return sorted(stamps)


def sha256(data: bytes | memoryview) -> str:
    """The SHA-256 of `data` in hex, without hashlib's start-up (see `_hasher`)."""
    digest: str = _hash(data).hexdigest()
    return digest


def _hasher() -> Callable[[bytes | memoryview], Any]:
    """hashlib.sha256 without hashlib's start-up (it loads OpenSSL) where CPython has its
    own module."""
    for module in ("_sha2", "_sha256"):
        try:
            return __import__(module).sha256  # type: ignore[no-any-return]
        except (ImportError, AttributeError):
            continue
    import hashlib

    return hashlib.sha256


_hash = _hasher()


# ---------------------------------------------------------------------------
# Reading an entry: magic, header length, header (marshal), the model (pickle)


def _read_entry(entry: str, identity: str) -> Topology | None:
    data = _own_file(entry)
    if data is None or not data.startswith(_MAGIC):
        return None
    try:
        return _decode(memoryview(data)[len(_MAGIC) :], identity)
    except Exception:  # a corrupt or foreign entry, whatever it breaks: loaded afresh
        return None


def _own_file(entry: str) -> bytes | None:
    """The entry's bytes when it is a regular file of this user that no one else may
    write; None otherwise."""
    try:
        fd = os.open(entry, _OPEN_FLAGS)
    except OSError:
        return None
    try:
        status = os.fstat(fd)
        owner = os.getuid() if hasattr(os, "getuid") else status.st_uid
        if not stat.S_ISREG(status.st_mode) or status.st_uid != owner or status.st_mode & 0o022:
            return None
        return _read_all(fd, status.st_size)
    except OSError:
        return None
    finally:
        os.close(fd)


def _read_all(fd: int, size: int) -> bytes:
    chunks: list[bytes] = []
    while True:
        chunk = os.read(fd, max(size, 1 << 16))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


def _decode(data: memoryview, identity: str) -> Topology | None:
    found = _holds(data, identity)
    if found is None:
        return None
    model, pickled = found
    return _unpickle(pickled) if sha256(pickled) == model else None


def _holds(data: memoryview, identity: str) -> tuple[str, memoryview] | None:
    """(the model's SHA-256, the pickled model) when the header matches `identity` and every
    file the entry read is unchanged; else None."""
    import marshal

    size = int.from_bytes(data[:_SIZE_BYTES], "little")
    stored, files, model = marshal.loads(data[_SIZE_BYTES : _SIZE_BYTES + size])
    if stored != identity or not files:
        return None
    for name, digest in files:
        if sha256(safe_read(name)) != digest:
            return None
    return model, data[_SIZE_BYTES + size :]


def _unpickle(data: memoryview) -> Topology | None:
    try:
        from _pickle import loads  # pickle itself imports a dozen modules more
    except ImportError:  # pragma: no cover - CPython has it
        from pickle import loads
    from portplan.model import Topology

    with paused():  # tens of thousands of records, none in a cycle (portplan.collector)
        topology = loads(data)
    return topology if isinstance(topology, Topology) else None


# ---------------------------------------------------------------------------
# Writing an entry


def _write_entry(
    entry: str, identity: str, reads: Sequence[tuple[str, bytes]], topology: Topology
) -> None:
    """Write the entry whole or not at all; any failure leaves the cache as it was."""
    _write_whole(entry, lambda: _encode(identity, reads, topology))


def read_beside(entry: str, suffix: str) -> bytes | None:
    """The bytes of the file kept beside `entry` (`entry` with `suffix` for ".pickle"),
    when it is a regular file of this user that no one else may write; else None."""
    return _own_file(_beside(entry, suffix))


def write_beside(entry: str, suffix: str, data: bytes) -> None:
    """Keep `data` beside `entry`, written whole or not at all (no error when it cannot be)."""
    _write_whole(_beside(entry, suffix), lambda: data)


def _beside(entry: str, suffix: str) -> str:
    return entry.removesuffix(".pickle") + suffix


def _write_whole(path: str, data: Callable[[], bytes]) -> None:
    temporary = f"{path}.{os.getpid()}.tmp"
    try:
        content = data()
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        fd = os.open(temporary, _WRITE_FLAGS, 0o600)
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
        os.replace(temporary, path)
    except Exception:  # a full disk, a read-only home, a model pickle cannot hold
        _remove(temporary)


def _remove(path: str) -> None:
    import contextlib  # not at the top: a few ms of every start-up, for the rare failure

    with contextlib.suppress(OSError):
        os.unlink(path)


def _encode(identity: str, reads: Sequence[tuple[str, bytes]], topology: Topology) -> bytes:
    import marshal

    files = tuple((name, sha256(data)) for name, data in reads)
    pickled = _pickled(topology)
    header = marshal.dumps((identity, files, sha256(pickled)))
    return b"".join([_MAGIC, len(header).to_bytes(_SIZE_BYTES, "little"), header, pickled])


def _pickled(topology: Topology) -> bytes:
    """The model pickled with each record rebuilt by its own constructor (`_Pickler`)."""
    import io

    buffer = io.BytesIO()
    _pickler()(buffer).dump(topology)
    return buffer.getvalue()


def _pickler() -> Callable[[io.BytesIO], pickle.Pickler]:
    import pickle
    from dataclasses import fields, is_dataclass

    class _Pickler(pickle.Pickler):
        """Pickles a frozen dataclass whose fields are all parameters (the model's records,
        the marks of a health check's `expect`) as a call of its constructor: by default
        each is rebuilt by setting its fields one by one in Python, a third slower to load."""

        def __init__(self, file: io.BytesIO) -> None:
            super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
            self._fields: dict[type, tuple[str, ...] | None] = {}

        def reducer_override(self, obj: Any) -> Any:
            kind = type(obj)
            if kind not in self._fields:
                plain = is_dataclass(kind) and not hasattr(kind, "__post_init__")
                params = fields(kind) if plain else ()
                usable = params and all(item.init and item.kw_only is not True for item in params)
                self._fields[kind] = tuple(item.name for item in params) if usable else None
            names = self._fields[kind]
            if names is None:
                return NotImplemented
            return kind, tuple([getattr(obj, name) for name in names])

    return _Pickler
