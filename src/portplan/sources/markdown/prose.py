"""Ports, ranges and names stated in a line of text: a heading, a list item, a paragraph
line, a table cell, a line of a text diagram.

A number is a port only when its context says so:

- `name (Port N)`, `name (Rust - Port N)`, `name (HTTP N, gRPC M)`: any port 1-65535;
- `name (N)`, `name (N, M)`: N from 1024 on and not a year (1900-2100);
- `name (A-B)`, `name (N+)`: a range labelled `name` (never ports of one service: a plan
  that gives a service a span of ports states a policy, and `N+` is open-ended, future);
- `Port N: name (public ...)`, `Ports A-B: label`, `name: Port N (HTTP), M (gRPC)`;
- `A-B: label`, `N+: label`, `N: label` under a heading about ports;
- `label: A-B (qualifier), N (public)`: ranges, each a range or with an exposure word;
- `name: scheme://host:N/path`.

Costs, percentages, years, latencies, durations and counts match none of these.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from typing import Final

from portplan.model import PortRange
from portplan.names import parse_url
from portplan.sources.base import PortObservation, ServiceObservation
from portplan.sources.markdown.blocks import Heading, TextLine
from portplan.sources.markdown.context import MAX_PORT, Collector, HeadingContext
from portplan.sources.markdown.text import (
    PORT_WORD,
    TRANSPORTS,
    blank_list_marker,
    blank_markup,
    clean_text,
    exposure_of,
    first_nonblank,
    is_future,
    is_reserved,
    kind_of,
    name_after,
    name_before,
    repair,
    url_port_name,
    valid_name,
    yearlike,
)

PROSE = "prose"


@dataclass(frozen=True, slots=True)
class Spec:
    """A port, a range or an open-ended range ("8020+") as written, and where."""

    start: int
    end: int
    index: int  # of the first digit in the line
    open_ended: bool = False
    kind: str | None = None
    protocol: str = "tcp"

    @property
    def single(self) -> bool:
        return self.start == self.end and not self.open_ended

    @property
    def ports(self) -> PortRange:
        return PortRange(self.start, self.end)


@dataclass(frozen=True, slots=True)
class Hit:
    """`name (specs)` found in a line."""

    name: str
    index: int  # where the name starts
    specs: tuple[Spec, ...]
    strong: bool  # the parenthesis said "Port" or a port kind
    technology: str | None  # "Rust" in "(Rust - Port 8087)"
    end: int  # index after the closing parenthesis

    @property
    def port(self) -> Spec | None:
        """The single port of a hit that states exactly one."""
        if len(self.specs) == 1 and self.specs[0].single:
            return self.specs[0]
        return None


# --- specs ----------------------------------------------------------------------------

_ITEM: Final = re.compile(
    r"[ \t]*(?:(?P<kind>https?|grpcs?|wss?|websockets?|metrics|admin|debug)[ \t]*:?[ \t]*)?"
    r"(?P<a>\d{1,5})(?:[ \t]*[-–][ \t]*(?P<b>\d{1,5})|(?P<plus>\+))?"
    r"(?:/(?P<proto>tcp|udp|sctp))?[ \t]*",
    re.IGNORECASE,
)
_ITEM_SEPARATOR: Final = re.compile(r",|\band\b", re.IGNORECASE)


def _spec(found: re.Match[str], offset: int) -> Spec:
    groups = found.groupdict()
    start = int(groups["a"])
    end = MAX_PORT if groups["plus"] else int(groups["b"] or start)
    kind = groups.get("kind")
    return Spec(
        start=start,
        end=end,
        index=offset + found.start("a"),
        open_ended=bool(groups["plus"]),
        kind=kind_of(kind) if kind else None,
        protocol=(groups.get("proto") or "tcp").lower(),
    )


def parse_specs(text: str, offset: int = 0) -> list[Spec] | None:
    """`text` as a list of ports and ranges ("9200, 9300", "8000-8009", "8020+",
    "HTTP 8080, gRPC 50051"), or None when it is anything else ("20 ports", "$14K").
    `offset` is where `text` starts in its line."""
    specs: list[Spec] = []
    position, size = 0, len(text)
    while True:
        item = _ITEM.match(text, position)
        if item is None:
            return None
        specs.append(_spec(item, offset))
        position = item.end()
        if position >= size:
            return specs
        separator = _ITEM_SEPARATOR.match(text, position)
        if separator is None:
            return None
        position = separator.end()


def plausible(spec: Spec, strong: bool) -> bool:
    """Whether `spec` can be a port or range; `strong` when the context says "port"."""
    if not 1 <= spec.start <= spec.end <= MAX_PORT:
        return False
    if strong:
        return True
    if spec.start < 1024:
        return False
    if spec.single or spec.open_ended:
        return not yearlike(spec.start)
    return not (yearlike(spec.start) and yearlike(spec.end))


# --- name (specs) ---------------------------------------------------------------------

_PAREN: Final = re.compile(r"\(([^()\n]*)\)")
_STRONG: Final = re.compile(
    r"[ \t]*(?:(?P<tech>[A-Za-z][\w.+#]*)[ \t]*[-–—,:][ \t]*)?(?:on[ \t]+)?ports?\b[ \t]*:?",
    re.IGNORECASE,
)


def paren_hits(line: str) -> list[Hit]:
    """Every `name (specs)` in a cleaned line, in order."""
    if "(" not in line:
        return []
    hits: list[Hit] = []
    for paren in _PAREN.finditer(line):
        hit = _hit(line, paren)
        if hit is not None:
            hits.append(hit)
    return hits


def _hit(line: str, paren: re.Match[str]) -> Hit | None:
    inner, offset = paren.group(1), paren.start(1)
    strong = _STRONG.match(inner)
    body = strong.end() if strong else 0
    specs = parse_specs(inner[body:], offset + body)
    if not specs:
        return None
    # "(HTTP 8080)" names a port; "(HTTP 100-199)" is status codes: ranges need "Port".
    is_strong = strong is not None or any(spec.kind for spec in specs)
    kept = tuple(s for s in specs if plausible(s, is_strong if s.single else bool(strong)))
    named = name_before(line, paren.start()) if kept else None
    if named is None or not (is_strong or _service_like(line, paren.start(), named[0])):
        return None
    technology = strong.group("tech") if strong else None
    return Hit(named[0], named[1], kept, is_strong, technology, paren.end())


_SERVICE_WORD: Final = re.compile(r"[A-Z]|\w[-_]\w")


def _service_like(line: str, paren: int, name: str) -> bool:
    """For a bare `(N)`: a name apart from its parenthesis (not a call, `alloc(16384)`)
    that looks like a service: one word, a capital letter or a hyphenated identifier
    (not "starts returning false (16384)")."""
    if paren == 0 or not line[paren - 1].isspace():
        return False
    return " " not in name or _SERVICE_WORD.search(name) is not None


def _emit_hits(ctx: Collector, number: int, line: str, hits: list[Hit], source: str) -> None:
    for hit in hits:
        for spec in hit.specs:
            if spec.single and _protocol(hit.name):
                continue  # `HTTP-01` (port 80), `HTTPS (443)`: what the port speaks, not whose
            if spec.single:
                ctx.port(_port(ctx, hit.name, spec, number, source))
            else:
                label = hit.name
                ctx.range(
                    spec.ports, number, spec.index, source, label,
                    reserved=is_reserved(label), future=spec.open_ended,
                )  # fmt: skip
    _renames(ctx, number, line, hits, source)
    _described(ctx, number, line, hits, source)


def _port(ctx: Collector, service: str, spec: Spec, number: int, source: str) -> PortObservation:
    location = ctx.at(number, spec.index)
    return PortObservation(
        service, spec.start, location, source, port_name=spec.kind, protocol=spec.protocol
    )


_ARROW: Final = re.compile(r"→|⇒|➜|➔|->|=>")


def _renames(ctx: Collector, number: int, line: str, hits: list[Hit], source: str) -> None:
    """`Database Service (Port 8008) → database-service (8008)`: one service, two names."""
    for old, new in pairwise(hits):
        same = old.port and new.port and old.port.start == new.port.start
        if same and _ARROW.search(line, old.end, new.index):
            location = ctx.at(number, new.index)
            observation = ServiceObservation(new.name, location, source, aliases=(old.name,))
            ctx.result.services.append(observation)


_AFTER_COLON: Final = re.compile(r"[ \t]*:[ \t]*(?P<text>\S.*)$")


def _described(ctx: Collector, number: int, line: str, hits: list[Hit], source: str) -> None:
    """`compliance-monitor (8017): Real-time ...`, `Settlement Engine (Rust - Port 8087)`."""
    if not hits or hits[0].port is None or hits[0].index != first_nonblank(line):
        return
    hit = hits[0]
    after = _AFTER_COLON.match(line, hit.end)
    purpose = clean_text(after.group("text")) if after else ""
    if purpose or hit.technology:
        location = ctx.at(number, hit.index)
        ctx.result.services.append(
            ServiceObservation(
                hit.name, location, source, purpose=purpose or None, technology=hit.technology
            )
        )


# --- whole-line shapes ----------------------------------------------------------------

_NAME: Final = r"[A-Za-z][\w&/+.'#-]*(?:[ \t]+[\w&/+.'#-]+){0,5}"
_NAME_URL: Final = re.compile(
    rf"^\s*(?P<name>{_NAME})[ \t]*:[ \t]*(?P<url>[A-Za-z][\w+.-]*://\S+)\s*$"
)
_NAME_PORTS: Final = re.compile(
    rf"^\s*(?P<name>{_NAME})[ \t]*:[ \t]*ports?[ \t]+(?=\d)", re.IGNORECASE
)
_NUMBER_KIND: Final = re.compile(r"(?P<n>\d{1,5})\b(?:[ \t]*\((?P<kind>[^()]*)\))?")
_NEXT_NUMBER: Final = re.compile(r"[ \t]*,[ \t]*(?=\d)")
_PORT_LEAD: Final = re.compile(
    r"^\s*ports?[ \t]+(?P<specs>\d[\d \t,+–-]*?)[ \t]*:[ \t]*(?P<rest>.*)$", re.IGNORECASE
)
_SPEC_LEAD: Final = re.compile(
    r"^\s*(?P<spec>\d{1,5}(?:[ \t]*[-–][ \t]*\d{1,5}|\+)?)[ \t]*:[ \t]*(?P<rest>\S.*)$"
)
_LABEL_SPECS: Final = re.compile(rf"^\s*(?P<label>{_NAME})[ \t]*:[ \t]*(?=\d)")
_QUALIFIED_SPEC: Final = re.compile(
    r"(?P<a>\d{1,5})(?:[ \t]*[-–][ \t]*(?P<b>\d{1,5})|(?P<plus>\+))?"
    r"(?:[ \t]*\((?P<q>[^()]*)\))?[ \t]*(?:,[ \t]*|$)"
)
_HEALTH_PATH: Final = re.compile(r"health|ready|live|status", re.IGNORECASE)
# `- pmatcher-web: a web server running on localhost and port 9020.`: a one-word service
# name, then prose saying where it runs
_NAME_RUNS_ON: Final = re.compile(
    r"^\s*(?P<name>[A-Za-z][\w.-]*)[ \t]*:[ \t]+[^:]*?\b(?:running|runs|listening|listens|"
    r"available|accessible|reachable|served|serving)\s+(?:on|at)\s+"
    r"(?:(?:localhost|127\.0\.0\.1|0\.0\.0\.0)\s*(?:,|and|on)?\s*)?port\s+(?P<port>\d{1,5})\b",
    re.IGNORECASE,
)
_NOT_A_SERVICE: Final = frozenset(
    {"note", "tip", "hint", "warning", "caution", "important", "info", "example", "default",
     "output", "result", "usage", "update", "edit", "nb", "todo", "step"}
)  # fmt: skip


# A word that makes a label of several words a clause ("You can then access it here: URL"),
# not a name: a subject pronoun, a modal or form of "be", a pointing adverb.
_CLAUSE_WORDS: Final = frozenset(
    {"i", "you", "we", "they", "he", "she", "it", "can", "could", "will", "would", "should"}
    | {"must", "may", "might", "is", "are", "was", "were", "then", "here", "there", "please"}
)


def _service_name(name: str) -> bool:
    """A name before `: Port N` or `: URL`, and not "No Port 8010 Conflict" nor a sentence
    ("You can then access petclinic here")."""
    words = set(name.lower().split())
    clause = len(words) > 1 and bool(words & _CLAUSE_WORDS)
    return valid_name(name) and not PORT_WORD.search(name) and not clause


# Words that say what the value after them is, not whose: "URL: http://...", "Grafana URL:"
_VALUE_LABELS: Final = frozenset(
    {"url", "urls", "uri", "link", "links", "address", "endpoint", "endpoints", "href"}
)


def _name_url(ctx: Collector, number: int, line: str, source: str) -> bool:
    """`Token Engine:       http://localhost:8081/metrics`; `Grafana URL: http://...` names
    Grafana, and a bare label (`URL: http://<swarm-ip>:3000`, `* Url: http://x:9090`) no
    service."""
    found = _NAME_URL.match(line) if "://" in line else None
    words = found.group("name").split() if found else []
    while words and words[-1].lower() in _VALUE_LABELS:
        words.pop()
    name = " ".join(words)
    if found is None or not words or not _service_name(name):
        return False
    url = parse_url(found.group("url"))
    if url is None or url.port is None:
        return url is not None
    index = found.start("url") + url.port_offset
    if not ctx.checked_port(url.port, number, index, name):
        return True
    kind = url_port_name(url)
    observation = PortObservation(name, url.port, ctx.at(number, index), source, port_name=kind)
    ctx.port(observation)
    if not _HEALTH_PATH.search(url.path) and kind != "metrics":  # `/health`: its own
        ctx.route(url.host or "", observation, url.path)
    if _HEALTH_PATH.search(url.path):
        location = ctx.at(number, found.start("name"))
        ctx.result.services.append(ServiceObservation(name, location, source, health_path=url.path))
    return True


def _name_runs_on(ctx: Collector, number: int, line: str, source: str) -> bool:
    """`pmatcher-web: a web server running on localhost and port 9020` (a list item naming
    a service, then where it runs)."""
    found = _NAME_RUNS_ON.match(line)
    name = found.group("name") if found else ""
    if found is None or name.lower() in _NOT_A_SERVICE or not _service_name(name):
        return False
    index = found.start("port")
    if ctx.checked_port(int(found.group("port")), number, index, name):
        ctx.port(PortObservation(name, int(found.group("port")), ctx.at(number, index), source))
    return True


def _name_ports(ctx: Collector, number: int, line: str, source: str) -> bool:
    """`Settlement Engine: Port 8087 (HTTP), 50056 (gRPC)`."""
    found = _NAME_PORTS.match(line)
    if found is None or not _service_name(found.group("name")):
        return False
    name, position = found.group("name"), found.end()
    while True:
        item = _NUMBER_KIND.match(line, position)
        if item is None:
            break
        word = item.group("kind") or ""
        spec = Spec(int(item.group("n")), int(item.group("n")), item.start("n"), kind=kind_of(word))
        if word.lower() in TRANSPORTS:
            spec = Spec(spec.start, spec.end, spec.index, protocol=word.lower())
        if plausible(spec, strong=True):
            ctx.port(_port(ctx, name, spec, number, source))
        following = _NEXT_NUMBER.match(line, item.end())
        if following is None:
            break
        position = following.end()
    return True


def _port_lead(ctx: Collector, number: int, line: str, source: str) -> bool:
    """`Port 8000: API Gateway (public, ...)`, `Ports 8001-8019: All internal services`."""
    found = _PORT_LEAD.match(line)
    specs = parse_specs(found.group("specs"), found.start("specs")) if found else None
    if found is None or specs is None:
        return False
    _labelled(ctx, number, line, found.start("rest"), specs, source)
    return True


def _spec_lead(ctx: Collector, number: int, line: str, source: str) -> bool:
    """`8000-8009: Core infrastructure`, `8020+: Available`, `8010: Reserved` (port context)."""
    found = _SPEC_LEAD.match(line)
    if found is None or not ctx.in_port_context:
        return False
    specs = parse_specs(found.group("spec"), found.start("spec"))
    if not specs or (specs[0].single and yearlike(specs[0].start)):
        return False
    _labelled(ctx, number, line, found.start("rest"), specs, source)
    return True


def _labelled(
    ctx: Collector, number: int, line: str, rest_at: int, specs: list[Spec], source: str
) -> None:
    """Specs followed by what they are: a service (single ports) or a range's label."""
    rest = line[rest_at:]
    label = clean_text(rest)
    exposure = exposure_of(rest) or ctx.heading_exposure
    reserved, future = is_reserved(label), is_future(label)
    named = None if reserved or future else name_after(line, rest_at)
    protocol = named is not None and _protocol(named[0])
    for spec in specs:
        if not plausible(spec, strong=True):
            continue
        if spec.single and protocol:
            continue  # `443`: HTTPS names what the port speaks, not whose it is
        if spec.single and named is not None:
            location = ctx.at(number, spec.index)
            ctx.port(PortObservation(named[0], spec.start, location, source, exposure=exposure))
        else:
            ctx.range(
                spec.ports, number, spec.index, source, label,
                reserved=reserved, future=future or spec.open_ended, exposure=exposure,
            )  # fmt: skip


# What a port speaks, never a service's name (`- 443: HTTPS`, `- 9000: gRPC`).
_PROTOCOL_KINDS: Final = frozenset({"http", "https", "grpc", "ws"})


def _protocol(name: str) -> bool:
    """Whether a one-word label names a protocol (`HTTPS`, `gRPC`, `UDP`), not a service."""
    return " " not in name and (kind_of(name) in _PROTOCOL_KINDS or name.lower() in TRANSPORTS)


def _label_specs(ctx: Collector, number: int, line: str, source: str) -> bool:
    """`Client Side: 9001-9004 (local only)`, `Server Side: 8000 (public), 8001-8019 (...)`,
    `Reserved: 8004-8006`: ranges, each a range or qualified by an exposure word."""
    found = _LABEL_SPECS.match(line)
    items = _qualified_specs(line, found.end()) if found else None
    if found is None or items is None or not valid_name(found.group("label")):
        return False
    label = found.group("label")
    reserved = is_reserved(label)
    qualified = [exposure_of(item.group("q") or "") for item in items]
    specs = [_spec(item, 0) for item in items]
    context = ctx.in_port_context or reserved or bool(PORT_WORD.search(label)) or all(qualified)
    spans = reserved or all(q or not s.single for s, q in zip(specs, qualified, strict=True))
    if not (context and spans and all(plausible(spec, strong=False) for spec in specs)):
        return False
    for spec, exposure in zip(specs, qualified, strict=True):
        ctx.range(
            spec.ports, number, spec.index, source, clean_text(label), reserved=reserved,
            future=spec.open_ended or is_future(label), exposure=exposure or exposure_of(label),
        )  # fmt: skip
    return True


def _qualified_specs(line: str, position: int) -> list[re.Match[str]] | None:
    items: list[re.Match[str]] = []
    while position < len(line):
        item = _QUALIFIED_SPEC.match(line, position)
        if item is None:
            return None
        items.append(item)
        position = item.end()
    return items


_DIGIT: Final = re.compile(r"\d")
_Shape = Callable[[Collector, int, str, str], bool]
_SHAPES: Final[tuple[_Shape, ...]] = (
    _name_url,
    _name_ports,
    _name_runs_on,
    _port_lead,
    _spec_lead,
    _label_specs,
)


def clean_line(raw: str, *, prose: bool) -> str:
    """A line ready for the scanner: mojibake repaired, markup (and list markers) blanked."""
    line = blank_markup(repair(raw))
    return blank_list_marker(line) if prose else line


def scan_line(
    ctx: Collector, number: int, raw: str, source: str, *, prose: bool
) -> tuple[str, list[Hit]]:
    """Record what line `number` states; returns the cleaned line and its `name (specs)`."""
    line = clean_line(raw, prose=prose)
    if ":" in line and _DIGIT.search(line):  # every shape has both
        for shape in _SHAPES:
            if shape(ctx, number, line, source):
                break
    hits = paren_hits(line)
    _emit_hits(ctx, number, line, hits, source)
    return line, hits


# --- blocks ---------------------------------------------------------------------------


def heading(ctx: Collector, block: Heading) -> None:
    """A heading states ports like any line, and names the service of the blocks below it."""
    body = block.text[block.start :].rstrip()
    body = body.rstrip("#") if body.endswith(" #") or body == "#" else body
    _, hits = scan_line(ctx, block.line, " " * block.start + body, PROSE, prose=False)
    text = clean_text(body)
    service = next((hit.name for hit in hits if hit.port is not None), None)
    ctx.enter_heading(HeadingContext(block.level, text, service))


def text_line(ctx: Collector, block: TextLine) -> None:
    scan_line(ctx, block.line, block.text, PROSE, prose=True)


def scan_url_line(ctx: Collector, number: int, raw: str, source: str) -> None:
    """Only `name: scheme://host:port/...`, for blocks whose other text is commands."""
    _name_url(ctx, number, clean_line(raw, prose=False), source)
