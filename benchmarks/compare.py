"""Whole commands side by side, interleaved: CPU and wall medians, and ratios to the first.

    unshare -n -p -f --mount-proc python benchmarks/compare.py --sockets 2000 --runs 20 \\
        'ss=ss -ltnpH' \\
        'before=PYTHONPATH=/tmp/before/src .venv/bin/portplan ports' \\
        'after=.venv/bin/portplan ports'

Each argument is NAME=COMMAND; leading VAR=VALUE words of a command set its environment
(PYTHONPATH=SRC runs another checkout's portplan under the same console script). With
--sockets N a helper process listens on N extra TCP sockets (as benchmarks/live.py's
does) while the commands run. Run in a network and PID namespace of its own (as above),
only the helper's sockets and processes are there: other jobs on a shared machine neither
add sockets nor processes to scan. Rounds are interleaved (order rotated), two warm-up
rounds dropped; ratios are medians of the per-round ratios to the first command.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from live import HOLD_SOCKETS, Timing, start_helper, stop_helper


def parse(spec: str) -> tuple[str, list[str], dict[str, str]]:
    name, _, command = spec.partition("=")
    words = shlex.split(command)
    env = dict(os.environ)
    while words and "=" in words[0] and not words[0].startswith(("/", ".")):
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    return name, words, env


def run(commands: list[tuple[str, list[str], dict[str, str]]], runs: int) -> dict[str, Timing]:
    timings = {name: Timing() for name, _, _ in commands}
    sink = os.open(os.devnull, os.O_WRONLY)
    for round_ in range(runs + 2):
        shift = round_ % len(commands)
        for name, argv, env in commands[shift:] + commands[:shift]:
            actions = [(os.POSIX_SPAWN_DUP2, sink, 1), (os.POSIX_SPAWN_DUP2, sink, 2)]
            start = time.perf_counter()
            pid = os.posix_spawnp(argv[0], argv, env, file_actions=actions)
            _, _, usage = os.wait4(pid, 0)
            if round_ >= 2:
                timings[name].wall.append((time.perf_counter() - start) * 1000)
                timings[name].user.append(usage.ru_utime * 1000)
                timings[name].system.append(usage.ru_stime * 1000)
    return timings


def report(timings: dict[str, Timing]) -> None:
    first = next(iter(timings.values()))
    print("| command | wall ms | user ms | sys ms | CPU ms | wall vs first | CPU vs first |")
    print("|---|---|---|---|---|---|---|")
    for name, timing in timings.items():
        cpu = [u + s for u, s in zip(timing.user, timing.system, strict=True)]
        base = [u + s for u, s in zip(first.user, first.system, strict=True)]
        wall_ratio = statistics.median(a / b for a, b in zip(timing.wall, first.wall, strict=True))
        cpu_ratio = statistics.median(a / b for a, b in zip(cpu, base, strict=True))
        cells = [timing.median(), statistics.median(timing.user), statistics.median(timing.system)]
        shown = " | ".join(f"{cell:.1f}" for cell in [*cells, statistics.median(cpu)])
        print(f"| `{name}` | {shown} | {wall_ratio:.2f}x | {cpu_ratio:.2f}x |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=0)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("commands", nargs="+", metavar="NAME=COMMAND")
    args = parser.parse_args()
    subprocess.run(["ip", "link", "set", "lo", "up"], capture_output=True, check=False)
    helper = None
    if args.sockets:
        helper, line = start_helper(HOLD_SOCKETS, args.sockets)
        assert line == "ready", line
    try:
        report(run([parse(spec) for spec in args.commands], args.runs))
    finally:
        if helper is not None:
            stop_helper(helper)
    with open("/proc/loadavg") as handle:
        print(f"(load average {' '.join(handle.read().split()[:3])} after)")


if __name__ == "__main__":
    main()
