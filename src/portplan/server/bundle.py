"""A plan with the files it includes, as the registry stores it: one unit, pushed, checked
by the same loader as `check`, and pulled back file by file.

Every file is named by its path under the plan's folder (`portplan.yaml` for the plan,
`services/db.yaml`...): relative, `/` between names, no `.` or `..`, so that no include
reaches a file outside the folder, on the pusher's machine or on the server. Standard
library and portplan's YAML reader only: the clients use it too.
"""

from __future__ import annotations

import hashlib
import posixpath
import tempfile
from collections.abc import Callable
from dataclasses import fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from portplan.errors import InputError
from portplan.model import Topology

PLAN_FILE = "portplan.yaml"
MAX_FILES = 100
MAX_PATH = 300
MAX_NAME = 255  # a file name's limit on the usual file systems
MAX_TOTAL_CHARS = 8_000_000
OUTSIDE = "is outside the plan's folder; the registry keeps only the files under it"

Files = tuple[tuple[str, str], ...]  # (path under the plan's folder, text), sorted by path
# (path under the plan's folder, name as given, including file as shown, line, column)
#   -> (text, the file as shown)
Reader = Callable[[str, str, str, int, int], tuple[str, str]]


def includes_of(text: str, shown: str) -> list[tuple[str, int, int]]:
    """The `include:` entries of a plan file: (name, line, column)."""
    from portplan.yamlio import load as yamlload
    from portplan.yamlio.tree import YMap, YSeq

    document = yamlload.load(text, shown)
    if not isinstance(document, YMap) or document.get("include") is None:
        return []
    value = document["include"]
    if isinstance(value, YSeq):
        return [(str(v), m.line, m.column) for v, m in zip(value, value.item_marks, strict=False)]
    mark = document.value_marks.get("include", document.mark)
    return [(str(value), mark.line, mark.column)]


def target(including: str, name: str) -> str | None:
    """The path under the plan's folder of `name`, included by the file at `including`;
    None when it is absolute or leaves the folder."""
    if not name or name.startswith("/") or "\\" in name or "\x00" in name:
        return None
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(including), name))
    if joined in (".", "..") or joined.startswith("../"):
        return None
    return joined


def path_problem(path: str) -> str | None:
    """What is wrong with a pushed file's path, or None."""
    if path == PLAN_FILE:
        return "is the plan itself; give it as `text`"
    if len(path) > MAX_PATH:
        return f"expected a path of at most {MAX_PATH} characters"
    if target(PLAN_FILE, path) != path:
        return "expected a relative path under the plan's folder, '/' between names, no '.' or '..'"
    if any(len(name.encode()) > MAX_NAME for name in path.split("/")):
        return f"expected names of at most {MAX_NAME} bytes between the '/'"
    return None


def walk(text: str, shown: str, read: Reader) -> dict[str, str]:
    """Every file the plan (`text`, shown as `shown`) includes, transitively: path -> text.
    `read` gives a file's text or raises a located error."""
    found: dict[str, str] = {}
    queue = [(PLAN_FILE, text, shown)]
    while queue:
        including, body, where = queue.pop()
        for name, line, column in includes_of(body, where):
            path = target(including, name)
            if path is None:
                raise InputError(where, line, column, f"include {name!r} {OUTSIDE}")
            if path == PLAN_FILE or path in found:
                continue  # a cycle: the loader names it
            content, place = read(path, name, where, line, column)
            found[path] = content
            queue.append((path, content, place))
    return found


def collect(plan: Path) -> tuple[str, Files]:
    """The plan at `plan` and every file it includes, read from disk (UTF-8)."""
    from portplan.files import UnreadableFile, safe_read

    def read(path: str, name: str, where: str, line: int, column: int) -> tuple[str, str]:
        file = plan.parent / path
        try:
            return safe_read(file).decode("utf-8"), str(file)
        except UnreadableFile as error:
            what = "names no file" if error.missing else error.what
        except UnicodeDecodeError:
            what = "is not UTF-8 text"
        raise InputError(where, line, column, f"include {name!r} {what}")

    text = safe_read(plan).decode("utf-8")
    return text, tuple(sorted(walk(text, str(plan), read).items()))


def check(text: str, files: Files) -> None:
    """The pushed files are the plan's includes, no more, no fewer, each under its folder."""
    if len(files) > MAX_FILES:
        raise InputError(PLAN_FILE, None, None, f"expected at most {MAX_FILES} included files")
    if len(text) + sum(len(t) for _, t in files) > MAX_TOTAL_CHARS:
        raise InputError(
            PLAN_FILE, None, None, f"the plan and its files exceed {MAX_TOTAL_CHARS} characters"
        )
    given = dict(files)
    for path, _ in files:
        problem = path_problem(path)
        if problem is not None:
            raise InputError(path, None, None, problem)
    if len(given) != len(files):
        raise InputError(PLAN_FILE, None, None, "a file is pushed twice")
    for path in sorted(given):
        folder = posixpath.dirname(path)
        while folder:
            if folder in given or folder == PLAN_FILE:
                raise InputError(path, None, None, f"its folder {folder!r} is a pushed file")
            folder = posixpath.dirname(folder)

    def read(path: str, name: str, where: str, line: int, column: int) -> tuple[str, str]:
        if path not in given:
            raise InputError(where, line, column, f"include {name!r}: not among the pushed files")
        return given[path], path

    unused = sorted(set(given) - set(walk(text, PLAN_FILE, read)))
    if unused:
        raise InputError(unused[0], None, None, "pushed, but the plan does not include it")


def digest(text: str, files: Files) -> str:
    """The SHA-256 of the plan alone, or of every file's path and SHA-256 in order."""
    if not files:
        return _sha(text)
    lines = "".join(f"{p}\0{_sha(t)}\n" for p, t in ((PLAN_FILE, text), *files))
    return _sha(lines)


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def load(text: str, files: Files) -> Topology:
    """The model of the plan and its files, read by the loader `check` uses (from a
    temporary folder); locations name the files by their paths under the plan's folder.
    `check(text, files)` first: no include then reaches outside the folder."""
    from portplan.plan import loader

    if not files:
        return loader.load_text(text, PLAN_FILE)
    with tempfile.TemporaryDirectory(prefix="portplan-bundle-") as folder:
        root = Path(folder)
        for path, body in ((PLAN_FILE, text), *files):
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(body.encode("utf-8"))  # line ends as pushed
        prefix = folder + "/"
        try:
            topology = loader.load(root / PLAN_FILE)
        except InputError as error:
            what = error.what.replace(prefix, "")
            raise InputError(_strip(error.file, prefix), error.line, error.column, what) from None
    relocated: Topology = _relocated(topology, prefix)
    return relocated


def _strip(text: str, prefix: str) -> str:
    return text[len(prefix) :] if text.startswith(prefix) else text


def _relocated(value: Any, prefix: str) -> Any:
    """`value` with every string that starts with `prefix` (a file's location) without it;
    what holds none is returned as it is."""
    if isinstance(value, str):
        return _strip(value, prefix)
    if is_dataclass(value) and not isinstance(value, type):
        changes = {}
        for item in fields(value):
            if item.init:
                old = getattr(value, item.name)
                new = _relocated(old, prefix)
                if new is not old:
                    changes[item.name] = new
        return replace(value, **changes) if changes else value
    if type(value) is tuple:
        items = tuple(_relocated(v, prefix) for v in value)
        return value if all(a is b for a, b in zip(items, value, strict=True)) else items
    if type(value) is dict:
        pairs = {k: _relocated(v, prefix) for k, v in value.items()}
        return value if all(pairs[k] is v for k, v in value.items()) else pairs
    return value
