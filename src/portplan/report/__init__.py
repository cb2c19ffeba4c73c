"""Turn findings into text, JSON, SARIF or GitHub annotations. Nothing here prints."""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from portplan.errors import PortplanError
from portplan.findings import Finding, Level, count_by_level

# format name -> module under portplan.report defining `render(report) -> str`
FORMATS: dict[str, str] = {
    "text": "text",
    "json": "json_",
    "sarif": "sarif",
    "github": "github",
}


@dataclass(frozen=True)
class RuleInfo:
    """What a report may say about a rule (SARIF lists them)."""

    id: str
    name: str
    level: Level
    summary: str
    doc: str = ""


@dataclass(frozen=True)
class Report:
    """Findings plus what they are about (`subject`, e.g. '31 ports in 27 services')."""

    findings: Sequence[Finding]
    subject: str
    tool_command: str = "check"
    facts: Mapping[str, Any] = field(default_factory=dict)
    rules: Mapping[str, RuleInfo] = field(default_factory=dict)
    notes: Sequence[str] = ()  # text: lines before the headline (what was read, skipped)
    extra: Mapping[str, Any] = field(default_factory=dict)  # JSON: more top-level fields

    @property
    def counts(self) -> dict[Level, int]:
        return count_by_level(self.findings)

    def summary(self) -> dict[str, Any]:
        counts = self.counts
        return {
            **self.facts,
            "errors": counts[Level.ERROR],
            "warnings": counts[Level.WARNING],
            "infos": counts[Level.INFO],
        }

    def headline(self) -> str:
        counts = self.counts
        parts = [plural(counts[Level.ERROR], "error"), plural(counts[Level.WARNING], "warning")]
        if counts[Level.INFO]:
            parts.append(plural(counts[Level.INFO], "info"))
        return f"{self.subject}: {', '.join(parts)}"


def plural(count: int, word: str) -> str:
    """`count` and `word`, in the plural unless `count` is 1: "1 service", "0 ports"."""
    return f"{count} {word}{'' if count == 1 else 's'}"


def joined(words: Sequence[str]) -> str:
    """Words as a sentence lists them: "a", "a and b", "a, b and c"."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


@dataclass(frozen=True)
class Failure:
    """Unusable input that stopped a command (exit 2): the one-line message stderr shows
    (without `portplan: error: `) and, when known, where it is."""

    command: str
    message: str
    file: str | None = None
    line: int | None = None
    column: int | None = None
    exit_code: int = 2

    @classmethod
    def of(cls, command: str, error: PortplanError) -> Failure:
        where = (getattr(error, "file", None), getattr(error, "line", None))
        return cls(command, str(error), *where, getattr(error, "column", None), error.exit_code)


class _Renderer(Protocol):
    def render(self, report: Report) -> str: ...

    def render_failure(self, failure: Failure) -> str: ...


def _renderer(fmt: str) -> _Renderer:
    module: _Renderer = importlib.import_module(f"portplan.report.{FORMATS[fmt]}")
    return module


def render(report: Report, fmt: str) -> str:
    """The report in a format of FORMATS."""
    return _renderer(fmt).render(report)


def render_failure(failure: Failure, fmt: str) -> str:
    """What standard output carries in a format of FORMATS when the input was unusable: a
    valid document holding the error (JSON, SARIF), an annotation (github), nothing (text:
    the error line is on stderr)."""
    return _renderer(fmt).render_failure(failure)


def exit_code(findings: Sequence[Finding], fail_on: Level) -> int:
    """0 when nothing reaches `fail_on`, else 1."""
    return 1 if any(f.level >= fail_on for f in findings) else 0
