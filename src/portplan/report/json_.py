"""`{"findings": [...], "summary": {...}}`: the stable machine format (docs/json-output.md)."""

from __future__ import annotations

import json
from typing import Any

from portplan.findings import Finding
from portplan.report import Failure, Report

SCHEMA_VERSION = 1


def render(report: Report) -> str:
    document = {
        "version": SCHEMA_VERSION,
        "command": report.tool_command,
        "findings": [f.as_dict() for f in sorted(report.findings, key=Finding.sort_key)],
        "summary": {**report.summary(), "headline": report.headline()},
        **report.extra,
    }
    return _dumped(document)


def render_failure(failure: Failure) -> str:
    """`{"version", "command", "findings": [], "error": {...}}`: no `summary`, so nothing
    reads an unusable input as a clean one."""
    error = {
        "message": failure.message,
        "file": failure.file,
        "line": failure.line,
        "column": failure.column,
        "exit_code": failure.exit_code,
    }
    return _dumped(
        {"version": SCHEMA_VERSION, "command": failure.command, "findings": [], "error": error}
    )


def _dumped(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
