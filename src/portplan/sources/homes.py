"""Which service a Dockerfile, a proxy config or a monitoring config belongs to.

Such a file says nothing of its service's name: its reader names the folder it is in
(`SourceResult.owner`). The compose files read with it say better:

- a Dockerfile belongs to the service whose `build:` builds from it (its `context` and
  `dockerfile`, default `Dockerfile`; a context that is not there, as a program that runs
  compose from another folder writes it, with a `Dockerfile.x` of that name beside the
  compose file: that one); of several services built from one Dockerfile, to the
  one that publishes or exposes ports (when several do, it states the ports of none: which
  one it describes cannot be told). A service built to a `target:` stage has that stage's
  ports; services built to different targets of one Dockerfile each have their own.
  Another Dockerfile in the folder of a build's Dockerfile (`Dockerfile-for-app-service`
  beside `Dockerfile`) is an alternative the project does not build: it states nothing.
- a config file belongs to the service that bind-mounts it (`./nginx.conf:/etc/nginx/...`),
  or the nearest folder inside the project holding it (`./prometheus:/etc/prometheus`;
  not the whole project, `.:/app`, nor a host folder, `/:/hostfs`), when one service does;
  else to the services whose image copies it (`COPY`/`ADD` in the stages it is built
  from, a `--from` stage's path matched by its last folders: a root `prod.Dockerfile`'s
  `backend` stage copying `packages/backend/backend.Caddyfile`; of several, those with
  ports); else to the service whose Dockerfile's folder holds it (`proxy/nginx.conf` beside
  `proxy/Dockerfile`: copied into the image), unless that is the compose file's own folder.

A Dockerfile no compose file builds keeps its folder's name (a Kubernetes workload is often
named as the folder of its Dockerfile). A config file no service mounts or builds from keeps
only its references (from its product: `nginx`, `prometheus`): the ports it listens on
belong to no service anyone can name.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from portplan.sources.base import SourceResult
from portplan.sources.dockerfile import copied, read_dockerfile

_DOCKERFILE = "dockerfile"


@dataclass
class _Homes:
    builds: dict[str, list[str]] = field(default_factory=dict)  # Dockerfile -> its services
    with_ports: set[str] = field(default_factory=set)  # services a compose file gives ports
    folders: dict[str, set[str]] = field(default_factory=dict)  # builds' folders -> services
    mounts: dict[str, set[str]] = field(default_factory=dict)  # host path -> its services
    projects: set[str] = field(default_factory=set)  # the folders of the compose files
    targets: dict[str, dict[str, str | None]] = field(default_factory=dict)  # Dockerfile ->
    # service -> the stage its `build: {target:}` builds (None: the last)
    # a file's path as the Dockerfiles COPY it -> (service, Dockerfile's folder, project)
    copies: dict[tuple[str, ...], set[tuple[str, str, str]]] = field(default_factory=dict)

    def add(self, result: SourceResult) -> None:
        project = os.path.dirname(os.path.abspath(result.file))
        self.projects.add(project)
        self.with_ports.update(port.service for port in result.ports)
        for service in result.services:
            if service.build:
                dockerfile = _built_from(os.path.abspath(service.build), project)
                self.builds.setdefault(dockerfile, []).append(service.service)
                self.targets.setdefault(dockerfile, {})[service.service] = service.build_target
                self.folders.setdefault(os.path.dirname(dockerfile), set()).add(service.service)
                self._copies(service.service, dockerfile, service.build_target, project)
            for mount in map(os.path.abspath, service.mounts):
                if _config_mount(mount, project):
                    self.mounts.setdefault(mount, set()).add(service.service)

    def _copies(self, service: str, dockerfile: str, target: str | None, project: str) -> None:
        for source in copied(dockerfile, target):
            parts = tuple(part for part in source.split("/") if part not in ("", "."))
            if parts and "*" not in source and ".." not in parts:
                home = (service, os.path.dirname(dockerfile), project)
                # a path in another stage's image (`/usr/src/app/packages/...`): its end
                key = ("/", *parts) if source.startswith("/") else parts
                self.copies.setdefault(key, set()).add(home)

    def copied_by(self, path: str) -> set[str]:
        """The services whose image copies the file at `path`: a source of several folders
        (`packages/web/web.Caddyfile`, as a `--from` stage's path ends) anywhere, a bare
        name (`nginx.conf`) in the Dockerfile's or the compose file's folder."""
        found: set[str] = set()
        mine, folder = tuple(path.split(os.sep)), os.path.dirname(path)
        for parts, homes in self.copies.items():
            if parts[0] == "/":  # matched by its last folders and name
                parts = parts[-3:] if len(parts) > 3 else ()
            if not parts or mine[-len(parts) :] != parts:
                continue
            found |= {s for s, built, top in homes if len(parts) > 1 or folder in (built, top)}
        return found

    def owners(self, result: SourceResult) -> list[str] | None:
        """The services `result`'s file belongs to; None: no compose file says."""
        path = os.path.abspath(result.file)
        if result.kind == _DOCKERFILE:
            built = list(dict.fromkeys(self.builds.get(path, ())))
            if built:
                serving = [name for name in built if name in self.with_ports]
                return serving or built
            return [] if os.path.dirname(path) in self.folders else None
        # a build of the project's own folder (`build: .`) holds every file of the tree
        homes = {f: names for f, names in self.folders.items() if f not in self.projects}
        copied = _serving(self.copied_by(path), self.with_ports)
        found = _nearest(path, self.mounts) or copied or _nearest(path, homes)
        return sorted(found) if found else None

    def staged(self, result: SourceResult, owners: list[str]) -> list[SourceResult]:
        """A Dockerfile built to a `target:` stage says what that stage's image says: one
        result per service when the services built from it build different stages (`api`
        and `worker` targets of one file); [] when each builds the last stage."""
        if result.kind != _DOCKERFILE:
            return []
        targets = self.targets.get(os.path.abspath(result.file), {})
        if len(set(targets.values())) > 1:
            names = list(targets)
        elif len(owners) == 1 and targets.get(owners[0]) is not None:
            names = owners
        else:
            return []
        return [_renamed(read_dockerfile(result.file, targets[n]), n) for n in names]


def _built_from(dockerfile: str, project: str) -> str:
    """The Dockerfile a build names; when its context is not there (relative to where a
    program runs compose: `context: example/compose/web` from a suites folder), a Dockerfile
    of that name of its own (`Dockerfile.frontend`, not the default) beside the compose file."""
    name = os.path.basename(dockerfile)
    beside = os.path.join(project, name)
    if name != "Dockerfile" and not os.path.exists(dockerfile) and os.path.isfile(beside):
        return beside
    return dockerfile


def _serving(services: set[str], with_ports: set[str]) -> set[str]:
    """Of several services, those a compose file gives ports (all when none has any)."""
    return {name for name in services if name in with_ports} or services


def _config_mount(mount: str, project: str) -> bool:
    """Whether a bind mount may carry a service's configuration: a file, or a folder inside
    the project's folder (not the whole project, `.:/app`, nor a host folder, `/:/hostfs`)."""
    if os.path.isfile(mount):
        return True
    return mount.startswith(project.rstrip(os.sep) + os.sep)


def _nearest(path: str, places: dict[str, set[str]]) -> set[str] | None:
    """The services of the nearest of `places` that is `path` or a folder holding it
    (`./prometheus.yml` over `/`, a node exporter's)."""
    holding = [p for p in places if path == p or path.startswith(p.rstrip(os.sep) + os.sep)]
    return places[max(holding, key=len)] if holding else None


def settle_owners(results: Sequence[SourceResult]) -> list[SourceResult]:
    """`results` with each owned file's observations under the service it belongs to."""
    homes = _Homes()
    for result in results:
        if result.kind == "compose":
            homes.add(result)
    settled: list[SourceResult] = []
    for result in results:
        if result.owner is None:
            settled.append(result)
            continue
        owners = homes.owners(result)
        staged = homes.staged(result, owners or [])
        if staged:
            settled.extend(staged)
        elif owners is None:
            settled.append(result if result.kind == _DOCKERFILE else _references_only(result))
        elif len(owners) == 1:
            settled.append(_renamed(result, owners[0]))
        else:
            settled.append(_silenced(result))
    return settled


def _renamed(result: SourceResult, owner: str) -> SourceResult:
    """`result` with what it says of its folder's service said of `owner` (a reference's
    `owner` too: the service whose configuration makes it)."""
    old = result.owner

    def name(service: str | None) -> str | None:
        return owner if service == old else service

    return replace(
        result,
        owner=owner,
        services=[replace(o, service=owner) if o.service == old else o for o in result.services],
        ports=[
            replace(o, service=name(o.service) or owner, owner=name(o.owner)) for o in result.ports
        ],
        dependencies=[replace(o, service=name(o.service) or owner) for o in result.dependencies],
        variables=[replace(o, service=name(o.service)) for o in result.variables],
        mismatches=[replace(o, service=name(o.service) or owner) for o in result.mismatches],
    )


def _references_only(result: SourceResult) -> SourceResult:
    """A config file no service mounts or builds from: the addresses it reaches still say
    something, the ports it listens on belong to no service anyone can name."""
    return replace(result, ports=[port for port in result.ports if port.reference])


def _silenced(result: SourceResult) -> SourceResult:
    """`result` stating nothing: the file is an alternative no service is built from, or
    belongs to several services at once."""
    return replace(result, services=[], ports=[], dependencies=[], variables=[], mismatches=[])
