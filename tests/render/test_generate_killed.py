"""`generate` killed with SIGKILL at any point: after the next run's recovery the set on
disk is all old or all new, and no temporary file or journal is left (portplan.fileset)."""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from portplan.cli import main
from portplan.fileset import JOURNAL
from portplan.render.generate import Planned, headless, recover

SERVICES = 40
KILLS = 40


def _plan(offset: int) -> str:
    lines = ["ranges:", "  r: {ports: 10000-19999}", "services:"]
    lines += [f"  s{n}: {{ports: {{http: {10000 + n * 3 + offset}}}}}" for n in range(SERVICES)]
    return "\n".join(lines) + "\n"


def _files(folder: Path) -> dict[str, Path]:
    return {str(p.relative_to(folder)): p for p in folder.rglob("*") if p.is_file()}


def _state(out: Path, old: Path, new: Path) -> str:
    """'old', 'new', or what is wrong with the set in `out` (portplan's header lines, which
    name the plan as the command spelled it, are left out of the comparison)."""
    kinds = set()
    for name, path in _files(old).items():
        before, after = _text(path), _text(new / name)
        if before == after:
            continue
        here = _text(out / name) if (out / name).exists() else None
        kinds.add({None: "missing", before: "old", after: "new"}.get(here, "torn"))
    return "+".join(sorted(kinds))


def _text(path: Path) -> str:
    return headless(path.read_text(encoding="utf-8"))


def _litter(out: Path) -> list[str]:
    return sorted(str(p) for p in out.rglob(".*") if p.name.endswith(".tmp") or p.name == JOURNAL)


def _generate() -> list[str]:
    return [sys.executable, "-m", "portplan", "generate", "-f", "portplan.yaml", "--out", "out"]


@pytest.fixture
def sets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Two full generated sets of plans A and B (refA, refB); `out` holds A."""
    monkeypatch.chdir(tmp_path)
    for name, offset in (("A", 0), ("B", 1)):
        Path(f"{name}.yaml").write_text(_plan(offset))
        shutil.copy(f"{name}.yaml", "portplan.yaml")
        assert main(["generate", "-f", "portplan.yaml", "--out", "out"]) == 0
        shutil.copytree("out", f"ref{name}")
    shutil.rmtree("out")
    shutil.copytree("refA", "out")
    return tmp_path / "refA", tmp_path / "refB"


def _recovered(tmp_path: Path) -> None:
    """What the next run does before anything else (for the files the sets hold)."""
    files = _files(tmp_path / "refA")
    recover([Planned(Path("out", name), "", None) for name in files], "out")


def test_kill_9_at_random_points_leaves_all_old_or_all_new(
    tmp_path: Path, sets: tuple[Path, Path]
) -> None:
    refs = {"A": sets[0], "B": sets[1]}
    start = time.monotonic()
    shutil.copy("B.yaml", "portplan.yaml")
    subprocess.run(_generate(), check=True, capture_output=True)
    took = time.monotonic() - start
    shutil.rmtree("out")
    shutil.copytree("refA", "out")
    shuffle = random.Random(11)
    current, outcomes = "A", []
    for _ in range(KILLS):
        target = "B" if current == "A" else "A"
        shutil.copy(f"{target}.yaml", "portplan.yaml")
        child = subprocess.Popen(_generate(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(shuffle.uniform(0.2, 1.6) * took)
        child.send_signal(signal.SIGKILL)
        child.wait()
        _recovered(tmp_path)
        state = _state(tmp_path / "out", refs[current], refs[target])
        assert state in ("old", "new"), state
        assert _litter(tmp_path / "out") == []
        outcomes.append(state)
        current = target if state == "new" else current
    # the kills landed on both sides of the switch
    assert "old" in outcomes
    assert "new" in outcomes


def test_a_run_killed_between_renames_is_finished_by_the_next(
    tmp_path: Path, sets: tuple[Path, Path]
) -> None:
    """A child that SIGKILLs itself after 25 of the set's renames: half the files are new
    until the next run, which finishes the set first."""
    Path("inject.py").write_text(
        "import os, signal, sys\n"
        "count = [0]\n"
        "real = os.replace\n"
        "def replace(a, b):\n"
        "    real(a, b)\n"
        "    if not str(b).endswith('.journal'):\n"
        "        count[0] += 1\n"
        "        if count[0] == 25:\n"
        "            os.kill(os.getpid(), signal.SIGKILL)\n"
        "os.replace = replace\n"
        "from portplan.cli import main\n"
        "sys.exit(main(['generate', '-f', 'portplan.yaml', '--out', 'out']))\n"
    )
    shutil.copy("B.yaml", "portplan.yaml")
    killed = subprocess.run([sys.executable, "inject.py"], capture_output=True, check=False)
    assert killed.returncode == -signal.SIGKILL
    out = tmp_path / "out"
    assert _state(out, *sets) == "new+old"  # torn until the next run
    assert (out / JOURNAL).exists()
    assert _litter(out) != []
    shutil.copy("A.yaml", "portplan.yaml")  # the next run asks for the old set again
    assert main(["generate", "-f", "portplan.yaml", "--out", "out"]) == 0
    assert _state(out, *sets) == "old"
    assert _litter(out) == []


def test_a_run_killed_before_its_journal_changes_nothing(
    tmp_path: Path, sets: tuple[Path, Path]
) -> None:
    Path("inject.py").write_text(
        "import os, signal, sys\n"
        "real = os.replace\n"
        "def replace(a, b):\n"
        "    if str(b).endswith('.journal'):\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    real(a, b)\n"
        "os.replace = replace\n"
        "from portplan.cli import main\n"
        "sys.exit(main(['generate', '-f', 'portplan.yaml', '--out', 'out']))\n"
    )
    shutil.copy("B.yaml", "portplan.yaml")
    killed = subprocess.run([sys.executable, "inject.py"], capture_output=True, check=False)
    assert killed.returncode == -signal.SIGKILL
    out = tmp_path / "out"
    assert _state(out, *sets) == "old"
    assert len(_litter(out)) > SERVICES  # every staged file, and the journal's temporary
    _recovered(tmp_path)
    assert _state(out, *sets) == "old"
    assert _litter(out) == []
    assert sorted(_files(out)) == sorted(_files(sets[0]))
    assert os.listdir(out / "env")


def test_two_runs_into_one_folder_take_turns(tmp_path: Path, sets: tuple[Path, Path]) -> None:
    """Plans A and B generated at once into one folder, five times: the folder holds one
    whole set afterwards, never a mix, and nothing else."""
    refs = []
    for name in ("A", "B"):
        shutil.rmtree("out")
        assert main(["generate", "-f", f"{name}.yaml", "--out", "out"]) == 0
        refs.append(Path(shutil.copytree("out", f"own{name}")))
    for round_ in range(5):
        children = [
            subprocess.Popen(
                [*_generate()[:4], "-f", f"{name}.yaml", "--out", "out"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                text=True,
            )
            for name in ("A", "B")
        ]
        assert [c.communicate(timeout=120)[1] for c in children] == ["", ""]
        state = _state(tmp_path / "out", refs[0], refs[1])
        assert state in ("old", "new"), (round_, state)
        assert _litter(tmp_path / "out") == []
