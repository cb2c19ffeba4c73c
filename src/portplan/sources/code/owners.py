"""Which service a code file belongs to.

Before the compose files are known (`module_owner`): the folder of the module that holds
it, the nearest folder above it with a project file (`go.mod`, `package.json`,
`pyproject.toml`, `Cargo.toml`, `pom.xml`, a `*.csproj`, a `Dockerfile`, a `Procfile`, a
`Chart.yaml`...), else its own folder (above `src`, `cmd`, `app`-like folders); a Helm
chart's values belong to the chart. With them (`settle`), in this order:

1. the service whose home holds the file: the compose `build:` context or the folder of
   the Dockerfile it builds from (the deepest home, when homes nest);
2. the service named as a folder on the file's path (the nearest), when a compose or
   Kubernetes file defines a service of that name;
3. else the module's folder, as above (reconcile matches that name with the others).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import lru_cache
from typing import Final

from portplan.model import normalize_name
from portplan.sources.base import SourceResult

MARKERS: Final = frozenset(
    {"go.mod", "package.json", "pyproject.toml", "setup.py", "setup.cfg", "requirements.txt",
     "Pipfile", "Cargo.toml", "pom.xml", "build.gradle", "build.gradle.kts", "Gemfile",
     "composer.json", "Dockerfile", "Containerfile", "Procfile", "Chart.yaml", "mix.exs"}
)  # fmt: skip
# Folders that say how code is laid out, not what it is.
LAYOUT: Final = frozenset(
    {"src", "cmd", "app", "lib", "main", "internal", "pkg", "server", "source", "sources",
     "java", "kotlin", "resources", "properties", "config", "configs", "conf", "routes",
     "api", "web", "bin", "scripts", "deploy", "deployment", "systemd", "etc"}
)  # fmt: skip
_DEFINING: Final = ("compose", "kubernetes")


@lru_cache(maxsize=4096)
def _entries(folder: str) -> frozenset[str]:
    try:
        return frozenset(os.listdir(folder))
    except OSError:
        return frozenset()


def _is_module(folder: str) -> bool:
    names = _entries(folder)
    return bool(names & MARKERS) or any(name.endswith((".csproj", ".fsproj")) for name in names)


def module_owner(path: str) -> str:
    """The name of the module folder that holds `path` (see the module's docstring)."""
    folder = os.path.dirname(os.path.abspath(path))
    here = folder
    while True:
        if _is_module(here):
            return os.path.basename(here) or here
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    while os.path.basename(folder).lower() in LAYOUT and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    return os.path.basename(folder) or folder


def settle(results: Sequence[SourceResult]) -> list[SourceResult]:
    """`results` with each code file's observations under the service it belongs to."""
    homes = _homes(results)
    defined = {
        normalize_name(service.service): service.service
        for result in results
        if result.kind in _DEFINING
        for service in result.services
    }
    settled = []
    for result in results:
        owner = _owner(result.file, homes, defined) if result.kind == "code" else None
        settled.append(_renamed(result, owner) if owner else result)
    return settled


def _homes(results: Iterable[SourceResult]) -> dict[str, str]:
    """Absolute folder -> the compose service built from it (the folder of the Dockerfile
    its `build:` names)."""
    homes: dict[str, str] = {}
    for result in results:
        if result.kind != "compose":
            continue
        for service in result.services:
            if service.build is not None:
                homes.setdefault(os.path.dirname(os.path.abspath(service.build)), service.service)
    return homes


def _owner(path: str, homes: dict[str, str], defined: dict[str, str]) -> str | None:
    folder = os.path.dirname(os.path.abspath(path))
    here = folder
    while True:
        if here in homes:
            return homes[here]
        parent = os.path.dirname(here)
        if parent == here:
            break
        here = parent
    here = folder
    while True:
        named = defined.get(normalize_name(os.path.basename(here)))
        if named is not None:
            return named
        parent = os.path.dirname(here)
        if parent == here:
            return None
        here = parent


def _renamed(result: SourceResult, owner: str) -> SourceResult:
    return replace(
        result,
        ports=[replace(port, service=owner) for port in result.ports],
        variables=[replace(variable, service=owner) for variable in result.variables],
    )
