"""The semantic rules of `portplan check`, one module each, registered here."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module

from portplan.findings import Finding, sorted_findings
from portplan.model import Topology
from portplan.rules._base import Context, Rule

# One module per rule; the table is built from this list, in this order.
MODULES = (
    "pp101_duplicate_binding",
    "pp102_out_of_range",
    "pp103_reserved_port",
    "pp104_overlapping_ranges",
    "pp105_unknown_dependency",
    "pp106_dependency_cycle",
    "pp107_exposure",
    "pp108_privileged_port",
    "pp109_ephemeral_port",
    "pp110_well_known_port",
    "pp111_secret",
    "pp112_unknown_reference",
)
RULES: dict[str, Rule] = {
    rule.id: rule for rule in (import_module(f"portplan.rules.{name}").RULE for name in MODULES)
}


def get(key: str) -> Rule:
    """A rule by id (PP101) or name (duplicate-binding)."""
    if key.upper() in RULES:
        return RULES[key.upper()]
    for rule in RULES.values():
        if rule.name == key:
            return rule
    raise KeyError(key)


def run(
    topology: Topology, context: Context | None = None, rules: Iterable[Rule] | None = None
) -> list[Finding]:
    """Every finding of every rule (or of the rules given), sorted by location."""
    context = context or Context()
    selected = RULES.values() if rules is None else rules
    return sorted_findings(f for rule in selected for f in rule.check(topology, context))


__all__ = ["RULES", "Context", "Rule", "get", "markdown", "run"]


def markdown() -> str:
    """docs/rules.md: every rule with its id, level and docstring (a test keeps it current)."""
    parts = [
        "# Rules of `portplan check`\n",
        "Generated from the rules' docstrings (`python -m portplan.rules > docs/rules.md`).\n",
        "| id | name | default level | what it finds |",
        "|---|---|---|---|",
    ]
    parts += [f"| {r.id} | {r.name} | {r.level} | {r.summary} |" for r in RULES.values()]
    for rule in RULES.values():
        parts += ["", f"## {rule.id} {rule.name} ({rule.level})", "", rule.doc]
    return "\n".join(parts) + "\n"
