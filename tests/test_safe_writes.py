"""Every writer (allocate, import -o, generate) refuses what it must not replace and turns
every failure of the write into one line and exit 2 (portplan.atomicfile): real FIFOs,
sockets, device nodes, links, read-only and immutable files, read-only and full file
systems (tmpfs mounts in a private mount namespace), standard output on /dev/full."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from portplan import atomicfile
from portplan.cli import main

PLAN = "ranges:\n  r: {ports: 9100-9199}\nservices:\n  a:\n    ports: {http: 9100}\n"
GEN_PLAN = "services:\n  web: {ports: {http: 8080}}\n"
COMPOSE = "services:\n  web:\n    image: nginx\n    ports: ['8080:80']\n"
REFUSED = "refusing to replace it"


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    return err.removeprefix("portplan: error: ").rstrip("\n")


def _fifo(path: Path) -> str:
    os.mkfifo(path)
    return "a FIFO"


def _socket(path: Path) -> str:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(path))
    server.close()
    return "a socket"


def _device(path: Path) -> str:
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, 7))  # a private /dev/full
    return "a character device"


def _folder(path: Path) -> str:
    path.mkdir()
    return "a folder"


SPECIAL: dict[str, Callable[[Path], str]] = {
    "fifo": _fifo,
    "socket": _socket,
    "device": _device,
    "folder": _folder,
}


def _import(tmp_path: Path, target: Path, *extra: str) -> int:
    (tmp_path / "src").mkdir(exist_ok=True)
    (tmp_path / "src" / "compose.yaml").write_text(COMPOSE)
    return main(["import", str(tmp_path / "src"), "-o", str(target), "--force", *extra])


def _generate(tmp_path: Path, target: Path, *extra: str) -> int:
    (tmp_path / "gen.yaml").write_text(GEN_PLAN)
    out = target.parent
    return main(["generate", "env", "-f", str(tmp_path / "gen.yaml"), "--out", str(out), *extra])


def _allocate(tmp_path: Path, target: Path, *extra: str) -> int:
    return main(["allocate", "-f", str(target), "b", "--range", "r", "--offline", *extra])


WRITERS: dict[str, Callable[..., int]] = {
    "import": _import,
    "generate": _generate,
    "allocate": _allocate,
}


def _target(tmp_path: Path, writer: str) -> Path:
    folder = tmp_path / "out"
    folder.mkdir(exist_ok=True)
    return folder / ("service-ports.env" if writer == "generate" else "p.yaml")


@pytest.mark.parametrize("kind", SPECIAL)
@pytest.mark.parametrize("writer", ["import", "generate"])
def test_a_target_that_is_not_a_regular_file_is_refused(
    tmp_path: Path, writer: str, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _target(tmp_path, writer)
    what = SPECIAL[kind](target)
    before = target.lstat()
    assert WRITERS[writer](tmp_path, target) == 2
    message = _error(capsys)
    if writer == "generate" and kind == "folder":
        assert message == f"{target}: is a folder; cannot write a generated file there"
    else:
        assert message == f"{target}: is {what}; {REFUSED}"
    after = target.lstat()
    assert (stat.S_IFMT(after.st_mode), after.st_ino) == (
        stat.S_IFMT(before.st_mode),
        before.st_ino,
    )
    assert [p.name for p in target.parent.iterdir()] == [target.name]


@pytest.mark.parametrize("kind", ["fifo", "socket", "device"])
def test_allocate_refuses_a_plan_that_is_not_a_regular_file(
    tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "p.yaml"
    what = SPECIAL[kind](target)
    assert _allocate(tmp_path, target) == 2
    assert _error(capsys) == f"{target}: is {what}; {REFUSED}"
    assert not stat.S_ISREG(target.lstat().st_mode)


def _outside(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """`out/name` linking to a file outside `out`."""
    victim = tmp_path / "elsewhere" / name
    victim.parent.mkdir()
    victim.write_text(PLAN)
    link = tmp_path / "out" / name
    link.parent.mkdir(exist_ok=True)
    link.symlink_to(os.path.join("..", "elsewhere", name))
    return link, victim


@pytest.mark.parametrize("writer", WRITERS)
def test_a_link_out_of_the_output_folder_is_refused(
    tmp_path: Path, writer: str, capsys: pytest.CaptureFixture[str]
) -> None:
    link, victim = _outside(tmp_path, _target(tmp_path, writer).name)
    assert WRITERS[writer](tmp_path, link) == 2
    assert _error(capsys) == (
        f"{link}: resolves to {victim}, outside {link.parent} (a symbolic link); "
        "refusing to write there (--follow-symlinks allows it)"
    )
    assert victim.read_text() == PLAN
    assert link.is_symlink()


@pytest.mark.parametrize("writer", WRITERS)
def test_follow_symlinks_writes_through_a_link_out_of_the_folder(
    tmp_path: Path, writer: str
) -> None:
    link, victim = _outside(tmp_path, _target(tmp_path, writer).name)
    assert WRITERS[writer](tmp_path, link, "--follow-symlinks") == 0
    assert victim.read_text() != PLAN
    assert link.is_symlink()


def test_a_folder_link_out_of_the_output_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "env").symlink_to(tmp_path / "elsewhere")
    assert _generate(tmp_path, tmp_path / "out" / "x") == 2
    target = tmp_path / "out" / "env" / "web.env"
    assert _error(capsys).startswith(f"{target}: resolves to {tmp_path}/elsewhere/web.env, ")
    assert list((tmp_path / "elsewhere").iterdir()) == []
    assert not (tmp_path / "out" / "service-ports.env").exists()  # all or none


def test_a_link_inside_the_output_folder_is_written_through(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "real.env").write_text("old\n")
    (out / "service-ports.env").symlink_to("real.env")
    assert _generate(tmp_path, out / "service-ports.env") == 0
    assert (out / "service-ports.env").is_symlink()
    assert "WEB_HTTP_PORT=8080" in (out / "real.env").read_text()


@pytest.mark.parametrize("writer", WRITERS)
def test_a_read_only_file_is_refused_by_its_mode_even_for_root(
    tmp_path: Path, writer: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _target(tmp_path, writer)
    target.write_text(PLAN)
    target.chmod(0o444)
    inode = target.stat().st_ino
    assert WRITERS[writer](tmp_path, target) == 2
    assert _error(capsys) == f"{target}: is read-only (mode 0444); nothing written"
    assert (target.read_text(), target.stat().st_ino) == (PLAN, inode)


@pytest.mark.parametrize("writer", WRITERS)
def test_a_hard_linked_file_is_refused_and_its_links_kept(
    tmp_path: Path, writer: str, capsys: pytest.CaptureFixture[str]
) -> None:
    target = _target(tmp_path, writer)
    target.write_text(PLAN)
    os.link(target, tmp_path / "other-name")
    assert WRITERS[writer](tmp_path, target) == 2
    assert _error(capsys) == (
        f"{target}: has 2 hard links; replacing it would split them (write it through one "
        "of them after removing the others); nothing written"
    )
    assert target.stat().st_nlink == 2
    assert (tmp_path / "other-name").read_text() == target.read_text() == PLAN


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[Path]:
    chattr = shutil.which("chattr")
    target = tmp_path / "imm.yaml"
    target.write_text(PLAN)
    if chattr is None or subprocess.run([chattr, "+i", str(target)], check=False).returncode:
        pytest.skip("chattr +i is not available here")
    try:
        yield target
    finally:
        subprocess.run([chattr, "-i", str(target)], check=True)


def test_allocate_onto_an_immutable_file_is_one_line(
    immutable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _allocate(immutable.parent, immutable) == 2
    assert _error(capsys) == f"{immutable}: is immutable or append-only (chattr); nothing written"
    assert immutable.read_text() == PLAN


def _in_namespace(tmp_path: Path, script: str) -> subprocess.CompletedProcess[str]:
    """Run `script` as root in a private mount namespace (tmpfs mounts vanish with it)."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root and unshare")
    probe = subprocess.run(["unshare", "-m", "true"], check=False, capture_output=True)
    if probe.returncode:
        pytest.skip("no mount namespaces here")
    env = {**os.environ, "PP": f"{sys.executable} -m portplan", "PORTPLAN_LOG_DIR": str(tmp_path)}
    return subprocess.run(
        ["unshare", "-m", "--propagation", "private", "bash", "-c", script],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_allocate_on_a_read_only_file_system_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "ro").mkdir()
    result = _in_namespace(
        tmp_path,
        f"mount -t tmpfs -o size=1m tmpfs ro && printf '%s' '{PLAN}' > ro/p.yaml"
        " && mount -o remount,ro ro && $PP allocate -f ro/p.yaml b --range r --offline",
    )
    assert (result.returncode, result.stderr) == (
        2,
        "portplan: error: ro/p.yaml: cannot write: Read-only file system; nothing written\n",
    )
    assert not list(tmp_path.glob("portplan-crash-*"))


def test_allocate_on_a_full_disk_is_one_line_and_leaves_the_plan(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    result = _in_namespace(
        tmp_path,
        f"mount -t tmpfs -o size=64k tmpfs full && printf '%s' '{PLAN}' > full/p.yaml"
        " && (dd if=/dev/zero of=full/fill bs=4k 2>/dev/null; true)"
        " && $PP allocate -f full/p.yaml b --range r --offline; rc=$?"
        " && cat full/p.yaml && ls -a full && exit $rc",
    )
    assert result.returncode == 2
    assert result.stderr == (
        "portplan: error: full/p.yaml: cannot write: No space left on device; nothing written\n"
    )
    assert result.stdout == PLAN + ".\n..\nfill\np.yaml\n"


@pytest.mark.parametrize(
    "args",
    [["check", "-f", "p.yaml"], ["ls", "-f", "p.yaml"], ["import", "src"], ["ports"]],
)
def test_standard_output_on_dev_full_is_one_line(tmp_path: Path, args: list[str]) -> None:
    (tmp_path / "p.yaml").write_text(PLAN)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "compose.yaml").write_text(COMPOSE)
    with open("/dev/full", "w") as full:
        result = subprocess.run(
            [sys.executable, "-m", "portplan", *args],
            cwd=tmp_path,
            stdout=full,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PORTPLAN_LOG_DIR": str(tmp_path)},
            timeout=60,
            check=False,
        )
    assert (result.returncode, result.stderr) == (
        2,
        "portplan: error: standard output: cannot write: No space left on device\n",
    )
    assert not list(tmp_path.glob("portplan-crash-*"))


@pytest.mark.parametrize("name", ["-", "/dev/stdout", "/dev/fd/1"])
def test_import_to_standard_output_into_a_pipe(tmp_path: Path, name: str) -> None:
    (tmp_path / "compose.yaml").write_text(COMPOSE)
    result = subprocess.run(
        [sys.executable, "-m", "portplan", "import", "compose.yaml", "-o", name],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stderr) == (0, "")
    assert "  web:\n" in result.stdout
    assert "8080" in result.stdout


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_leftover_temporaries_of_killed_runs_are_removed(tmp_path: Path) -> None:
    plan = tmp_path / "p.yaml"
    plan.write_text(PLAN)
    dead = tmp_path / f".p.yaml.{_dead_pid()}.abcd1234.portplan.tmp"
    old_style = tmp_path / ".p.yaml.k3x_9qzw.tmp"  # mkstemp's name before
    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"]) as alive:
        live = tmp_path / f".p.yaml.{alive.pid}.abcd1234.portplan.tmp"
        other = tmp_path / ".notes.txt.tmp"
        for path in (dead, old_style, live, other):
            path.write_text("half")
        assert _allocate(tmp_path, plan) == 0
        alive.kill()
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted([live.name, other.name, "p.yaml"])


def test_a_plan_changed_by_another_program_meanwhile_is_not_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An editor or another tool that takes no lock writes the plan between portplan's
    read and its rename: portplan refuses, the other program's text stays."""
    from portplan.plan import writeback

    plan = tmp_path / "p.yaml"
    plan.write_text(PLAN)
    theirs = PLAN + "  c:\n    ports: {http: 9150}\n"
    add_port = writeback.add_port

    def meanwhile(*args: object) -> str:
        subprocess.run(
            [sys.executable, "-c", f"open({str(plan)!r}, 'w').write({theirs!r})"], check=True
        )
        return add_port(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(writeback, "add_port", meanwhile)
    assert _allocate(tmp_path, plan) == 2
    assert _error(capsys) == (
        f"{plan}: changed since portplan read it; nothing written (run again)"
    )
    assert plan.read_text() == theirs
    assert [p.name for p in tmp_path.iterdir()] == ["p.yaml"]


def test_write_errors_name_the_file_and_leave_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    with pytest.raises(atomicfile.OutputError) as caught:
        atomicfile.write_atomic(folder / "x.yaml", "x: 1\n")
    assert (
        str(caught.value) == f"{folder}/x.yaml: its folder {folder} is read-only; nothing written"
    )
    assert list(folder.iterdir()) == []


def test_every_write_goes_through_atomicfile() -> None:
    """No module but atomicfile and fileset renames, replaces or makes temporary files (the
    crash log of cli/_errors is a new file of its own; the plan cache renames its own entries
    into its own folder, never a file the user named)."""
    import portplan

    allowed = {"atomicfile.py", "fileset.py", os.path.join("cli", "_errors.py")}
    allowed.add(os.path.join("plan", "cache.py"))
    root = Path(portplan.__file__).parent
    found = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for call in (
            "os.replace(",
            "os.rename(",
            "mkstemp(",
            "NamedTemporaryFile(",
            ".write_text(",
        ):
            if call in text and str(path.relative_to(root)) not in allowed:
                found.append(f"{path.relative_to(root)}: {call}")
    assert found == []
