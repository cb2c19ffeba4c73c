"""Every reader reads regular files only, up to a limit: FIFOs, devices, folders and loops
of symbolic links are one located error (exit 2) or one PP209 finding, never a hang or
unbounded memory. Each CLI case runs as a real process with a timeout and a memory cap."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from portplan.errors import InputError
from portplan.files import DEFAULT_LIMIT, UnreadableFile, input_limit, safe_head, safe_read

FIFO = "is a FIFO (named pipe), not a regular file"
CHAR = "is a character device, not a regular file"
FOLDER = "is a folder, not a file"
PLAN = "services:\n  web:\n    ports:\n      http: 8080\n"


# The memory cap is set by prlimit (util-linux), not by a preexec_fn: a fork of a test
# process that loaded grpc (the live tests) aborts in grpc's fork handlers.
CAP = ["prlimit", f"--as={1 << 30}"]


def run(tmp: Path, *args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    done = subprocess.run(
        [*CAP, sys.executable, "-m", "portplan", *args],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TMPDIR": str(tmp), **(env or {})},
    )
    assert "Traceback" not in done.stderr
    assert not list(tmp.glob("portplan-crash-*"))
    return done.returncode, done.stdout, done.stderr


def test_safe_read_reads_a_regular_file(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"x" * 100_000)
    assert safe_read(tmp_path / "a") == b"x" * 100_000
    assert safe_head(tmp_path / "a", 10) == b"x" * 10


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (lambda p: os.mkfifo(p), FIFO),
        (lambda p: p.mkdir(), FOLDER),
        (lambda p: p.symlink_to("/dev/zero"), CHAR),
        (lambda p: p.symlink_to("/dev/urandom"), CHAR),
        (lambda p: p.symlink_to(p.name), "cannot read: Too many levels of symbolic links"),
    ],
    ids=["fifo", "folder", "zero", "urandom", "loop"],
)
def test_safe_read_refuses_what_is_not_a_regular_file(tmp_path: Path, make, what) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "x"
    make(path)
    for read in (safe_read, lambda p: safe_head(p, 10)):
        with pytest.raises(UnreadableFile) as caught:
            read(path)
        assert str(caught.value) == f"{path}: {what}"
        assert not caught.value.missing


def test_a_missing_file_is_missing(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile) as caught:
        safe_read(tmp_path / "nope")
    assert caught.value.missing
    assert caught.value.what == "No such file or directory"


def test_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "big"
    path.write_bytes(b"#" * 2048)
    assert input_limit() == DEFAULT_LIMIT == 16 * 1024 * 1024
    monkeypatch.setenv("PORTPLAN_MAX_INPUT", "1K")
    assert input_limit() == 1024
    with pytest.raises(UnreadableFile) as caught:
        safe_read(path)
    assert caught.value.what == (
        "is larger than the input limit of 1 KiB (set PORTPLAN_MAX_INPUT to raise it)"
    )
    assert safe_read(path, limit=4096) == b"#" * 2048
    monkeypatch.setenv("PORTPLAN_MAX_INPUT", "2048")
    assert safe_read(path) == b"#" * 2048
    for bad in ("0", "lots", "-1", "1T"):
        monkeypatch.setenv("PORTPLAN_MAX_INPUT", bad)
        with pytest.raises(InputError, match="expected a size in bytes"):
            input_limit()


def test_a_plan_over_the_limit_is_refused_and_the_variable_raises_it(tmp_path: Path) -> None:
    (tmp_path / "p.yaml").write_text(PLAN + "# " + "x" * 40_000 + "\n")
    code, _, err = run(tmp_path, "check", "-f", "p.yaml", env={"PORTPLAN_MAX_INPUT": "32K"})
    assert (code, err) == (
        2,
        "portplan: error: p.yaml: is larger than the input limit of 32 KiB "
        "(set PORTPLAN_MAX_INPUT to raise it)\n",
    )
    assert run(tmp_path, "check", "-f", "p.yaml", env={"PORTPLAN_MAX_INPUT": "64K"})[0] == 0


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    os.mkfifo(tmp_path / "fifo")
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "p.yaml").write_text(PLAN)
    return tmp_path


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["check", "-f", "fifo"], f"fifo: {FIFO}"),
        (["check", "-f", "/dev/zero"], f"/dev/zero: {CHAR}"),
        (["check", "-f", "/dev/urandom"], f"/dev/urandom: {CHAR}"),
        (["check", "-f", "loop"], "loop: a loop of symbolic links"),
        (["generate", "compose", "-f", "p.yaml", "--compose", "fifo"], f"fifo: {FIFO}"),
        (["generate", "markers", "-f", "p.yaml", "--in", "fifo"], f"fifo: {FIFO}"),
        (["generate", "markers", "-f", "p.yaml", "--in", "/dev/urandom"], f"/dev/urandom: {CHAR}"),
        (
            ["generate", "markers", "-f", "p.yaml", "--in", "loop"],
            "loop: cannot read: a loop of symbolic links",
        ),
    ],
)
def test_a_named_file_that_is_not_regular_is_exit_2(tree: Path, args: list[str], line: str) -> None:
    assert run(tree, *args) == (2, "", f"portplan: error: {line}\n")


@pytest.mark.parametrize(
    ("include", "what"),
    [
        ("/dev/zero", CHAR),
        ("/tmp", FOLDER),
        ("fifo", FIFO),
    ],
)
def test_a_plan_include_says_what_it_names(tree: Path, include: str, what: str) -> None:
    (tree / "inc.yaml").write_text(f"include: [{include}]\n" + PLAN)
    assert run(tree, "check", "-f", "inc.yaml") == (
        2,
        "",
        f"portplan: error: inc.yaml:1:11: include {include!r} {what}\n",
    )


def test_reconcile_of_special_files_is_one_finding_each(tree: Path) -> None:
    scanned = tree / "s"
    scanned.mkdir()
    for name in (".env", "compose.yaml", "README.md"):
        os.mkfifo(scanned / name)
    (scanned / "deploy.yaml").symlink_to("/dev/zero")
    code, out, err = run(tree, "reconcile", "s", "fifo", "/dev/urandom", "--format", "json")
    assert (code, err) == (1, "")
    messages = sorted((f["rule"], f["message"]) for f in json.loads(out)["findings"])
    assert messages == [
        ("PP209", f"could not read /dev/urandom: {CHAR}"),
        ("PP209", f"could not read fifo: {FIFO}"),
        ("PP209", f"could not read s/.env: {FIFO}"),
        ("PP209", f"could not read s/README.md: {FIFO}"),
        ("PP209", f"could not read s/deploy.yaml: {CHAR}"),
        (
            "PP209",
            f"not read s/compose.yaml: its variables file s/.env cannot be read ({FIFO}): "
            "values would be guesses",
        ),
    ]


@pytest.mark.parametrize(
    ("body", "where", "what"),
    [
        (
            "services:\n  web:\n    env_file: /dev/zero\n    ports: ['80:80']\n",
            "3:15",
            f"env_file /dev/zero of web: {CHAR}; read without it",
        ),
        (
            "services:\n  web:\n    env_file: ../fifo\n    ports: ['80:80']\n",
            "3:15",
            f"env_file ../fifo of web: {FIFO}; read without it",
        ),
        (
            "services:\n  web:\n    extends: {file: ../fifo, service: x}\n",
            "3:21",
            f"could not read c/compose.yaml:3:21: services.web.extends.file ../fifo: {FIFO}",
        ),
        (
            "include: [../fifo]\nservices:\n  web:\n    image: x\n",
            "1:11",
            f"could not read c/compose.yaml:1:11: include ../fifo: {FIFO}",
        ),
        (
            "include: [d]\nservices:\n  web:\n    image: x\n",
            "1:11",
            f"could not read c/compose.yaml:1:11: include d: {FOLDER}",
        ),
    ],
    ids=["env_file-device", "env_file-fifo", "extends-fifo", "include-fifo", "include-folder"],
)
def test_compose_references_to_special_files(tree: Path, body: str, where: str, what: str) -> None:
    (tree / "c").mkdir()
    (tree / "c" / "d").mkdir()
    (tree / "c" / "compose.yaml").write_text(body)
    _, out, _ = run(tree, "reconcile", "c", "--format", "json")
    found = [
        (f["rule"], f"{f['locations'][0]['line']}:{f['locations'][0]['column']}", f["message"])
        for f in json.loads(out)["findings"]
        if f["rule"] == "PP209"
    ]
    assert found == [("PP209", where, what)]


# Modules that open files other than user input: the kernel's tables, package data, the
# crash log, the writers (a target's current text; the plan once `loader` read it), and the
# runner's own state folder (state, claims, logs, locks) and /proc, the help cache and the
# package's own modules it is a fingerprint of, the plan cache's own entries.
_RAW_READS_ALLOWED = (
    "_startup.py",
    "cli/_help_cache.py",
    "live/",
    "run/",
    "rules/_base.py",
    "rules/pp110_well_known_port.py",
    "cli/_errors.py",
    "atomicfile.py",
    "fileset.py",
    "files.py",
    "render/generate.py",
    "plan/allocation_io.py",
    "plan/cache.py",
)


def test_no_reader_opens_a_file_itself() -> None:
    import re

    import portplan

    root = Path(portplan.__file__).parent
    raw = re.compile(r"\bopen\(|\.read_bytes\(|\.read_text\(|os\.read\(")
    found = [
        f"{path.relative_to(root)}:{number}"
        for path in sorted(root.rglob("*.py"))
        if not str(path.relative_to(root)).startswith(_RAW_READS_ALLOWED)
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if raw.search(line) and not line.lstrip().startswith(("#", '"', "`"))
    ]
    assert found == []
