"""Ports stated in code and application config: one reader module per language or format.

`FORMATS` is the table: which files are which format (by name), and the module that reads
them (`read(path, text) -> list[Listen]`), imported only when a file of its format is read.
`portplan.sources.code.files` chooses the files (skipping tests, vendored and generated
folders and what `.gitignore` ignores) and makes their observations; `owners` settles which
service each file belongs to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Format:
    """A language or config format: its files' names, and its reader module."""

    name: str
    pattern: re.Pattern[str]  # full match of the file's name
    module: str  # under portplan.sources.code
    gate: bool = True  # read only when the text mentions a port word (`code.files.GATE`)


FORMATS: Final = (
    Format("python", re.compile(r".*\.py"), "python"),
    Format("go", re.compile(r".*\.go"), "golang"),
    Format("node", re.compile(r".*\.[cm]?[jt]s"), "node"),
    Format("rust", re.compile(r".*\.rs"), "rust"),
    Format(
        "spring",
        re.compile(r"(?:application|bootstrap)(?:-[\w.-]+)?\.(?:ya?ml|properties)"),
        "spring",
        gate=False,
    ),
    Format("aspnet", re.compile(r".*\.cs"), "aspnet"),
    Format(  # every setting may be an address (`PurchaseUrl`): no port word to look for
        "aspnet-settings",
        re.compile(r"launchSettings\.json|appsettings(?:\.[\w-]+)?\.json"),
        "aspnet",
        gate=False,
    ),
    Format("procfile", re.compile(r"Procfile(?:\.[\w-]+)?"), "procfile", gate=False),
    Format("systemd", re.compile(r"[\w@.-]+\.(?:service|socket)"), "systemd", gate=False),
    Format("helm", re.compile(r"values(?:[.-][\w.-]+)?\.ya?ml"), "helm", gate=False),
)


# The extensions of the source formats (a quick "no" for most files of a tree).
_SOURCE_SUFFIXES: Final = frozenset(
    {"py", "go", "js", "mjs", "cjs", "ts", "mts", "cts", "rs", "cs"}
)
_CONFIG: Final = re.compile(r"(?:application|bootstrap|appsettings|launchSettings|values|Procfile)")


def format_of(name: str) -> Format | None:
    """The format of a file named `name`, None when it is of none."""
    suffix = name.rpartition(".")[2]
    if suffix not in _SOURCE_SUFFIXES and not (
        suffix in ("service", "socket") or _CONFIG.match(name)
    ):
        return None
    for found in FORMATS:
        if found.pattern.fullmatch(name):
            return found
    return None
