"""A readable report grouped by file, one line per finding, and a summary line."""

from __future__ import annotations

from itertools import groupby

from portplan.findings import Finding
from portplan.report import Failure, Report


def render(report: Report) -> str:
    lines: list[str] = []
    ordered = sorted(report.findings, key=Finding.sort_key)
    for file, group in groupby(ordered, key=_file_of):
        lines.append(file)
        lines.extend(_finding_lines(finding) for finding in group)
        lines.append("")
    lines.extend(report.notes)
    lines.append(report.headline())
    return "\n".join(lines) + "\n"


def _file_of(finding: Finding) -> str:
    return finding.location.file if finding.location else "<no file>"


def _finding_lines(finding: Finding) -> str:
    loc = finding.location
    where = f"{loc.line}:{loc.column}" if loc and loc.line else "-"
    head = f"  {where:<8} {finding.level!s:<8} {finding.message}  [{finding.rule} {finding.name}]"
    also = [f"           also: {other}" for other in finding.locations[1:]]
    return "\n".join([head, *also])


def render_failure(failure: Failure) -> str:
    return ""  # the error line goes to stderr
