"""`check`: load a topology, run the rules, and describe what was checked."""

from __future__ import annotations

import os
from collections.abc import Callable
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


def run_check(
    file: str | None, env: str | None, fmt: str, fail_on: str, write: Callable[[str], object]
) -> int:
    """`portplan check` as a function: the report in `fmt` through `write`, the exit code
    back. When the input is unusable (a PortplanError, exit 2) `write` still gets a valid
    document in `fmt` saying so (docs/json-output.md) and the error goes on. Its click
    command and the click-free console script (portplan._entry) both call it."""
    from portplan.errors import PortplanError
    from portplan.findings import Level
    from portplan.report import Failure, exit_code, render, render_failure

    try:
        result = check_file(file, env=env)
    except PortplanError as error:
        write(render_failure(Failure.of("check", error), fmt))
        raise
    write(render(result.report(), fmt))
    return exit_code(result.findings, Level.parse(fail_on))


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
