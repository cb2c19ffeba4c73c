"""What `portplan import` takes from the sources, before any vote.

- An example file's observations (`.env.example`) are left out when its real file
  (`.env`) is read: the real file says what runs (`sources.base.without_templates`).
- A file that could not be read or parsed is not imported from (its header line says so):
  what it half says cannot be trusted. A compose file with a missing env_file or an unset
  `${VAR?}` is imported from without what these would give (a warning line says so).
- Compose service names belong to their project (its directory: compose's default project
  name): one name defined by the compose files of several directories is several services,
  each called `<project>-<name>` (the project's `name:` when its compose files set one,
  else its directory's name; and so are the names the other files of that directory give
  it), with a note; nothing of either is merged into the other. So is a name Kubernetes
  files define in several namespaces: `<namespace>-<name>` each (`staging-api`, `prod-api`).
- A name a source gives only by a URL's scheme (`postgres` of `postgres://...`) is the one
  service of that product its compose project (else the whole tree) defines, by image or
  name: the database `db` with `image: postgres:16`.
- A compose port with no host port (`"80"`, `":80"`, `"${APP_PORT}:80"` with APP_PORT
  unset) is published on a random host port: no host port is fixed, so its container port
  is imported, unpublished, with its exposure and a note.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from portplan.findings import Level
from portplan.importer.products import product_of, product_of_name
from portplan.model import Location
from portplan.names import SCHEME_SERVICES
from portplan.reconcile.names import base_key
from portplan.reconcile.projects import (
    apart_namespaces,
    compose_names,
    directory,
    names_in,
    namespaced,
    prefixes,
    project_of,
    renamed,
)
from portplan.report import joined
from portplan.sources.base import PortObservation, SourceResult, without_templates

COMPOSE = "compose"
DEFINING = ("compose", "kubernetes")  # kinds of file whose service names are identifiers
# The names sources give a service by a URL's scheme or a variable's prefix (postgres).
_BY_SCHEME = frozenset(base_key(name) for name in SCHEME_SERVICES.values())
# Words that name a system's database, whatever its product (DB_PORT, DATABASE_PORT).
_DATABASE_WORDS = frozenset({"db", "database"})
_DATABASES = frozenset({"postgres", "mysql", "mariadb", "mongo"})


@dataclass
class Prepared:
    """The results import reads, those it does not (they could not be read), and the
    notes (by the service's name as the results spell it) the preparation leaves."""

    results: list[SourceResult]
    unread: list[SourceResult]
    notes: dict[str, list[str]] = field(default_factory=dict)

    def note(self, service: str, text: str) -> None:
        found = self.notes.setdefault(base_key(service), [])
        if text not in found:
            found.append(text)


def prepare(results: Sequence[SourceResult]) -> Prepared:
    results = _not_included(without_templates(results))
    prepared = Prepared(
        [result for result in results if not unusable(result)],
        [result for result in results if unusable(result)],
    )
    _by_project(prepared)
    _by_port_variable(prepared)
    _by_namespace(prepared)
    _by_product(prepared)
    _random_host_ports(prepared)
    return prepared


def _not_included(results: list[SourceResult]) -> list[SourceResult]:
    """The results without the compose projects another project includes (each is also a
    project of its own for reconcile): their services are imported once, as the including
    project's."""
    included = {os.path.abspath(p) for r in results if r.kind == COMPOSE for p in r.includes}
    return [r for r in results if r.kind != COMPOSE or os.path.abspath(r.file) not in included]


def unusable(result: SourceResult) -> bool:
    """Whether a file failed to be read or parsed, or was left unread on purpose (a note):
    anything but a warning (a missing env_file), after which the rest of it is read."""
    return any(error.level is not Level.WARNING for error in result.errors)


# --- compose projects ---------------------------------------------------------------------


def _by_project(prepared: Prepared) -> None:
    """One name defined in the compose files of several directories: a service each."""
    homes: dict[str, dict[str, str]] = {}  # name key -> project directory -> name
    for result in prepared.results:
        if result.kind == COMPOSE:
            home = directory(result.file)
            for service in result.services:
                homes.setdefault(base_key(service.service), {})[home] = service.service
    shared = {key: found for key, found in homes.items() if len(found) > 1}
    if not shared:
        return
    projects = {home for found in shared.values() for home in found}
    named = prefixes(projects, compose_names(prepared.results))
    first = _first_definitions(prepared.results)
    for index, result in enumerate(prepared.results):
        project = project_of(result, projects)
        if project is not None:
            names = {
                key: f"{named[project]}-{found[project]}"
                for key, found in shared.items()
                if project in found
            }
            prepared.results[index] = renamed(result, names)
    for key, found in shared.items():
        for home, name in found.items():
            where = first.get((home, key))
            at = f" ({where})" if where else ""
            others = sorted((named[h], f"{named[h]}-{found[h]}") for h in found if h != home)
            prepared.note(
                f"{named[home]}-{name}",
                f"note: this is the {name} of the compose project in {_shown_dir(home)}{at}; "
                + _their_own(name, others),
            )


def _their_own(name: str, others: list[tuple[str, str]], what: str = "compose project") -> str:
    """Who else defines `name`: `the compose project auth has its own app: auth-app`, or
    `the compose projects auth and search each have their own app: auth-app and search-app`."""
    if len(others) == 1:
        project, service = others[0]
        return f"the {what} {project} has its own {name}: {service}"
    projects = joined([project for project, _ in others])
    services = joined([service for _, service in others])
    return f"the {what}s {projects} each have their own {name}: {services}"


def _shown_dir(home: str) -> str:
    relative = os.path.relpath(home)
    return home if relative.startswith("..") else relative


def _first_definitions(results: list[SourceResult]) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for result in results:
        if result.kind == COMPOSE:
            for service in result.services:
                where = Location(service.location.file, service.location.line)
                found.setdefault((directory(result.file), base_key(service.service)), str(where))
    return found


# --- host port variables ------------------------------------------------------------------


def _by_port_variable(prepared: Prepared) -> None:
    """A port variable a compose mapping takes its host port from (`$ROUTER_EXTERNAL_PORT:8080`
    of `router`) is that service's port wherever a file of its folder sets it (the `.env`
    compose reads, an `.env.example`, a README's env block, the service's own `environment:`
    entry of it), whatever its words say: not a service `router-external`. A variable two
    services publish from names neither."""
    owners: dict[tuple[str, str], set[str]] = {}
    for result in prepared.results:
        if result.kind == COMPOSE:
            for port in result.ports:
                if port.published_variable:
                    at = (directory(result.file), port.published_variable)
                    owners.setdefault(at, set()).add(port.service)
    if not owners:
        return
    for index, result in enumerate(prepared.results):
        home = directory(result.file)
        ports = [
            _owned(port, owners.get((home, port.variable or ""), set())) for port in result.ports
        ]
        if ports != result.ports:
            prepared.results[index] = replace(result, ports=ports)


def _owned(port: PortObservation, owners: set[str]) -> PortObservation:
    if port.reference or len(owners) != 1:
        return port
    return replace(port, service=next(iter(owners)))


# --- Kubernetes namespaces ---------------------------------------------------------------


def _by_namespace(prepared: Prepared) -> None:
    """One name defined in several Kubernetes namespaces: a service each,
    `<namespace>-<name>`, with a note."""
    shared = namespaced(prepared.results)
    prepared.results[:] = apart_namespaces(prepared.results)
    for spaces in shared.values():
        for space, service in spaces.items():
            where = Location(service.location.file, service.location.line)
            others = sorted((s, f"{s}-{o.service}") for s, o in spaces.items() if s != space)
            prepared.note(
                f"{space}-{service.service}",
                f"note: this is the {service.service} of the Kubernetes namespace {space} "
                f"({where}); " + _their_own(service.service, others, "namespace"),
            )


# --- products named by a URL's scheme -----------------------------------------------------


def _by_product(prepared: Prepared) -> None:
    """A product's name no compose or Kubernetes file defines (`postgres`, from a URL's
    scheme) is the one service of that product defined in its compose project, else in
    all the files."""
    defined = {
        base_key(s.service)
        for result in prepared.results
        if result.kind in DEFINING
        for s in result.services
    }
    # made when a name needs it (rarely); the renames below never touch what it reads, the
    # services compose and Kubernetes files define (their names are `defined`)
    everywhere: dict[str, set[str]] | None = None
    for index, result in enumerate(prepared.results):
        own: dict[str, set[str]] | None = None  # made for the few files that need it
        moves: dict[str, str] = {}
        for name in names_in(result):
            key = base_key(name)
            if key in _DATABASE_WORDS and key not in defined and result.kind == COMPOSE:
                own = own if own is not None else _of_products([result])
                _to_the_database(key, own, moves)
                continue
            product = product_of_name(key) if key in _BY_SCHEME else None
            if product is None or key in defined or key in moves:
                continue
            if own is None:
                own = _of_products([result]) if result.kind == COMPOSE else {}
            if everywhere is None:
                everywhere = _of_products(prepared.results)
            candidates = own.get(product) or everywhere.get(product, set())
            if len(candidates) == 1:
                moves[key] = next(iter(candidates))
        if moves:
            prepared.results[index] = renamed(result, moves)


def _to_the_database(key: str, own: dict[str, set[str]], moves: dict[str, str]) -> None:
    """`DB_PORT=3306` in a compose service's environment, with no service `db`: the port
    of the database its compose project runs, when it runs one (`mysql`, image mysql)."""
    databases = {name for product in _DATABASES for name in own.get(product, ())}
    if len(databases) == 1:
        moves[key] = next(iter(databases))


def _of_products(results: Iterable[SourceResult]) -> dict[str, set[str]]:
    """product -> the names of the services compose or Kubernetes files define as it."""
    found: dict[str, set[str]] = {}
    for result in results:
        if result.kind in DEFINING:
            for service in result.services:
                product = product_of(service.image, base_key(service.service))
                if product is not None:
                    found.setdefault(product, set()).add(service.service)
    return found


# --- ports published on a random host port -----------------------------------------------


def _random_host_ports(prepared: Prepared) -> None:
    """A note for each compose port published on a random host port (`"80"`, `":80"`, a
    host port variable nothing sets): no host port is fixed, so the plan has its container
    port, unpublished."""
    for result in prepared.results:
        if result.kind != COMPOSE:
            continue
        unset: dict[tuple[str, str, int], list[str]] = {}
        for var in result.variables:
            if not var.sets and var.service:
                at = (var.service, var.location.file, var.location.line)
                unset.setdefault(at, []).append(var.name)
        for port in result.ports:
            if not port.random_host:
                continue
            where = Location(port.location.file, port.location.line)
            names = unset.get((port.service, port.location.file, port.location.line), [])
            variables = " and ".join(f"${{{name}}}" for name in dict.fromkeys(names))
            why = f": {variables} is not set" if variables else ""
            prepared.note(
                port.service,
                f"note: {where} publishes container port {port.number} on a random host port{why}",
            )
