"""SARIF 2.1.0, for code-scanning uploads."""

from __future__ import annotations

import json
import os
from typing import Any
from urllib.parse import quote

from portplan import __version__
from portplan.findings import Finding, Level
from portplan.model import Location
from portplan.report import Failure, Report, RuleInfo

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_PATH_SAFE = "/!$&'()*+,;=@"
_LEVEL = {Level.ERROR: "error", Level.WARNING: "warning", Level.INFO: "note"}


def render(report: Report) -> str:
    rules = _rules(report)
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = [_result(f, index) for f in sorted(report.findings, key=Finding.sort_key)]
    return _document(rules, results)


def render_failure(failure: Failure) -> str:
    """A run without results whose invocation failed, its notification the error line
    (and where it is, when known), so an upload gets a valid file that says why."""
    notification: dict[str, Any] = {"level": "error", "message": {"text": failure.message}}
    if failure.file:
        where = Location(failure.file, failure.line or 0, failure.column or 0)
        notification["locations"] = [_location(where)]
    invocation = {
        "executionSuccessful": False,
        "exitCode": failure.exit_code,
        "toolExecutionNotifications": [notification],
    }
    return _document([], [], invocation)


def _document(
    rules: list[dict[str, Any]], results: list[dict[str, Any]], *invocations: dict[str, Any]
) -> str:
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "portplan",
                "version": __version__,
                "informationUri": "https://github.com/portplan/portplan",
                "rules": rules,
            }
        },
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    if invocations:
        run["invocations"] = list(invocations)
    document = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _rules(report: Report) -> list[dict[str, Any]]:
    known = dict(report.rules)
    for finding in report.findings:
        known.setdefault(
            finding.rule, RuleInfo(finding.rule, finding.name, finding.level, finding.name)
        )
    return [_rule(info) for _, info in sorted(known.items())]


def _rule(info: RuleInfo) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "id": info.id,
        "name": info.name,
        "shortDescription": {"text": info.summary},
        "defaultConfiguration": {"level": _LEVEL[info.level]},
    }
    if info.doc:
        rule["fullDescription"] = {"text": info.doc}
    return rule


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index[finding.rule],
        "level": _LEVEL[finding.level],
        "message": {"text": finding.message},
        "locations": [_location(loc) for loc in finding.locations[:1]],
    }
    if len(finding.locations) > 1:
        result["relatedLocations"] = [
            {"id": i, **_location(loc)} for i, loc in enumerate(finding.locations[1:], 1)
        ]
    return result


def _location(loc: Location) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri(loc.file)}}
    if loc.line:
        region: dict[str, int] = {"startLine": loc.line}
        if loc.column:
            region["startColumn"] = loc.column
        physical["region"] = region
    return {"physicalLocation": physical}


def uri(path: str) -> str:
    """`path` as an RFC 3986 URI reference: a relative path stays relative (`./x%23y/read%20me.md`),
    an absolute one becomes a `file://` URI; every byte outside the unreserved characters and
    the path's sub-delimiters is percent-encoded (UTF-8), and so is `:`, which would make a
    relative reference's first segment read as a scheme."""
    encoded = quote(path.replace(os.sep, "/"), safe=_PATH_SAFE)
    return f"file://{encoded}" if os.path.isabs(path) else encoded
