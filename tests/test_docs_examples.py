"""Every console example of README.md and docs/ runs as shown from a fresh clone.

Each ```console block runs in a scratch folder holding a copy of `examples/`, its commands in
order (`$ portplan ...`, in-process). The lines shown under a command appear in its output
in the order shown; a line `...` stands for any number of lines. A command may exit 0 or 1
(findings), never 2 (unusable input) or 3 (internal error).
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import pytest

from portplan.cli import main
from tests.conftest import EXAMPLES

ROOT = EXAMPLES.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
_BLOCK = re.compile(r"^```console\n(.*?)^```", re.S | re.M)


def _blocks() -> list[tuple[str, str]]:
    found = []
    for page in PAGES:
        text = page.read_text()
        for block in _BLOCK.finditer(text):
            line = text.count("\n", 0, block.start()) + 1
            found.append((f"{page.relative_to(ROOT)}:{line}", block.group(1)))
    return found


def _steps(block: str) -> list[tuple[str, list[str]]]:
    steps: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        else:
            assert steps, f"output before any command: {line!r}"
            steps[-1][1].append(line)
    return steps


def _shown_in_order(shown: list[str], actual: list[str]) -> bool:
    position = 0
    for line in shown:
        if line.strip() == "...":
            continue
        try:
            position = actual.index(line, position) + 1
        except ValueError:
            return False
    return True


def test_every_page_with_examples_is_found() -> None:
    places = {where.split(":")[0] for where, _ in _blocks()}
    assert {"README.md", "docs/reconcile.md", "docs/import.md"} <= places


@pytest.mark.parametrize(("where", "block"), _blocks(), ids=[w for w, _ in _blocks()])
def test_console_example_runs_as_shown(
    where: str,
    block: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shutil.copytree(EXAMPLES, tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    for command, shown in _steps(block):
        argv = shlex.split(command)
        assert argv[0] == "portplan", f"{where}: only portplan commands run here"
        code = main(argv[1:])
        captured = capsys.readouterr()
        assert code in (0, 1), f"{where}: {command} exited {code}: {captured.err}"
        actual = (captured.out + captured.err).splitlines()
        if not shown:
            continue
        literal = [line for line in shown if line.strip() != "..."]
        if literal and len(literal) == len(shown):
            assert actual == shown, f"{where}: {command}"
        else:
            assert _shown_in_order(shown, actual), f"{where}: {command}\n" + "\n".join(actual)
