"""A compose project as compose builds it: its files merged, `extends` and `include` followed.

Files are merged in order as the compose specification says: `ports`, `expose`, `links`
and `volumes` of later files are added, `env_file` appended; `environment`, `depends_on`,
`networks`, `healthcheck` and `labels` merged key by key, the later file winning;
`network_mode`, `image`, `container_name` and `build` replaced. `!reset` removes what came
before, `!override` replaces it.

Each file is read as compose-go reads it: first the `extends` of its services (the base
service, of the same file or of `extends.file`, merged under the service by the same rules,
bases of bases too), then its `include` (each item, short `- path` or long `{path,
project_directory, env_file}`, loaded as a project of its own: paths relative to its
project directory, variables from its `env_file`, default `.env` of that directory, under
the including project's), its services added to the file's; then the file is merged into
the project.

Every value keeps where it is written and the environment and folder it is read in (an
included file's variables are not the project's). What compose refuses is one error, at
the place that causes it: an `extends` whose file or service does not exist, a circular
`extends` or `include` (reported once), an included service that one of the including file
defines too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from portplan.compose import (
    DotenvError,
    InterpolationError,
    load_environment,
    parse_dotenv,
    substitute,
)
from portplan.files import BINARY, UnreadableFile, kind_problem, safe_read
from portplan.model import Location
from portplan.sources.base import SourceError, SourceResult, inside, reason, template_note, unread
from portplan.sources.dotenv import known_names
from portplan.yamlio import load as yamlload
from portplan.yamlio.load import Mark, YAMLInputError, YMap, YSeq, shape
from portplan.yamlio.tree import new_map

LIST_KEYS: Final = ("ports", "expose", "env_file", "links", "profiles", "volumes")
KEYED_KEYS: Final = ("environment", "depends_on", "networks", "healthcheck", "labels")
SINGLE_KEYS: Final = (
    "network_mode",
    "image",
    "container_name",
    "build",
    "hostname",
    "command",
    "entrypoint",
)
_MERGED: Final = frozenset(LIST_KEYS + KEYED_KEYS + SINGLE_KEYS)
# What each key may hold (the compose specification's schema); anything else is an error.
_SHAPES: Final[dict[str, tuple[type, ...]]] = {
    "ports": (YSeq,),
    "expose": (YSeq,),
    "env_file": (YSeq, str),
    "environment": (YSeq, YMap),
    "depends_on": (YSeq, YMap),
    "networks": (YSeq, YMap),
    "healthcheck": (YMap,),
    "network_mode": (str,),
    "image": (str,),
    "links": (YSeq,),
    "profiles": (YSeq,),
    "container_name": (str,),
    "volumes": (YSeq,),
    "labels": (YSeq, YMap),
    "build": (str, YMap),
    "hostname": (str,),
    "command": (str, YSeq, type(None)),
    "entrypoint": (str, YSeq, type(None)),
}
_SHAPE_WORDS: Final[dict[type, str]] = {YSeq: "a list", YMap: "a mapping", str: "a string"}
_RESET, _OVERRIDE = "!reset", "!override"
_KEY_VALUE_LISTS: Final = frozenset({"environment", "labels"})  # `- KEY=value` items
PROJECT_NAME: Final = re.compile(r"[a-z0-9][a-z0-9_-]*")  # compose-go's checkProjectName
DOTENV: Final = ".env"
MAX_EXTENDS: Final = 64  # services a chain of `extends` may pass through
# The example files that stand in for a missing `.env` (the README says "copy env.example
# to .env"), in order of preference; `X.example` ... for any other env file `X`.
DOTENV_STAND_INS: Final = (
    ".env.example", "env.example", ".env.sample", "env.sample", ".env.dist", ".env.template",
    "example.env",
)  # fmt: skip
STAND_IN_WORDS: Final = ("example", "sample", "dist", "template")


@dataclass(frozen=True)
class Context:
    """How a file is read: its path, the folder its relative paths start from and the
    variables its `${VAR}` take."""

    path: str
    directory: str
    environ: Mapping[str, str]


@dataclass
class Entry:
    """A value of a service's key, with where it (and its key, for maps) is written, and the
    context it is read in."""

    value: Any
    location: Location
    key_location: Location | None = None
    node: Any = None  # the YAML node of a mapping value (its marks), when there is one
    value_offset: int = 0  # `KEY=value` items: where the value starts after the key
    context: Context | None = None


@dataclass
class Service:
    """A service of the merged project: its name's location and the entries of each key."""

    name: str
    location: Location
    lists: dict[str, list[Entry]] = field(default_factory=dict)  # ports, expose, env_file
    keyed: dict[str, dict[str, Entry]] = field(default_factory=dict)  # environment, ...
    single: dict[str, Entry] = field(default_factory=dict)  # network_mode, image


@dataclass
class Project:
    files: Sequence[str]
    environ: Mapping[str, str]
    result: SourceResult
    services: dict[str, Service] = field(default_factory=dict)
    lines: dict[str, list[str]] = field(default_factory=dict)  # file -> its lines
    documents: dict[str, Any] = field(default_factory=dict)  # file -> its document
    cycles: set[frozenset[tuple[str, str]]] = field(default_factory=set)  # reported once
    required: set[str] = field(default_factory=set)  # `${VAR?}` unset, each reported once
    # a missing env_file -> (where it is first named, as written, why, the services reading it)
    missing: dict[str, tuple[Location, str, str, list[str]]] = field(default_factory=dict)
    unset: int = 0  # how many `${VAR}` nothing sets were met so far
    # the project's `.env` values as written, before interpolation (`http://${HOST}:${PORT}`)
    written: Mapping[str, str] = field(default_factory=dict)
    too_deep: bool = False  # an `extends` chain deeper than MAX_EXTENDS was reported
    name: str | None = None  # the top-level `name:` (the last file's that sets one)
    shared_env: frozenset[str] = frozenset()  # env_files that several services read
    _known: frozenset[str] | None = field(default=None, repr=False)

    def known(self) -> frozenset[str]:
        """The keys of its services' names (`portplan.sources.dotenv.known_names`), once
        they are all merged: what an URL in its environment may name."""
        if self._known is None:
            self._known = known_names(self.services)
        return self._known

    @property
    def directory(self) -> str:
        return os.path.dirname(self.files[0])

    def error(self, location: Location, why: str) -> None:
        """Record that the project could not be read at `location`; `why` must quote no
        value of the file (see `portplan.sources.base.reason`)."""
        self.result.errors.append(unread(location, why))

    def text(self, location: Location) -> str | None:
        """The line `location` is on, when the file was read."""
        lines = self.lines.get(location.file)
        return lines[location.line - 1] if lines and 0 < location.line <= len(lines) else None

    def at(self, location: Location, value: str, offset: int = 0) -> Location:
        """The location of `value[offset]` for a scalar written at `location`."""
        return inside(location, self.text(location), value, offset)

    def tag(self, location: Location) -> str | None:
        """The `!reset` / `!override` tag written at `location`, if any."""
        text = self.text(location)
        rest = text[location.column - 1 :] if text is not None and location.column else ""
        for tag in (_RESET, _OVERRIDE):
            if rest.startswith(tag) and rest[len(tag) : len(tag) + 1] in ("", " ", "\t"):
                return tag
        return None

    def shown(self, path: str) -> str:
        """A file as its project's messages name it: relative to the project's folder."""
        return os.path.relpath(path, self.directory or os.curdir)

    def context(self, path: str) -> Context:
        """The context of a file of the project itself."""
        return Context(path, self.directory, self.environ)


def load_project(
    paths: Sequence[str], result: SourceResult, environ: Mapping[str, str], env_file: str | None
) -> Project:
    """The project of `paths` merged in order, its variables from `environ` and the `.env`
    beside the first file (or `env_file`)."""
    first = paths[0]
    written: dict[str, str] = {}
    loaded = _environment(first, environ, env_file, result, written)
    project = Project(paths, environ if loaded is None else loaded, result, written=written)
    for path in paths if loaded is not None else ():
        document = load(path, project)
        if isinstance(document, YMap):
            _read_name(document, project.context(path), project)
            merge_file(document, project.context(path), project, project.services, ())
    return project


def parse_project(
    text: str, file: str, environ: Mapping[str, str], result: SourceResult
) -> Project:
    """The project of one file's text (its `extends` and `include` followed from disk)."""
    project = Project([file], dict(environ), result)
    document = parse(text, file, project)
    if isinstance(document, YMap):
        _read_name(document, project.context(file), project)
        merge_file(document, project.context(file), project, project.services, ())
    return project


def _read_name(document: YMap, context: Context, project: Project) -> None:
    """The project's top-level `name:`, interpolated, as compose reads it: a later file's
    wins, an empty one leaves the directory's name, one compose refuses (not lowercase
    letters, digits, '-' and '_' from a letter or digit on) is one error."""
    if "name" not in document:
        return
    where = project.at(at_mark(context.path, document.value_marks.get("name")), "")
    value = document["name"]
    if not isinstance(value, str):
        project.error(where, "name: expected a string")
        return
    text = interpolated(value, where, project, context)
    if text and not PROJECT_NAME.fullmatch(text):
        what = "a project name of lowercase letters, digits, '-' and '_', from a letter or digit"
        project.error(where, f"name: expected {what}")
    elif text:
        project.name = text


def _environment(
    first: str,
    environ: Mapping[str, str],
    env_file: str | None,
    result: SourceResult,
    written: dict[str, str],
) -> Mapping[str, str] | None:
    """`environ` with the project's `.env` under it: `env_file`, else the `.env` beside the
    first file, else the example that stands in for it (`stand_in`); a dangling link is no
    file. None (and one error) when that file is there but cannot be read: the project's
    values would be guesses (a `${PORT:-8080}` default where the file says otherwise), so
    none are read. `written` gets the file's values as written."""
    path = env_file or os.path.join(os.path.dirname(first), DOTENV)
    if env_file is None and not os.path.exists(path):
        path = stand_in(path, result) or path
    try:
        # a link to a file the repository leaves out (`.env -> mailcow.conf`, written by
        # its setup script) is no file: the project is read as without one
        data = safe_read(path) if os.path.lexists(path) and not _dangling(path) else None
        if data is not None and b"\0" in data:
            raise UnreadableFile(path, BINARY)
    except UnreadableFile as exc:
        why = f"its variables file {path} cannot be read ({reason(exc)}): values would be guesses"
        result.errors.append(SourceError(Location(first), f"not read {first}: {why}"))
        return None
    loaded = _with_env_file(path, environ, result, data=data)
    if loaded is not None and data is not None:
        written.update(_as_written(data))
    return environ if loaded is None else loaded


def _as_written(data: bytes) -> dict[str, str]:
    """The values of a `.env` file as written (`${HOST}` kept); none if it does not parse."""
    try:
        return dict(parse_dotenv(data.decode("utf-8"), expand=False).values)
    except (DotenvError, UnicodeDecodeError):
        return {}


def _dangling(path: str) -> bool:
    """Whether `path` is a symbolic link whose target does not exist (a loop is no such)."""
    try:
        os.stat(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False
    return False


def stand_in(path: str, result: SourceResult) -> str | None:
    """The example file beside a missing env file `path` that stands in for it, recorded in
    `result.stand_ins`: for `.env` the first of `DOTENV_STAND_INS`, for any other `X` the
    first of `X.example`, `X.sample`, `X.dist`, `X.template`; None when there is none."""
    folder, name = os.path.split(path)
    names = DOTENV_STAND_INS if name == DOTENV else [f"{name}.{w}" for w in STAND_IN_WORDS]
    for candidate in (os.path.join(folder, n) for n in names):
        if os.path.isfile(candidate):
            result.stand_ins.setdefault(candidate, path)
            return candidate
    return None


def _with_env_file(
    path: str,
    environ: Mapping[str, str],
    result: SourceResult,
    *,
    required: bool = False,
    override: bool = False,
    data: bytes | None = None,
) -> dict[str, str] | None:
    """`environ` with the variables of the `.env` file at `path` (under it, or over it with
    `override`); None when the file cannot be read (an error when `required`) or parsed (an
    error)."""
    try:
        text = (safe_read(path) if data is None else data).decode("utf-8")
    except (UnreadableFile, UnicodeDecodeError) as exc:
        if required:
            result.errors.append(unread(Location(path), reason(exc)))
        return None
    try:
        return load_environment(text, environ, override=override)
    except DotenvError as exc:
        result.errors.append(unread(Location(path, exc.line, exc.column), exc.what))
    return None


def load(path: str, project: Project, at: Location | None = None, what: str = "") -> Any:
    """The document of the file at `path` (read once); None, and one error (at `at`, the
    place that names the file as `what`, when given; else the file's own), when it cannot
    be read."""
    if path in project.documents:
        return project.documents[path]
    try:
        data = safe_read(path)
    except UnreadableFile as exc:
        project.documents[path] = None
        if at is None:
            project.error(Location(path), reason(exc))
        else:
            project.error(at, f"{what}{project.shown(path)}: {reason(exc)}")
        return None
    return parse(data, path, project)


def parse(data: str | bytes, path: str, project: Project) -> Any:
    """The document of a file's text; None, and one error (a note for a Go template), when
    it cannot be parsed."""
    project.documents[path] = None
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    try:
        document = yamlload.load(data, path)
    except YAMLInputError as exc:
        note = template_note(path, text, exc.line or 0)
        location = Location(path, exc.line or 0, exc.column or 0)
        project.result.errors.append(note or unread(location, exc.what))
        return None
    project.lines[path] = text.removeprefix("\ufeff").split("\n")
    if document is not None and not isinstance(document, YMap):
        project.error(Location(path, 1, 1), "expected a mapping at the top level")
        return None
    document = _v1_as_services(document) if document is not None else None
    project.documents[path] = document
    return document


def _v1_as_services(document: YMap) -> YMap:
    """A compose file of format v1 (no `services:`, no `version` but "1": each top-level
    key a service whose body says what to run) as the `services:` mapping of later formats,
    as `docker-compose` 1.x read it; any other document as it is."""
    if "services" in document or str(document.get("version", "1")).strip() != "1":
        return document
    bodies = {key: body for key, body in document.items() if key != "version"}
    if not bodies or not all(isinstance(body, YMap) for body in bodies.values()):
        return document
    if not any("image" in body or "build" in body for body in bodies.values()):
        return document
    services = new_map(document.mark)
    for key, body in bodies.items():
        services[key] = body
        services.key_marks[key] = document.key_marks[key]
        services.value_marks[key] = document.value_marks[key]
    wrapped = new_map(document.mark)
    wrapped["services"] = services
    wrapped.key_marks["services"] = document.mark
    wrapped.value_marks["services"] = document.mark
    return wrapped


def interpolated(value: Any, location: Location, project: Project, context: Context) -> str | None:
    """A string of the file's structure (`include` paths, `extends`) interpolated; None
    (and an error) when interpolation fails or the value is not a string."""
    if not isinstance(value, str):
        return None
    try:
        return substitute(value, context.environ.get)
    except InterpolationError as exc:
        project.error(project.at(location, value, exc.offset), str(exc))
        return None


# --- one file ---------------------------------------------------------------------------


def merge_file(
    document: YMap,
    context: Context,
    project: Project,
    into: dict[str, Service],
    chain: tuple[str, ...],
) -> None:
    """Merge the services of one file (its `extends` followed), then those of the projects
    it includes, into `into`. `chain` is the files that include this one."""
    services = document.get("services")
    own: set[str] = set()
    if services is not None and not isinstance(services, YMap):
        where = at_mark(context.path, document.value_marks.get("services"))
        project.error(where, f"services: expected a mapping of services, got {shape(services)}")
    if isinstance(services, YMap):
        for name, body in services.items():
            where = at_mark(context.path, services.key_marks.get(name))
            service = into.setdefault(name, Service(str(name), where))
            own.add(name)
            if isinstance(body, YMap):
                for layer, layer_context in _layers(name, services, context, project, ()):
                    _merge_service(service, layer, layer_context, project)
            elif body is not None:  # `web:` alone is an empty service
                at = at_mark(context.path, services.value_marks.get(name))
                project.error(at, f"services.{name}: expected a mapping, got {shape(body)}")
    _include(document, context, project, into, own, (*chain, os.path.abspath(context.path)))


def _merge_service(service: Service, body: YMap, context: Context, project: Project) -> None:
    path = context.path
    for key in body:
        if key not in _MERGED or not _shaped(service, body, key, path, project):
            continue
        tag = project.tag(at_mark(path, body.value_marks.get(key)))
        if tag is not None:
            service.lists.pop(key, None)
            service.keyed.pop(key, None)
            service.single.pop(key, None)
            if tag == _RESET:
                continue
        if key in LIST_KEYS:
            entries = _items(body[key], body, key, path)
            service.lists.setdefault(key, []).extend(_read_in(entries, context))
        elif key in KEYED_KEYS:
            pairs = _pairs(body[key], body, key, path)
            _read_in(pairs.values(), context)
            service.keyed.setdefault(key, {}).update(pairs)
        elif key in SINGLE_KEYS:
            entry = Entry(body[key], at_mark(path, body.value_marks.get(key)), context=context)
            service.single[key] = entry


def _read_in(entries: Any, context: Context) -> Any:
    for entry in entries:
        entry.context = context
    return entries


def _shaped(service: Service, body: YMap, key: str, path: str, project: Project) -> bool:
    """Whether `key` holds what it may; if not, one error says what was expected."""
    value, shapes = body[key], _SHAPES[key]
    if value is None or isinstance(value, shapes):
        return True
    expected = " or ".join(_SHAPE_WORDS[shape] for shape in shapes)
    location = project.at(at_mark(path, body.value_marks.get(key)), "")
    project.error(location, f"services.{service.name}.{key}: expected {expected}")
    return False


def _items(value: Any, parent: YMap, key: str, path: str) -> list[Entry]:
    """The items of a list, each at its position (a mapping item at its `published` or
    `target` value)."""
    if isinstance(value, YSeq):
        return [
            Entry(item, at_mark(path, _item_mark(item, mark)))
            for item, mark in zip(value, value.item_marks, strict=False)
        ]
    if value is None:
        return []
    return [Entry(value, at_mark(path, parent.value_marks.get(key)))]


def _item_mark(item: Any, mark: Mark) -> Mark:
    if isinstance(item, YMap):
        for key in ("published", "target", "path"):
            if key in item.value_marks:
                return item.value_marks[key]
    return mark


def _pairs(value: Any, parent: YMap, key: str, path: str) -> dict[str, Entry]:
    """A map (each value at its position, with its key's), or a list of `KEY=value` /
    `KEY` / names (each at its item)."""
    if isinstance(value, YMap):
        return {
            str(k): Entry(
                v,
                at_mark(path, value.value_marks.get(k) or value.key_marks.get(k)),
                at_mark(path, value.key_marks.get(k)),
                v if isinstance(v, YMap | YSeq) else None,
            )
            for k, v in value.items()
        }
    pairs: dict[str, Entry] = {}
    for entry in _items(value, parent, key, path):
        if not isinstance(entry.value, str):
            continue  # the specification allows only strings here
        name, sep, rest = entry.value.partition("=")
        if key in _KEY_VALUE_LISTS:
            text = rest if sep else None
            pairs[name] = Entry(text, entry.location, entry.location, None, len(name) + 1)
        else:
            pairs[entry.value] = Entry(None, entry.location, entry.location)
    return pairs


def at_mark(path: str, mark: Mark | None) -> Location:
    return Location(path, mark.line, mark.column) if mark else Location(path)


# --- extends ----------------------------------------------------------------------------

Layers = list[tuple[YMap, Context]]


def _layers(
    name: str,
    services: YMap,
    context: Context,
    project: Project,
    seen: tuple[tuple[str, str], ...],
) -> Layers:
    """The bodies a service is made of, the deepest base first and its own last: each
    `extends` followed (`extends: base` in the same file, `{service, file}` in another)."""
    body = services.get(name)
    if not isinstance(body, YMap):
        return []
    extends = body.get("extends")
    if extends is None:
        return [(body, context)]
    here = (context.path, name)
    if here in seen:
        _circular((*seen, here), project, context, body)
        return []
    if len(seen) >= MAX_EXTENDS:
        if not project.too_deep:
            project.too_deep = True
            where = at_mark(context.path, body.value_marks.get("extends"))
            start = seen[0][1]
            what = f"services.{start}.extends: a chain of more than {MAX_EXTENDS} extends, cut here"
            project.error(project.at(where, ""), what)
        return [(body, context)]
    base = _base(name, body, context, project)
    if base is None:
        return [(body, context)]
    ref, base_services, base_context = base
    return [*_layers(ref, base_services, base_context, project, (*seen, here)), (body, context)]


def _base(
    name: str, body: YMap, context: Context, project: Project
) -> tuple[str, YMap, Context] | None:
    """(service, services of its file, context) an `extends` names; None and one error when
    it names nothing."""
    extends = body["extends"]
    where = at_mark(context.path, body.value_marks.get("extends"))
    spec = extends if isinstance(extends, YMap) else YMap()
    raw_ref = extends if isinstance(extends, str) else spec.get("service")
    ref_at = at_mark(context.path, spec.value_marks.get("service")) if spec else where
    ref = interpolated(raw_ref, ref_at, project, context)
    if not ref:
        project.error(project.at(where, ""), f"services.{name}.extends: expected a service name")
        return None
    services: Any = None
    if "file" in spec:
        file_at = project.at(at_mark(context.path, spec.value_marks.get("file")), "")
        file = interpolated(spec.get("file"), file_at, project, context)
        if not file:
            project.error(file_at, f"services.{name}.extends.file: expected a file name")
            return None
        path = os.path.normpath(os.path.join(context.directory, file))
        document = load(path, project, file_at, f"services.{name}.extends.file ")
        if document is None:
            return None
        if path not in project.result.merged:
            project.result.merged.append(path)
        services = document.get("services") if isinstance(document, YMap) else None
        context = Context(path, os.path.dirname(path), context.environ)
    else:
        services = project.documents.get(context.path, YMap()).get("services")
    if not isinstance(services, YMap) or ref not in services:
        shown = project.shown(context.path)
        project.error(project.at(ref_at, ref), f"services.{name}.extends: {shown} has no "
                      f"service {ref}")  # fmt: skip
        return None
    return ref, services, context


def _circular(
    chain: tuple[tuple[str, str], ...], project: Project, context: Context, body: YMap
) -> None:
    """One error for a circular `extends`, at the first place that closes it."""
    members = frozenset(chain)
    if members in project.cycles:
        return
    project.cycles.add(members)
    start = chain.index(chain[-1])
    steps = [f"{service} in {project.shown(path)}" for path, service in chain[start:]]
    where = project.at(at_mark(context.path, body.value_marks.get("extends")), "")
    project.error(where, "circular extends: " + ", extends ".join(steps))


# --- include ----------------------------------------------------------------------------


def _include(
    document: YMap,
    context: Context,
    project: Project,
    into: dict[str, Service],
    own: set[str],
    chain: tuple[str, ...],
) -> None:
    """The services of each project the file includes, added to `into`."""
    items = document.get("include")
    if items is None:
        return
    where = at_mark(context.path, document.value_marks.get("include"))
    if not isinstance(items, YSeq):
        project.error(project.at(where, ""), "include: expected a list")
        return
    for item, mark in zip(items, items.item_marks, strict=False):
        item_at = project.at(at_mark(context.path, mark), "")
        included = _included(item, item_at, context, project)
        if included is None:
            continue
        paths, sub = included
        if os.path.abspath(paths[0]) in chain:
            steps = [project.shown(p) for p in (*chain, paths[0])]
            project.error(item_at, "circular include: " + " includes ".join(steps))
            continue
        project.result.includes.extend(paths)
        services: dict[str, Service] = {}
        for path in paths:
            found = load(path, project, item_at, "include ")
            if isinstance(found, YMap):
                sub_context = Context(path, sub.directory, sub.environ)
                merge_file(found, sub_context, project, services, chain)
        for name, service in services.items():
            existing = into.get(name)
            if existing is None:
                into[name] = service
                own.add(name)
            elif existing.location == service.location:
                continue  # the same file included twice (a diamond)
            elif name in own:
                theirs, ours = (project.shown(s.location.file) for s in (service, existing))
                why = f"services.{name} of {theirs} conflicts with services.{name} of {ours}"
                project.error(item_at, f"include: {why}")
            else:  # defined by an earlier file of the project: merged, as compose does
                _absorb(existing, service)


def _absorb(service: Service, later: Service) -> None:
    """Merge what a later definition of a service says into it."""
    for key, entries in later.lists.items():
        service.lists.setdefault(key, []).extend(entries)
    for key, pairs in later.keyed.items():
        service.keyed.setdefault(key, {}).update(pairs)
    service.single.update(later.single)


def _included(
    item: Any, item_at: Location, context: Context, project: Project
) -> tuple[list[str], Context] | None:
    """(files, context) of one `include` item: `- path` or `{path, project_directory,
    env_file}`; None and one error when it cannot be used."""
    spec = item if isinstance(item, YMap) else YMap()
    raw = item if isinstance(item, str) else spec.get("path")
    raw_paths = list(raw) if isinstance(raw, YSeq) else [raw]
    paths = [interpolated(p, item_at, project, context) for p in raw_paths]
    if not paths or not all(paths):
        project.error(item_at, "include: expected a path or a list of paths")
        return None
    files = [os.path.normpath(os.path.join(context.directory, p)) for p in paths if p]
    directory = interpolated(spec.get("project_directory"), item_at, project, context)
    folder = os.path.join(context.directory, directory) if directory else os.path.dirname(files[0])
    environ = _included_environment(spec, item_at, context, folder, project)
    if environ is None:
        return None
    return files, Context(files[0], os.path.normpath(folder), environ)


def _included_environment(
    spec: YMap, item_at: Location, context: Context, folder: str, project: Project
) -> Mapping[str, str] | None:
    """The variables of an included project: its `env_file`s in order (relative to the
    including folder; without one, the `.env` of its project directory, if any), under the
    including project's, which win. None (and one error) when an env_file cannot be read."""
    raw = spec.get("env_file")
    if raw is None:
        default = os.path.join(folder, DOTENV)
        paths = [default] if os.path.isfile(default) else []
    else:
        paths = []
        for name in list(raw) if isinstance(raw, YSeq) else [raw]:
            text = interpolated(name, item_at, project, context) or ""
            path = os.path.join(context.directory, text)
            problem = _not_a_file(path) if text else "expected a file name"
            if problem is not None:
                project.error(item_at, f"include: env_file {text}: {problem}")
                return None
            paths.append(path)
    values = dict(context.environ)
    for path in paths:
        loaded = _with_env_file(path, values, project.result, required=True, override=True)
        if loaded is None:
            return None
        values = loaded
    values.update(context.environ)
    return values


def _not_a_file(path: str) -> str | None:
    """Why `path` is not a file that can be read, or None."""
    try:
        return kind_problem(os.stat(path).st_mode)
    except OSError as exc:
        return reason(exc)
