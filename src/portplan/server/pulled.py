"""What `portplan pull` wrote beside the plan, so that the next pull can make the folder
match the new revision as `git checkout` does: a file an earlier pull wrote, that the new
revision no longer includes and that is unchanged here since, is deleted; one changed here
is never deleted, and the pull is refused before it writes anything.

The record is `.portplan.yaml.pulled.json` beside the plan (the plan's own name): each
included file's path under the plan's folder and the SHA-256 of the bytes pull wrote. A
file no pull wrote (the plan's author's own, or one pulled before the record existed) is
never deleted. Standard library only: the clients use it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from portplan.errors import InputError


def record(plan: Path) -> Path:
    return plan.parent / f".{plan.name}.pulled.json"


def stale(plan: Path, included: Mapping[str, str], revision: int) -> list[Path]:
    """The files an earlier pull wrote that revision `revision` (its included files:
    path -> text) no longer includes and that are still as that pull wrote them; an
    InputError names the first one changed here since (nothing is deleted then)."""
    found = []
    for path, sha in sorted(_read(plan).items()):
        if path in included:
            continue
        file = plan.parent / path
        data = current(file)
        if data is None:
            continue
        if hashlib.sha256(data).hexdigest() != sha:
            raise InputError(
                str(file),
                None,
                None,
                f"changed here since portplan pull wrote it, and revision {revision} no "
                "longer includes it: not deleted (move it away, or undo the change), "
                "nothing pulled",
            )
        found.append(file)
    return found


def remove(plan: Path, files: list[Path]) -> None:
    """Delete `files`, then each folder under the plan's that this leaves empty."""
    root = plan.parent.resolve()
    for file in files:
        file.unlink(missing_ok=True)
        folder = file.parent
        while folder.resolve() != root and root in folder.resolve().parents:
            try:
                folder.rmdir()
            except OSError:  # not empty (or not ours to remove): stop here
                break
            folder = folder.parent


def write(plan: Path, included: Mapping[str, str]) -> None:
    """Note the files this pull wrote (atomically), or remove the note if it wrote none."""
    from portplan.atomicfile import write_atomic

    if not included:
        record(plan).unlink(missing_ok=True)
        return
    files = {p: hashlib.sha256(t.encode()).hexdigest() for p, t in sorted(included.items())}
    write_atomic(record(plan), json.dumps({"version": 1, "files": files}, indent=1) + "\n")


def _read(plan: Path) -> dict[str, str]:
    """The files the last pull wrote: path -> SHA-256 (none when there is no readable
    record; a path that would leave the plan's folder is not ours, ignored)."""
    from portplan.server.bundle import path_problem

    data = current(record(plan))
    try:
        files = json.loads(data or b"{}").get("files", {})
    except (ValueError, AttributeError):
        return {}
    if not isinstance(files, dict):
        return {}
    return {
        p: s
        for p, s in files.items()
        if isinstance(p, str) and isinstance(s, str) and path_problem(p) is None
    }


def current(path: Path) -> bytes | None:
    """The file's bytes, or None when there is none (or it is no regular file)."""
    from portplan.files import UnreadableFile, safe_read

    if not os.path.lexists(path):
        return None
    try:
        return safe_read(path)
    except UnreadableFile as exc:
        if exc.missing:
            return None
        raise
