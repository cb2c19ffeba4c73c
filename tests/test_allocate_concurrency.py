"""Concurrent `allocate` on one plan: real processes started together queue on the plan's
lock; every entry is kept and no port is handed out twice."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from portplan.plan import loader

PLAN = """\
# ports of the metrics exporters
ranges:
  metrics: {ports: 9100-9199}
services:
  base:
    ports: {metrics: 9100}
"""
WRITERS = 20
ALLOCATE = [sys.executable, "-m", "portplan", "allocate"]


def test_twenty_parallel_allocations_keep_every_entry_and_every_port_distinct(
    tmp_path: Path,
) -> None:
    plan = tmp_path / "portplan.yaml"
    plan.write_text(PLAN)
    children = [
        subprocess.Popen(
            [*ALLOCATE, "-f", str(plan), f"s{n}", "metrics", "--range", "metrics", "--offline"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WRITERS)
    ]
    told: dict[str, int] = {}
    for n, child in enumerate(children):
        out, err = child.communicate(timeout=120)
        assert (child.returncode, err) == (0, "")
        found = re.fullmatch(rf"{re.escape(str(plan))}: s{n}\.metrics = (\d+)/tcp \(.*\)\n", out)
        assert found is not None, out
        told[f"s{n}"] = int(found.group(1))
    assert sorted(told.values()) == list(range(9101, 9101 + WRITERS))
    topology = loader.load(plan)
    services = topology.services
    written = {name: s.ports[0].number for name, s in services.items() if name != "base"}
    assert written == told
    assert plan.read_text().startswith(PLAN)
    assert [p.name for p in tmp_path.iterdir()] == ["portplan.yaml"]
