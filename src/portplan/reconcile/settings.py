"""Rules over app settings: one setting of one service in its app config and in its
deployment environment (PP220), and one port given to two services in one config file
(PP213's config-file half, `reused_in_config`).

A setting is known by its normalised key (`setting_key`: `PurchaseUrl`, `PURCHASE_URL`,
`Purchase__Url` and `Purchase:Url` are one setting), its owner (the service whose
configuration holds it) and the side its address reaches: `http://webshoppingapigw` (the
container network) and `http://localhost:5202` (the host machine) are never compared.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any, Final

from portplan.findings import Finding, Level
from portplan.model import Location, normalize_name
from portplan.names import is_host_machine
from portplan.reconcile.names import strip_suffix
from portplan.reconcile.view import View, rule
from portplan.sources.base import LOCAL, PUBLISHED, UNKNOWN, PortObservation
from portplan.sources.code.settings import setting_key

APP_CONFIG: Final = "code"  # the kind of the results of app config files
# The files that set a service's environment when it is deployed.
DEPLOYMENT: Final = frozenset({"compose", "dotenv", "kubernetes"})

_Setting = tuple[str, str, PortObservation]  # (owner key, side, observation)


def _target_key(view: View, name: str) -> str:
    return view.key(name) or normalize_name(name)


def settled_side(view: View, obs: PortObservation) -> str:
    """The side a setting's address reaches; a host-machine URL to another service than
    its owner, in a setting whose side its file does not say, is one the host reaches
    (as `references.side_of` settles it)."""
    if obs.side != UNKNOWN or obs.owner is None or not is_host_machine(obs.host):
        return obs.side
    own = _target_key(view, obs.owner) == _target_key(view, obs.service)
    return UNKNOWN if own else PUBLISHED


def _settings(view: View, kinds: frozenset[str]) -> Iterator[tuple[str, _Setting]]:
    """(setting key, setting) of every reference a file of `kinds` makes."""
    seen: set[Location] = set()
    for result in view.results:
        if result.kind not in kinds:
            continue
        for obs in result.ports:
            if not obs.reference or not obs.owner or not obs.variable or obs.location in seen:
                continue
            seen.add(obs.location)
            owner = _target_key(view, obs.owner)
            yield setting_key(obs.variable), (owner, settled_side(view, obs), obs)


@rule(
    "PP220",
    "setting-drift",
    Level.ERROR,
    "one setting of a service gives another port in its app config than in its deployment",
)
def setting_drift(view: View) -> Iterator[Finding]:
    """A service's app config (`appsettings.json`) gives a setting an address on one port,
    and its deployment environment (compose `environment:`, an `env_file`, a Kubernetes
    container's `env`) gives the same setting (`PurchaseUrl` = `PURCHASE_URL` =
    `Purchase__Url`) on the same side another port: the default and the deployment
    disagree. Both places are named. Addresses on different sides (a service name on the
    container network, `localhost` on the host machine) are never compared.

    PASS: appsettings.json PurchaseUrl=http://localhost:5202; compose PurchaseUrl=http://host.docker.internal:5202
    FAIL: appsettings.json PurchaseUrl=http://localhost:5200; compose PurchaseUrl=http://host.docker.internal:5202
    PASS: appsettings.json PurchaseUrl=http://localhost:5200; compose PurchaseUrl=http://purchase-gw
    """
    deployed: dict[tuple[int, str, str, str], list[PortObservation]] = {}
    for key, (owner, side, obs) in _settings(view, DEPLOYMENT):
        place = (view.system(obs.location), owner, key, side)
        deployed.setdefault(place, []).append(obs)
    for key, (owner, side, obs) in _settings(view, frozenset({APP_CONFIG})):
        if side == LOCAL:
            continue
        other = [o for o in deployed.get((view.system(obs.location), owner, key, side), [])]
        differ = [o for o in other if o.number != obs.number]
        if not other or len(differ) < len(other):
            continue  # one deployment agrees with the default
        yield _drift(view, owner, obs, differ)


def _drift(view: View, owner: str, obs: PortObservation, differ: list[PortObservation]) -> Finding:
    first = differ[0]
    where = f"{os.path.basename(first.location.file)}:{first.location.line}"
    message = (
        f"{view.show(owner)}: {obs.variable} is {obs.host}:{obs.number} in "
        f"{os.path.basename(obs.location.file)} but {first.host}:{first.number} in its "
        f"deployment environment ({first.variable}, {where})"
    )
    places = [obs.location, *sorted({o.location for o in differ})[:3]]
    return setting_drift.finding(
        message, places, service=view.show(owner), port=obs.number, setting=obs.variable
    )


def reused_in_config(view: View) -> Iterator[tuple[str, list[Location], dict[str, Any]]]:
    """One app config file gives one address (side, host, port) to settings that name two
    different services, and what one of those services says of itself (its
    `launchSettings.json` on the host) gives it another port: (message, places, facts)
    for PP213. Two services behind one gateway share its address; only a service known to
    run elsewhere makes the shared one wrong."""
    listens = view.memo("own-local-ports", _own_local_ports)
    groups: dict[tuple[str, str, str, int], list[PortObservation]] = {}
    for _, (_, side, obs) in _settings(view, frozenset({APP_CONFIG})):
        place = (obs.location.file, side, (obs.host or "").lower(), obs.number)
        groups.setdefault(place, []).append(obs)
    for (file, _, host, number), said in sorted(groups.items()):
        targets = {_base(view, obs.service): obs for obs in said}
        if len(targets) < 2:
            continue
        elsewhere = [
            (obs, own)
            for base, obs in sorted(targets.items())
            for own in listens.get(base, [])
            if own.number != number
        ]
        if not elsewhere:
            continue
        yield _reused(file, host, number, said, elsewhere)


def _reused(
    file: str,
    host: str,
    number: int,
    said: list[PortObservation],
    elsewhere: list[tuple[PortObservation, PortObservation]],
) -> tuple[str, list[Location], dict[str, Any]]:
    names = " and ".join(obs.variable or obs.service for obs in said)
    obs, own = elsewhere[0]
    where = f"{os.path.basename(own.location.file)}:{own.location.line}"
    owner = f"{said[0].owner}: " if said[0].owner else ""
    message = (
        f"{owner}{names} {'both' if len(said) == 2 else 'all'} reach {host}:{number} in "
        f"{os.path.basename(file)}, "
        f"but {obs.service} runs on {own.number} ({own.service}, {where})"
    )
    places = [o.location for o in said] + [own.location]
    variables = [o.variable or o.service for o in said]
    return message, places, {"port": number, "variables": variables}


def _base(view: View, name: str) -> str:
    """A service's name without its role word: `basket` (an app setting's key) and
    `basket-api` (a service) are one."""
    base = strip_suffix(_target_key(view, name).replace("-", "").replace("_", ""))
    for role in _ROLES:
        if base.endswith(role) and len(base) >= len(role) + 3:
            return base[: -len(role)]
    return base


_ROLES: Final = ("api", "app", "service", "svc", "server")


def _own_local_ports(view: View) -> dict[str, list[PortObservation]]:
    """Service (base key) -> the ports its own files say it runs on on the host
    (`launchSettings.json`)."""
    found: dict[str, list[PortObservation]] = {}
    for result in view.results:
        if result.kind != APP_CONFIG:
            continue
        for obs in result.ports:
            if not obs.reference and obs.side == LOCAL:
                found.setdefault(_base(view, obs.service), []).append(obs)
    return found
