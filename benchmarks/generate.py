"""Time `portplan generate` as a whole process on generated topologies.

    python benchmarks/generate.py [--sizes 30,1000,5000] [--runs 5] [--targets all,env,...]

The topologies are those of `check_speed.py` (2-3 ports per service, a dependency each,
metrics on every third). For each size, the median wall time (Python start-up included) of:

- every target into an empty folder (all files written), and each target alone;
- every target again into that folder (all up to date: nothing written);
- `--check` on that folder (nothing written; exit 0);
- `portplan check` on the same file, for reference (load and validation only).

The output folder is emptied before each timed run, outside the timing.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from check_speed import generate

TARGETS = ("env", "compose", "kubernetes", "prometheus", "docs", "graph")


def median_ms(command: list[str], runs: int, before: Callable[[], None] | None = None) -> float:
    times = []
    for _ in range(runs):
        if before is not None:
            before()
        start = time.perf_counter()
        done = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        times.append((time.perf_counter() - start) * 1000)
        if done.returncode not in (0, 1):
            sys.exit(f"{' '.join(command)}: exit {done.returncode}: {done.stderr.decode()}")
    return statistics.median(times)


def _emptied(folder: Path) -> Callable[[], None]:
    def empty() -> None:
        shutil.rmtree(folder, ignore_errors=True)

    return empty


def _row(label: str, figures: list[float]) -> str:
    return f"{label:<28}" + "".join(f"{ms:>10.0f}" for ms in figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="30,1000,5000")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--targets", default="all," + ",".join(TARGETS))
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    targets = args.targets.split(",")
    portplan = [sys.executable, "-m", "portplan"]
    print(f"python -c pass: {median_ms([sys.executable, '-c', 'pass'], args.runs):.0f} ms")
    print(f"median ms of {args.runs} runs, whole processes")
    print(_row("services", []) + "".join(f"{size:>10,}" for size in sizes))
    rows: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            plan = Path(tmp) / f"portplan-{size}.yaml"
            plan.write_text(generate(size))
            out = Path(tmp) / f"out-{size}"
            base = [*portplan, "generate", "-f", str(plan), "--out", str(out)]
            for target in targets:
                command = base if target == "all" else [*base, target]
                figure = median_ms(command, args.runs, _emptied(out))
                rows.setdefault(f"generate {target} (new)", []).append(figure)
            subprocess.run(base, stdout=subprocess.DEVNULL, check=True)
            rows.setdefault("generate all (up to date)", []).append(median_ms(base, args.runs))
            check = [*base, "--check"]
            rows.setdefault("generate all --check", []).append(median_ms(check, args.runs))
            reference = [*portplan, "check", "-f", str(plan)]
            rows.setdefault("check (reference)", []).append(median_ms(reference, args.runs))
    for label, figures in rows.items():
        print(_row(label, figures))


if __name__ == "__main__":
    main()
