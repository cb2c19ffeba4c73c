"""Benchmark: `portplan reconcile` on 200 compose files (5,000 services) vs dclint.

Plants five cases in file 0 (exact duplicate, all interfaces vs 127.0.0.1, a port inside a
published range, long vs short syntax, and the 127.0.0.1 vs 127.0.0.2 non-conflict), writes
the same services into single files of 100 and 5,000 services for dclint, and times every
command as a whole process. Run: python benchmarks/reconcile.py [--dclint PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FILES, PER_FILE = 200, 25
PLANTED = [  # (service, ports entry) appended to file 0
    ("dup-a", '"41001:80"'),
    ("dup-b", '"41001:80"'),
    ("any-a", '"41002:80"'),
    ("local-b", '"127.0.0.1:41002:80"'),
    ("range-a", '"41010-41020:80"'),
    ("range-b", '"41015:80"'),
    ("long-a", "{target: 80, published: 41030}"),
    ("short-b", '"41030:80"'),
    ("ip1-a", '"127.0.0.1:40040:80"'),
    ("ip2-b", '"127.0.0.2:40040:80"'),
]
EXPECTED = {41001, 41002, 41015, 41030}


def service(index: int) -> tuple[str, str]:
    return f"svc-{index:05d}", f'"{10000 + index}:8080"'


def compose_text(services: list[tuple[str, str]]) -> str:
    lines = ["services:"]
    for name, port in services:
        lines += [
            f"  {name}:",
            f"    image: example/{name}:1.0",
            "    restart: unless-stopped",
            f"    ports: [{port}]",
            "    environment:",
            f"      SERVICE_NAME: {name}",
            "      LOG_LEVEL: info",
        ]
    return "\n".join(lines) + "\n"


def generate(root: Path) -> tuple[Path, Path, Path]:
    tree = root / "tree"
    everything: list[tuple[str, str]] = []
    for f in range(FILES):
        services = [service(f * PER_FILE + i) for i in range(PER_FILE)]
        if f == 0:
            services = services[: PER_FILE - len(PLANTED)] + PLANTED
        everything += services
        directory = tree / f"project-{f:03d}"
        directory.mkdir(parents=True)
        (directory / "compose.yaml").write_text(compose_text(services))
    small, big = root / "small" / "compose.yaml", root / "big" / "compose.yaml"
    for path, services in ((small, everything[:100]), (big, everything)):
        path.parent.mkdir()
        path.write_text(compose_text(services))
    return tree, small, big


def timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    return time.perf_counter() - start, done.stdout + done.stderr


def portplan_found(output: str) -> set[int]:
    report = json.loads(output)
    return {f["port"] for f in report["findings"] if f["rule"] == "PP212"}


def dclint_found(output: str) -> set[int]:
    return {port for port in (*EXPECTED, 40040) if str(port) in output}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--dclint", default=shutil.which("dclint") or "/tmp/dclint/node_modules/.bin/dclint"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tree, small, big = generate(Path(tmp))
        portplan = [sys.executable, "-m", "portplan", "reconcile", "--format", "json"]
        rows = []
        seconds, out = timed([*portplan, str(tree)])
        rows.append(
            ("portplan reconcile, 200 files / 5,000 services", seconds, portplan_found(out))
        )
        for label, path in (("100 services", small), ("5,000 services", big)):
            seconds, out = timed([*portplan, str(path)])
            rows.append((f"portplan reconcile, one file of {label}", seconds, portplan_found(out)))
            if os.path.exists(args.dclint):
                seconds, out = timed([args.dclint, str(path)])
                rows.append((f"dclint, one file of {label}", seconds, dclint_found(out)))
    print(f"{'command':<52} {'seconds':>8}  planted found (false: 40040)")
    for label, seconds, found in rows:
        hits = sorted(found & EXPECTED)
        false = " + 40040 (false)" if 40040 in found else ""
        print(f"{label:<52} {seconds:8.2f}  {len(hits)}/4 {hits}{false}")
    big_rows = {label: s for label, s, _ in rows if "5,000" in label and "one file" in label}
    if len(big_rows) == 2:
        p, d = big_rows.values()
        print(f"ratio dclint / portplan on the 5,000-service file: {d / p:.1f}x")


if __name__ == "__main__":
    main()
