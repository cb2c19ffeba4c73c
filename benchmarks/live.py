"""Time the live-machine commands as whole processes, side by side with their peers.

    python benchmarks/live.py [--sockets 2000,5000] [--endpoints 2000] [--runs 30]

1. Listing: for each count of --sockets, a helper process opens that many extra listening
   TCP sockets on 127.0.0.1; then
   `ss -ltnpH`, `lsof -nP -iTCP -sTCP:LISTEN`, a Python + psutil listing (pid, name and
   command line per socket, as `portplan ports` shows), `portplan ports`,
   `portplan ports --json` and `portplan ports --format json` are timed.
2. Status: a helper process serves --endpoints tiny HTTP health endpoints on loopback
   (one listening socket each); `portplan status -f <generated portplan.yaml>` probes them
   all, timed as a whole command, beside `curl --parallel --parallel-max 100` fetching the
   same URLs (the floor: one HTTP request each, nothing checked). `status` runs twice:
   warm (the plan from the plan cache, which the warm-up rounds fill; the cache lives in
   the benchmark's temporary folder) and cold (`--no-cache`: the plan read afresh).

Runs are interleaved: each round runs every command once (in an order rotated from round
to round), so that other jobs on a shared machine weigh on all commands alike; the tables
give medians over the rounds, and each ratio is the median of the per-round ratios. The
machine's load average is printed before and after, and its busy share during the runs.

The package is byte-compiled first: an installed portplan has its .pyc files, and this
machine sets PYTHONDONTWRITEBYTECODE, which would otherwise recompile every run.
`portplan` is the console script the environment's installer wrote; one written by a pip
older than 25 imports `re` first (6 ms of every run): the benchmark says so when it is.
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
CURL = "curl --parallel --parallel-max 100"
COLD = "portplan status --no-cache"  # the plan read afresh every run, not from the plan cache

# Both helpers listen on ports from 12000 up (the first free ones), below the ephemeral range
# (32768-60999 on Linux) and away from well-known services: thousands of ports taken at
# random would land in ranges that tests and services on a shared machine expect free.
LISTEN = """
import socket
def listening(n, backlog):
    found, port = [], 12000
    while len(found) < n:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            s.close()
        else:
            s.listen(backlog)
            found.append(s)
        port += 1
    return found
"""

HOLD_SOCKETS = (
    LISTEN
    + """
import resource, sys
n = int(sys.argv[1])
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, n + 256), max(hard, n + 256)))
held = listening(n, 16)
print("ready", flush=True)
sys.stdin.read()
"""
)

SERVE_HTTP = (
    LISTEN
    + """
import json, os, resource, select, sys, threading
n = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_NOFILE, (n * 2 + 1024, n * 2 + 1024))
BODY = b'{"status": "ok"}'
ANSWER = (b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: "
          + str(len(BODY)).encode() + b"\\r\\nConnection: close\\r\\n\\r\\n" + BODY)
poll = select.epoll()
servers, open_ = {}, {}
for s in listening(n, 512):
    s.setblocking(False)
    servers[s.fileno()] = s
    poll.register(s.fileno(), select.EPOLLIN)
print(json.dumps([s.getsockname()[1] for s in servers.values()]), flush=True)
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
        server = servers.get(fd)
        accept(server) if server is not None else answer(fd)
"""
)

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


class Timing:
    """Wall, user and system milliseconds of each round of one command."""

    def __init__(self) -> None:
        self.wall: list[float] = []
        self.user: list[float] = []
        self.system: list[float] = []

    def median(self) -> float:
        return statistics.median(self.wall)


def time_commands(commands: dict[str, list[str]], runs: int) -> dict[str, Timing]:
    """Each command run `runs` times, interleaved (after two warm-up rounds)."""
    names = list(commands)
    timings = {name: Timing() for name in names}
    with open(os.devnull, "wb") as sink:
        for round_ in range(runs + 2):
            shift = round_ % len(names)
            for name in names[shift:] + names[:shift]:
                wall, user, system = _run_once(commands[name], sink.fileno())
                if round_ >= 2:
                    timings[name].wall.append(wall)
                    timings[name].user.append(user)
                    timings[name].system.append(system)
    return timings


def _run_once(argv: list[str], sink: int) -> tuple[float, float, float]:
    """One run: wall, user and system ms (posix_spawn and wait4: no shell, no Python
    subprocess machinery in the measured time)."""
    actions = [(os.POSIX_SPAWN_DUP2, sink, 1), (os.POSIX_SPAWN_DUP2, sink, 2)]
    start = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    _, _, usage = os.wait4(pid, 0)
    wall = (time.perf_counter() - start) * 1000
    return wall, usage.ru_utime * 1000, usage.ru_stime * 1000


def script_note() -> str | None:
    """A warning when the console script is one of pip < 25, which imports `re`."""
    with open(PORTPLAN, encoding="utf-8") as handle:
        if "\nimport re\n" not in handle.read():
            return None
    return (
        f"note: {PORTPLAN} imports re (written by pip < 25: 6 ms of every run); set the "
        "environment up as the README's first lines do (pip 26.3) to time what users get"
    )


def listing_commands() -> dict[str, list[str]]:
    commands = {
        "ss -ltnpH": ["ss", "-ltnpH"],
        "lsof -nP -iTCP -sTCP:LISTEN": ["lsof", "-nP", "-iTCP", "-sTCP:LISTEN"],
        "python + psutil": [sys.executable, "-c", PSUTIL_LISTING],
        "portplan ports": [PORTPLAN, "ports"],
        "portplan ports --json": [PORTPLAN, "ports", "--json"],
        "portplan ports --format json": [PORTPLAN, "ports", "--format", "json"],
        "portplan --version (CLI start-up only)": [PORTPLAN, "--version"],
        "python -c pass": [sys.executable, "-c", "pass"],
    }
    return {name: argv for name, argv in commands.items() if shutil.which(argv[0])}


def bench_listing(sockets: int, runs: int) -> dict[str, Timing]:
    helper, line = start_helper(HOLD_SOCKETS, sockets)
    assert line == "ready", line
    try:
        return time_commands(listing_commands(), runs)
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


def bench_status(endpoints: int, runs: int) -> dict[str, Timing]:
    helper, line = start_helper(SERVE_HTTP, endpoints)
    try:
        path = Path("portplan.yaml").resolve()
        path.write_text(registry_text(json.loads(line)))
        check = subprocess.run(
            [PORTPLAN, "status", "-f", str(path)], capture_output=True, text=True
        )
        headline = check.stdout.strip().splitlines()[-1]
        print(f"status check (exit {check.returncode}): {headline}")
        urls = [f"http://127.0.0.1:{port}/health" for port in json.loads(line)]
        status = [PORTPLAN, "status", "-f", str(path)]
        commands = {
            f"portplan status ({endpoints} HTTP checks)": status,
            f"{COLD} ({endpoints} HTTP checks)": [*status, "--no-cache"],
            "portplan status --no-health": [*status, "--no-health"],
            f"{COLD} --no-health": [*status, "--no-health", "--no-cache"],
            CURL: ["curl", "--parallel", "--parallel-max", "100", "-s", *urls],
        }
        return time_commands(commands, max(3, runs // 2))
    finally:
        path.unlink()
        stop_helper(helper)


def ratio(timing: Timing, reference: Timing) -> float:
    """The median of the per-round ratios (rounds are interleaved: same load)."""
    return statistics.median(a / b for a, b in zip(timing.wall, reference.wall, strict=True))


def cpu_ratio(timing: Timing, reference: Timing) -> float:
    """The same of CPU time (user + system): what each costs, whoever else runs; wall
    ratios move with the load of a shared machine, CPU ratios much less."""
    mine = [u + s for u, s in zip(timing.user, timing.system, strict=True)]
    theirs = [u + s for u, s in zip(reference.user, reference.system, strict=True)]
    return statistics.median(a / b for a, b in zip(mine, theirs, strict=True))


def print_table(title: str, results: dict[str, Timing], reference: str | None) -> None:
    print(f"\n{title}")
    header = "| command | median ms | user ms | sys ms |"
    print(f"{header} vs `{reference}` | CPU vs it |" if reference else header)
    print("|---|---|---|---|---|---|" if reference else "|---|---|---|---|")
    for name, timing in results.items():
        cells = [
            f"{timing.median():.1f}",
            f"{statistics.median(timing.user):.1f}",
            f"{statistics.median(timing.system):.1f}",
        ]
        if reference:
            cells.append(f"{ratio(timing, results[reference]):.2f}x")
            cells.append(f"{cpu_ratio(timing, results[reference]):.2f}x")
        print(f"| `{name}` | " + " | ".join(cells) + " |")


def goals(listings: dict[int, dict[str, Timing]], status: dict[str, Timing]) -> list[str]:
    lines = []
    for sockets, listing in listings.items():
        ports, ss = listing.get("portplan ports"), listing.get("ss -ltnpH")
        for name in ("portplan ports", "portplan ports --json", "portplan ports --format json"):
            if name in listing and ss:
                times, cpu = ratio(listing[name], ss), cpu_ratio(listing[name], ss)
                lines.append(
                    f"{name}, {sockets} sockets, within 1.3x of ss: {times:.2f}x -> "
                    f"{_ok(times <= 1.3)} (CPU {cpu:.2f}x)"
                )
        for peer in ("python + psutil", "lsof -nP -iTCP -sTCP:LISTEN"):
            if ports and peer in listing:
                times = ratio(ports, listing[peer])
                lines.append(
                    f"faster than {peer}, {sockets} sockets: {times:.2f}x of it -> {_ok(times < 1)}"
                )
    for name, probe in status.items():
        if "HTTP checks" in name and CURL in status:
            times, cpu = ratio(probe, status[CURL]), cpu_ratio(probe, status[CURL])
            which = "cold: plan read afresh" if COLD in name else "warm: plan from the cache"
            lines.append(
                f"status ({which}) within 1.3x of {CURL}: {times:.2f}x -> {_ok(times <= 1.3)} "
                f"(CPU {cpu:.2f}x)"
            )
    return lines


def _ok(flag: bool) -> str:
    return "met" if flag else "MISSED"


class Load:
    """The machine's load while a block runs: load averages, and the share of CPU time
    spent busy (this benchmark's own work included)."""

    def __enter__(self) -> Load:
        self.before = _loadavg()
        self._stat = _cpu_times()
        return self

    def __exit__(self, *_: object) -> None:
        busy, total = (b - a for a, b in zip(self._stat, _cpu_times(), strict=True))
        self.after = _loadavg()
        self.busy = busy / total if total else 0.0

    def __str__(self) -> str:
        return (
            f"load average {self.before} before, {self.after} after; "
            f"CPUs busy {self.busy:.0%} of the time (this benchmark included)"
        )


def _loadavg() -> str:
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def _cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs since boot."""
    with open("/proc/stat") as handle:
        fields = [int(f) for f in handle.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", default="2000,5000")
    parser.add_argument("--endpoints", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "src" / "portplan")], check=True
    )
    listings: dict[int, dict[str, Timing]] = {}
    loads: dict[int, Load] = {}
    with tempfile.TemporaryDirectory() as cwd:  # no portplan.yaml here: `ports` reads none
        os.chdir(cwd)
        os.environ["XDG_CACHE_HOME"] = os.path.join(cwd, "cache")  # the plan cache: not yours
        os.environ.pop("PORTPLAN_NO_CACHE", None)
        for sockets in (int(n) for n in args.sockets.split(",")):
            with Load() as loads[sockets]:
                listings[sockets] = bench_listing(sockets, args.runs)
        with Load() as status_load:
            status = bench_status(args.endpoints, args.runs)
        os.chdir(ROOT)
    for sockets, listing in listings.items():
        title = f"Listing listening sockets, {sockets} extra, {args.runs} interleaved rounds"
        print_table(title, listing, "ss -ltnpH")
        print(f"({loads[sockets]})")
    title = f"Status, {args.endpoints} HTTP health endpoints on loopback"
    print_table(f"{title}, {max(3, args.runs // 2)} interleaved rounds", status, CURL)
    print(f"({status_load})")
    print("\nGoals:\n" + "\n".join(f"- {line}" for line in goals(listings, status)))
    print(f"\n(cores: {os.cpu_count()}, python {sys.version.split()[0]})")
    note = script_note()
    if note:
        print(note)


if __name__ == "__main__":
    main()
