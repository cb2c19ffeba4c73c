"""Writing the imported plan as `portplan.yaml` text, each conflict and note as a comment on
the line it concerns (the YAML dumpers write no comments, so the text is built here)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any, Final

from portplan.importer.plan import Plan, PlanHealth, PlanPort, PlanReservation, PlanService
from portplan.report import plural

# A ':' inside a word is plain text (`postgres:16`); one at its end would make a key.
_PLAIN: Final = re.compile(r"[A-Za-z_/][A-Za-z0-9_./@:-]*(?<!:)(?: [A-Za-z0-9_./()-]+)*")
# Plain scalars a YAML 1.1 or 1.2 reader would take for something else than a string.
_SPECIAL: Final = frozenset(
    {"true", "false", "null", "yes", "no", "on", "off", "y", "n"}
)  # fmt: skip
HOW: Final = """Each value is the one most files state; ties go to the value more
# lines state, then to the file kinds compose, Kubernetes, .env, Markdown in this order,
# then to the earliest statement. A "conflict:" comment names every side with file:line:
# review them, then keep this file as the source of truth (portplan check, reconcile)."""


def render(plan: Plan) -> str:
    """The plan as portplan.yaml text."""
    return "\n".join(_document(plan)) + "\n"  # it has lines: at least `version: 1`


def _document(plan: Plan) -> Iterator[str]:
    yield from _header(plan)
    yield "version: 1"
    if plan.hosts:
        yield ""
        yield "hosts:  # one per compose project, each started on its own"
        yield from (f"  {scalar(host)}: {{}}" for host in plan.hosts)
    if plan.reserved:
        yield ""
        yield "reserved:"
        yield from (_reservation(r) for r in plan.reserved)
    yield ""
    yield "services:"
    for index, service in enumerate(plan.services):
        if index:
            yield ""
        yield from _service(service)


def _header(plan: Plan) -> Iterator[str]:
    yield f"# Imported by: {plan.command}"
    yield f"# from {plural(plan.files, 'file')}. {HOW}"
    for skipped in plan.skipped:
        yield f"# not read: {_one_line(skipped)}"
    for note in plan.notes:
        yield f"# {_one_line(note)}"


def _reservation(reservation: PlanReservation) -> str:
    fields = [f"ports: {reservation.ports}"]
    if reservation.reason and reservation.reason.lower() != "reserved":
        fields.append(f"reason: {scalar(reservation.reason)}")
    if reservation.future:
        fields.append("future: true")
    return f"  - {{{', '.join(fields)}}}{_tail(reservation.comments)}"


def _service(service: PlanService) -> Iterator[str]:
    empty = not (
        service.aliases
        or service.image
        or service.exposure
        or service.ports
        or service.depends_on
        or service.host
    )
    yield f"  {scalar(service.name)}:{' {}' if empty else ''}"
    for note in service.notes:
        yield f"    # {_one_line(note)}"
    if service.host:
        yield f"    host: {scalar(service.host)}"
    if service.aliases:
        yield f"    aliases: [{', '.join(scalar(a) for a in service.aliases)}]"
    if service.image:
        yield f"    image: {scalar(service.image)}{_tail(service.image_comments)}"
    if service.exposure:
        yield f"    exposure: {service.exposure}{_tail(service.exposure_comments)}"
    if service.ports:
        yield "    ports:"
        for port in service.ports:
            yield from _port(port)
    if service.depends_on:
        yield "    depends_on:"
        for dep in service.depends_on:
            yield f"      - {scalar(dep.name)}{_tail(dep.comments)}"


def _port(port: PlanPort) -> Iterator[str]:
    short = port.number if port.protocol == "tcp" else scalar(f"{port.number}/{port.protocol}")
    target = port.target if port.target not in (None, port.number) else None
    unpublished = port.published is False
    if not (port.address or port.env or port.health or target or unpublished):
        yield f"      {scalar(port.name)}: {short}{_tail(port.comments)}"
        return
    yield f"      {scalar(port.name)}:"
    yield f"        port: {port.number}{_tail(port.comments)}"
    if target is not None:
        yield f"        target: {target}{_tail(port.target_comments)}"
    if unpublished:
        yield "        published: false"
    fields = (
        ("protocol", port.protocol if port.protocol != "tcp" else None),
        ("address", scalar(port.address) if port.address else None),
        ("env", port.env),
    )
    yield from (f"        {key}: {value}" for key, value in fields if value)
    if port.health:
        yield f"        health: {_health(port.health)}{_tail(port.health.comments)}"


def _health(health: PlanHealth) -> str:
    fields = [f"path: {scalar(health.path)}"]
    if health.expect:
        fields.append(f"expect: {_flow(health.expect)}")
    return f"{{{', '.join(fields)}}}"


def _flow(value: Any) -> str:
    """A JSON value as a YAML flow node: {status: ok}."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{scalar(str(k))}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, str):
        return scalar(value)
    return json.dumps(value)


def scalar(text: str) -> str:
    """`text` plain when YAML reads it back as the same string, else double-quoted."""
    if _PLAIN.fullmatch(text) and text.lower() not in _SPECIAL:
        return text
    quoted = json.dumps(text, ensure_ascii=False)
    return "".join(c if c.isprintable() else _escape(c) for c in quoted)


def _escape(char: str) -> str:
    code = ord(char)
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def _tail(comments: list[str]) -> str:
    if not comments:
        return ""  # most lines
    return "".join(f"  # {_one_line(comment)}" for comment in comments)


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())
