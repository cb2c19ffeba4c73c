"""ASP.NET Core: `Properties/launchSettings.json`, `appsettings*.json` and C# code.

- launchSettings: each profile's `applicationUrl` (`http://localhost:5000;https://...`) and
  `environmentVariables.ASPNETCORE_URLS`, ports of the program run on the host (`local`);
- appsettings: `Kestrel:Endpoints:<name>:Url` (read from `Kestrel__Endpoints__<name>__Url`)
  and `urls` (read from `ASPNETCORE_URLS`); `appsettings.Development.json` and
  `appsettings.Local*.json` are the host's (`local`);
- every other string setting of appsettings that is a URL or `host:port`
  (`PurchaseUrl`, `Urls:Basket`, `ConnectionStrings:Redis`) is a reference to the service
  it reaches (`settings`), named by its key path;
- `appsettings.<env>.json` and launchSettings (`applicationUrl`, an absolute `launchUrl`)
  are the host's (`local`), unless the container's `ASPNETCORE_ENVIRONMENT` is that env
  (`container_environment`);
- C# (which wins over the variables): `UseUrls("http://*:5000")`, `ListenAnyIP(5000)`,
  `ListenLocalhost(5000)`, `options.Listen(IPAddress.Any, 5000)`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import replace
from typing import Any, Final

from portplan.model import Location, normalize_name
from portplan.names import reference_side
from portplan.sources.base import LOCAL, UNKNOWN, SourceResult
from portplan.sources.code import settings
from portplan.sources.code.base import Lines, Listen, port_number, without_comments
from portplan.yamlio.load import YAMLInputError, YMap, load

SOURCE: Final = "aspnet"
URLS: Final = "ASPNETCORE_URLS"
_LOCAL_SETTINGS: Final = re.compile(r"^appsettings\.(?P<env>[\w.-]+)\.json$", re.I)
_URL_PORT: Final = re.compile(r"^[a-z]+://[^/;\s]*?:(?P<port>\d{1,5})(?:/|$)", re.I)
_CODE: Final = re.compile(
    r"\bUseUrls\(\s*\"(?P<urls>[^\"\n]*)\""
    r"|\bListen(?:AnyIP|Localhost)\(\s*(?P<port>\d{1,5})\b"
    r"|\bListen\(\s*IPAddress\.\w+\s*,\s*(?P<any>\d{1,5})\b"
)


def read(path: str, text: str) -> list[Listen]:
    """The ports an ASP.NET Core settings file or C# file states."""
    name = os.path.basename(path)
    if name.endswith(".cs"):
        return list(_code(path, text))
    document = _json(path, text)
    if not isinstance(document, YMap):
        return []
    if name.lower() == "launchsettings.json":
        return list(_launch_settings(path, document))
    side = LOCAL if _LOCAL_SETTINGS.match(name) else UNKNOWN
    listens = list(_app_settings(path, document, side))
    return listens + list(settings.references(path, document, side, _OWN_KEYS))


def _json(path: str, text: str) -> Any:
    """JSON (a YAML document) with the places of its values; .NET allows `//` comments."""
    try:
        return load(without_comments(text), path)
    except YAMLInputError:
        return None


def _launch_settings(path: str, document: YMap) -> Iterator[Listen]:
    profiles = document.get("profiles")
    if not isinstance(profiles, YMap):
        return
    for profile in profiles.values():
        if not isinstance(profile, YMap):
            continue
        yield from _urls(path, profile, "applicationUrl", URLS, LOCAL)
        yield from _urls(path, profile, "launchUrl", URLS, LOCAL)
        variables = profile.get("environmentVariables")
        if isinstance(variables, YMap):
            yield from _urls(path, variables, URLS, URLS, LOCAL)


# The keys whose values are where the program itself listens, not references.
_OWN_KEYS: Final = frozenset({"urls", "kestrel"})


def environment_of(path: str) -> str | None:
    """The env of `appsettings.<env>.json` (lower case); None for another file."""
    found = _LOCAL_SETTINGS.match(os.path.basename(path))
    return found.group("env").lower() if found else None


def _app_settings(path: str, document: YMap, side: str) -> Iterator[Listen]:
    for key in ("urls", "Urls", "URLS"):
        yield from _urls(path, document, key, URLS, side)
    kestrel = document.get("Kestrel")
    endpoints = kestrel.get("Endpoints") if isinstance(kestrel, YMap) else None
    if not isinstance(endpoints, YMap):
        return
    for name, endpoint in endpoints.items():
        if isinstance(endpoint, YMap):
            variable = f"Kestrel__Endpoints__{name}__Url"
            yield from _urls(path, endpoint, "Url", variable, side, name.lower())


def _urls(
    path: str, node: YMap, key: str, variable: str, side: str, name: str | None = None
) -> Iterator[Listen]:
    """Each URL of `node[key]` (`;`-separated), its place counted from the value's."""
    value = node.get(key)
    if not isinstance(value, str) or key not in node.value_marks:
        return
    mark = node.value_marks[key]
    offset = 1  # the opening quote
    for url in value.split(";"):
        match = _URL_PORT.match(url.strip())
        if match is not None:
            at = Location(path, mark.line, mark.column + offset + url.find(match.group(0)))
            listen_name = name or url.split(":", 1)[0].lower()
            yield Listen(int(match.group("port")), at, SOURCE, variable, side, listen_name)
        offset += len(url) + 1


def _code(path: str, text: str) -> Iterator[Listen]:
    code = without_comments(text)
    lines = Lines(path, text)
    for match in _CODE.finditer(code):
        if match.group("urls") is not None:
            start = match.start("urls")
            for url in match.group("urls").split(";"):
                found = _URL_PORT.match(url.strip())
                if found is not None:
                    yield Listen(int(found.group("port")), lines.at(start), SOURCE)
                start += len(url) + 1
            continue
        group = "port" if match.group("port") else "any"
        number = port_number(match.group(group))
        if number is not None:
            yield Listen(number, lines.at(match.start(group)), SOURCE)


def in_containers(results: Sequence[SourceResult]) -> list[SourceResult]:
    """`results` with `appsettings.<env>.json` read as the container's, not the host's,
    where the owner's container runs in that env (`ASPNETCORE_ENVIRONMENT=<env>` in its
    compose, `env_file` or Kubernetes environment)."""
    environments: dict[str, set[str]] = {}
    for result in results:
        if result.kind in _DEPLOYMENT:
            for var in result.variables:
                if var.name == ENVIRONMENT and var.sets and var.value and var.service:
                    names = environments.setdefault(normalize_name(var.service), set())
                    names.add(var.value.strip().lower())
    return [_in_container(result, environments) for result in results]


def _in_container(result: SourceResult, environments: dict[str, set[str]]) -> SourceResult:
    env = environment_of(result.file) if result.kind == "code" else None
    if env is None:
        return result
    ports = []
    for port in result.ports:
        owner = port.owner if port.reference else port.service
        if port.side == LOCAL and owner and env in environments.get(normalize_name(owner), ()):
            side = reference_side(port.host) if port.reference else UNKNOWN
            port = replace(port, side=side)
        ports.append(port)
    return replace(result, ports=ports)


ENVIRONMENT: Final = "ASPNETCORE_ENVIRONMENT"
_DEPLOYMENT: Final = frozenset({"compose", "dotenv", "kubernetes"})
