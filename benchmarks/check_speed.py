"""Time `portplan check` as a whole process on generated topologies, beside PyYAML's C loader.

    python benchmarks/check_speed.py [--sizes 30,100,1000,5000,20000] [--runs 5]

Prints one row per size: file size, median wall time of `portplan check` (whole process,
start-up included), of `python -c 'yaml.load(CSafeLoader)'` on the same file, and of
`python -c pass` for reference.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def generate(services: int) -> str:
    """A topology like a real large system: categories, ranges, 2-3 ports each, dependencies."""
    lines = [
        "version: 1",
        f"system: generated-{services}",
        "ranges:",
        "  http: {ports: 10000-14999, kind: http, category: app}",
        "  grpc: {ports: 20000-24999, kind: grpc, category: app}",
        "  metrics: {ports: 30000-31999, kind: metrics, category: app}",
        "reserved:",
        "  - {ports: 9990-9999, reason: future expansion}",
        "zones:",
        "  internal: {exposure: internal}",
        "services:",
    ]
    for i in range(services):
        j = i % 5000  # 5,000 services per host, so every port is unique on its host
        lines += [
            f"  svc-{i}:",
            "    category: app",
            f"    host: host-{i // 5000}",
            "    zone: internal",
            f"    purpose: generated service number {i}",
            "    ports:",
            f"      http: {10000 + j}",
            f"      grpc: {{port: {20000 + j}, env: GRPC_PORT}}",
        ]
        if i % 3 == 0:
            lines.append(f"      metrics: {{port: {30000 + j // 3}, metrics: /metrics}}")
        if i:
            lines.append(f"    depends_on: [svc-{i - 1}]")
    return "\n".join(lines) + "\n"


def median_ms(command: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="30,100,1000,5000,20000")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    python = sys.executable
    baseline = median_ms([python, "-c", "pass"], args.runs)
    print(f"python -c pass: {baseline:.0f} ms")
    print(f"{'services':>8} {'size':>8} {'portplan check':>15} {'CSafeLoader only':>17}")
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            path = Path(tmp) / f"portplan-{size}.yaml"
            path.write_text(generate(size))
            check = median_ms([python, "-m", "portplan", "check", "-f", str(path)], args.runs)
            load = median_ms(
                [
                    python,
                    "-c",
                    "import sys, yaml; yaml.load(open(sys.argv[1]), Loader=yaml.CSafeLoader)",
                    str(path),
                ],
                args.runs,
            )
            kib = path.stat().st_size / 1024
            print(f"{size:>8} {kib:>6.0f}KB {check:>12.0f} ms {load:>14.0f} ms")


if __name__ == "__main__":
    main()
