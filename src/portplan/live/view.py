"""Text tables and JSON documents for `ports`, `who` and `status`. Nothing here prints.

Tables pad every column but the last (the command line, which may be long). JSON lists
one record per line, encoded by the C encoder: `ports --json` with thousands of
listeners must stay fast, and `json.dumps(indent=...)` falls back to pure Python.
"""

from __future__ import annotations

import time
from _operator import attrgetter  # as operator.py exports it, without importing that

from portplan.live.owners import Access
from portplan.live.text import printable

TYPE_CHECKING = False
if TYPE_CHECKING:  # not imported at run time: `ports` must not pay for typing, status, asyncio
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from typing import Any

    from portplan.findings import Finding
    from portplan.live.declared import Declared, DeclaredIndex
    from portplan.live.owners import Listener
    from portplan.live.status import PortStatus, StatusReport

NOTHING = "-"
_NO_PROCESS = {Access.DENIED: "(permission denied)", Access.UNKNOWN: "(no visible process)"}


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """Columns padded to their widest cell, two spaces apart; the last is not padded."""
    body = [header, *rows]
    widths = [max(map(len, column)) for column in zip(*body, strict=True)][:-1]
    line = "  ".join([*(f"{{:<{width}}}" for width in widths), "{}"])
    return "\n".join([line.format(*row).rstrip() for row in body]) + "\n"


def json_document(head: Mapping[str, Any], key: str, items: Iterable[Mapping[str, Any]]) -> str:
    """{**head, key: [items...]} with one item per line."""
    import json

    encode = json.JSONEncoder(ensure_ascii=False).encode
    return _json_lines(encode, head, key, map(encode, items))


def _json_lines(
    encode: Callable[[Any], str], head: Mapping[str, Any], key: str, lines: Iterable[str]
) -> str:
    """Each field of `head` on a line (lists one item per line), then `key` and `lines`."""
    fields = "".join(f"{_json_field(encode, k, v)},\n" for k, v in head.items())
    opening = f"{{\n{fields}  {encode(key)}: "
    items = list(lines)
    if not items:
        return f"{opening}[]\n}}\n"
    # the opening and the end joined to the first and last items: the document is made in
    # one piece, not copied whole once per wrapping (thousands of listeners make it 1 MB)
    items[0] = f"{opening}[\n    {items[0]}"
    items[-1] = f"{items[-1]}\n  ]\n}}\n"
    return ",\n    ".join(items)


def _json_field(encode: Callable[[Any], str], key: str, value: Any) -> str:
    shown = _json_list(map(encode, value)) if isinstance(value, list) else encode(value)
    return f"  {encode(key)}: {shown}"


def _json_list(lines: Iterable[str]) -> str:
    listing = ",\n    ".join(lines)
    return f"[\n    {listing}\n  ]" if listing else "[]"


# ---------------------------------------------------------------------------
# ports


def group_addresses(listeners: Sequence[Listener]) -> list[tuple[Listener, list[str]]]:
    """Fold the sockets one owner holds on one port (0.0.0.0 and ::, say) into one row.

    Listeners come sorted by protocol and port, so one port's sockets are neighbours.
    """
    groups: list[tuple[Listener, list[str]]] = []
    run = 0  # where the current port's groups start
    for listener in listeners:
        first = groups[run][0] if groups else None
        if first and first.port == listener.port and first.protocol == listener.protocol:
            same = _same_owner(groups, run, listener)
            if same is not None:
                if listener.address not in same:
                    same.append(listener.address)
                continue
        else:
            run = len(groups)
        groups.append((listener, [listener.address]))
    return groups


def _same_owner(
    groups: list[tuple[Listener, list[str]]], start: int, listener: Listener
) -> list[str] | None:
    key = listener.pid or -listener.inode
    return next((a for li, a in groups[start:] if (li.pid or -li.inode) == key), None)


def ports_text(
    listeners: Sequence[Listener], index: DeclaredIndex, *, all_addresses: bool = False
) -> str:
    """The `portplan ports` table."""
    if all_addresses or _one_socket_per_port(listeners):
        firsts, addresses = listeners, list(map(_ADDRESS, listeners))
    else:
        groups = group_addresses(listeners)
        firsts = [li for li, _ in groups]
        addresses = [",".join(group) for _, group in groups]
    head = ["PROTO", "ADDRESS", "PORT"]
    columns = [list(map(_PROTOCOL, firsts)), addresses, list(map(str, map(_PORT, firsts)))]
    if index:
        head.append("SERVICE")
        columns.append([_label(index.of(li)) for li in firsts])
    tails = _OwnerCells(with_since=True).of_each(firsts)
    return shared_tail_table(head, ["PID", "USER", "SINCE", "NAME", "COMMAND"], columns, tails)


# Listener fields, read in C loops (map) rather than Python ones: thousands of rows
_PROTOCOL, _ADDRESS, _PORT = attrgetter("protocol"), attrgetter("address"), attrgetter("port")
_PROTOCOL_PORT = attrgetter("protocol", "port")
_OWNER_KEY = attrgetter("process", "uid", "access")  # what an owner's cells show


def _one_socket_per_port(listeners: Sequence[Listener]) -> bool:
    """True when no two sockets share a protocol and port: nothing to fold (the usual
    case; a service listening on both 0.0.0.0 and :: is the exception)."""
    return len(set(map(_PROTOCOL_PORT, listeners))) == len(listeners)


def shared_tail_table(
    head: list[str], tail: list[str], columns: Sequence[list[str]], tails: Sequence[list[str]]
) -> str:
    """`table(head + tail, rows)` for rows given as columns of head cells and a tail per row
    (the owner's cells, one shared list per owner): each distinct tail is padded once, and
    the lines are formatted column-wise in C; thousands of rows are listed per owner."""
    distinct = {id(t): t for t in tails}
    distinct[id(tail)] = tail
    tail_widths = _widths(distinct.values())
    padded = {key: _pad(cells, tail_widths).rstrip() for key, cells in distinct.items()}
    widths = [max(map(len, cells), default=0) for cells in columns]
    widths = [max(width, len(name)) for width, name in zip(widths, head, strict=True)]
    line = "".join(f"{{:<{width}}}  " for width in widths) + "{}"
    body = map(line.format, *columns, map(padded.__getitem__, map(id, tails)))
    return "\n".join([line.format(*head, padded[id(tail)]), *body, ""])


def _widths(rows: Iterable[Sequence[str]]) -> list[int]:
    """The width of each column but the last."""
    return [max(map(len, column)) for column in zip(*rows, strict=True)][:-1]


def _pad(cells: Sequence[str], widths: Sequence[int]) -> str:
    return "  ".join([*(c.ljust(w) for c, w in zip(cells, widths, strict=False)), cells[-1]])


class _OwnerCells:
    """PID, USER, [SINCE,] NAME, COMMAND of a listener's owner, built once per owner."""

    def __init__(self, *, with_since: bool = False) -> None:
        self._with_since = with_since
        self._seen: dict[tuple[int, int | None, Access], list[str]] = {}

    def __call__(self, listener: Listener) -> list[str]:
        # by identity: one Process object per PID is shared by all its sockets
        key = (id(listener.process), listener.uid, listener.access)
        cells = self._seen.get(key)
        if cells is None:
            cells = self._seen[key] = self._cells(listener)
        return cells

    def of_each(self, listeners: Sequence[Listener]) -> list[list[str]]:
        """`[self(li) for li in listeners]`, made in C loops: the cells of each distinct
        owner are made once, and each row gets its owner's (the same list object)."""
        keys = [(id(process), uid, access) for process, uid, access in map(_OWNER_KEY, listeners)]
        for key, listener in dict(zip(keys, listeners, strict=True)).items():
            if key not in self._seen:
                self._seen[key] = self._cells(listener)
        return list(map(self._seen.__getitem__, keys))

    def _cells(self, listener: Listener) -> list[str]:
        process, user = listener.process, listener.user or NOTHING
        if process is None:
            cells = [NOTHING, user, NOTHING, "?", _NO_PROCESS.get(listener.access, "?")]
        else:
            started = _since(process.started)
            cells = [str(process.pid), user, started, process.name, printable(process.command)]
        return cells if self._with_since else cells[:2] + cells[3:]


def _since(started: float | None) -> str:
    if started is None:
        return NOTHING
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(started))


def _label(declared: Declared | None) -> str:
    return declared.label if declared else NOTHING


def ports_json(listeners: Sequence[Listener], index: DeclaredIndex) -> str:
    """`portplan ports --json`: every socket (`Listener.as_dict()`), with the service and
    port name it belongs to. Owner and service parts are encoded once each and the rest
    written by hand (protocols and IP addresses need no escaping): thousands of sockets
    would otherwise take longer to encode than to find."""
    from portplan.live.jsontext import encode

    protocols = list(map(_PROTOCOL, listeners))
    counts = {"listeners": len(listeners), "tcp": protocols.count("tcp")}
    counts["udp"] = protocols.count("udp")
    owners: dict[tuple[Any, ...], str] = {}
    services: dict[int, str] = {}  # by identity: the index holds each Declared once
    unplanned = encode(_service_dict(None))[1:-1]
    indexed = bool(index)
    lines = []
    for li in listeners:
        # one Process object per PID: see with_owners
        key = (id(li.process), li.pids, li.uid, li.access)
        owner = owners.get(key)
        if owner is None:
            owner = owners[key] = encode(_owner_dict(li))[1:-1]
        service = unplanned
        declared = index.of(li) if indexed else None
        if declared is not None:
            service = services.get(id(declared)) or services.setdefault(
                id(declared), encode(_service_dict(declared))[1:-1]
            )
        lines.append(
            f'{{"protocol": "{li.protocol}", "address": "{li.address}", "port": {li.port}, '
            f'"inode": {li.inode}, {owner}, {service}}}'
        )
    head = {"version": 1, "command": "ports", "summary": counts}
    return _json_lines(encode, head, "listeners", lines)


_SOCKET_KEYS = frozenset({"protocol", "address", "port", "inode"})


def _owner_dict(listener: Listener) -> dict[str, Any]:
    return {k: v for k, v in listener.as_dict().items() if k not in _SOCKET_KEYS}


def _service_dict(declared: Declared | None) -> dict[str, Any]:
    return {
        "service": declared.service if declared else None,
        "port_name": declared.port_name if declared else None,
    }


# ---------------------------------------------------------------------------
# who


def who_text(ports: Sequence[int], listeners: Sequence[Listener], index: DeclaredIndex) -> str:
    """The `portplan who` table: one row per holder, or one saying nothing listens."""
    header = ["PORT", "PROTO", "ADDRESS", *(["SERVICE"] if index else [])]
    header += ["PID", "USER", "NAME", "COMMAND"]
    owner = _OwnerCells()
    rows = []
    for port in ports:
        groups = group_addresses([li for li in listeners if li.port == port])
        if not groups:
            rows.append(_with_service(_free_row(port), port, index))
        for listener, addresses in groups:
            cells = [str(port), listener.protocol, ",".join(addresses), *owner(listener)]
            rows.append(_with_service(cells, port, index))
    return table(header, rows)


def _free_row(port: int) -> list[str]:
    return [str(port), NOTHING, NOTHING, NOTHING, NOTHING, NOTHING, "(nothing listens)"]


def _with_service(cells: list[str], port: int, index: DeclaredIndex) -> list[str]:
    if index:
        cells.insert(3, ",".join(d.label for d in index.on(port)) or NOTHING)
    return cells


def who_json(ports: Sequence[int], listeners: Sequence[Listener], index: DeclaredIndex) -> str:
    items = (
        {
            "port": port,
            "listeners": [li.as_dict() for li in listeners if li.port == port],
            "declared": [d.as_dict() for d in index.on(port)],
        }
        for port in ports
    )
    return json_document({"version": 1, "command": "who"}, "ports", items)


# ---------------------------------------------------------------------------
# status


def status_text(report: StatusReport, sections: Sequence[str] = ()) -> str:
    """The status table, then one line per finding, then `sections` (the runner's view of
    a running stack), then the headline."""
    header = ["PORT", "PROTO", "NUMBER", "STATE", "PID", "PROCESS", "LATENCY", "HEALTH"]
    lines = [_status_table(header, report.ports)]
    if report.findings:
        lines += ["", *(finding_line(f) for f in report.findings)]
    lines += [line for section in sections for line in ("", section.rstrip("\n"))]
    lines += ["", report.headline()]
    return "\n".join(lines) + "\n"


def _status_table(header: list[str], rows: Sequence[PortStatus]) -> str:
    """`table(header, rows)` without its last newline, formatted column by column (in C):
    thousands of rows, most of them held by a few processes (their cells made once)."""
    owners: dict[tuple[int, Access], tuple[str, str]] = {}
    states: dict[object, str] = {}  # an enum member's `.value` is slow to read
    columns: list[list[str]] = [[], [], [], [], [], [], [], []]
    label, protocol, number, state, pid, name, latency, health = columns
    for row in rows:
        label.append(row.label)
        protocol.append(row.protocol)
        target = row.target
        number.append(str(row.port) if target in (None, row.port) else f"{row.port}->{target}")
        shown_state = states.get(row.state)
        if shown_state is None:
            shown_state = states[row.state] = row.state.value
        state.append(shown_state)
        owner_pid, owner_name = _owner_cells(row.owner, owners)
        pid.append(owner_pid)
        name.append(owner_name)
        shown = _health_cells(row)
        latency.append(shown[0])
        health.append(shown[1])
    widths = [
        max([len(title), *map(len, cells)])
        for title, cells in zip(header[:-1], columns[:-1], strict=True)
    ]
    line = "  ".join([*(f"{{:<{width}}}" for width in widths), "{}"])
    body = [line.format(*header).rstrip(), *map(str.rstrip, map(line.format, *columns))]
    return "\n".join(body)


def _owner_cells(
    owner: Listener | None, known: dict[tuple[int, Access], tuple[str, str]]
) -> tuple[str, str]:
    """The PID and PROCESS cells of a row's first listener, made once per process."""
    if owner is None:
        return NOTHING, NOTHING
    key = (id(owner.process), owner.access)  # one Process object per PID is shared
    cells = known.get(key)
    if cells is None:
        pid = str(owner.pid) if owner.pid else NOTHING
        cells = known[key] = (pid, owner.name or _NO_PROCESS.get(owner.access, "?"))
    return cells


def _health_cells(row: PortStatus) -> list[str]:
    result = row.probe
    if result is None:
        # an unpublished port's check would run on its container network, not from here
        unreachable = row.health is not None and row.state.value == "unpublished"
        return [NOTHING, _CONTAINER_ONLY if unreachable else NOTHING]
    latency = NOTHING if result.latency_ms is None else f"{result.latency_ms:.1f} ms"
    detail = result.detail if result.healthy else f"unhealthy: {result.detail}"
    return [latency, detail]


_CONTAINER_ONLY = "not run: container network only"


def finding_line(finding: Finding) -> str:
    """'portplan.yaml:12:7: error: message [PP501 port-down]'."""
    where = f"{finding.location}: " if finding.location else ""
    return f"{where}{finding.level}: {finding.message} [{finding.rule} {finding.name}]"


def status_json(report: StatusReport, extra: Mapping[str, Any] | None = None) -> str:
    """The report's document, `extra` members (the runner's view) before its rows."""
    document = report.as_dict()
    rows = document.pop("ports")
    return json_document({**document, **(extra or {})}, "ports", rows)
