"""Run the round trip import -> check -> generate -> reconcile on every project of a folder.

    python benchmarks/roundtrip.py FOLDER [FOLDER...] [--portplan CMD] [--keep DIR] [-q]

Each FOLDER is a folder of projects (every sub-folder is one project, as in the shared corpus)
or, with --project, one project itself. For each project, as a user would run it:

1. `portplan import .` in the project's folder writes the plan;
2. `portplan check -f PLAN` validates it (its error findings are printed with their text:
   each must be a real conflict of the project's own files);
3. `portplan generate -f PLAN --out GEN` writes every target;
4. `portplan reconcile -f PLAN GEN` holds the generated files to the plan (every finding is
   printed: the generated files must agree with the plan they came from).

One line per project (`ok` when the plan checks without error and the generated files
reconcile without finding), the details below it, and a total line at the end:
`check errors P/N projects, reconcile of generated files F/N projects`. The project folders
are only read; plans and generated files go to --keep (a temporary folder by default).
Every command runs with a timeout; exit 0 always: the script measures, it gates nothing.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

_TIMEOUT = 300


@dataclass
class Outcome:
    """What one project's round trip gave."""

    name: str
    steps: dict[str, int] = field(default_factory=dict)
    check: list[str] = field(default_factory=list)
    check_warnings: int = 0
    reconcile: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.check and not self.reconcile and not self.notes


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            command, cwd=cwd, capture_output=True, text=True, timeout=_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return subprocess.CompletedProcess(command, 124, "", f"timeout after {_TIMEOUT} s")


def _findings(result: subprocess.CompletedProcess[str]) -> list[dict[str, object]] | None:
    try:
        document = json.loads(result.stdout)
    except ValueError:
        return None
    findings: list[dict[str, object]] = document.get("findings", [])
    return findings


def _line(finding: dict[str, object], base: Path) -> str:
    locations = finding.get("locations") or []
    where = ""
    if isinstance(locations, list) and locations:
        first = locations[0]
        path = str(first.get("file", ""))
        if path.startswith(str(base)):
            path = path[len(str(base)) + 1 :]
        where = f"{path}:{first.get('line', '')}: "
    return f"{finding['level']} {finding['rule']} {where}{finding['message']}"


def _first_error(result: subprocess.CompletedProcess[str]) -> str:
    lines = (result.stderr or result.stdout).strip().splitlines()
    return lines[-1] if lines else f"exit {result.returncode}"


def round_trip(portplan: list[str], project: Path, keep: Path) -> Outcome:
    """Import, check, generate and reconcile one project; the plan and files go to keep."""
    outcome = Outcome(project.name)
    plan, generated = keep / f"{project.name}.plan.yaml", keep / f"{project.name}.gen"
    imported = _run([*portplan, "import", ".", "-o", str(plan), "--force"], project)
    outcome.steps["import"] = imported.returncode
    if imported.returncode != 0:
        outcome.notes.append(f"import failed: {_first_error(imported)}")
        return outcome
    checked = _run([*portplan, "check", "-f", str(plan), "--format", "json"], project)
    outcome.steps["check"] = checked.returncode
    findings = _findings(checked)
    if findings is None:
        outcome.notes.append(f"check failed: {_first_error(checked)}")
    else:
        outcome.check = [_line(f, keep) for f in findings if f["level"] == "error"]
        outcome.check_warnings = sum(1 for f in findings if f["level"] == "warning")
    shutil.rmtree(generated, ignore_errors=True)  # no file of an earlier run reads back
    written = _run([*portplan, "generate", "-f", str(plan), "--out", str(generated)], keep)
    outcome.steps["generate"] = written.returncode
    if written.returncode != 0:
        outcome.notes.append(f"generate failed: {_first_error(written)}")
        return outcome
    command = [*portplan, "reconcile", "-f", str(plan), str(generated), "--format", "json"]
    reconciled = _run([*command, "--fail-on", "info"], keep)
    outcome.steps["reconcile"] = reconciled.returncode
    findings = _findings(reconciled)
    if findings is None:
        outcome.notes.append(f"reconcile failed: {_first_error(reconciled)}")
    else:
        outcome.reconcile = [_line(f, generated) for f in findings]
    return outcome


def _report(outcome: Outcome, quiet: bool) -> None:
    steps = " ".join(f"{step}={code}" for step, code in outcome.steps.items())
    head = "ok  " if outcome.ok else "FAIL"
    print(
        f"{head} {outcome.name}: {steps} | check: {len(outcome.check)} errors, "
        f"{outcome.check_warnings} warnings | reconcile(generated): "
        f"{len(outcome.reconcile)} findings"
    )
    if quiet:
        return
    for note in outcome.notes:
        print(f"     {note}")
    for line in outcome.check:
        print(f"     check: {line}")
    for line in outcome.reconcile:
        print(f"     reconcile: {line}")


def _projects(folders: list[Path], single: bool) -> list[Path]:
    if single:
        return folders
    return [p for folder in folders for p in sorted(folder.iterdir()) if p.is_dir()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path)
    parser.add_argument("--portplan", default=f"{sys.executable} -m portplan")
    parser.add_argument("--project", action="store_true", help="each FOLDER is one project")
    parser.add_argument("--keep", type=Path, help="write plans and generated files here")
    parser.add_argument("-q", "--quiet", action="store_true", help="one line per project")
    args = parser.parse_args(argv)
    portplan = shlex.split(args.portplan)
    if Path(portplan[0]).exists():  # a relative path still names it from each project's folder
        portplan[0] = str(Path(portplan[0]).resolve())
    with tempfile.TemporaryDirectory() as scratch:
        keep = (args.keep or Path(scratch)).resolve()
        keep.mkdir(parents=True, exist_ok=True)
        outcomes = []
        for project in _projects(args.folders, args.project):
            outcomes.append(round_trip(portplan, project.resolve(), keep))
            _report(outcomes[-1], args.quiet)
    failed_check = sum(1 for o in outcomes if o.check or o.notes)
    failed_reconcile = sum(1 for o in outcomes if o.reconcile or o.notes)
    total = len(outcomes)
    print(
        f"check errors {failed_check}/{total} projects, "
        f"reconcile of generated files {failed_reconcile}/{total} projects"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
