"""Systems: the files that describe one running whole, compared with each other.

Files that share most of their service names are one system (`same_system`), whatever
ports they give them: a stale README is the same system. A compose project (its files,
overrides, env_files and included files: everything one `docker compose up` reads) is
one system, and two compose projects never are: two projects that define the same names
are alternatives (`docker-compose.postgres.yml` and `docker-compose.sqlite.yml`, or the
`withPostgres/` and `withPostgresAndWorker/` deployments), which never run together.
Every other file (documents, `.env` files read alone, Kubernetes manifests) joins the
files it shares names with, and of several compose projects it may describe, the nearest
one: in its own folder or the closest above or below it, a default-named file
(`compose.yaml`, `docker-compose.yml`) first, then by path. A document that runs
`docker compose -f FILE` names its project itself (`chosen`): it joins the project(s) of
the files it names, whether or not it shares names with them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Final

from portplan.model import normalize_name

# Shared infrastructure says nothing about which system a file describes.
INFRASTRUCTURE = frozenset(
    {"postgres", "redis", "nats", "kafka", "zookeeper", "prometheus", "grafana", "jaeger",
     "elasticsearch", "airflow", "mysql", "mongodb", "rabbitmq", "clickhouse", "gateway"}
)  # fmt: skip
DEFAULT_COMPOSE: Final = frozenset(
    {"compose.yaml", "compose.yml", "docker-compose.yaml", "docker-compose.yml"}
)


def systems(
    names: Mapping[str, set[str]],
    projects: Mapping[str, str],
    chosen: Mapping[str, set[str]] | None = None,
    defining: frozenset[str] = frozenset(),
    sealed: Mapping[str, str] | None = None,
) -> dict[str, int]:
    """file -> system number, from the service keys each file names (`names`), the
    compose project each file belongs to (`projects`: file -> the project's first file;
    files of no project, or of several, are left out) and the projects a document names
    with `docker compose -f` (`chosen`: file -> projects' first files).

    A document that shows a compose file of its own (`defining`: a README's block with
    `services:`) describes the project of its folder like a compose file there: it joins
    files in its folder or below it and a compose project in its folder or one above,
    never a sibling folder's (a collection of samples, each folder a README's project,
    whose `web` and `db` are other projects' names). A document in a folder of an
    all-in-one image (`sealed`: file -> the image's folder) describes that image, another
    deployment of the same services: it joins only files and projects in that folder."""
    sealed = sealed or {}
    own = {file: identifying(keys) for file, keys in names.items()}
    files = sorted(own)
    parent = {file: file for file in files}
    project_of = {file: projects[file] for file in files if file in projects}

    def find(file: str) -> str:
        while parent[file] != file:
            parent[file] = parent[parent[file]]
            file = parent[file]
        return file

    by_project: dict[str, str] = {}
    for file in files:  # the files of one project are one system
        if file in project_of:
            first = by_project.setdefault(project_of[file], file)
            parent[find(file)] = find(first)
    loose = [file for file in files if file not in project_of]
    # a file in a compose project's folder that shares names with it describes that one,
    # whatever other folders' files name alike (a repository of samples, each with its `web`)
    loose = _attach_beside(loose, own, project_of, find, parent, chosen or {}, sealed)
    by_name: dict[str, list[str]] = {}
    for file in loose:
        for name in own[file]:
            by_name.setdefault(name, []).append(file)
    for a in loose:
        partners = {b for name in own[a] for b in by_name[name] if b > a}
        for b in sorted(partners):
            if not _may_join(a, b, defining) or sealed.get(a) != sealed.get(b):
                continue
            if find(a) != find(b) and same_system(own[a], own[b]):
                parent[find(b)] = find(a)
    _attach(loose, own, project_of, find, parent, chosen or {}, defining, sealed)
    roots = sorted({find(file) for file in files})
    return {file: roots.index(find(file)) + 1 for file in files}


def _folder(file: str) -> str:
    return os.path.dirname(os.path.abspath(file))


def _may_join(a: str, b: str, defining: frozenset[str]) -> bool:
    """Whether two files of no project may be one system by their names: a document that
    shows a compose file of its own joins only files in its folder or below it."""
    if a in defining and not _holds(_folder(a), _folder(b)):
        return False
    return b not in defining or _holds(_folder(b), _folder(a))


def _attach(
    loose: list[str],
    own: Mapping[str, set[str]],
    project_of: Mapping[str, str],
    find: Callable[[str], str],
    parent: dict[str, str],
    chosen: Mapping[str, set[str]],
    defining: frozenset[str] = frozenset(),
    sealed: Mapping[str, str] | None = None,
) -> None:
    """Join each group of files of no project to the compose project(s) one of its files
    names (`chosen`), else to the one it is nearest to among those it shares names with."""
    seals = sealed or {}
    groups: dict[str, list[str]] = {}
    for file in loose:
        groups.setdefault(find(file), []).append(file)
    members: dict[str, list[str]] = {}
    for file, project in project_of.items():
        members.setdefault(project, []).append(file)
    for group in groups.values():
        named = sorted({p for file in group for p in chosen.get(file, ()) if p in members})
        if named:
            for project in named:
                parent[find(members[project][0])] = find(group[0])
            continue
        candidates = [
            project
            for project, files in members.items()
            if any(same_system(own[a], own[b]) for a in group for b in files)
            and all(_holds(_folder(a), _folder(project)) for a in group if a in defining)
            and all(_holds(seals[a], _folder(project)) for a in group if a in seals)
        ]
        if candidates:
            best = min(candidates, key=lambda project: _nearness(group, project))
            parent[find(group[0])] = find(members[best][0])


def _attach_beside(
    loose: list[str],
    own: Mapping[str, set[str]],
    project_of: Mapping[str, str],
    find: Callable[[str], str],
    parent: dict[str, str],
    chosen: Mapping[str, set[str]],
    sealed: Mapping[str, str],
) -> list[str]:
    """Join each file of no project to the project whose folder holds it (its own folder
    or one above) that it shares names with, the nearest such, default-named first (in
    its all-in-one image's folder, when sealed); the files left, to be grouped by name."""
    members: dict[str, list[str]] = {}
    for file, project in project_of.items():
        members.setdefault(project, []).append(file)
    left = []
    for file in loose:
        here = os.path.dirname(os.path.abspath(file))
        beside = [
            project
            for project, files in members.items()
            if _holds(os.path.dirname(os.path.abspath(project)), here)
            and (file not in sealed or _holds(sealed[file], _folder(project)))
            and any(same_system(own[file], own[b]) for b in files)
        ]
        if file in chosen or not beside:
            left.append(file)
            continue
        best = min(beside, key=lambda project: _nearness([file], project))
        parent[find(file)] = find(members[best][0])
    return left


def _holds(folder: str, inner: str) -> bool:
    """Whether `inner` is `folder` or a folder below it."""
    return inner == folder or inner.startswith(folder.rstrip(os.sep) + os.sep)


def _nearness(group: list[str], project: str) -> tuple[int, bool, str]:
    folder = os.path.dirname(os.path.abspath(project))
    far = min(distance(os.path.dirname(os.path.abspath(f)), folder) for f in group)
    return far, os.path.basename(project) not in DEFAULT_COMPOSE, project


def distance(a: str, b: str) -> int:
    """How many folders apart two folders are (up from one, then down to the other)."""
    x, y = a.split(os.sep), b.split(os.sep)
    common = next(
        (i for i, (p, q) in enumerate(zip(x, y, strict=False)) if p != q), min(len(x), len(y))
    )
    return len(x) + len(y) - 2 * common


def identifying(names: set[str]) -> set[str]:
    """The names that tell which system a file describes: shared infrastructure (postgres,
    redis) says nothing of it, unless the file names nothing else."""
    own = {name for name in names if normalize_name(name) not in INFRASTRUCTURE}
    return own or names


def same_system(a: set[str], b: set[str]) -> bool:
    """Two files are one system when the names they share are at least half the names of
    the one that names fewer: a README that lists the compose file's services is its
    system, whatever ports they give them; a report that shares 4 of its 12 names with
    another system's documents describes a system of its own."""
    shared = len(a & b)
    return shared > 0 and 2 * shared >= min(len(a), len(b))
