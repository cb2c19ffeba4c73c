"""Plan, check and write generated artifacts: the I/O around the pure renderers.

Every artifact is planned first. `--check` compares the plan with the disk and returns a
unified diff; writing puts every changed file in a temporary file beside its target and
renames them only when all were written, so a failure half-way leaves every existing file
as it was.
"""

from __future__ import annotations

import contextlib
import difflib
import os
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portplan import atomicfile
from portplan.errors import InputError, PortplanError
from portplan.files import UnreadableFile, safe_read
from portplan.model import Topology
from portplan.plan import loader
from portplan.render import TARGETS, Artifact, Options, render
from portplan.render._diff_mask import masked
from portplan.render.docs import document, sections
from portplan.render.markers import refill

MARKERS = "markers"


class GenerateError(PortplanError):
    """A generated file could not be written; no file was changed."""


@dataclass(frozen=True, slots=True)
class Planned:
    """An artifact, where it goes and what is there now (None: missing)."""

    path: Path
    text: str
    current: str | None
    artifact: Artifact | None = None

    @property
    def state(self) -> str:
        if self.current is None:
            return "missing"
        return "fresh" if self.current == self.text else "stale"


@dataclass(frozen=True, slots=True)
class Request:
    """What to generate: targets (all when empty; `markers` alone: only the --in files)."""

    file: str | None = None
    targets: Sequence[str] = ()
    out: str = "."
    env: str | None = None
    compose: str | None = None
    markdown: Sequence[str] = ()


def plan(request: Request) -> list[Planned]:
    """Every artifact of the request with the current content of its file."""
    topology = loader.load(request.file, env=request.env)
    options = Options(
        source=request.file or os.path.relpath(topology.source),
        env=request.env,
        out=request.out,
        compose_base=_read_pair(request.compose) if request.compose else None,
    )
    artifacts = _artifacts(topology, request, options)
    out = Path(request.out)
    return [_planned(out, artifact) for artifact in artifacts]


def _artifacts(topology: Topology, request: Request, options: Options) -> list[Artifact]:
    targets = [t for t in request.targets if t != MARKERS]
    if request.targets and not targets:
        artifacts: list[Artifact] = []
    else:
        artifacts = render(topology, targets, options)
    if request.markdown:
        filled = sections(topology) | {"all": document(topology, options)}
        for name in request.markdown:
            path, text = _read_pair(name)
            artifacts.append(Artifact(path, refill(text, filled, name)))
    return artifacts


def _read_pair(name: str) -> tuple[str, str]:
    try:
        path = Path(name).resolve()
        return str(path), safe_read(path).decode("utf-8")
    except (OSError, RuntimeError):  # Python 3.11 raises RuntimeError on a loop
        raise InputError(name, None, None, "cannot read: a loop of symbolic links") from None
    except UnreadableFile as exc:
        what = exc.what if exc.what.startswith("is ") else f"cannot read: {exc.what}"
        raise InputError(name, None, None, what) from None
    except UnicodeDecodeError:
        raise InputError(name, None, None, "cannot read: expected UTF-8 text") from None


def _planned(out: Path, artifact: Artifact) -> Planned:
    path = os.path.join(out, artifact.path)  # an absolute artifact path stays as it is
    return Planned(Path(path), artifact.text, _current(path), artifact)


def _current(path: str) -> str | None:
    """The text of the file at `path`; None when there is none; "" when unreadable."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except (FileNotFoundError, NotADirectoryError):
        return None
    except OSError:
        return ""
    try:
        return _read_all(fd).decode("utf-8")
    except IsADirectoryError:
        return None
    except (OSError, UnicodeDecodeError):
        return ""
    finally:
        os.close(fd)


def _read_all(fd: int) -> bytes:
    size = os.fstat(fd).st_size
    chunks = [os.read(fd, size + 1)]
    if len(chunks[0]) <= size:  # a regular file gives less only at its end
        return chunks[0]
    while chunks[-1]:
        chunks.append(os.read(fd, 1 << 16))
    return b"".join(chunks)


def outdated(planned: Sequence[Planned]) -> list[Planned]:
    """The artifacts whose file is missing or differs."""
    return [p for p in planned if p.state != "fresh"]


def diff(planned: Sequence[Planned]) -> str:
    """A unified diff from the disk to the plan for every missing or stale file, with the
    secrets either side holds masked (`portplan.render._diff_mask`)."""
    chunks: list[str] = []
    for item in outdated(planned):
        artifact = item.artifact or Artifact(str(item.path), item.text)
        before = masked(item.current or "", str(item.path), artifact).splitlines(keepends=True)
        after = masked(item.text, str(item.path), artifact).splitlines(keepends=True)
        old = "/dev/null" if item.current is None else str(item.path)
        chunks.extend(_ended(difflib.unified_diff(before, after, old, str(item.path))))
    return "".join(chunks)


def as_dict(planned: Sequence[Planned], *, check: bool) -> dict[str, Any]:
    """The JSON document of `portplan generate --format json` (docs/json-output.md): each
    file with its state before the run (`missing`, `stale`, `fresh`) and whether it was
    written; with `check`, nothing is written and `diff` holds the masked unified diff."""
    files = [
        {"path": str(p.path), "state": p.state, "written": not check and p.state != "fresh"}
        for p in planned
    ]
    document: dict[str, Any] = {"version": 1, "command": "generate", "check": check}
    document["files"] = files
    if check:
        document["diff"] = diff(planned)
    return document


def _ended(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        yield line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"


def write(planned: Sequence[Planned]) -> list[Path]:
    """Write every missing or stale artifact atomically, all or none; return their paths."""
    changed = outdated(planned)
    temps: list[tuple[str, str]] = []
    folders: dict[str, list[str]] = {}  # folder -> the folders made for it (none: it was)
    try:
        for item in changed:
            temps.append(_write_temp(item, folders))
    except BaseException:
        _remove(temps)
        _remove_folders(folders)
        raise
    try:
        for temp, target in temps:
            atomicfile.commit(temp, target)
    finally:
        _remove(temps)
    return [item.path for item in changed]


def _write_temp(item: Planned, folders: dict[str, list[str]]) -> tuple[str, str]:
    """A temporary file beside the target holding the new text (with the target's mode and
    owner, or a new file's), and the file it replaces (`portplan.atomicfile`)."""
    path = str(item.path)
    folder = os.path.dirname(path) or "."
    if os.path.isdir(path):
        raise GenerateError(f"{path}: is a folder; cannot write a generated file there")
    try:
        if folder not in folders:
            folders[folder] = _missing(folder)
            os.makedirs(folder, exist_ok=True)
        return atomicfile.temp_beside(path, item.text.encode("utf-8"))
    except (FileExistsError, NotADirectoryError):
        raise GenerateError(
            f"{path}: cannot write: a file stands where a folder is needed"
        ) from None
    except OSError as exc:
        raise GenerateError(f"{path}: cannot write: {exc.strerror}") from None


def _remove(temps: Sequence[tuple[str, str]]) -> None:
    for temp, _ in temps:
        Path(temp).unlink(missing_ok=True)


def _missing(folder: str) -> list[str]:
    """`folder` and the folders above it that do not exist yet, deepest first."""
    missing: list[str] = []
    while folder and not os.path.lexists(folder):
        missing.append(folder)
        parent = os.path.dirname(folder)
        if parent == folder:
            break
        folder = parent
    return missing


def _remove_folders(folders: dict[str, list[str]]) -> None:
    """Take away the folders a failed write made (empty again once its temps are gone)."""
    made = sorted({f for missing in folders.values() for f in missing}, key=len, reverse=True)
    for folder in made:
        with contextlib.suppress(OSError):
            os.rmdir(folder)


__all__ = ["MARKERS", "TARGETS", "GenerateError", "Planned", "Request", "diff", "plan", "write"]
