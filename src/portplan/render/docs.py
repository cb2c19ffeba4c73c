"""`docs`: the port reference document the seeds wrote by hand (`PORTS.md`).

Sections (each can also refill `<!-- portplan:begin NAME -->` markers in any Markdown file):
ports (the matrix by category), ranges (policies, reserved, free), dependencies (per-phase
trees and a Mermaid graph), health, env (variables per service), exposure, budgets, metrics.
The health and metrics tables name each endpoint's port (a "Port Name" column): a service's
two metrics ports, or two HTTP ports with a health check, read back as the ports they are.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Final

from portplan.model import Port, PortRange, Service, Throughput, Topology
from portplan.render import Artifact, Options
from portplan.render._common import declared_health, deployed, header, host_address
from portplan.render.env import service_variables
from portplan.render.graph import edges, mermaid

TARGET = "docs"
DOC_FILE = "PORTS.md"
_PORT_LABELS: Final = {"http": "HTTP", "grpc": "gRPC", "ws": "WebSocket", "metrics": "Metrics"}
_MAX_FREE: Final = 6
_MAX_PORT_COLUMNS: Final = 3
PORT_NAME: Final = "Port Name"  # the header of a column naming the port of a row's endpoint


def render(topology: Topology, options: Options) -> list[Artifact]:
    return [Artifact(DOC_FILE, document(topology, options))]


def document(topology: Topology, options: Options) -> str:
    title = f"# {topology.system or 'System'} - Port Allocation Reference\n\n"
    intro = f"{topology.description}\n\n" if topology.description else ""
    parts = [header(options, TARGET, "<!--"), "\n", title, intro]
    parts.extend(text + "\n" for text in sections(topology).values() if text)
    return "".join(parts).rstrip("\n") + "\n"


def sections(topology: Topology) -> dict[str, str]:
    """Every section's Markdown by name, in document order (empty when it has nothing)."""
    return {name: build(topology) for name, build in SECTIONS.items()}


def _table(headers: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = list(headers)
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines.extend("| " + " | ".join(_cell(c) for c in row) + " |" for row in rows)
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ") or "-"


def _range(ports: PortRange) -> str:
    return f"{ports.start}+" if ports.end == 65535 and ports.start != 65535 else str(ports)


# --- ports -------------------------------------------------------------------------------


def _ports(topology: Topology) -> str:
    groups: dict[str, list[Service]] = {}
    for service in topology.services.values():
        groups.setdefault(service.category or "services", []).append(service)
    if not groups:
        return ""
    parts = ["## Port Matrix\n"]
    for category, services in groups.items():
        parts.append(f"\n### {category}{_category_ranges(topology, category)}\n\n")
        parts.append(_category_table(services))
    return "".join(parts)


def _category_ranges(topology: Topology, category: str) -> str:
    found = [_range(r.ports) for r in topology.ranges if r.category == category]
    return f" ({', '.join(found)})" if found else ""


def _category_table(services: list[Service]) -> str:
    names = list(dict.fromkeys(p.name for s in services for p in s.ports))
    wide = len(names) > _MAX_PORT_COLUMNS
    columns = ["Ports"] if wide else [_port_header(n) for n in names]
    rows = (
        [
            s.name,
            *([", ".join(_numbers(s))] if wide else _by_name(s, names)),
            s.status.value.capitalize(),
            s.purpose or "",
            s.phase or "",
        ]
        for s in services
    )
    return _table(["Service", *columns, "Status", "Purpose", "Phase"], rows)


def _by_name(service: Service, names: list[str]) -> list[str]:
    return [_number(p) if (p := service.port(n)) else "-" for n in names]


def _numbers(service: Service) -> list[str]:
    return [_number(p) for p in service.ports]


def _number(port: Port) -> str:
    """`8080`; `8003 (not published)` for a port kept off the host."""
    return str(port.number) if port.published else f"{port.number} (not published)"


def _port_header(name: str) -> str:
    return f"{_PORT_LABELS.get(name.lower(), name)} Port"


# --- ranges ------------------------------------------------------------------------------


def _ranges(topology: Topology) -> str:
    parts = []
    if topology.ranges:
        rows = (
            [r.name, _range(r.ports), r.category or "", r.kind or "", r.description or ""]
            for r in topology.ranges
        )
        parts.append("## Port Ranges\n\n")
        parts.append(_table(["Range", "Ports", "Category", "Kind", "Description"], rows))
    if topology.reserved:
        rows = ([_range(r.ports), r.reason or "", r.host or ""] for r in topology.reserved)
        parts.append("\n### Reserved Ports\n\n")
        parts.append(_table(["Ports", "Reason", "Host"], rows))
    free = list(_free_lines(topology))
    if free:
        parts.append("\n### Free Ports\n\n" + "".join(free))
    return "".join(parts)


def _free_lines(topology: Topology) -> Iterator[str]:
    used = {p.number for s in deployed(topology) for p in s.ports}
    reserved = [r.ports for r in topology.reserved]
    for policy in topology.ranges:
        free = _free(policy.ports, used, reserved)
        if free:
            shown = ", ".join(f"{_range(r)}" for r in free[:_MAX_FREE])
            more = ", ..." if len(free) > _MAX_FREE else ""
            yield f"- {policy.name}: {shown}{more} available\n"


def _free(ports: PortRange, used: set[int], reserved: list[PortRange]) -> list[PortRange]:
    """The runs of ports in `ports` that nothing uses or reserves (linear in used ports)."""
    low, high = ports.start, ports.end
    taken = sorted(
        {p for p in used if low <= p <= high}
        | {p for r in reserved if r.overlaps(ports) for p in _clip(r, ports)}
    )
    runs, start = [], ports.start
    for port in taken:
        if port > start:
            runs.append(PortRange(start, port - 1))
        start = max(start, port + 1)
    if start <= ports.end:
        runs.append(PortRange(start, ports.end))
    return runs


def _clip(inner: PortRange, outer: PortRange) -> range:
    return range(max(inner.start, outer.start), min(inner.end, outer.end) + 1)


# --- dependencies ------------------------------------------------------------------------


def _dependencies(topology: Topology) -> str:
    pairs = edges(topology)
    if not pairs:
        return ""
    sources = {a.name for a, _ in pairs}
    phases: dict[str, list[Service]] = {}
    for service in deployed(topology):
        if service.name in sources:
            phases.setdefault(service.phase or "All phases", []).append(service)
    parts = ["## Service Dependencies\n"]
    for phase, services in phases.items():
        trees = "\n".join(_tree(topology, s) for s in services)
        parts.append(f"\n### {phase} Dependencies\n\n```text\n{trees}```\n")
    parts.append(f"\n```mermaid\n{mermaid(topology, pairs)}```\n")
    return "".join(parts)


def _tree(topology: Topology, service: Service) -> str:
    targets = [t for d in service.depends_on if (t := topology.resolve(d.name)) is not None]
    lines = [f"{_named(service)}\n"]
    for index, target in enumerate(targets):
        branch = "└──" if index == len(targets) - 1 else "├──"
        lines.append(f"{branch} {_named(target)}\n")
    return "".join(lines)


def _named(service: Service) -> str:
    return f"{service.name} ({service.ports[0].number})" if service.ports else service.name


# --- health ------------------------------------------------------------------------------


def _health(topology: Topology) -> str:
    rows = [
        [s.name, p.name, f"`{_endpoint(topology, s, p)}`", _expected(p)]
        for s in deployed(topology)
        for p in s.ports
        if declared_health(p) is not None
    ]
    if not rows:
        return ""
    return "## Health Check Endpoints\n\n" + _table(
        ["Service", PORT_NAME, "Endpoint", "Expected Response"], rows
    )


def _endpoint(topology: Topology, service: Service, port: Port) -> str:
    health = declared_health(port)
    address = f"{host_address(topology, service)}:{port.number}"
    if health is not None and health.kind == "http":
        return f"http://{address}{health.path or '/'}"
    return f"{'grpc' if health is not None and health.kind == 'grpc' else 'tcp'}://{address}"


def _expected(port: Port) -> str:
    health = declared_health(port)
    if health is None or health.kind == "tcp":
        return "connection accepted"
    if health.kind == "grpc":
        return "`SERVING`"
    if health.expect is not None:
        return f"`{json.dumps(health.expect, separators=(', ', ': '))}`"
    return f"HTTP {health.status}" if health.status else "HTTP 2xx"


# --- environment -------------------------------------------------------------------------


def _env(topology: Topology) -> str:
    parts = []
    for service in deployed(topology):
        variables = service_variables(topology, service)
        if not variables:
            continue
        port = f" (Port {service.ports[0].number})" if service.ports else ""
        body = "".join(f"{name}={value}\n" for name, value in variables)
        parts.append(f"\n### {service.name}{port}\n\n```bash\n{body}```\n")
    return "## Environment Variables Per Service\n" + "".join(parts) if parts else ""


# --- exposure ----------------------------------------------------------------------------


def _exposure(topology: Topology) -> str:
    parts = ["## Exposure\n"]
    if topology.zones:
        rows = (
            [z.name, z.exposure.value, ", ".join(z.networks), z.description or ""]
            for z in topology.zones.values()
        )
        parts.append("\n" + _table(["Zone", "Exposure", "Networks", "Description"], rows))
    groups: dict[str, list[str]] = {}
    for service in deployed(topology):
        for port in service.ports:
            level = service.exposure_of(port).value
            groups.setdefault(level, []).append(f"{service.name} {port.number}")
    for level in ("public", "internal", "local"):
        if level in groups:
            parts.append(f"\n### {level.capitalize()} Ports\n\n")
            parts.append("".join(f"- {entry}\n" for entry in groups[level]))
    return "".join(parts) if len(parts) > 1 else ""


# --- budgets -----------------------------------------------------------------------------


def _budgets(topology: Topology) -> str:
    latency = [
        [f"{s.name} ({p.number})", _ms(p.health.latency.target_ms), _ms(p.health.latency.max_ms)]
        for s in deployed(topology)
        for p in s.ports
        if p.health is not None and p.health.latency is not None
    ]
    throughput = [
        [f"{s.name} ({p.number})" if p else s.name, _rps(t.target_rps), _rps(t.max_rps)]
        for s in deployed(topology)
        for p, t in _throughputs(s)
    ]
    parts = []
    if latency:
        parts.append("### Latency Budgets\n\n")
        parts.append(_table(["Service", "Target Latency", "Max Latency"], latency))
    if throughput:
        parts.append("\n### Throughput Budgets\n\n" if parts else "### Throughput Budgets\n\n")
        parts.append(_table(["Service", "Target RPS", "Max RPS"], throughput))
    return "## Performance Budgets\n\n" + "".join(parts) if parts else ""


def _throughputs(service: Service) -> Iterator[tuple[Port | None, Throughput]]:
    if service.throughput is not None:
        yield (service.ports[0] if service.ports else None), service.throughput
    for port in service.ports:
        if port.throughput is not None:
            yield port, port.throughput


def _ms(value: float | None) -> str:
    return f"<{value:g}ms" if value is not None else ""


def _rps(value: float | None) -> str:
    return f"{value:g}" if value is not None else ""


# --- metrics -----------------------------------------------------------------------------


def _metrics(topology: Topology) -> str:
    rows = [
        [s.name, p.name, f"`{_metrics_url(topology, s, p)}`"]
        for s in deployed(topology)
        for p in s.ports
        if p.metrics_path is not None or p.kind == "metrics"
    ]
    if not rows:
        return ""
    return "## Metrics Endpoints\n\n" + _table(["Service", PORT_NAME, "Endpoint"], rows)


def _metrics_url(topology: Topology, service: Service, port: Port) -> str:
    return (
        f"http://{host_address(topology, service)}:{port.number}{port.metrics_path or '/metrics'}"
    )


SECTIONS: Final[dict[str, Callable[[Topology], str]]] = {
    "ports": _ports,
    "ranges": _ranges,
    "dependencies": _dependencies,
    "health": _health,
    "env": _env,
    "exposure": _exposure,
    "budgets": _budgets,
    "metrics": _metrics,
}
