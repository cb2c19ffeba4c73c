"""Does `check`, `reconcile` and `import` stay linear from 1,000 to 40,000 services?

    python benchmarks/scaling.py [--sizes 1000,5000,10000,20000,40000] [--runs 3]

Every cell is a whole process (posix_spawn + wait4, output to /dev/null), best of --runs;
the figures are CPU time (user + system: what the command costs, steadier than wall time
on a shared machine) and wall time, in µs per service, with the linearity column: the
per-service CPU time at that size over the one at 5,000 (the goal: within 1.10 at 40,000).
Runs are interleaved round by round so other jobs weigh on every command alike.

- check: `portplan check -f` on the plan of benchmarks/check_speed.py, beside PyYAML's
  CSafeLoader loading the same file (goal: check of 5,000 at most 0.4x of it) and the peak
  memory (max RSS) of both (goal: check below the loader at 20,000).
- reconcile and import: a tree of 25-service compose files (benchmarks/reconcile.py's
  services), `portplan reconcile --format json TREE` and `portplan import TREE -o OUT`
  (goal: import at most 1.3x reconcile).
- `portplan check` of 30 services (goal: under 100 ms whole process).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from check_speed import generate as plan_text  # benchmarks/check_speed.py
from reconcile import PER_FILE, compose_text, service  # benchmarks/reconcile.py

ROOT = Path(__file__).resolve().parents[1]
PORTPLAN = str(Path(sys.executable).parent / "portplan")
CSAFE = "import sys, yaml; yaml.load(open(sys.argv[1]), Loader=yaml.CSafeLoader)"


class Best:
    """The best (least) CPU and wall ms and the peak RSS of the runs of one command."""

    def __init__(self) -> None:
        self.cpu = self.wall = float("inf")
        self.rss_mb = 0.0

    def add(self, cpu: float, wall: float, rss_mb: float) -> None:
        self.cpu, self.wall = min(self.cpu, cpu), min(self.wall, wall)
        self.rss_mb = max(self.rss_mb, rss_mb)


def run_once(argv: list[str]) -> tuple[float, float, float]:
    """CPU ms, wall ms and max RSS (MB) of one run."""
    with open(os.devnull, "wb") as sink:
        actions = [(os.POSIX_SPAWN_DUP2, sink.fileno(), 1), (os.POSIX_SPAWN_DUP2, sink.fileno(), 2)]
        start = time.perf_counter()
        pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
        _, status, usage = os.wait4(pid, 0)
    wall = (time.perf_counter() - start) * 1000
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        sys.exit(f"failed: {' '.join(argv)}")
    return (usage.ru_utime + usage.ru_stime) * 1000, wall, usage.ru_maxrss / 1024


def write_tree(root: Path, services: int) -> Path:
    tree = root / f"tree-{services}"
    for f in range(services // PER_FILE):
        directory = tree / f"project-{f:04d}"
        directory.mkdir(parents=True)
        names = [service(f * PER_FILE + i) for i in range(PER_FILE)]
        (directory / "compose.yaml").write_text(compose_text(names))
    return tree


def commands(root: Path, sizes: list[int]) -> dict[tuple[str, int], list[str]]:
    table: dict[tuple[str, int], list[str]] = {}
    small = root / "plan-30.yaml"
    small.write_text(plan_text(30))
    table["check", 30] = [PORTPLAN, "check", "-f", str(small)]
    for size in sizes:
        plan = root / f"plan-{size}.yaml"
        plan.write_text(plan_text(size))
        tree = write_tree(root, size)
        table["check", size] = [PORTPLAN, "check", "-f", str(plan)]
        table["CSafeLoader", size] = [sys.executable, "-c", CSAFE, str(plan)]
        table["reconcile", size] = [PORTPLAN, "reconcile", "--format", "json", str(tree)]
        out = root / f"imported-{size}.yaml"
        table["import", size] = [PORTPLAN, "import", str(tree), "-o", str(out), "--force"]
    return table


def measure(table: dict[tuple[str, int], list[str]], runs: int) -> dict[tuple[str, int], Best]:
    best = {key: Best() for key in table}
    for _ in range(runs):
        for key, argv in table.items():
            if key[0] == "import":
                Path(argv[-2]).unlink(missing_ok=True)
            best[key].add(*run_once(argv))
    return best


def report(best: dict[tuple[str, int], Best], sizes: list[int]) -> list[str]:
    base = 5000 if 5000 in sizes else sizes[0]
    print("| command | services | CPU ms | wall ms | CPU µs/service | vs 5,000 | max RSS MB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name in ("check", "reconcile", "import", "CSafeLoader"):
        for size in sizes:
            cell = best[name, size]
            linear = (cell.cpu / size) / (best[name, base].cpu / base)
            print(
                f"| {name} | {size:,} | {cell.cpu:,.0f} | {cell.wall:,.0f} | "
                f"{cell.cpu / size * 1000:.1f} | {linear:.2f} | {cell.rss_mb:.0f} |"
            )
    top = max(sizes)
    goals = []
    for name in ("check", "reconcile", "import"):
        linear = (best[name, top].cpu / top) / (best[name, base].cpu / base)
        goals.append(f"{name} per service at {top:,} / at {base:,}: {linear:.2f} (goal <= 1.10)")
    ratio = best["check", base].cpu / best["CSafeLoader", base].cpu
    goals.append(f"check / CSafeLoader at {base:,}: {ratio:.2f}x CPU (goal <= 0.40)")
    for size in sizes:
        ratio = best["import", size].cpu / best["reconcile", size].cpu
        goals.append(f"import / reconcile at {size:,}: {ratio:.2f}x CPU (goal <= 1.30)")
    small = best["check", 30]
    goals.append(f"check of 30: {small.wall:.0f} ms wall, {small.cpu:.0f} ms CPU (goal < 100)")
    if 20000 in sizes:
        mine, theirs = best["check", 20000].rss_mb, best["CSafeLoader", 20000].rss_mb
        goals.append(f"max RSS at 20,000: check {mine:.0f} MB, CSafeLoader {theirs:.0f} MB")
    return goals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,5000,10000,20000,40000")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "portplan")], check=True
    )
    with tempfile.TemporaryDirectory() as tmp:
        table = commands(Path(tmp), sizes)
        before = os.getloadavg()
        best = measure(table, args.runs)
        after = os.getloadavg()
    goals = report(best, sizes)
    print("\n" + "\n".join(f"- {line}" for line in goals))
    print(f"\n(load average {before[0]:.1f} before, {after[0]:.1f} after; {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
