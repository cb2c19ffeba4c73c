"""`portplan --version` and `--help` without click (portplan._startup) print what click does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from portplan import _startup
from portplan._entry import main as entry_main
from portplan.cli import main as click_main
from portplan.cli._help_cache import click_help, write

PORTPLAN = [sys.executable, "-m", "portplan"]


@pytest.fixture
def help_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A help cache written now, in a folder of the test's own."""
    path = tmp_path / "help.txt"
    monkeypatch.setattr(_startup, "HELP_FILE", str(path))
    monkeypatch.setenv("COLUMNS", "120")
    write()
    return path


def _both(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[object, ...]:
    quick = entry_main(args), *capsys.readouterr()
    slow = click_main(args), *capsys.readouterr()
    return quick, slow


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--version"]])
def test_the_quick_answer_is_clicks(
    help_file: Path, args: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert _startup.cached_help() is not None
    quick, slow = _both(args, capsys)
    assert quick == slow
    assert quick[0] == 0
    assert str(quick[1]).startswith(("Usage: portplan", "portplan, version"))


def test_a_cache_of_other_sources_is_not_used(
    help_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = help_file.read_text()
    help_file.write_text("00000000 78\nUsage: cached-elsewhere\n" + text.partition("\n")[2])
    assert _startup.cached_help() is None
    quick, slow = _both(["--help"], capsys)
    assert quick == slow and "cached-elsewhere" not in str(quick[1])


def test_a_missing_cache_is_not_needed(help_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    help_file.unlink()
    quick, slow = _both(["--help"], capsys)
    assert quick == slow and "Usage: portplan" in str(quick[1])


@pytest.mark.parametrize("columns", ["60", "79"])
def test_a_narrow_terminal_gets_clicks_own_wrapping(
    help_file: Path, monkeypatch: pytest.MonkeyPatch, columns: str
) -> None:
    monkeypatch.setenv("COLUMNS", columns)
    assert _startup.cached_help() is None


def test_the_cache_holds_clicks_text_under_its_fingerprint(help_file: Path) -> None:
    first, _, text = help_file.read_text().partition("\n")
    assert first == _startup.fingerprint()
    assert text == click_help()
    assert text.startswith("Usage: portplan [OPTIONS] COMMAND [ARGS]...\n")
    assert "  check      Validate the plan" in text


def test_the_fingerprint_changes_with_any_cli_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = tmp_path / "cli"
    cli.mkdir()
    (tmp_path / "__init__.py").write_text('__version__ = "1"\n')
    (cli / "check.py").write_text('"""Check."""\n')
    monkeypatch.setattr(_startup, "_HERE", str(tmp_path))
    monkeypatch.setattr(_startup, "_CLI", str(cli))
    before = _startup.fingerprint()
    (cli / "check.py").write_text('"""Check the plan."""\n')
    assert _startup.fingerprint() != before
    (cli / "check.py").write_text('"""Check."""\n')
    assert _startup.fingerprint() == before
    (tmp_path / "__init__.py").write_text('__version__ = "2"\n')
    assert _startup.fingerprint() != before


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_a_full_standard_output_is_reported(args: list[str]) -> None:
    with open("/dev/full", "w") as full:
        done = subprocess.run([*PORTPLAN, *args], stdout=full, stderr=subprocess.PIPE, text=True)
    assert done.returncode == 2
    assert done.stderr == (
        "portplan: error: standard output: cannot write: No space left on device\n"
    )


def test_the_shipped_cache_is_current() -> None:
    """The help shipped in portplan/data is the one the CLI modules make now: a change to
    portplan/cli without `python -m portplan.cli._help_cache` would silently make every
    `portplan --help` pay for click again."""
    first, _, text = Path(_startup.HELP_FILE).read_text(encoding="utf-8").partition("\n")
    assert first == _startup.fingerprint(), "run: python -m portplan.cli._help_cache"
    assert text == click_help()
