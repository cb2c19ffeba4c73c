"""`kill` and `who` read a port strictly and `--grace` as a finite number of seconds: a
real holder that ignores SIGTERM is never signalled on a refused argument."""

from __future__ import annotations

import subprocess
import sys

import pytest

from portplan.errors import UsageError
from portplan.live.kill import kill_port, stop
from portplan.live.owners import is_running
from portplan.portnumber import grace_seconds, port_number
from tests.live.conftest import start_holder, stop_child


@pytest.mark.parametrize(
    ("text", "port"),
    [
        ("47150", 47150),
        ("1", 1),
        ("65535", 65535),
        (" 47150", None),
        ("47150 ", None),
        ("+47150", None),
        ("-1", None),
        ("４７１５０", None),
        ("47_150", None),
        ("0047150", 47150),
        ("00", None),
        ("0", None),
        ("65536", None),
        ("", None),
        ("0x50", None),
    ],
)
def test_port_number(text: str, port: int | None) -> None:
    assert port_number(text) == port


@pytest.mark.parametrize(
    ("value", "ok"),
    [(0.0, True), (0.2, True), (3600.0, True), (float("nan"), False), (float("inf"), False),
     (-1.0, False), (1e9, False)],
)  # fmt: skip
def test_grace_seconds(value: float, ok: bool) -> None:
    assert (grace_seconds(value) is not None) is ok


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "portplan", *args], capture_output=True, text=True, timeout=30
    )


def test_refused_arguments_never_signal_the_holder() -> None:
    child = start_holder("stubborn", mode="ignore-term")
    try:
        port = str(child.port)
        for args in (
            [f" {port}", "--yes"],
            [f"+{port}", "--yes"],
            [port.translate(str.maketrans("0123456789", "０１２３４５６７８９")), "--yes"],
            [port, "--yes", "--grace", "nan"],
            [port, "--yes", "--grace", "inf"],
            [port, "--yes", "--grace=-1"],
            [port, "--yes", "--grace", "1e9"],
        ):
            done = _cli("kill", *args)
            assert done.returncode == 2, (args, done.stderr)
            assert done.stderr.splitlines()[-1].startswith("Error: Invalid value for "), args
            assert is_running(child.pid), args
        with pytest.raises(UsageError):
            kill_port(child.port, grace=float("nan"))
        with pytest.raises(UsageError):
            stop(child.pid, grace=float("inf"))
        assert is_running(child.pid)
        done = _cli("kill", port, "--yes", "--grace", "0.2")
        assert done.returncode == 0, done.stderr
        assert "with SIGKILL after a 0.2 s grace period" in done.stdout
        assert child.process.wait(timeout=10) == -9
    finally:
        stop_child(child)


@pytest.mark.parametrize("text", [" 80", "+80", "８０", "8_0"])
def test_who_refuses_odd_spellings(text: str) -> None:
    done = _cli("who", text)
    assert done.returncode == 2
    assert f"{text!r} is not a port: a port is a number 1-65535 written in the digits 0-9" in (
        done.stderr
    )
