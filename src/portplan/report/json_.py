"""`{"findings": [...], "summary": {...}}`: the stable machine format (docs/json-output.md)."""

from __future__ import annotations

import json

from portplan.findings import Finding
from portplan.report import Report

SCHEMA_VERSION = 1


def render(report: Report) -> str:
    document = {
        "version": SCHEMA_VERSION,
        "command": report.tool_command,
        "findings": [f.as_dict() for f in sorted(report.findings, key=Finding.sort_key)],
        "summary": {**report.summary(), "headline": report.headline()},
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
