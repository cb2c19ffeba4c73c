"""The schema's quick answer for a valid plan (`Spec.valid`) agrees with its full walk
(`Spec.check`): a plan it accepts is one `check` accepts, and every plan of the table that
`check` refuses it refuses too, so the message always comes from `check`."""

from __future__ import annotations

import pytest

from portplan.plan import schema
from portplan.yamlio.load import load

BASE = "version: 1\nservices:\n  api:\n"

# (the rest of service `api`, valid): one row per kind of spec and way to be wrong
CASES = [
    ("    ports: {http: 8080}\n", True),
    ("    ports: {http: '8080/udp'}\n", True),
    ("    ports: {http: '8080/xyz'}\n", False),  # Pattern: a ValueProblem
    ("    ports: {http: 0}\n", False),  # Pattern: out of range
    ("    ports: {http: true}\n", False),  # OneOf: a boolean is no integer
    ("    ports: {http: 1.5}\n", False),  # OneOf: no choice
    ("    ports: {http: {port: 8080, protocol: UDP}}\n", True),  # Enum, any case
    ("    ports: {http: {port: 8080, protocol: quic}}\n", False),
    ("    ports: {http: {protocol: tcp}}\n", False),  # Obj: required key
    ("    ports: {http: {port: 8080, x-note: 1}}\n", True),  # Obj: an extension key
    ("    ports: {http: {port: 8080, prot: tcp}}\n", False),  # Obj: unknown key
    ("    ports: {http: {port: 8080, target: 70000}}\n", False),  # Int: range
    ("    ports: {http: {port: 8080, published: 1}}\n", False),  # Bool
    ("    ports: {http: {port: 8080, health: /up}}\n", True),
    ("    ports: {http: {port: 8080, health: up}}\n", False),  # Str: pattern
    ("    ports: {http: {port: 8080, health: {grpc: true, timeout: 2s}}}\n", True),
    ("    ports: {http: {port: 8080, health: {grpc: 1}}}\n", False),
    ("    ports: {http: {port: 8080, health: {timeout: soon}}}\n", False),  # Pattern
    ("    ports: {http: {port: 8080, env: 9X}}\n", False),  # Str: pattern
    ("    ports: {'-bad': 8080}\n", False),  # MapOf: key pattern
    ("    depends_on: db\n", True),  # ListOf: a single item
    ("    depends_on: [db, 5]\n", False),  # ListOf: an item
    ("    depends_on: {db: 1}\n", False),
    ("    purpose: 2\n", True),  # Text: a number
    ("    purpose: [a]\n", False),
    ("    status: Planned\n", True),
    ("    status: gone\n", False),
    ("    environment: {A_B: x, C: 1}\n", True),
    ("    environment: {1A: x}\n", False),
    ("    environment: [A=1, 2]\n", False),
    ("    x-anything: {whatever: [1]}\n", True),
    ("    resources: {cpu: 500m, memory: 1GB}\n", True),
    ("    resources: {cpu: lots}\n", False),
    ("    run: {command: [a, b], restart: {policy: always, max: 3}, stop: {signal: term}}\n", True),
    ("    run: {command: a, stop: {signal: nope}}\n", False),
    ("    run: {command: a, ready: {log: '('}}\n", False),
]


@pytest.mark.parametrize(("service", "valid"), CASES)
def test_valid_agrees_with_check(service: str, valid: bool) -> None:
    document = load(BASE + service, "p.yaml")
    assert schema.TOPOLOGY.valid(document) is valid
    if valid:
        schema.validate(document, "p.yaml")
    else:
        with pytest.raises(schema.SchemaError):
            schema.validate(document, "p.yaml")


def test_a_document_that_is_no_mapping_is_refused_by_both() -> None:
    assert not schema.TOPOLOGY.valid(load("- a\n", "p.yaml"))
    with pytest.raises(schema.SchemaError, match=r"^p.yaml:1:1: expected a mapping"):
        schema.validate(load("- a\n", "p.yaml"), "p.yaml")
