"""The module a code file is part of, before the compose files are known: the nearest
folder above it with a project file (`go.mod`, `package.json`, `pyproject.toml`,
`Cargo.toml`, `pom.xml`, a `*.csproj`, a `Dockerfile`, a `Procfile`, a `Chart.yaml`...), else
its own folder (above `src`, `cmd`, `app`-like folders); its name is the service the file's
observations name until `owners.settle` says better."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Final

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
