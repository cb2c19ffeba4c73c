"""Start-up: `portplan --help`, `--version` and `check` of 30 services as whole processes.

    python benchmarks/startup.py [--runs 30]

Each command runs --runs times, interleaved round by round with `python -c pass` (posix_spawn
and wait4, output to /dev/null) after the package is byte-compiled; the table gives the
median and the best wall time and the median CPU time (user + system) in ms.
Goals: `--help` and `--version` under 40 ms, `check` of 30 services under 100 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from check_speed import generate  # benchmarks/check_speed.py

ROOT = Path(__file__).resolve().parents[1]
PORTPLAN = str(Path(sys.executable).parent / "portplan")


def run_once(argv: list[str], sink: int) -> tuple[float, float]:
    """Wall and CPU ms of one run."""
    actions = [(os.POSIX_SPAWN_DUP2, sink, 1), (os.POSIX_SPAWN_DUP2, sink, 2)]
    start = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    _, _, usage = os.wait4(pid, 0)
    return (time.perf_counter() - start) * 1000, (usage.ru_utime + usage.ru_stime) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "portplan")], check=True
    )
    with tempfile.TemporaryDirectory() as tmp:
        plan = Path(tmp) / "portplan.yaml"
        plan.write_text(generate(30))
        commands = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "portplan --version": [PORTPLAN, "--version"],
            "portplan --help": [PORTPLAN, "--help"],
            "portplan check (30 services)": [PORTPLAN, "check", "-f", str(plan)],
        }
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        load = os.getloadavg()[0]
        with open(os.devnull, "wb") as sink:
            for round_ in range(args.runs + 2):
                for name, argv in commands.items():
                    wall_cpu = run_once(argv, sink.fileno())
                    if round_ >= 2:
                        times[name].append(wall_cpu)
    print("| command | median wall ms | best wall ms | median CPU ms |")
    print("|---|---:|---:|---:|")
    for name, runs in times.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        median, best = statistics.median(walls), min(walls)
        print(f"| `{name}` | {median:.1f} | {best:.1f} | {statistics.median(cpus):.1f} |")
    print(f"\n(load average {load:.1f} before, {os.getloadavg()[0]:.1f} after; {args.runs} rounds)")


if __name__ == "__main__":
    main()
