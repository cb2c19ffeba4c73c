"""Generated docs, env and compose files read back by reconcile give zero findings."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from portplan.cli import main
from portplan.loader import load

LANDED = importlib.util.find_spec("portplan.reconcile") is not None


@pytest.mark.xfail(strict=False, reason="reconcile (issue 3) not landed")
def test_round_trip_has_no_findings(example: Path, tmp_path: Path) -> None:
    if not LANDED:
        pytest.fail("portplan.reconcile is not there yet")
    from portplan.reconcile import reconcile_paths

    assert (
        main(["generate", "env", "compose", "docs", "-f", str(example), "--out", str(tmp_path)])
        == 0
    )
    result = reconcile_paths([tmp_path], load(example))
    assert [(f.rule, f.message) for f in result.findings] == []
