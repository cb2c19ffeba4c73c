"""GitHub Actions workflow commands: one `::error file=...::message` line per finding."""

from __future__ import annotations

from portplan.findings import Finding, Level
from portplan.report import Failure, Report

_COMMAND = {Level.ERROR: "error", Level.WARNING: "warning", Level.INFO: "notice"}


def render(report: Report) -> str:
    lines = [_line(f) for f in sorted(report.findings, key=Finding.sort_key)]
    lines.append(report.headline())
    return "\n".join(lines) + "\n"


def render_failure(failure: Failure) -> str:
    """One `::error file=...,line=...,col=...::message` line for the unusable input."""
    props = _where(failure.file, failure.line, failure.column)
    props.append("title=unusable input")
    return f"::error {','.join(props)}::{_data(failure.message)}\n"


def _line(finding: Finding) -> str:
    loc = finding.location
    props = _where(loc.file, loc.line, loc.column) if loc is not None else []
    props.append(f"title={_prop(f'{finding.rule} {finding.name}')}")
    return f"::{_COMMAND[finding.level]} {','.join(props)}::{_data(finding.message)}"


def _where(file: str | None, line: int | None, column: int | None) -> list[str]:
    """`file=`, `line=` and `col=` properties, as far as they are known."""
    props = [f"file={_prop(file)}"] if file else []
    if file and line:
        props.append(f"line={line}")
        if column:
            props.append(f"col={column}")
    return props


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
