"""Time the live-machine commands as whole processes, side by side with their peers.

    python benchmarks/live.py [--sockets 5000] [--endpoints 2000] [--runs 20]

1. Listing: a helper process opens --sockets extra listening TCP sockets on 127.0.0.1; then
   `ss -ltnpH`, `lsof -nP -iTCP -sTCP:LISTEN`, a Python + psutil listing (pid, name and
   command line per socket, as `portplan ports` shows), `portplan ports` and
   `portplan ports --json` are timed in one hyperfine run (`-N`, medians), or by repeated
   subprocess timing when hyperfine is not installed.
2. Status: a helper process serves --endpoints tiny HTTP health endpoints on loopback
   (asyncio, one listening socket each); `portplan status -f <generated portplan.yaml>`
   probes them all, timed as a whole command.

The package is byte-compiled first: an installed portplan has its .pyc files, and this
machine sets PYTHONDONTWRITEBYTECODE, which would otherwise recompile every run.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
PORTPLAN = str(BIN / "portplan")

HOLD_SOCKETS = """
import resource, socket, sys
n = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, n + 256), max(hard, n + 256)))
held = []
for _ in range(n):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(16)
    held.append(s)
print("ready", flush=True)
sys.stdin.read()
"""

SERVE_HTTP = """
import json, os, resource, select, socket, sys, threading
n = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_NOFILE, (n * 2 + 1024, n * 2 + 1024))
BODY = b'{"status": "ok"}'
ANSWER = (b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: "
          + str(len(BODY)).encode() + b"\\r\\nConnection: close\\r\\n\\r\\n" + BODY)
poll = select.epoll()
listening, open_ = {}, {}
for _ in range(n):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(512)
    s.setblocking(False)
    listening[s.fileno()] = s
    poll.register(s.fileno(), select.EPOLLIN)
print(json.dumps([s.getsockname()[1] for s in listening.values()]), flush=True)
threading.Thread(target=lambda: (sys.stdin.read(), os._exit(0)), daemon=True).start()

def accept(server):
    while True:
        try:
            conn, _ = server.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        open_[conn.fileno()] = conn
        poll.register(conn.fileno(), select.EPOLLIN)

def answer(fd):
    conn = open_.pop(fd)
    poll.unregister(fd)
    try:
        if conn.recv(65536):
            conn.send(ANSWER)
    except OSError:
        pass
    conn.close()

while True:
    try:
        events = poll.poll()
    except (OSError, ValueError):
        break
    for fd, _ in events:
        server = listening.get(fd)
        accept(server) if server is not None else answer(fd)
"""

PSUTIL_LISTING = (
    "import psutil\n"
    "seen = {}\n"
    "for c in psutil.net_connections('tcp'):\n"
    "    if c.status != 'LISTEN': continue\n"
    "    if c.pid is not None and c.pid not in seen:\n"
    "        p = psutil.Process(c.pid); seen[c.pid] = (p.name(), ' '.join(p.cmdline()))\n"
    "    print(c.laddr.ip, c.laddr.port, c.pid, *seen.get(c.pid, ('?', '?')))\n"
)


def start_helper(script: str, argument: int) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-c", script, str(argument)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def stop_helper(process: subprocess.Popen[str]) -> None:
    assert process.stdin is not None
    process.stdin.close()
    process.wait(timeout=30)


def time_commands(commands: dict[str, list[str]], runs: int, cwd: str) -> dict[str, float]:
    """Median wall time (ms) of each command, side by side in one run."""
    if shutil.which("hyperfine"):
        return _hyperfine(commands, runs, cwd)
    return {name: _median_ms(command, runs, cwd) for name, command in commands.items()}


def _hyperfine(commands: dict[str, list[str]], runs: int, cwd: str) -> dict[str, float]:
    export = Path(cwd) / "hyperfine.json"
    names = list(commands)
    argv = ["hyperfine", "-N", "-w", "3", "-r", str(runs), "-i", "--export-json", str(export)]
    for name in names:
        argv += ["-n", name, " ".join(_quote(part) for part in commands[name])]
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    results = json.loads(export.read_text())["results"]
    return {name: result["median"] * 1000 for name, result in zip(names, results, strict=True)}


def _quote(part: str) -> str:
    import shlex

    return shlex.quote(part)


def _median_ms(command: list[str], runs: int, cwd: str) -> float:
    times = []
    for _ in range(runs + 2):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times[2:])


def listing_commands() -> dict[str, list[str]]:
    commands = {
        "ss -ltnpH": ["ss", "-ltnpH"],
        "lsof -nP -iTCP -sTCP:LISTEN": ["lsof", "-nP", "-iTCP", "-sTCP:LISTEN"],
        "python + psutil": [sys.executable, "-c", PSUTIL_LISTING],
        "portplan ports": [PORTPLAN, "ports"],
        "portplan ports --json": [PORTPLAN, "ports", "--json"],
        "portplan --version (CLI start-up only)": [PORTPLAN, "--version"],
        "python -c pass": [sys.executable, "-c", "pass"],
    }
    return {name: argv for name, argv in commands.items() if shutil.which(argv[0])}


def bench_listing(sockets: int, runs: int, cwd: str) -> dict[str, float]:
    helper, line = start_helper(HOLD_SOCKETS, sockets)
    assert line == "ready", line
    try:
        return time_commands(listing_commands(), runs, cwd)
    finally:
        stop_helper(helper)


def registry_text(ports: list[int]) -> str:
    lines = ["system: bench", "services:"]
    for i, port in enumerate(ports):
        lines += [
            f"  svc-{i}:",
            "    ports:",
            f"      http: {{port: {port}, health: {{path: /health, expect: {{status: ok}}}}}}",
        ]
    return "\n".join(lines) + "\n"


def bench_status(endpoints: int, runs: int, cwd: str) -> dict[str, float]:
    helper, line = start_helper(SERVE_HTTP, endpoints)
    try:
        path = Path(cwd) / "portplan.yaml"
        path.write_text(registry_text(json.loads(line)))
        check = subprocess.run(
            [PORTPLAN, "status", "-f", str(path)], capture_output=True, text=True
        )
        headline = check.stdout.strip().splitlines()[-1]
        print(f"status check (exit {check.returncode}): {headline}")
        commands = {
            f"portplan status ({endpoints} HTTP checks)": [PORTPLAN, "status", "-f", str(path)],
            "portplan status --no-health": [PORTPLAN, "status", "-f", str(path), "--no-health"],
        }
        return time_commands(commands, max(3, runs // 2), cwd)
    finally:
        stop_helper(helper)


def print_table(title: str, results: dict[str, float], reference: str | None) -> None:
    print(f"\n{title}")
    print(f"| command | median ms | vs {reference} |" if reference else "| command | median ms |")
    print("|---|---|---|" if reference else "|---|---|")
    for name, ms in results.items():
        ratio = f" {ms / results[reference]:.2f}x |" if reference else ""
        print(f"| `{name}` | {ms:.1f} |{ratio}")


def goals(listing: dict[str, float], status: dict[str, float]) -> list[str]:
    ports, ss = listing.get("portplan ports"), listing.get("ss -ltnpH")
    lines = []
    if ports and ss:
        lines.append(
            f"portplan ports within 1.5x of ss: {ports / ss:.2f}x -> {_ok(ports <= 1.5 * ss)}"
        )
    for peer in ("python + psutil", "lsof -nP -iTCP -sTCP:LISTEN"):
        if ports and peer in listing:
            lines.append(f"faster than {peer}: {_ok(ports < listing[peer])}")
    probe = next((ms for name, ms in status.items() if "HTTP checks" in name), None)
    if probe is not None:
        lines.append(f"status under 1 s: {probe:.0f} ms -> {_ok(probe < 1000)}")
    return lines


def _ok(flag: bool) -> str:
    return "met" if flag else "MISSED"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=5000)
    parser.add_argument("--endpoints", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "portplan")], check=True
    )
    with tempfile.TemporaryDirectory() as cwd:  # no portplan.yaml here: `ports` reads none
        listing = bench_listing(args.sockets, args.runs, cwd)
        status = bench_status(args.endpoints, args.runs, cwd)
    print_table(f"Listing listening sockets, {args.sockets} extra", listing, "ss -ltnpH")
    print_table(f"Status, {args.endpoints} HTTP health endpoints on loopback", status, None)
    print("\nGoals:\n" + "\n".join(f"- {line}" for line in goals(listing, status)))
    tools = f"hyperfine: {'yes' if shutil.which('hyperfine') else 'no'}"
    print(f"\n(cores: {os.cpu_count()}, python {sys.version.split()[0]}, {tools})")


if __name__ == "__main__":
    main()
