"""Sources: one module per file kind, each turning files into located observations.

`SOURCES` maps a kind name to its detector (by file name and the first bytes) and its
reader; `scan(paths)` walks directories, detects each file's kind and reads it (a file
named itself is also recognised by its content). A file that cannot be read, or a named
file of no known kind, becomes a `SourceResult` holding one `SourceError`.
"""

from __future__ import annotations

import codecs
import os
import re
import stat
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Final

from portplan.files import UnreadableFile, safe_head, safe_read
from portplan.model import Location
from portplan.sources.base import SourceError, SourceResult, reason, unread

# Folders never walked: version control, caches, build output, and other projects' files
# (installed or vendored dependencies: a PHP library's own docker-compose.yml under vendor/
# is that library's development setup, no part of this system).
SKIP_DIRS: Final = frozenset(
    {".git", "node_modules", "bower_components", "vendor", "third_party", "third-party",
     ".venv", "venv", "__pycache__", "dist", "build", ".tox", ".mypy_cache", ".ruff_cache",
     ".pytest_cache"}
)  # fmt: skip
HEAD_BYTES: Final = 4096
HELM_CHART: Final = "Chart.yaml"
HELM_TEMPLATES: Final = "templates"
_K8S_HEAD: Final = re.compile(rb"^apiVersion\s*:", re.MULTILINE)
_K8S_KIND: Final = re.compile(rb"^kind\s*:", re.MULTILINE)
_COMPOSE_TOP: Final = re.compile(rb"^services\s*:", re.MULTILINE)
PLAN_NAMES: Final = frozenset({"portplan.yaml", "portplan.yml"})
NOT_A_SOURCE: Final = (
    "not a known kind of file; expected compose (a top-level services:), Kubernetes "
    "(apiVersion: and kind:), .env (*.env, .env.*) or Markdown (*.md, *.markdown)"
)
_PROMETHEUS_HEAD: Final = re.compile(rb"^(?:scrape_configs|alerting)\s*:", re.MULTILINE)
_URL_CLIENTS_HEAD: Final = re.compile(rb"^(?:datasources|clients)\s*:", re.MULTILINE)
_URL_KEY: Final = re.compile(rb"^\s*-?\s*url\s*:", re.MULTILINE)
_NGINX_BLOCK: Final = re.compile(
    rb"^\s*(?:server|http|upstream\s+[\w.-]+|location\s[^{\n]*)\s*\{", re.MULTILINE
)
_NGINX_DIRECTIVE: Final = re.compile(
    rb"^\s*(?:listen|proxy_pass|server_name|grpc_pass|fastcgi_pass|uwsgi_pass)\s", re.MULTILINE
)
_CONF_TEMPLATES: Final = (".conf.template", ".conf.tmpl", ".conf.envsubst", ".conf.j2", ".conf.in")
_ENVOY_HEAD: Final = re.compile(rb"^static_resources\s*:", re.MULTILINE)
# A change log (CHANGELOG.md, CHANGES.md, HISTORY.md, NEWS.md, RELEASE_NOTES.md) tells the
# project's past, not its present: a folder's is not read (named on the command line, it is).
_CHANGE_LOG: Final = re.compile(
    r"(?:change[_-]?log|changes|history|news|release[_-]?notes)(?:\.[\w-]+)?"
    r"\.(?:md|markdown|txt)$"
)
_MARKDOWN_HEAD: Final = re.compile(rb"^(?:#{1,6} |\|.*\||```|- |\* )", re.MULTILINE)

Detector = Callable[[str, bytes], bool]
Reader = Callable[[Sequence[str]], SourceResult]


@dataclass(frozen=True)
class SourceKind:
    """A file kind: how to recognise it and how to read a group of its files."""

    name: str
    detect: Detector
    read: Reader
    needs_head: bool = False
    read_together: Callable[[Sequence[str]], list[SourceResult]] | None = None  # one per file
    by_path: Callable[[str], bool] | None = None  # recognised by its path alone (its folder)


def _is_compose(name: str, head: bytes) -> bool:
    """compose*.y(a)ml and docker-compose*.y(a)ml (see `_kubernetes_inside`)."""
    from portplan.sources.compose import is_compose_name

    return is_compose_name(name)


def _kubernetes_inside(path: str) -> bool:
    """Whether a file named like a compose file holds Kubernetes (`apiVersion` and `kind`,
    no `services:`): a manifest named after a compose project, as generate names them
    (`docker-compose-manifests-redis.yaml`). A file that cannot be read is left to the
    compose reader, which says why."""
    try:
        head = _head(path)
    except UnreadableFile:
        return False
    kubernetes = _K8S_HEAD.search(head) and _K8S_KIND.search(head)
    return bool(kubernetes) and not _COMPOSE_TOP.search(head)


# Example .env files without the leading dot (`cp env.example .env`).
_DOTENV_EXAMPLES: Final = frozenset(
    {"env.example", "env.sample", "env.dist", "env.template", "env.tmpl", "env.default"}
)


# A diff of an env file (`.env.patch`, `.env.diff`, a rejected hunk `.env.rej`): no env file.
_DIFFS: Final = (".patch", ".diff", ".rej")


def _is_dotenv(name: str, head: bytes) -> bool:
    return (
        name == ".env"
        or (name.startswith(".env.") and not name.lower().endswith(_DIFFS))
        or name.endswith(".env")
        or name.lower() in _DOTENV_EXAMPLES
    )


def _is_kubernetes(name: str, head: bytes) -> bool:
    if not name.lower().endswith((".yaml", ".yml")):
        return False
    return bool(_K8S_HEAD.search(head) and _K8S_KIND.search(head))


def _is_markdown(name: str, head: bytes) -> bool:
    lower = name.lower()
    if _CHANGE_LOG.match(lower):
        return False  # the project's past: ports it had, or examples of old settings
    if lower.endswith((".md", ".markdown")):
        return True
    return lower.endswith(".txt") and bool(_MARKDOWN_HEAD.search(head))


def _read_compose(paths: Sequence[str]) -> SourceResult:
    from portplan.sources.compose import read_compose

    return read_compose(paths)


def _read_dotenv(paths: Sequence[str]) -> SourceResult:
    from portplan.sources.dotenv import owner_of, read_dotenv

    return read_dotenv(paths[0], owner_of(paths[0]))


def _read_kubernetes(paths: Sequence[str]) -> SourceResult:
    from portplan.sources.kubernetes import read_kubernetes

    return read_kubernetes(paths[0])


def _read_manifests(paths: Sequence[str]) -> list[SourceResult]:
    from portplan.sources.kubernetes import read_manifests

    return read_manifests(paths)


def _is_dockerfile(name: str, head: bytes) -> bool:
    from portplan.sources.dockerfile import is_dockerfile_name

    return is_dockerfile_name(name)


def _read_dockerfile(paths: Sequence[str]) -> SourceResult:
    from portplan.sources.dockerfile import read_dockerfile

    return read_dockerfile(paths[0])


def _is_code(name: str, head: bytes) -> bool:
    from portplan.sources.code import format_of

    return format_of(name) is not None


def _read_code(paths: Sequence[str]) -> list[SourceResult]:
    from portplan.sources.code.files import read_code

    return read_code(paths)


def _read_one_code(paths: Sequence[str]) -> SourceResult:
    results = _read_code(paths)
    return results[0] if results else SourceResult(file=paths[0], kind="code")


def _is_monitoring(name: str, head: bytes) -> bool:
    """Prometheus (`scrape_configs:`/`alerting:`), Grafana datasources or Promtail clients
    (`datasources:`/`clients:` with a `url:`) at the top level of a YAML file."""
    if not name.lower().endswith((".yml", ".yaml")):
        return False
    return bool(_PROMETHEUS_HEAD.search(head)) or bool(
        _URL_CLIENTS_HEAD.search(head) and _URL_KEY.search(head)
    )


def _read_monitoring(paths: Sequence[str]) -> SourceResult:
    from portplan.sources.monitoring import read_monitoring

    return read_monitoring(paths[0])


def _is_nginx(name: str, head: bytes) -> bool:
    """`*.conf` (also as a template: `.conf.template`, `.conf.envsubst`, `.conf.j2`...),
    `nginx*` or `conf` files holding an nginx block."""
    lower = name.lower()
    named = lower.endswith((".conf", *_CONF_TEMPLATES)) or lower.startswith("nginx")
    if not (named or lower == "conf"):
        return False
    return bool(_NGINX_BLOCK.search(head) and _NGINX_DIRECTIVE.search(head))


def _read_nginx(paths: Sequence[str]) -> SourceResult:
    from portplan.sources.nginx import read_nginx

    return read_nginx(paths[0])


def _is_caddyfile(name: str, head: bytes) -> bool:
    lower = name.lower()
    return (
        lower == "caddyfile"
        or lower.startswith("caddyfile.")
        or lower.endswith((".caddyfile", ".caddy"))
    )


def _read_caddyfile(paths: Sequence[str]) -> SourceResult:
    from portplan.sources.caddy import read_caddyfile

    return read_caddyfile(paths[0])


def _is_envoy(name: str, head: bytes) -> bool:
    return name.lower().endswith((".yml", ".yaml")) and bool(_ENVOY_HEAD.search(head))


def _read_envoy(paths: Sequence[str]) -> SourceResult:
    from portplan.sources.envoy import read_envoy

    return read_envoy(paths[0])


_HAPROXY_SECTION: Final = re.compile(rb"^(?:frontend|backend|listen)[ \t]+\S", re.MULTILINE)
_HAPROXY_LINE: Final = re.compile(
    rb"^[ \t]+(?:bind|server|default_backend|use_backend)[ \t]+\S", re.MULTILINE
)


def _is_haproxy(name: str, head: bytes) -> bool:
    """`haproxy.cfg`, `*.haproxy.cfg`; by content a `*.cfg`/`*.conf` with a `frontend`,
    `backend` or `listen` section holding a `bind`, `server` or `*_backend` line."""
    lower = name.lower()
    if lower == "haproxy.cfg" or lower.endswith(".haproxy.cfg"):
        return True
    if not lower.endswith((".cfg", ".conf", ".cfg.template", ".cfg.tmpl")):
        return False
    return bool(_HAPROXY_SECTION.search(head) and _HAPROXY_LINE.search(head))


def _in_haproxy_folder(path: str) -> bool:
    """A `*.cfg` in a folder named `haproxy` (`haproxy/edge.cfg`)."""
    folder, name = os.path.split(path)
    return os.path.basename(folder).lower() == "haproxy" and name.lower().endswith(".cfg")


def _read_haproxy(paths: Sequence[str]) -> SourceResult:
    from portplan.sources.haproxy import read_haproxy

    return read_haproxy(paths[0])


def _read_markdown(paths: Sequence[str]) -> SourceResult:
    from portplan.sources.compose_cli import compose_files
    from portplan.sources.markdown import read_markdown

    result = read_markdown(paths[0])
    try:
        named = compose_files(safe_read(paths[0]).decode("utf-8", "replace"))
    except UnreadableFile:
        named = []  # read_markdown said so
    result.compose_files = named[0] if named else []
    return result


# Order matters: the first kind whose detector accepts a file reads it.
SOURCES: Final[dict[str, SourceKind]] = {
    "compose": SourceKind("compose", _is_compose, _read_compose),
    "dotenv": SourceKind("dotenv", _is_dotenv, _read_dotenv),
    # by name alone, before the kinds that read a file's head to tell (speed)
    "code": SourceKind("code", _is_code, _read_one_code, read_together=_read_code),
    "kubernetes": SourceKind(
        "kubernetes",
        _is_kubernetes,
        _read_kubernetes,
        needs_head=True,
        read_together=_read_manifests,
    ),
    "dockerfile": SourceKind("dockerfile", _is_dockerfile, _read_dockerfile),
    "monitoring": SourceKind("monitoring", _is_monitoring, _read_monitoring, needs_head=True),
    "envoy": SourceKind("envoy", _is_envoy, _read_envoy, needs_head=True),
    "nginx": SourceKind("nginx", _is_nginx, _read_nginx, needs_head=True),
    "caddy": SourceKind("caddy", _is_caddyfile, _read_caddyfile),
    "haproxy": SourceKind(
        "haproxy", _is_haproxy, _read_haproxy, needs_head=True, by_path=_in_haproxy_folder
    ),
    "markdown": SourceKind("markdown", _is_markdown, _read_markdown, needs_head=True),
}


def scan(paths: Iterable[str | os.PathLike[str]]) -> list[SourceResult]:
    """Read every file of a known kind under `paths` (files or directories), in path order.

    A path that cannot be read (missing, a loop of symbolic links, a folder without
    permission) is one "could not read X: why" error. The templates of a Helm chart are read
    leniently rendered (`portplan.sources.helm_templates`).
    """
    return survey(paths).results


@dataclass
class Survey:
    """What a scan read (`results`), and what it met and did not read on its own: files of
    no known kind (`skipped`: file -> why), files read as part of another file's compose
    project (`merged`: file -> the project's first file: an override, an included file)."""

    results: list[SourceResult] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    merged: dict[str, str] = field(default_factory=dict)


def survey(paths: Iterable[str | os.PathLike[str]]) -> Survey:
    """`scan`, saying also what it did not read and why (`Survey`)."""
    found: dict[str, list[str]] = {}
    walk = _Walk()
    for item in paths:
        path = os.fspath(item)
        try:
            folder = stat.S_ISDIR(os.stat(path).st_mode)
        except OSError as exc:
            walk.failed(path, exc)
            continue
        for file in walk.files(path) if folder else [path]:
            kind = detect(file) if folder else detect_named(file)
            if isinstance(kind, SourceResult):
                walk.results.append(kind)
            elif kind is not None:
                found.setdefault(kind, []).append(file)
            else:
                walk.survey.skipped[file] = _why_skipped(file)
    results = walk.results
    for kind, files in found.items():
        results.extend(_read_kind(SOURCES[kind], files, walk.survey))
    if any(result.owner is not None for result in results):
        from portplan.sources.homes import settle_owners

        results = settle_owners(results)
    if "code" in found:
        from portplan.sources.code.owners import settle

        results = settle(results)
    walk.survey.results = sorted(results, key=lambda result: (result.file, result.kind))
    return walk.survey


def _why_skipped(file: str) -> str:
    if os.path.basename(file) in PLAN_NAMES:
        return "a portplan plan, not a source (reconcile finds it as check does, or give -f)"
    return "no known kind"


class _Walk:
    """The files under folders, and what could not be read or was left out on the way."""

    def __init__(self) -> None:
        self.results: list[SourceResult] = []
        self.survey = Survey()

    def failed(self, path: str, exc: OSError) -> None:
        self.results.append(unreadable(path, reason(exc)))

    def files(self, root: str) -> Iterator[str]:
        def failed(exc: OSError) -> None:
            self.failed(exc.filename or root, exc)

        for directory, subdirs, files in os.walk(root, onerror=failed):
            subdirs[:] = sorted(
                d for d in subdirs if d not in SKIP_DIRS and not d.endswith(".egg-info")
            )
            for name in sorted(files):
                yield os.path.join(directory, name)


def helm_chart(path: str) -> str | None:
    """The folder of the Helm chart whose templates hold `path` (a file or folder under
    `templates/` of a folder with a `Chart.yaml`), else None; relative when `path` is."""
    parts = os.path.abspath(path).split(os.sep)
    for index in range(len(parts) - 2, 0, -1):
        if parts[index] != HELM_TEMPLATES:
            continue
        chart = os.sep.join(parts[:index]) or os.sep
        if os.path.isfile(os.path.join(chart, HELM_CHART)):
            return chart if os.path.isabs(path) else os.path.relpath(chart)
    return None


def detect(path: str) -> str | SourceResult | None:
    """The kind of the file at `path`, None when it is of no known kind, or a SourceResult
    holding the error when it cannot be read."""
    name = os.path.basename(path)
    head = b""
    for kind in SOURCES.values():
        if kind.by_path is not None and kind.by_path(path):
            return kind.name
        if kind.needs_head and not head:
            try:
                head = _head(path)
            except UnreadableFile as exc:
                return None if _left_out_link(path, name) else unreadable(path, reason(exc))
        if kind.detect(name, head):
            if kind.name == "compose" and _kubernetes_inside(path):
                continue
            return kind.name
    if name.lower().endswith((".yaml", ".yml")) and name not in PLAN_NAMES:
        try:
            return "compose" if looks_like_compose(_head(path, COMPOSE_HEAD_BYTES)) else None
        except UnreadableFile as exc:
            return unreadable(path, reason(exc))
    return None


def _left_out_link(path: str, name: str) -> bool:
    """A link to a file the repository leaves out (`kong_license.json ->
    kong_license.private`) whose name says it is no source: nothing to read, no finding. A
    loop of links, or a link named as a source (`README.md`, `.env`), is still one."""
    if not os.path.islink(path) or os.path.exists(path) or not os.path.lexists(path):
        return False
    try:
        os.stat(path)
    except FileNotFoundError:
        return not any(kind.detect(name, b"") for kind in SOURCES.values())
    except OSError:
        return False
    return False


# A compose file by its content, whatever its name (`full-stack.yml`, `stack.yml` for
# `docker stack deploy`, `app.compose.yaml`): the top level holds only what compose allows
# (`services`, `networks`, `volumes`, `configs`, `secrets`, `include`, `name`, `version`,
# `x-*`), `services:` among them, and a service has a key only compose services have.
_TOP_KEY: Final = re.compile(rb"^([A-Za-z_][\w.-]*)[ \t]*:", re.MULTILINE)
_COMPOSE_KEYS: Final = frozenset(
    {b"services", b"networks", b"volumes", b"configs", b"secrets", b"include", b"name",
     b"version", b"models"}
)  # fmt: skip
_SERVICE_KEY: Final = re.compile(
    rb"^[ \t]+(?:image|build|ports|expose|environment|env_file|command|depends_on|"
    rb"container_name|extends|healthcheck|deploy|restart|network_mode)[ \t]*:",
    re.MULTILINE,
)
_PLAN_VERSION: Final = re.compile(rb"^version[ \t]*:[ \t]*1[ \t]*(?:#.*)?$", re.MULTILINE)
COMPOSE_HEAD_BYTES: Final = 65536


def looks_like_compose(text: bytes) -> bool:
    """Whether YAML text is a compose file by its content (see `_TOP_KEY`); a portplan
    plan (`version: 1`, its own top-level keys) is not."""
    keys = {match.group(1) for match in _TOP_KEY.finditer(text)}
    if b"services" not in keys or _PLAN_VERSION.search(text):
        return False
    if any(key not in _COMPOSE_KEYS and not key.startswith(b"x-") for key in keys):
        return False
    return bool(_SERVICE_KEY.search(text))


def detect_named(path: str) -> str | SourceResult:
    """The kind of a file named on the command line: by its name as in a folder, else by
    its content (`docker compose -f stack.yml`): compose when its top level has `services:`,
    Kubernetes when it has `apiVersion:` and `kind:`; a file of no known kind is one error."""
    kind = detect(path)
    if kind is not None:
        return kind
    if os.path.basename(path) in PLAN_NAMES:
        return _left_out(path, "a portplan plan, not a source; give it with -f")
    if _CHANGE_LOG.match(os.path.basename(path).lower()):
        return "markdown"
    try:
        text = safe_read(path)
    except UnreadableFile as exc:
        return unreadable(path, reason(exc))
    if _COMPOSE_TOP.search(text):
        return "compose"
    if _K8S_HEAD.search(text) and _K8S_KIND.search(text):
        return "kubernetes"
    return _left_out(path, NOT_A_SOURCE)


def _left_out(path: str, why: str) -> SourceResult:
    """One error: the file named `path` was read but is not a source, and why."""
    result = SourceResult(file=path, kind="unknown")
    result.errors.append(SourceError(Location(path), f"not read {path}: {why}"))
    return result


def _whole(path: str) -> bytes | None:
    """The text of a small file (up to COMPOSE_HEAD_BYTES), None when it is bigger or cannot
    be read."""
    try:
        data = safe_head(path, COMPOSE_HEAD_BYTES + 1)
    except UnreadableFile:
        return None
    return data if len(data) <= COMPOSE_HEAD_BYTES else None


def _head(path: str, size: int = HEAD_BYTES) -> bytes:
    """The first bytes of the file, as UTF-8 when a byte-order mark says UTF-16 or UTF-32
    (a manifest saved by PowerShell): the detectors look for ASCII keys."""
    head = safe_head(path, size) or b"\n"
    for bom, codec in _WIDE_BOMS:
        if head.startswith(bom):
            return head[len(bom) :].decode(codec, "ignore").encode("utf-8") or b"\n"
    return head


_WIDE_BOMS: Final = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _read_kind(kind: SourceKind, files: list[str], survey: Survey) -> list[SourceResult]:
    if kind.name == "code":  # the files it leaves out are skipped, each with why
        from portplan.sources.code.files import read_code

        return read_code(files, survey.skipped)
    if kind.read_together is not None:
        try:
            return kind.read_together(files)
        except (RecursionError, OSError, ValueError):
            pass  # each file on its own: the one that fails is one error
    if kind.name != "compose":
        return [_guarded(kind, [file]) for file in files]
    from portplan.sources.compose import project_groups, with_overrides_by_content

    by_dir: dict[str, list[str]] = {}
    for file in files:
        by_dir.setdefault(os.path.dirname(file), []).append(os.path.basename(file))
    projects = [
        _guarded(kind, [os.path.join(directory, name) for name in group])
        for directory, names in sorted(by_dir.items())
        for group in with_overrides_by_content(directory, project_groups(names), _whole)
    ]
    for result in projects:
        for other in result.merged:
            survey.merged.setdefault(other, result.file)
    return _not_included(projects, survey)


def _not_included(results: list[SourceResult], survey: Survey | None = None) -> list[SourceResult]:
    """The compose projects that no other project includes: an included file is read as
    part of the project that includes it (two files that include each other both stay),
    unless it is the default compose file of a folder of its own (`src/catalog/compose.yaml`
    that `src/app/compose.yaml` includes): then it is also its own project. A file found by
    its content whose services another project extends (`common/node.yml`) is a base file,
    not a project of its own either."""
    from portplan.sources.compose import is_compose_name

    absolute = os.path.abspath
    by_include = {absolute(p): r.file for r in results for p in r.includes}
    by_extends = {absolute(p): r.file for r in results for p in r.merged}
    kept = []
    for result in results:
        path = absolute(result.file)
        by = by_include.get(path)
        if by is not None and absolute(by) in map(absolute, result.includes):
            by = None
        if by is not None and _runs_alone(path, absolute(by)):
            by = None  # `docker compose up` in its own folder runs it: a project too
        if by is None and not is_compose_name(os.path.basename(path)):
            by = by_extends.get(path)
        if by is None:
            kept.append(result)
        elif survey is not None:
            survey.merged.setdefault(result.file, by)
    return kept


def _runs_alone(path: str, by: str) -> bool:
    """Whether the included compose file `path` is what `docker compose up` runs in its own
    folder (a default name, in another folder than the file `by` that includes it)."""
    from portplan.sources.compose import DEFAULT_FILES

    return os.path.basename(path) in DEFAULT_FILES and os.path.dirname(path) != os.path.dirname(by)


def _guarded(kind: SourceKind, files: list[str]) -> SourceResult:
    """Read `files`; an unexpected failure of a reader is one error, never a traceback."""
    try:
        return kind.read(files)
    except (RecursionError, OSError, ValueError) as exc:
        return unreadable(files[0], reason(exc), kind.name)


def unreadable(path: str, why: str, kind: str = "unknown") -> SourceResult:
    """A result that says only that `path` could not be read, and why (`why` must quote
    nothing of the file: see `portplan.sources.base.reason`)."""
    result = SourceResult(file=path, kind=kind)
    result.errors.append(unread(Location(path), why))
    return result


__all__ = [
    "SKIP_DIRS",
    "SOURCES",
    "SourceKind",
    "Survey",
    "detect",
    "detect_named",
    "helm_chart",
    "scan",
    "survey",
    "unreadable",
]
