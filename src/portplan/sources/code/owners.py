"""Which service a code file belongs to.

Before the compose files are known, the folder of the module that holds it
(`modules.module_owner`; a Helm chart's values belong to the chart). With them (`settle`),
in this order:

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

from portplan.model import normalize_name
from portplan.sources.base import SourceResult

_DEFINING = ("compose", "kubernetes")


def settle(results: Sequence[SourceResult]) -> list[SourceResult]:
    """`results` with each code file's observations under the service it belongs to, and
    what the images compose builds say of their programs' ports (`image.image_results`)."""
    from portplan.sources.code.aspnet import in_containers
    from portplan.sources.code.image import image_results

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
    settled = in_containers(settled)
    return settled + image_results(r for r in results if r.kind == "compose")


def _homes(results: Iterable[SourceResult]) -> dict[str, str]:
    """Absolute folder -> the compose service built from it (the folder of the Dockerfile
    its `build:` names). Of several services built from one folder (a web server and its
    worker), the one compose publishes ports for; when none or several do, the folder is
    no one's home."""
    built: dict[str, list[str]] = {}
    published: set[str] = set()
    for result in results:
        if result.kind != "compose":
            continue
        published.update(port.service for port in result.ports if port.published)
        for service in result.services:
            if service.build is not None:
                folder = os.path.dirname(os.path.abspath(service.build))
                built.setdefault(folder, []).append(service.service)
    homes: dict[str, str] = {}
    for folder, services in built.items():
        names = list(dict.fromkeys(services))
        serving = [name for name in names if name in published] if len(names) > 1 else names
        if len(serving) == 1:
            homes[folder] = serving[0]
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
        ports=[
            replace(port, owner=owner) if port.reference else replace(port, service=owner)
            for port in result.ports
        ],
        variables=[replace(variable, service=owner) for variable in result.variables],
    )
