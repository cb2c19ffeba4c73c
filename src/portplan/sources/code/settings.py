"""The addresses an application's config file gives its settings, as references.

Every string value of a JSON or YAML app config (`appsettings.json`) that is a URL or a
`host:port` is an address of the service it reaches, named by the setting's key path
(`PurchaseUrl`, `Urls:Basket`, `ConnectionStrings:Redis`), the name .NET's configuration
reads it by (and `Purchase__Url` from the environment). The service reached is the host
when it is a service's name (`http://basket-api:80`); on the host machine
(`http://localhost:5200`), the words of the key before its address word (`PurchaseUrl` ->
PURCHASE, as an environment variable of that name is read), else the key itself when its
parent names a set of addresses (`Urls: {basket: ...}` -> basket). A value that holds a
variable or a template states nothing; nor does a public DNS name (outside the system) or
a wildcard address (where the program itself listens).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, Final

from portplan.model import Location
from portplan.names import (
    host_service,
    is_address_variable,
    is_bind_address,
    is_host_machine,
    prefix_service,
    reference_side,
    variable_words,
)
from portplan.sources.base import LOCAL
from portplan.sources.code.base import Listen
from portplan.yamlio.load import YMap

SOURCE: Final = "appsettings"
SEPARATOR: Final = ":"
# Parent keys whose children are addresses named by their keys (`Urls: {basket: ...}`).
ADDRESS_SETS: Final = frozenset(
    {"urls", "uris", "endpoints", "services", "connectionstrings", "hosts", "addresses",
     "apis", "backends", "upstreams", "clients"}
)  # fmt: skip
_ADDRESS: Final = re.compile(
    r"^(?:(?P<scheme>[A-Za-z][\w+.-]*)://)?(?:[^@/\s]*@)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_.*+-]+):(?P<port>\d{1,5})(?:[/?#].*)?$"
)
_TEMPLATED: Final = re.compile(r"\$|\{|%\(|<[A-Za-z_]+>")
_MAX_DEPTH: Final = 12


def references(
    path: str, document: YMap, side: str, skip: frozenset[str] = frozenset()
) -> Iterator[Listen]:
    """The references of `document`'s string settings (top-level keys in `skip`, lower
    case, are not read: they are where the program listens)."""
    for key, value in document.items():
        name = str(key).lower()
        # `urls` is where the program listens; a map of them (`Urls: {basket: ...}`) names
        # the services it reaches
        if name in skip and (isinstance(value, str) or name not in ADDRESS_SETS):
            continue
        yield from _walk(path, document, str(key), value, [str(key)], side)


def _walk(
    path: str, node: YMap, key: str, value: Any, keys: list[str], side: str
) -> Iterator[Listen]:
    if len(keys) > _MAX_DEPTH:
        return
    if isinstance(value, YMap):
        for child, inner in value.items():
            yield from _walk(path, value, str(child), inner, [*keys, str(child)], side)
    elif isinstance(value, str) and key in node.value_marks:
        mark = node.value_marks[key]
        # a JSON string's place is its opening quote
        found = reference(keys, value, Location(path, mark.line, mark.column + 1), side)
        if found is not None:
            yield found


def reference(keys: list[str], value: str, at: Location, side: str) -> Listen | None:
    """The reference the setting at key path `keys` makes with `value` (written at `at`,
    the value's first character), None when it makes none."""
    text = value.strip()
    found = _ADDRESS.match(text)
    if found is None or _TEMPLATED.search(text):
        return None
    host = found.group("host").strip("[]")
    number = int(found.group("port"))
    if not 0 < number < 65536 or is_bind_address(host) or host in ("*", "+"):
        return None
    target = _target(keys, host)
    if target is None:
        return None
    column = at.column + value.find(text) + found.start("port")
    where = Location(at.file, at.line, column)
    variable = SEPARATOR.join(keys)
    side = side if side == LOCAL else reference_side(host)
    return Listen(number, where, SOURCE, variable, side, target=target, host=host)


def _target(keys: list[str], host: str) -> str | None:
    if not is_host_machine(host):
        return host_service(host)
    leaf = keys[-1]
    named = prefix_service(leaf) if _is_address_key(leaf) else None
    if named:
        return named
    if len(keys) > 1 and keys[-2].lower() in ADDRESS_SETS:
        return leaf
    return None


def _is_address_key(key: str) -> bool:
    return bool(variable_words(key)) and is_address_variable(key)


def setting_key(variable: str) -> str:
    """A setting's name as every source writes it: `PurchaseUrl`, `PURCHASE_URL`,
    `Purchase__Url` and `Purchase:Url` are `purchaseurl`."""
    return re.sub(r"[_:.\-\s]", "", variable).lower()
