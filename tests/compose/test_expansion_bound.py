"""The variables of one value expand to at most MAX_EXPANDED characters: an expansion bomb
is one located error, in bounded time and memory, never gigabytes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from portplan.compose import DotenvError, load_environment
from portplan.compose.errors import ExpansionTooLargeError
from portplan.compose.interpolate import MAX_EXPANDED, interpolate_tree, substitute

# The memory cap is set by prlimit (util-linux), not by a preexec_fn: a fork of a test
# process that loaded grpc (the live tests) aborts in grpc's fork handlers.
PRLIMIT = ["prlimit", f"--as={1 << 30}"]

BOMB = "A0=xxxxxxxxxx\n" + "".join(
    f"A{n + 1}=${{A{n}}}${{A{n}}}${{A{n}}}${{A{n}}}\n" for n in range(15)
)


def test_a_value_may_expand_up_to_the_bound() -> None:
    big = "x" * (MAX_EXPANDED // 2)
    assert substitute("${B}${B}", {"B": big}.get) == big * 2
    with pytest.raises(ExpansionTooLargeError) as caught:
        substitute("${B}${B}$B", {"B": big}.get)
    assert str(caught.value) == "the value's variables expand to more than 1 MiB"
    with pytest.raises(ExpansionTooLargeError):
        substitute("${U:-${B}}${B}${B}", {"B": big}.get)


def test_each_value_of_a_tree_has_its_own_bound() -> None:
    big = "x" * (MAX_EXPANDED // 2)
    tree = {"a": "${B}", "b": "${B}", "c": "${B}"}
    assert interpolate_tree(tree, {"B": big}.get) == {"a": big, "b": big, "c": big}


def test_the_dotenv_bomb_is_one_located_error() -> None:
    with pytest.raises(DotenvError) as caught:
        load_environment(BOMB, {})
    # A9's second reference of A8 (10 * 4**8 characters each) passes the bound
    assert (caught.value.line, caught.value.column) == (10, 9)
    assert str(caught.value) == "line 10: the value's variables expand to more than 1 MiB"


@pytest.mark.parametrize("where", ["env", "compose"])
def test_reconcile_of_a_bomb_is_bounded(tmp_path: Path, where: str) -> None:
    (tmp_path / "d").mkdir()
    if where == "env":
        (tmp_path / "d" / ".env").write_text(BOMB)
    else:
        (tmp_path / "d" / "compose.yaml").write_text(
            "services:\n  web:\n    image: x\n    ports: ['80:80']\n"
            "    environment:\n      BIG: ${X}${X}${X}${X}${X}\n"
        )
        (tmp_path / "d" / ".env").write_text("X=" + "y" * (MAX_EXPANDED // 4) + "\n")
    done = subprocess.run(
        [*PRLIMIT, sys.executable, "-m", "portplan", "reconcile", "d", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )
    assert (done.returncode, done.stderr) == (1, "")
    found = [
        (f["rule"], f["locations"][0]["line"], f["message"])
        for f in json.loads(done.stdout)["findings"]
        if "expand" in f["message"]
    ]
    if where == "env":
        where, line = "d/.env:10:9", 10
    else:
        where, line = "d/compose.yaml:6:28", 6
    assert found == [
        ("PP209", line, f"could not read {where}: the value's variables expand to more than 1 MiB")
    ]
