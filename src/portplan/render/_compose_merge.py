"""Merge the plan's port sections into an existing compose file, changing only what the
plan describes.

For each service of the file the plan has: the `ports` entries of each planned port get the
plan's published number, the plan's `target` when it states one (else they keep their
container port) and an address that agrees with its exposure, and keep their protocol,
interpolation (`${WEB_PORT:-8088}:80`) and quoting; entries the plan does not describe are
left alone. Unpublished and internal ports are exposed on their container port.
A declared health check calls the container port; without one, the file's healthcheck is
kept. Networks the plan names are added. Comments, order and every other key stay.
"""

from __future__ import annotations

import copy
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, SingleQuotedScalarString

from portplan.errors import InputError
from portplan.model import Exposure, Port, Service, Topology, normalize_name
from portplan.render import Artifact
from portplan.render import _compose_entry as entries
from portplan.render import _compose_verbatim as verbatim
from portplan.render._common import declared_health, deployed
from portplan.render._compose_merge_comments import detach_trailing, reattach_trailing
from portplan.render._compose_parts import (
    expose_text,
    health_settings,
    health_test,
    is_published,
    planned_address,
)
from portplan.sources.base import published_exposure

# Where a port published on such an address may be, by the plan's exposure.
_AGREES: Final = {
    Exposure.PUBLIC: frozenset({Exposure.PUBLIC}),
    Exposure.LOCAL: frozenset({Exposure.LOCAL}),
    Exposure.INTERNAL: frozenset({Exposure.INTERNAL, Exposure.LOCAL}),
}
_KEY_LINE: Final = re.compile(r"^( *)[^\s#-][^#]*:[ \t]*(?:#.*)?$")
_ITEM_LINE: Final = re.compile(r"^( *)-( +)\S")


def merge(text: str, file: str, topology: Topology) -> Artifact:
    """`text` (the compose file `file`) with the plan's sections merged in; the artifact
    names the services merged (as the file writes them) and the healthcheck words written."""
    yaml = _yaml(text)
    try:
        document = yaml.load(text)
    except YAMLError as exc:
        raise _unparsable(exc, text, file) from None
    _keep_anchors(document)
    services = document.get("services") if isinstance(document, CommentedMap) else None
    if not isinstance(services, CommentedMap):
        raise InputError(file, None, None, "cannot merge: expected a 'services' mapping")
    _check_tests(services, file)
    index = {normalize_name(str(name)): name for name in services}
    merged: dict[str, Service] = {}
    written: set[str] = set()
    for service in deployed(topology):
        found = index.get(normalize_name(service.name))
        if found is not None and isinstance(services[found], CommentedMap):
            written.update(_merge_service(services[found], service))
            merged[str(found)] = service
    _merge_networks(
        document,
        topology,
        [s for name, s in merged.items() if services[name].get("network_mode") is None],
    )
    verbatim.restore(document, yaml)
    out = io.StringIO()
    yaml.dump(document, out)
    return Artifact(file, out.getvalue(), frozenset(merged), frozenset(written))


def _check_tests(services: CommentedMap, file: str) -> None:
    """A healthcheck `test` is a string or a list of strings (the compose specification);
    anything else is refused where it stands, before it is merged or compared."""
    for name, body in services.items():
        health = body.get("healthcheck") if isinstance(body, CommentedMap) else None
        test = health.get("test") if isinstance(health, CommentedMap) else None
        if isinstance(test, CommentedSeq):
            for index, word in enumerate(test):
                if isinstance(word, CommentedMap | CommentedSeq) or word is None:
                    line, column = test.lc.item(index)
                    what = f"services.{name}.healthcheck.test[{index}]: expected a string"
                    raise InputError(file, line + 1, column + 1, f"cannot merge: {what}")
        elif isinstance(test, CommentedMap) and isinstance(health, CommentedMap):
            line, column = health.lc.value("test")
            what = f"services.{name}.healthcheck.test: expected a string or a list of strings"
            raise InputError(file, line + 1, column + 1, f"cannot merge: {what}")


def _unparsable(exc: YAMLError, text: str, file: str) -> InputError:
    """Why the compose file is no YAML, where, in the words `check` uses for a plan (the
    parser's reason and position; no value quoted)."""
    from portplan.yamlio import load as yamlload
    from portplan.yamlio.errors import translate

    if "another document" in str(getattr(exc, "problem", "")):  # a `---` stream
        mark = exc.problem_mark  # type: ignore[attr-defined]
        what = "a compose file holds one document, and a second one starts here"
        return InputError(file, mark.line + 1, mark.column + 1, f"cannot merge: {what}")
    try:
        yamlload.load(text, file)
        found: InputError = translate(exc, file, text)  # what only this parser refuses
    except InputError as error:
        found = error
    return InputError(found.file, found.line, found.column, f"cannot merge: {found.what}")


def _keep_anchors(node: Any) -> None:
    """Have ruamel.yaml write every anchor back, also one no alias uses."""
    anchor = getattr(node, "anchor", None)
    if anchor is not None and anchor.value is not None:
        anchor.always_dump = True
    if isinstance(node, CommentedMap):
        for _, value in node.non_merged_items():
            _keep_anchors(value)
    elif isinstance(node, CommentedSeq):
        for value in node:
            _keep_anchors(value)


def _yaml(text: str) -> YAML:
    """A round-trip YAML writing mappings and sequences indented as `text` does."""
    yaml = YAML()
    verbatim.install(yaml)  # scalars the merge does not change keep their spelling
    yaml.preserve_quotes = True
    yaml.width = 10_000
    mapping, sequence, offset = _indents(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _indents(text: str) -> tuple[int, int, int]:
    """The indentation most of the file's nested mappings and block sequences (their dash
    and their items, under their key) use; compose's docs' style (2, 4, 2) when none."""
    mappings: Counter[int] = Counter()
    sequences: Counter[tuple[int, int]] = Counter()
    previous: re.Match[str] | None = None
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        depth = len(line) - len(line.lstrip(" "))
        item = _ITEM_LINE.match(line)
        if previous is not None:
            step = depth - len(previous.group(1))
            if item is not None and step >= 0:
                sequences[step, step + 1 + len(item.group(2))] += 1
            elif item is None and step > 0:
                mappings[step] += 1
        previous = _KEY_LINE.match(line)
    mapping = mappings.most_common(1)[0][0] if mappings else 2
    offset, sequence = sequences.most_common(1)[0][0] if sequences else (2, 4)
    return mapping, max(sequence, offset + 2), offset


# --- a service --------------------------------------------------------------------------


def _merge_service(node: CommentedMap, service: Service) -> list[str]:
    """Merge one service's sections; the healthcheck words written."""
    trailing = detach_trailing(node)
    if node.get("network_mode") is not None:
        # Another network namespace (the host's, another container's): compose ignores
        # `ports` there and refuses `networks`; the program listens on the plan's port.
        targets = {port.name: port.container_port for port in service.ports}
    else:
        targets = _merge_ports(node, service)
        _merge_expose(node, service, targets)
        if service.networks:
            _merge_service_networks(node, service.networks)
    written = _merge_healthcheck(node, service, targets)
    reattach_trailing(node, trailing)
    return written


def _own(node: CommentedMap, key: str) -> Any:
    """The value the service itself gives `key` (not one a `<<` merge key brings), or None."""
    return next((value for name, value in node.non_merged_items() if name == key), None)


def _own_seq(node: CommentedMap, key: str) -> CommentedSeq:
    """The service's own sequence under `key`: a new one when it has none (or shares an
    anchored one, which other services use too)."""
    value = _own(node, key)
    if isinstance(value, CommentedSeq) and value.anchor.value is None:
        return value
    inherited = node.get(key)
    seq = _copy(inherited) if isinstance(inherited, CommentedSeq) else CommentedSeq()
    node[key] = seq
    return seq


def _copy(value: Any) -> Any:
    """A deep copy of a node others share, without its anchor (that stays with theirs)."""
    found = copy.deepcopy(value)
    found.anchor.value = None
    found.anchor.always_dump = False
    detach_trailing(found)  # the blank lines and comments after the original stay there
    return found


# --- ports ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Binding:
    """A `ports` entry: its index in the list and what it says."""

    index: int
    address: str | None  # as written
    published: str | None  # as written
    target_text: str  # as written
    target: tuple[int, int]
    protocol: str
    name: str | None
    value: Any  # the entry itself (a string, a number or a long-syntax mapping)

    @property
    def single_target(self) -> int | None:
        first, last = self.target
        return first if first == last else None

    def describes(self, port: Port, how: str) -> bool:
        if self.protocol != port.protocol:
            return False
        if how == "name":
            return self.name is not None and self.name == port.name
        if how == "variable":
            found = entries.reference(self.published) if self.published else None
            return found is not None and port.env is not None and found.name == port.env
        published = entries.span(self.published)
        if how == "published":
            return published is not None and published[0] <= port.number <= published[1]
        first, last = self.target
        return any(first <= number <= last for number in (port.number, port.container_port))


_MATCHES: Final = ("name", "variable", "published", "target")


@dataclass(frozen=True, slots=True)
class _Change:
    """What an entry's address, published and container parts become."""

    address: str | None
    published: str | None
    target: str


def _merge_ports(node: CommentedMap, service: Service) -> dict[str, int]:
    """Rewrite the entries of the planned ports; the container port of each planned port."""
    current = node.get("ports")
    bindings = list(_bindings(current)) if isinstance(current, CommentedSeq) else []
    owners = _match(bindings, service.ports)
    targets: dict[str, int] = {}
    changes: dict[int, _Change | None] = {}  # None: the entry goes
    added: list[str] = []
    for port in service.ports:
        mine = [b for b in bindings if owners.get(b.index) is port]
        kept = next((t for b in mine if (t := b.single_target) is not None), port.number)
        targets[port.name] = kept if port.target is None else port.target
        if any(b.single_target is None for b in mine):
            continue  # a range entry states this port among others: left as written
        for binding in mine:
            change = _change(binding, service, port)
            if change is None or change != _unchanged(binding):
                changes[binding.index] = change
        if not mine and is_published(service, port):
            added.append(_new_entry(service, port))
    if changes or added:
        seq = _own_seq(node, "ports")
        _apply(seq, changes, added)
        if not seq and seq.tag.value is None:
            del node["ports"]
    return targets


def _apply(seq: CommentedSeq, changes: dict[int, _Change | None], added: list[str]) -> None:
    for index, change in changes.items():
        if change is not None:
            seq[index] = _rewritten(seq[index], change)
    for index in sorted((i for i, c in changes.items() if c is None), reverse=True):
        del seq[index]
    seq.extend(DoubleQuotedScalarString(text) for text in added)
    _drop_duplicates(seq)


def _bindings(seq: CommentedSeq) -> Iterator[_Binding]:
    for index, value in enumerate(seq):
        if isinstance(value, CommentedMap):
            binding = _long_binding(index, value)
        elif isinstance(value, str | int) and not isinstance(value, bool):
            binding = _short_binding(index, value)
        else:
            binding = None
        if binding is not None:
            yield binding


def _short_binding(index: int, value: str | int) -> _Binding | None:
    entry = entries.split(str(value))
    target = entries.span(entry.target) if entry is not None else None
    if entry is None or target is None:
        return None
    protocol = (entry.protocol or "tcp").lower()
    return _Binding(
        index, entry.address, entry.published, entry.target, target, protocol, None, value
    )


def _long_binding(index: int, value: CommentedMap) -> _Binding | None:
    target_text = str(value.get("target", ""))
    target = entries.span(target_text)
    if target is None:
        return None
    published = value.get("published")
    address = value.get("host_ip")
    return _Binding(
        index,
        str(address) if address is not None else None,
        str(published) if published is not None else None,
        target_text,
        target,
        str(value.get("protocol") or "tcp").lower(),
        str(value["name"]) if value.get("name") is not None else None,
        value,
    )


def _match(bindings: list[_Binding], ports: tuple[Port, ...]) -> dict[int, Port]:
    """The planned port each entry states: by long-syntax name, by the port's variable, by
    published number, by container port; then an entry and a port left alone of their
    protocol are one port (another number: the plan's moved it)."""
    owners: dict[int, Port] = {}
    for how in _MATCHES:
        for binding in bindings:
            if binding.index not in owners:
                port = next((p for p in ports if binding.describes(p, how)), None)
                if port is not None:
                    owners[binding.index] = port
    claimed = {id(port) for port in owners.values()}
    for protocol in sorted({p.protocol for p in ports}):
        ports_left = [p for p in ports if p.protocol == protocol and id(p) not in claimed]
        left = [
            b
            for b in bindings
            if b.protocol == protocol and b.index not in owners and b.single_target is not None
        ]
        if len(ports_left) == 1 and len(left) == 1:
            owners[left[0].index] = ports_left[0]
    return owners


def _unchanged(binding: _Binding) -> _Change:
    return _Change(binding.address, binding.published, binding.target_text)


def _change(binding: _Binding, service: Service, port: Port) -> _Change | None:
    """The plan's number, its container port when it states one (else the entry's), and an
    address agreeing with the port's exposure; None when the entry must go (a port the
    plan keeps off the host, published where the plan does not allow it)."""
    target = binding.target_text if port.target is None else str(port.target)
    if not port.published or service.exposure_of(port) is Exposure.INTERNAL:
        # Unpublished, the number is the container's; an internal port may still be
        # mapped where only the internal network reaches it (loopback, a private address).
        if binding.published is None:
            return _Change(binding.address, None, target)
        if port.published and _agrees(binding.address, service, port):
            return _Change(binding.address, binding.published, target)
        return None
    address = binding.address
    if binding.published is None or not _agrees(address, service, port):
        address = entries.address_part(planned_address(service, port))
    return _Change(address, entries.published(binding.published, port.number, port.env), target)


def _rewritten(value: Any, change: _Change) -> Any:
    if isinstance(value, CommentedMap):
        _rewrite_long(value, change)
        return value
    entry = entries.split(str(value))
    assert entry is not None  # it was read as an entry
    parts = entry.with_parts(change.address, change.published, change.target)
    return _same_style(value, parts.text())


def _agrees(address: str | None, service: Service, port: Port) -> bool:
    """Whether a port published on `address` (as written) is where the plan puts it: on its
    stated address, else anywhere its exposure allows. A reference cannot be judged."""
    if address is not None and entries.reference(address) is not None:
        return True
    bare = entries.address_of(address) if address else None
    if address and bare is None:
        return False
    wanted = planned_address(service, port)
    if port.address and not port.is_wildcard:
        return bare == entries.address_of(wanted)
    return published_exposure(bare) in _AGREES[service.exposure_of(port)]


def _rewrite_long(value: CommentedMap, change: _Change) -> None:
    if str(value.get("target")) != change.target:
        value["target"] = int(change.target)  # the plan's: a number
    published = change.published
    if published is None:
        value.pop("published", None)
    elif isinstance(value.get("published"), int) and published.isdigit():
        value["published"] = int(published)
    elif str(value.get("published")) != published:
        value["published"] = DoubleQuotedScalarString(published)
    address = change.address
    if address is None:
        value.pop("host_ip", None)
    elif value.get("host_ip") != address:
        value["host_ip"] = entries.address_of(address) or address


def _same_style(old: Any, text: str) -> Any:
    """`text` quoted as `old` was (a number becomes a double-quoted string)."""
    if isinstance(old, SingleQuotedScalarString):
        return SingleQuotedScalarString(text)
    if isinstance(old, DoubleQuotedScalarString) or not isinstance(old, str):
        return DoubleQuotedScalarString(text)
    return text


def _new_entry(service: Service, port: Port) -> str:
    """What the override file would publish: `"8088:80"`, `"127.0.0.1:3000:3000"`."""
    address = entries.address_part(planned_address(service, port))
    target = expose_text(port.container_port, port.protocol)
    return entries.Entry(address, str(port.number), target, None).text()


def _drop_duplicates(seq: CommentedSeq) -> None:
    seen: set[str] = set()
    for index in reversed(range(len(seq))):
        value = seq[index]
        key = str(value) if isinstance(value, str) else None
        if key is not None and key in seen:
            del seq[index]
        elif key is not None:
            seen.add(key)


# --- expose, networks, healthcheck --------------------------------------------------------


def _merge_expose(node: CommentedMap, service: Service, targets: dict[str, int]) -> None:
    """Expose each unpublished port on its container port. An entry no planned port states
    is the moved port when it and that port are the only ones left of their protocol (as
    `ports` entries are): the plan's number replaces it. Other entries stay."""
    wanted = list(
        dict.fromkeys(
            expose_text(targets[p.name], p.protocol)
            for p in service.ports
            if not is_published(service, p)
        )
    )
    current = _own(node, "expose")
    if not isinstance(current, list):
        current = node.get("expose")
    texts = [str(v) for v in current] if isinstance(current, list) else []
    have = {_expose_key(text) for text in texts}
    missing = [text for text in wanted if _expose_key(text) not in have]
    if not missing:
        return
    stated = {
        _expose_key(expose_text(number, p.protocol))
        for p in service.ports
        for number in (p.number, p.container_port, targets[p.name])
    }
    moved: dict[int, str] = {}
    for protocol in sorted({_expose_key(text).partition("/")[2] for text in missing}):
        ports_left = [t for t in missing if _expose_key(t).endswith(f"/{protocol}")]
        left = [
            i
            for i, text in enumerate(texts)
            if _expose_key(text).endswith(f"/{protocol}") and _expose_key(text) not in stated
        ]
        if len(ports_left) == 1 and len(left) == 1:
            moved[left[0]] = ports_left[0]
    seq = _own_seq(node, "expose")
    for index, text in moved.items():
        seq[index] = _same_style(seq[index], text)
    seq.extend(DoubleQuotedScalarString(t) for t in missing if t not in moved.values())


def _expose_key(text: str) -> str:
    number, _, protocol = text.partition("/")
    return f"{number.strip()}/{(protocol or 'tcp').lower()}"


def _merge_service_networks(node: CommentedMap, networks: tuple[str, ...]) -> None:
    current = _own(node, "networks")
    if isinstance(current, CommentedMap):
        for name in networks:
            if name not in current:
                current[name] = None
        return
    seq = _own_seq(node, "networks")
    seq.extend(name for name in networks if name not in seq)


def _merge_healthcheck(node: CommentedMap, service: Service, targets: dict[str, int]) -> list[str]:
    """The declared health check on the container port, with the plan's timeout; the file's
    own settings (interval, retries, start_period...) kept, and its test when it already
    calls that URL."""
    port = next((p for p in service.ports if declared_health(p) is not None), None)
    health = declared_health(port) if port is not None else None
    if port is None or health is None:
        return []
    target = targets[port.name]
    test = health_test(health, target)
    inherited = node.get("healthcheck")
    created = not isinstance(inherited, CommentedMap)
    current = _own(node, "healthcheck")
    if not isinstance(current, CommentedMap) or current.anchor.value is not None:
        current = CommentedMap() if created else _copy(inherited)
        node["healthcheck"] = current
    if not _calls(current.get("test"), test):
        current["test"] = _flow(test)
    current.pop("disable", None)
    for key, value in health_settings(health).items():
        if key == "timeout" or created:
            current[key] = value
    return test


def _calls(test: Any, wanted: list[str]) -> bool:
    """Whether an existing test already checks what `wanted` checks: the same URL (scheme,
    port and path) in any form (`CMD curl -f URL`, `wget -q URL`), else the same words."""
    words = [str(w) for w in test] if isinstance(test, list) else [str(test or "")]
    url = next((u for w in wanted for u in _URL.findall(w)), None)
    if url is None:
        return words == wanted
    return any(url in _URL.findall(word) for word in words)


_URL: Final = re.compile(
    r"(?<![a-z])[a-z]+://(?:localhost|127\.0\.0\.1|\[::1\]):[0-9]+/[^\s'\"|;&]*"
)


def _flow(words: list[str]) -> CommentedSeq:
    seq = CommentedSeq(DoubleQuotedScalarString(w) for w in words)
    seq.fa.set_flow_style()
    return seq


def _merge_networks(document: CommentedMap, topology: Topology, merged: list[Service]) -> None:
    """Networks the merged services use that the file does not define yet."""
    names = sorted({name for service in merged for name in service.networks})
    if not names:
        return
    existing = document.get("networks")
    if not isinstance(existing, CommentedMap):
        existing = CommentedMap()
        document["networks"] = existing
    for name in names:
        if name not in existing:
            network = topology.networks.get(name)
            subnet = network.subnet if network is not None else None
            existing[name] = _ipam(subnet) if subnet else CommentedMap()


def _ipam(subnet: str) -> CommentedMap:
    config = CommentedMap(subnet=subnet)
    ipam = CommentedMap(config=CommentedSeq([config]))
    return CommentedMap(ipam=ipam)
