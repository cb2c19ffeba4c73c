"""Replace a set of files all or none, even when the process is killed half-way.

`commit` is the second half of a set of `atomicfile.temp_beside` writes. It first writes a
journal, `.portplan-generate.journal` in the set's folder (atomically, flushed to disk),
listing every temporary file and the file it replaces; then it renames them one by one and
removes the journal. A run killed before the journal exists leaves every file as it was
(its temporary files are removed by the next run); a run killed after it leaves the
journal, and the next run (`recover`) finishes the renames first: the set is all old or
all new. The set's folder is locked (`flock`) while a set is staged and switched, so two
runs do not interleave.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence

from portplan.atomicfile import (
    FOLDER_FLAGS,
    OutputError,
    interrupts_held,
    is_temporary,
    remove_leftovers,
    take_lock,
    temp_beside,
    write_error,
)

JOURNAL = ".portplan-generate.journal"


@contextlib.contextmanager
def folder_lock(folder: str) -> Iterator[None]:
    """Hold an exclusive lock on `folder` (nothing when it does not exist yet)."""
    try:
        fd = os.open(folder, FOLDER_FLAGS)
    except OSError:
        yield
        return
    try:
        take_lock(fd, wait=True)
        yield
    finally:
        os.close(fd)


def recover(folder: str) -> list[str]:
    """Finish the set an interrupted run left in `folder` (its journal): rename the
    temporary files it lists that are still there; the files renamed."""
    path = os.path.join(folder, JOURNAL)
    remove_leftovers(folder, {JOURNAL})
    try:
        with open(path, encoding="utf-8") as handle:
            pairs = json.load(handle)
    except FileNotFoundError:
        return []
    except (OSError, ValueError):
        pairs = []  # never a half-written journal (it is renamed in): not ours, ignored
    done = []
    for temp, target in _valid(pairs):
        if os.path.lexists(temp):
            try:
                os.replace(temp, target)
            except OSError as exc:
                raise write_error(target, exc) from None
            done.append(target)
    _sync(folder)
    os.unlink(path)
    return done


def commit(folder: str, pairs: Sequence[tuple[str, str]]) -> None:
    """Rename every temporary file over its target, all or none (see the module)."""
    if not pairs:
        return
    with interrupts_held():  # ^C or SIGTERM mid-way would leave the set half-switched
        _switch(folder, pairs)


def _switch(folder: str, pairs: Sequence[tuple[str, str]]) -> None:
    journal = os.path.join(folder, JOURNAL)
    text = json.dumps([[temp, target] for temp, target in pairs], indent=0)
    temp, _ = temp_beside(journal, text.encode("utf-8"))
    try:
        with open(temp, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temp, journal)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise write_error(journal, exc) from None
    _sync(folder)
    for staged, target in pairs:
        try:
            os.replace(staged, target)
        except OSError as exc:
            # the journal stays: the next run finishes the set
            raise OutputError(target, f"cannot write: {exc.strerror}; run again") from None
    for changed in {os.path.dirname(target) or "." for _, target in pairs}:
        _sync(changed)
    os.unlink(journal)


def _valid(pairs: object) -> Iterator[tuple[str, str]]:
    """The journal's entries that are what `commit` writes: a temporary file of portplan's
    beside the file it replaces (anything else in a journal is ignored)."""
    if not isinstance(pairs, list):
        return
    for pair in pairs:
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        ):
            continue
        temp, target = pair
        name = os.path.basename(temp)
        same_folder = os.path.dirname(temp) == os.path.dirname(target)
        if same_folder and is_temporary(name) and name.startswith(f".{os.path.basename(target)}."):
            yield temp, target


def _sync(folder: str) -> None:
    """Flush a folder's entries (its renames) to disk, where the system allows it."""
    try:
        fd = os.open(folder, FOLDER_FLAGS)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["JOURNAL", "commit", "folder_lock", "recover"]
