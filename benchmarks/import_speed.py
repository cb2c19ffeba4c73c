"""Benchmark: `portplan import` of 200 compose files (5,000 services).

The tree is the one benchmarks/reconcile.py generates (five planted duplicate host ports
in file 0). Times the whole command as a process (Python start-up included), best of
--runs, and the library's steps in this process; checks that the written plan loads and
holds every service and that the planted double claims are marked.
Run: python benchmarks/import_speed.py [--runs 3]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from reconcile import EXPECTED, FILES, PER_FILE, generate  # benchmarks/reconcile.py

from portplan.importer.core import import_results
from portplan.plan import loader
from portplan.sources import scan


def command_seconds(tree: Path, out: Path, runs: int) -> float:
    best = float("inf")
    for _ in range(runs):
        out.unlink(missing_ok=True)
        start = time.perf_counter()
        command = [sys.executable, "-m", "portplan", "import", str(tree), "-o", str(out)]
        subprocess.run(command, check=True, capture_output=True)
        best = min(best, time.perf_counter() - start)
    return best


def steps(tree: Path) -> list[tuple[str, float]]:
    start = time.perf_counter()
    results = scan([tree])
    scanned = time.perf_counter()
    imported = import_results(results, [tree])
    done = time.perf_counter()
    loader.load_text(imported.text)
    loaded = time.perf_counter()
    return [
        ("scan (read and parse the sources)", scanned - start),
        ("import (two passes, render)", done - scanned),
        ("load the written plan", loaded - done),
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tree, _, _ = generate(Path(tmp))
        out = Path(tmp) / "portplan.yaml"
        seconds = command_seconds(tree, out, args.runs)
        topology = loader.load(out)
        text = out.read_text()
        conflicts = [line for line in text.splitlines() if "# conflict:" in line]
        marked = sorted(p for p in EXPECTED if any(str(p) in line for line in conflicts))
        print(f"tree: {FILES} compose files, {FILES * PER_FILE} services")
        print(f"portplan import, whole command (best of {args.runs}): {seconds:.2f} s")
        for label, step in steps(tree):
            print(f"  {label:<40} {step:6.2f} s")
        print(f"plan: {len(topology.services)} services, {topology.port_count()} ports")
        print(
            f"planted duplicate ports marked as conflicts: {len(marked)}/{len(EXPECTED)} {marked}"
        )


if __name__ == "__main__":
    main()
