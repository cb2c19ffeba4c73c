"""^C and SIGTERM in the middle of `portplan generate`: the set on disk is all old or all
new when the process has exited, with no temporary file and no journal left behind.

A real process generates a set of 1,200 files over an older set; the signal is sent when
the run is seen staging its temporary files, or switching them in (its journal exists).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

SERVICES = 600


def _plan(base: int) -> str:
    return "services:\n" + "".join(
        f"  s{i}: {{ports: {{http: {{port: {base + i}, env: S{i}_PORT}}}}}}\n"
        for i in range(SERVICES)
    )


def _generate(tmp_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "portplan", "generate", "--out", "out", "-f", "p.yaml"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _staging(out: Path) -> bool:
    return any(name.endswith(".portplan.tmp") for name in os.listdir(out / "env"))


def _switching(out: Path) -> bool:
    return (out / ".portplan-generate.journal").exists()


def _interrupt(tmp_path: Path, sig: int, seen: object) -> tuple[int, str]:
    """Generate the set of ports 2000+ then 7000+, sending `sig` to the second run once
    `seen(out)` holds (tried again when the run finished before it could be seen)."""
    out = tmp_path / "out"
    (tmp_path / "p.yaml").write_text(_plan(2000))
    subprocess.run(
        [sys.executable, "-m", "portplan", "generate", "--out", "out", "-f", "p.yaml"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    (tmp_path / "p.yaml").write_text(_plan(7000))
    for _ in range(5):
        run = _generate(tmp_path)
        while run.poll() is None and not seen(out):  # type: ignore[operator]
            pass
        if run.poll() is None:
            run.send_signal(sig)
            _, err = run.communicate(timeout=60)
            return run.returncode, err.decode()
        run.communicate()
        (tmp_path / "p.yaml").write_text(_plan(2000 if "7000" in _ports(out) else 7000))
    raise AssertionError("the run was never seen at work")


def _ports(out: Path) -> set[str]:
    """Which sets the env files hold: '2000' (old), '7000' (new)."""
    sets = set()
    for i in range(SERVICES):
        text = (out / "env" / f"s{i}.env").read_text()
        sets.add(
            "2000" if f"={2000 + i}\n" in text else "7000" if f"={7000 + i}\n" in text else "?"
        )
    return sets


def _left(out: Path) -> list[str]:
    return sorted(
        name
        for _, _, files in os.walk(out)
        for name in files
        if name.endswith(".portplan.tmp") or name == ".portplan-generate.journal"
    )


def test_sigint_while_the_set_is_switched_in_leaves_it_whole(tmp_path: Path) -> None:
    code, err = _interrupt(tmp_path, signal.SIGINT, _switching)
    assert (code, err) == (130, "\nAborted!\n")
    assert len(_ports(tmp_path / "out")) == 1  # all old or all new
    assert _left(tmp_path / "out") == []


def test_sigterm_while_files_are_staged_removes_them(tmp_path: Path) -> None:
    code, err = _interrupt(tmp_path, signal.SIGTERM, _staging)
    assert (code, err) == (130, "\nAborted!\n")
    assert len(_ports(tmp_path / "out")) == 1
    assert _left(tmp_path / "out") == []
