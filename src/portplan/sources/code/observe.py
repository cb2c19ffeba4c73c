"""The observations of a file: what its `Listen` statements say, as ports and variables."""

from __future__ import annotations

from portplan.sources.base import PortObservation, SourceResult, VariableObservation
from portplan.sources.code.base import Listen
from portplan.sources.code.modules import module_owner

KIND = "code"


def observations(
    path: str, listens: list[Listen], owner: str | None = None, kind: str = KIND
) -> SourceResult:
    """The result of a file: a port observation per port it states, a variable
    observation per variable it reads without a default; all of `owner`, by default the
    service its folder names (`owners.module_owner`) until `owners.settle` says whose it
    is."""
    owner = module_owner(path) if owner is None else owner
    result = SourceResult(file=path, kind=kind)
    seen: set[tuple[object, ...]] = set()
    for listen in listens:
        mark = (listen.number, listen.variable, listen.location)
        if mark in seen:
            continue
        seen.add(mark)
        if listen.number is None:
            if listen.variable is not None:
                result.variables.append(
                    VariableObservation(
                        owner, listen.variable, listen.location, listen.source, sets=False
                    )
                )
            continue
        if listen.target is not None:
            result.ports.append(_reference(listen, listen.number, listen.target, owner))
            continue
        result.ports.append(
            PortObservation(
                owner,
                listen.number,
                listen.location,
                listen.source,
                port_name=listen.name,
                variable=listen.variable,
                side=listen.side,
            )
        )
    result.ports.sort(key=lambda o: (o.location.line, o.location.column))
    return result


def _reference(listen: Listen, number: int, target: str, owner: str) -> PortObservation:
    """A setting's address of `target`, a reference `owner` makes."""
    return PortObservation(
        target,
        number,
        listen.location,
        listen.source,
        variable=listen.variable,
        side=listen.side,
        reference=True,
        owner=owner,
        host=listen.host,
    )
