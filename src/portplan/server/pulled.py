"""What `portplan pull` wrote beside the plan, so that the next pull can make the folder
match the new revision as `git checkout` does: a file an earlier pull wrote, that the new
revision no longer includes and that is unchanged here since, is deleted; one changed here
since is neither deleted nor overwritten by a revision that changes it: the pull is
refused before it writes anything.

The record is `.portplan.yaml.pulled.json` beside the plan (the plan's own name): the
SHA-256 of the bytes pull wrote, of the plan (as `portplan.yaml`) and of each included
file by its path under the plan's folder. A file no pull wrote (the plan's author's own,
or one pulled before the record existed) is never deleted. Standard library and
portplan's YAML reader only: the clients use it.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path

from portplan.errors import InputError
from portplan.server.bundle import PLAN_FILE, path_problem


def record(plan: Path) -> Path:
    return plan.parent / f".{plan.name}.pulled.json"


def stale(plan: Path, text: str, included: Mapping[str, str], revision: int) -> list[Path]:
    """The files an earlier pull wrote that revision `revision` (the plan's `text`, its
    included files: path -> text) no longer includes and that are still as that pull
    wrote them. An InputError names the first file changed here since that the revision
    would delete or change (nothing is written then: its change would be lost)."""
    found = []
    wrote = _read(plan)
    for path, sha in sorted(wrote.items()):
        file = plan if path == PLAN_FILE else plan.parent / path
        data = current(file)
        if data is None or hashlib.sha256(data).hexdigest() == sha:
            if data is not None and path != PLAN_FILE and path not in included:
                found.append(file)
            continue
        new = text if path == PLAN_FILE else included.get(path)
        if new is None:
            what = "no longer includes it: not deleted"
        elif data != new.encode():
            what = "changes it too: not overwritten"
        else:
            continue  # changed here as the revision changes it
        raise InputError(
            str(file),
            None,
            None,
            f"changed here since portplan pull wrote it, and revision {revision} {what} "
            "(move it away, or undo the change), nothing pulled",
        )
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


def write(plan: Path, text: str, included: Mapping[str, str]) -> None:
    """Note what this pull wrote (atomically): the plan and each file it includes."""
    from portplan.atomicfile import write_atomic

    texts = {PLAN_FILE: text, **included}
    files = {p: hashlib.sha256(t.encode()).hexdigest() for p, t in sorted(texts.items())}
    write_atomic(record(plan), json.dumps({"version": 1, "files": files}, indent=1) + "\n")


def _read(plan: Path) -> dict[str, str]:
    """The files the last pull wrote: path -> SHA-256 (none when there is no readable
    record; a path that would leave the plan's folder is not ours, ignored)."""
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
        if isinstance(p, str) and isinstance(s, str) and (p == PLAN_FILE or path_problem(p) is None)
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
