"""Time the inputs that were quadratic (or worse) at 10 KB, 100 KB and 1 MB, and print the
growth: a linear reader takes about 10x the time for 10x the input.

    python benchmarks/quadratic.py [--sizes 10000,100000,1000000] [--runs 3] [--timeout 300]

Each case is a whole command in its own process (`portplan ...` as a user runs it); the
figures are the median wall time of --runs runs and the peak resident memory (the child's
own ru_maxrss, from wait4). Cases (issue 11, "Quadratic or worse"):

- `env-url`:    `reconcile` of a folder whose `.env` holds one long value (the URL scanner:
                a 40 KB value took 8.5 s before its scheme was anchored);
- `check-mask`: `generate markers --in README.md --check` with one long Markdown line (the
                `--check` masking: a 200 KB line took 46 s);
- `flow-scalar`: `check` of a plan with a long plain scalar in a flow mapping (the regex
                engine kept ~170 bytes a character: 5 MB took 852 MB);
- `port-range`: `import` of a compose file publishing a range of host ports; its size is
                the range's width in ports, 1,000 / 10,000 / 64,512 (`1024-65535:80`, ran
                52 s; `1-65535:1-65535` ran over 300 s), not bytes;
- `dotenv-quoted`: `reconcile` of a `.env` with one long double-quoted value.

A case that runs past --timeout is printed as such (and its growth as unknown).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

BIN = Path(sys.executable).parent
PORTPLAN = str(BIN / "portplan")
PLAN = "services:\n  web:\n    ports:\n      http: 8080\n"


def _env_url(folder: Path, size: int) -> list[str]:
    (folder / "d").mkdir()
    (folder / "d" / ".env").write_text("X=" + "a" * size + "\nWEB_PORT=8080\n")
    return ["reconcile", "d"]


def _check_mask(folder: Path, size: int) -> list[str]:
    (folder / "portplan.yaml").write_text(PLAN)
    (folder / "README.md").write_text(
        "# Ports\n\n" + "a" * size + "\n\n<!-- portplan:begin all -->\n<!-- portplan:end -->\n"
    )
    return ["generate", "markers", "-f", "portplan.yaml", "--in", "README.md", "--check"]


def _flow_scalar(folder: Path, size: int) -> list[str]:
    text = "services: {web: {description: " + "a" * size + ", ports: {http: 8080}}}\n"
    (folder / "portplan.yaml").write_text(text)
    return ["check", "-f", "portplan.yaml"]


def _port_range(folder: Path, size: int) -> list[str]:
    width = {10_000: 1_000, 100_000: 10_000}.get(size, 64_512)
    ports = f"{65536 - width}-65535:80"
    (folder / "c").mkdir()
    (folder / "c" / "compose.yaml").write_text(
        f"services:\n  web:\n    image: nginx\n    ports: ['{ports}']\n"
    )
    return ["import", "c"]


def _dotenv_quoted(folder: Path, size: int) -> list[str]:
    (folder / "d").mkdir()
    (folder / "d" / ".env").write_text('X="' + "a b" * (size // 3) + '"\nWEB_PORT=8080\n')
    return ["reconcile", "d"]


CASES: dict[str, Callable[[Path, int], list[str]]] = {
    "env-url": _env_url,
    "check-mask": _check_mask,
    "flow-scalar": _flow_scalar,
    "port-range": _port_range,
    "dotenv-quoted": _dotenv_quoted,
}


def _once(args: list[str], folder: Path, timeout: float) -> tuple[float, int] | None:
    """(seconds, peak RSS in KiB) of one run, None past `timeout`."""
    start = time.perf_counter()
    child = subprocess.Popen(
        [PORTPLAN, *args], cwd=folder, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = start + timeout
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            child.returncode = os.waitstatus_to_exitcode(status)
            return time.perf_counter() - start, usage.ru_maxrss
        if time.perf_counter() > deadline:
            child.kill()
            child.wait()
            return None
        time.sleep(0.005)


def measure(case: str, size: int, runs: int, timeout: float) -> tuple[float, int] | None:
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        args = CASES[case](folder, size)
        results = []
        for _ in range(runs):
            found = _once(args, folder, timeout)
            if found is None:
                return None
            results.append(found)
    return statistics.median(r[0] for r in results), max(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=300.0)
    parser.add_argument("--cases", default=",".join(CASES))
    options = parser.parse_args()
    sizes = [int(s) for s in options.sizes.split(",")]
    print(f"load average before: {os.getloadavg()[0]:.2f}")
    head = "".join(f"{_label(s):>20}" for s in sizes)
    print(f"{'case':<14}{head}   growth (time per 10x input)")
    for case in options.cases.split(","):
        cells, times = [], []
        for size in sizes:
            found = measure(case, size, options.runs, options.timeout)
            cells.append(f"> {options.timeout:g} s" if found is None else _cell(*found))
            times.append(None if found is None else found[0])
        print(f"{case:<14}" + "".join(f"{c:>20}" for c in cells) + "   " + _growth(times))
    print(f"load average after: {os.getloadavg()[0]:.2f}")


def _label(size: int) -> str:
    return f"{size // 1_000_000} MB" if size >= 1_000_000 else f"{size // 1000} KB"


def _cell(seconds: float, rss: int) -> str:
    return f"{seconds:.2f} s {rss // 1024} MB"


def _growth(times: list[float | None]) -> str:
    ratios = [
        "?" if a is None or b is None else f"x{b / a:.1f}" for a, b in itertools.pairwise(times)
    ]
    return ", ".join(ratios)


if __name__ == "__main__":
    main()
