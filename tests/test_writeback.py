"""Every file portplan writes: atomically, a new file `0o666 & ~umask`, an existing file its
own mode; generate, import -o and allocate's write-back all go through portplan.atomicfile."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from portplan import atomicfile
from portplan.cli import main
from portplan.plan.writeback import write_atomic
from portplan.render.generate import Planned, write

COMPOSE = "services:\n  web:\n    image: nginx\n    ports: ['8080:80']\n"


@pytest.fixture
def umask_027() -> Iterator[None]:
    old = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_file_gets_0666_less_the_umask(tmp_path: Path, mask: int, expected: int) -> None:
    old = os.umask(mask)
    try:
        write_atomic(tmp_path / "new.yaml", "x: 1\n")
        assert atomicfile.umask() == mask
    finally:
        os.umask(old)
    assert _mode(tmp_path / "new.yaml") == expected
    assert (tmp_path / "new.yaml").read_text() == "x: 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["new.yaml"]


def test_an_existing_file_keeps_its_mode(tmp_path: Path, umask_027: None) -> None:
    target = tmp_path / "plan.yaml"
    target.write_text("old\n")
    target.chmod(0o604)
    write_atomic(target, "new\n")
    assert (_mode(target), target.read_text()) == (0o604, "new\n")


def test_an_existing_file_keeps_its_group(tmp_path: Path) -> None:
    groups = [g for g in os.getgroups() if g != os.getegid()]
    if not groups:
        pytest.skip("the user belongs to one group only")
    target = tmp_path / "plan.yaml"
    target.write_text("old\n")
    os.chown(target, -1, groups[0])
    write_atomic(target, "new\n")
    assert (target.stat().st_uid, target.stat().st_gid) == (os.getuid(), groups[0])


def test_a_symbolic_link_stays_a_link_and_its_file_is_replaced(
    tmp_path: Path, umask_027: None
) -> None:
    real = tmp_path / "real.env"
    real.write_text("A=1\n")
    real.chmod(0o640)
    link = tmp_path / ".env"
    link.symlink_to("real.env")
    write_atomic(link, "A=2\n")
    assert link.is_symlink() and os.readlink(link) == "real.env"
    assert (real.read_text(), _mode(real)) == ("A=2\n", 0o640)


def test_a_failed_write_leaves_the_file_and_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "plan.yaml"
    target.write_text("old\n")
    with pytest.raises(UnicodeEncodeError):
        write_atomic(target, "bad \udc80\n")
    assert [p.name for p in tmp_path.iterdir()] == ["plan.yaml"]
    assert target.read_text() == "old\n"


def test_generate_writes_new_files_with_the_umask_and_keeps_old_modes(
    tmp_path: Path, umask_027: None
) -> None:
    old = tmp_path / "old.env"
    old.write_text("A=1\n")
    old.chmod(0o600)
    new = tmp_path / "env" / "new.env"
    planned = [Planned(old, "A=2\n", "A=1\n"), Planned(new, "B=1\n", None)]
    assert write(planned) == [old, new]
    assert (_mode(old), _mode(new)) == (0o600, 0o640)
    assert sorted(p.name for p in new.parent.iterdir()) == ["new.env"]


def test_import_output_is_0644_under_umask_022(tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    out = tmp_path / "portplan.yaml"
    old = os.umask(0o022)
    try:
        assert main(["import", str(tmp_path / "compose.yaml"), "-o", str(out)]) == 0
    finally:
        os.umask(old)
    assert _mode(out) == 0o644


def test_import_force_keeps_the_mode_of_the_file_it_replaces(
    tmp_path: Path, umask_027: None
) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    out = tmp_path / "portplan.yaml"
    out.write_text("old\n")
    out.chmod(0o664)
    assert main(["import", str(tmp_path / "compose.yaml"), "-o", str(out), "--force"]) == 0
    assert _mode(out) == 0o664
    assert "web:" in out.read_text()
