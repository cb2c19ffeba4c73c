"""Inputs that were super-linear stay within a small memory cap (benchmarks/quadratic.py
times them at 10 KB, 100 KB and 1 MB; a unit test asserts no wall-clock time)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from portplan.yamlio.load import load

# The memory cap is set by prlimit (util-linux), not by a preexec_fn: a fork of a test
# process that loaded grpc (the live tests) aborts in grpc's fork handlers.
CAP = 400 << 20  # the interpreter and portplan need about 60 MB
PRLIMIT = ["prlimit", f"--as={CAP}"]


def _run(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*PRLIMIT, sys.executable, "-m", "portplan", *args],
        cwd=tmp,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "TMPDIR": str(tmp)},
    )


@pytest.mark.parametrize(
    "value",
    [
        "a" * 4_000_000,
        "ab " * 1_300_000 + "x",
        "'" + "a" * 4_000_000 + "'",
        '"' + "a" * 4_000_000 + '"',
    ],
    ids=["plain", "words", "single-quoted", "double-quoted"],
)
def test_a_long_scalar_in_a_flow_collection(tmp_path: Path, value: str) -> None:
    """Was about 170 bytes of memory per character (5 MB -> 852 MB)."""
    (tmp_path / "p.yaml").write_text(
        "services: {web: {description: " + value + ", ports: {http: 8080}}}\n"
    )
    done = _run(tmp_path, "check", "-f", "p.yaml")
    assert (done.returncode, done.stderr) == (0, "")


def test_the_long_scalar_keeps_its_value() -> None:
    value = "a b:c " * 1000 + "end"
    assert load("x: {k: " + value + "}\n", "f.yaml") == {"x": {"k": value}}


def test_a_long_env_value_and_a_port_range_are_read(tmp_path: Path) -> None:
    """The URL scanner on a 1 MB value (was minutes), and the import of a range of 15,536
    published ports (`50000-65535:80` was 37 s: a search per port)."""
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / ".env").write_text("X=" + "a" * 1_000_000 + "://x\nWEB_PORT=8080\n")
    (tmp_path / "d" / "compose.yaml").write_text(
        "services:\n  web:\n    image: x\n    ports: ['50000-65535:80']\n"
    )
    done = _run(tmp_path, "reconcile", "d")
    assert (done.returncode, done.stderr) == (1, ""), done.stdout  # the ports clash
    assert "2 files, 1 service" in done.stdout
    done = _run(tmp_path, "import", "d")
    assert done.returncode == 0, done.stderr
    assert "publishes host ports 50000-65535; the plan keeps the first" in done.stdout
    assert "port: 50000" in done.stdout and "port: 50001" not in done.stdout
