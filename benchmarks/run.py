"""Time `portplan up` against the critical path of a stack, and against `honcho start`.

    python benchmarks/run.py [--runs 5] [--delay 0.2]

1. Critical path: a 20-service stack in 5 levels of 4 (each service depends on every
   service of the level below); each service binds its port --delay seconds after it
   starts (its start time read from /proc). `portplan up --detach` returns once every
   service is ready, so its wall time is compared with the critical path, 5 x delay, plus
   the 300 ms the issue allows. The
   time the supervisor itself saw (first start to last ready, from the state file) is
   shown too, and the start-up of one service process (`python3 -c pass`).
2. Start-up: 20 independent services that bind a port at once. From the launch of the
   command until all 20 ports accept a connection (polled from here every 5 ms):
   `portplan up` (foreground), `portplan up --detach` and `honcho start` on the
   equivalent Procfile (honcho from PyPI,
   installed in this benchmark's own virtual environment under $TMPDIR).

Each figure is the median over --runs rounds; the commands of a round alternate.

portplan's modules are compiled to bytecode first, as an installed package has them (pip
compiles them; honcho's and click's are): an editable checkout run with
PYTHONDONTWRITEBYTECODE set never gets any, and every command would compile some fifty
modules again (~150 ms of CPU). --no-compile measures that case.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
PORTPLAN = str(BIN / "portplan")
HONCHO_VENV = Path(tempfile.gettempdir()) / "portplan-bench-honcho"
HONCHO_VERSION = "2.0.0"
SERVICE = (
    "import os,socket,sys,time\n"
    "# ready --delay after the process started (its start time from /proc, 10 ms ticks)\n"
    "ticks = int(open('/proc/self/stat').read().rsplit(')', 1)[1].split()[19])\n"
    "started = ticks / os.sysconf('SC_CLK_TCK')\n"
    "now = time.clock_gettime(time.CLOCK_BOOTTIME)\n"
    "time.sleep(max(0.0, float(sys.argv[2]) - (now - started)))\n"
    "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen()\n"
    "while True: s.accept()[0].close()\n"
)


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    for sock in sockets:
        sock.bind(("127.0.0.1", 0))
    ports = [int(sock.getsockname()[1]) for sock in sockets]
    for sock in sockets:
        sock.close()
    return ports


def plan_text(ports: list[int], levels: int, delay: float, script: Path) -> str:
    per_level = len(ports) // levels
    lines = ["services:"]
    for index, port in enumerate(ports):
        level = index // per_level
        below = (
            [f"s{j}" for j in range((level - 1) * per_level, level * per_level)] if level else []
        )
        command = json.dumps([sys.executable, str(script), str(port), str(delay)])
        lines += [
            f"  s{index}:",
            f"    ports: {{main: {port}}}",
            *([f"    depends_on: [{', '.join(below)}]"] if below else []),
            f"    run: {{command: {command}, stop: {{grace: 1s}}, ready: {{interval: 20ms}}}}",
        ]
    return "\n".join(lines) + "\n"


def all_listen(ports: list[int]) -> bool:
    for port in ports:
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex(("127.0.0.1", port)) != 0:
                return False
    return True


def run_up(plan: Path, env: dict[str, str], ports: list[int]) -> tuple[float, float, float]:
    """(seconds until up -d returned, until all ports listened, supervisor's own view)."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [PORTPLAN, "up", "-f", str(plan), "-d"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    listened = None
    while child.poll() is None:
        if listened is None and all_listen(ports):
            listened = time.perf_counter() - started
        time.sleep(0.005)
    returned = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(
            f"portplan up failed: {child.stderr.read().decode() if child.stderr else ''}"
        )
    if listened is None:
        listened = returned
    ps = subprocess.run(
        [PORTPLAN, "ps", "-f", str(plan), "--format", "json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    units = json.loads(ps.stdout)["services"].values()
    inside = max(u["ready_at"] for u in units) - min(u["started_at"] for u in units)
    subprocess.run(
        [PORTPLAN, "down", "-f", str(plan)], env=env, check=True, stdout=subprocess.DEVNULL
    )
    return returned, listened, inside


def run_up_foreground(plan: Path, env: dict[str, str], ports: list[int]) -> float:
    """Seconds from `portplan up` (foreground, as `honcho start` runs) until all listen."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [PORTPLAN, "up", "-f", str(plan)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while not all_listen(ports):
        if child.poll() is not None:
            raise SystemExit("portplan up ended early")
        time.sleep(0.005)
    took = time.perf_counter() - started
    child.send_signal(signal.SIGINT)
    child.wait(30)
    return took


def honcho() -> str:
    binary = HONCHO_VENV / "bin" / "honcho"
    if not binary.exists():
        subprocess.run([sys.executable, "-m", "venv", str(HONCHO_VENV)], check=True)
        subprocess.run(
            [str(HONCHO_VENV / "bin" / "pip"), "install", "-q", f"honcho=={HONCHO_VERSION}"],
            check=True,
        )
    return str(binary)


def run_honcho(binary: str, folder: Path, ports: list[int]) -> float:
    started = time.perf_counter()
    child = subprocess.Popen(
        [binary, "start"],
        cwd=folder,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    while not all_listen(ports):
        if child.poll() is not None:
            raise SystemExit("honcho start ended early")
        time.sleep(0.005)
    took = time.perf_counter() - started
    os.killpg(child.pid, signal.SIGINT)
    try:
        child.wait(10)
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()
    deadline = time.monotonic() + 10
    while held := [p for p in ports if all_listen([p])]:  # bounded: another may take one
        if time.monotonic() > deadline:
            raise SystemExit(f"ports still held 10 s after honcho stopped: {held}")
        time.sleep(0.01)
    return took


def python_startup() -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return time.perf_counter() - started


def compile_portplan() -> None:
    """Bytecode for every module of the portplan that runs here (an installed package's)."""
    import compileall

    import portplan

    compileall.compile_dir(str(Path(portplan.__file__).parent), quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--delay", type=float, default=0.2)
    parser.add_argument("--no-compile", action="store_true", help="no bytecode for portplan")
    args = parser.parse_args()
    if not args.no_compile:
        compile_portplan()
    work = Path(tempfile.mkdtemp(prefix="portplan-bench-run-"))
    env = {**os.environ, "PORTPLAN_STATE_DIR": str(work / "state")}
    script = work / "service.py"
    script.write_text(SERVICE)

    ports = free_ports(20)
    layered = work / "layered" / "portplan.yaml"
    layered.parent.mkdir()
    layered.write_text(plan_text(ports, 5, args.delay, script))
    flat = work / "flat" / "portplan.yaml"
    flat.parent.mkdir()
    flat.write_text(plan_text(ports, 1, 0.0, script))
    procfile = work / "flat" / "Procfile"
    procfile.write_text(
        "".join(f"s{i}: {sys.executable} {script} {port} 0\n" for i, port in enumerate(ports))
    )
    binary = honcho()

    layered_runs, flat_runs, honcho_runs, foreground_runs = [], [], [], []
    for _ in range(args.runs):
        layered_runs.append(run_up(layered, env, ports))
        flat_runs.append(run_up(flat, env, ports))
        foreground_runs.append(run_up_foreground(flat, env, ports))
        honcho_runs.append(run_honcho(binary, flat.parent, ports))

    def med(values: list[float]) -> float:
        return statistics.median(values) * 1000

    budget = 5 * args.delay * 1000 + 300
    load = " ".join(f"{n:.1f}" for n in os.getloadavg())
    bytecode = "no bytecode" if args.no_compile else "bytecode compiled"
    print(f"python3 -c pass: {python_startup() * 1000:.0f} ms; runs: {args.runs}; {bytecode}")
    print(f"load average {load} ({os.cpu_count()} cores)")
    print("\n20 services, 5 levels, each ready %.0f ms after it starts" % (args.delay * 1000))
    print(f"  portplan up -d, until it returns:   {med([r[0] for r in layered_runs]):7.0f} ms")
    print(f"  supervisor, first start->last ready: {med([r[2] for r in layered_runs]):6.0f} ms")
    print(f"  critical path 5 x {args.delay * 1000:.0f} ms + 300 ms:     {budget:7.0f} ms")
    print("\n20 independent services binding a port, until all 20 listen")
    up_listen = med([r[1] for r in flat_runs])
    honcho_listen = med(honcho_runs)
    returned = med([r[0] for r in flat_runs])
    print(f"  portplan up -d:            {up_listen:7.0f} ms (returns at {returned:.0f} ms)")
    foreground = med(foreground_runs)
    print(f"  portplan up (foreground):  {foreground:7.0f} ms")
    print(f"  honcho start ({HONCHO_VERSION}):     {honcho_listen:7.0f} ms")
    print(f"  portplan up / honcho start:    {foreground / honcho_listen:7.2f}x")
    print(f"  portplan up -d / honcho start: {up_listen / honcho_listen:7.2f}x")


if __name__ == "__main__":
    main()
