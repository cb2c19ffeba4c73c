"""GitHub Actions workflow commands: one `::error file=...::message` line per finding."""

from __future__ import annotations

from portplan.findings import Finding, Level
from portplan.report import Report

_COMMAND = {Level.ERROR: "error", Level.WARNING: "warning", Level.INFO: "notice"}


def render(report: Report) -> str:
    lines = [_line(f) for f in sorted(report.findings, key=Finding.sort_key)]
    lines.append(report.headline())
    return "\n".join(lines) + "\n"


def _line(finding: Finding) -> str:
    props = [f"title={_prop(f'{finding.rule} {finding.name}')}"]
    loc = finding.location
    if loc is not None:
        props.insert(0, f"file={_prop(loc.file)}")
        if loc.line:
            props.insert(1, f"line={loc.line}")
            if loc.column:
                props.insert(2, f"col={loc.column}")
    return f"::{_COMMAND[finding.level]} {','.join(props)}::{_data(finding.message)}"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _prop(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
