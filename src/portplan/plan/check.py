"""`check`: load a topology, run the rules, and describe what was checked."""

from __future__ import annotations

import os
from dataclasses import dataclass

from portplan import rules
from portplan.findings import Finding
from portplan.model import Topology
from portplan.plan import loader
from portplan.report import Report, RuleInfo


@dataclass(frozen=True)
class CheckResult:
    topology: Topology
    findings: list[Finding]

    def report(self) -> Report:
        return Report(
            findings=self.findings,
            subject=subject(self.topology),
            tool_command="check",
            facts=facts(self.topology),
            rules=rule_infos(),
        )


def check(topology: Topology, context: rules.Context | None = None) -> CheckResult:
    return CheckResult(topology, rules.run(topology, context))


def check_file(
    path: str | os.PathLike[str] | None = None,
    context: rules.Context | None = None,
    env: str | None = None,
) -> CheckResult:
    """Load `path` (or the discovered portplan.yaml), with its overlay `env` if given, and
    check it."""
    return check(loader.load(path, env=env), context)


def facts(topology: Topology) -> dict[str, int | str | None]:
    return {
        "file": topology.source,
        "system": topology.system,
        "services": len(topology.services),
        "ports": topology.port_count(),
        "hosts": len({s.host for s in topology.services.values()}) or 1,
    }


def subject(topology: Topology) -> str:
    numbers = facts(topology)
    return (
        f"{_plural(numbers['ports'], 'port')} in {_plural(numbers['services'], 'service')} "
        f"on {_plural(numbers['hosts'], 'host')}"
    )


def _plural(count: object, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def rule_infos() -> dict[str, RuleInfo]:
    return {
        rule.id: RuleInfo(rule.id, rule.name, rule.level, rule.summary, rule.doc)
        for rule in rules.RULES.values()
    }
