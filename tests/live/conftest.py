"""Real listeners, child processes, HTTP and gRPC servers for the live-machine tests."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent import futures
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

# A child that binds a port (0 = any), prints it, and waits; argv[2:] only label it.
HOLDER = """
import socket, sys, time, signal
if sys.argv[1] == "ignore-term":
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 0))
s.listen(8)
print(s.getsockname()[1], flush=True)
time.sleep(600)
"""

NOBODY = 65534
SYSTEM_PYTHON = "/usr/bin/python3"


@dataclass
class Child:
    process: subprocess.Popen[str]
    port: int

    @property
    def pid(self) -> int:
        return self.process.pid


def start_holder(*labels: str, mode: str = "plain", prefix: tuple[str, ...] = ()) -> Child:
    """A real child process holding a TCP port on 127.0.0.1."""
    python = SYSTEM_PYTHON if prefix else sys.executable
    command = [*prefix, python, "-I", "-c", HOLDER, mode, *labels]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.strip().isdigit(), f"holder did not start: {line!r}"
    return Child(process, int(line))


def stop_child(child: Child) -> None:
    if child.process.poll() is None:
        child.process.kill()
    child.process.wait(timeout=10)


def can_run_as_nobody() -> bool:
    return (
        os.getuid() == 0
        and shutil.which("setpriv") is not None
        and os.access(SYSTEM_PYTHON, os.X_OK)
        and sys.platform.startswith("linux")
    )


AS_NOBODY = (
    "setpriv",
    f"--reuid={NOBODY}",
    f"--regid={NOBODY}",
    "--clear-groups",
)

needs_nobody = pytest.mark.skipif(
    not can_run_as_nobody(), reason="needs root, setpriv and /usr/bin/python3"
)


@pytest.fixture
def holder() -> Iterator[Child]:
    child = start_holder("portplan-test-holder")
    yield child
    stop_child(child)


@pytest.fixture
def listeners4() -> Iterator[dict[str, socket.socket]]:
    """A TCP and a UDP socket on 127.0.0.1 and on ::1, each on a port the kernel picks."""
    opened: dict[str, socket.socket] = {}
    specs = {
        "tcp4": (socket.AF_INET, socket.SOCK_STREAM, "127.0.0.1"),
        "udp4": (socket.AF_INET, socket.SOCK_DGRAM, "127.0.0.1"),
        "tcp6": (socket.AF_INET6, socket.SOCK_STREAM, "::1"),
        "udp6": (socket.AF_INET6, socket.SOCK_DGRAM, "::1"),
    }
    for name, (family, kind, address) in specs.items():
        sock = socket.socket(family, kind)
        sock.bind((address, 0))
        if kind == socket.SOCK_STREAM:
            sock.listen(8)
        opened[name] = sock
    yield opened
    for sock in opened.values():
        sock.close()


def port_of(sock: socket.socket) -> int:
    port: int = sock.getsockname()[1]
    return port


def free_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return port_of(sock)


# ---------------------------------------------------------------------------
# HTTP

SLOW_SECONDS = 0.5
# A health body that tells more than it should (QA3 #1): none of it but the expected
# keys' values may ever be shown, and secret-looking values not even those.
PLANTED_TOKEN = "tok_live_abcdef123456"
PLANTED_PASSWORD = "hunter2pw"
LEAKY_BODY = {
    "status": "degraded",
    "api_token": PLANTED_TOKEN,
    "database_url": f"postgresql://u:{PLANTED_PASSWORD}@db/x",
    "checks": {"db": "down", "cache": {"password": PLANTED_PASSWORD}},
    "version": "x" * 100,
}


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        route = ROUTES.get(self.path)
        if route is None:
            self._send(404, {"error": "not found"})
            return
        route(self)

    def _send(self, status: int, body: Any, raw: bytes | None = None) -> None:
        data = raw if raw is not None else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _chunked(self) -> None:
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in (b'{"status": ', b'"ok", "checks": {"db": "up"}}'):
            self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def _slow(self) -> None:
        time.sleep(SLOW_SECONDS)
        self._send(200, {"status": "ok"})

    def log_message(self, format: str, *args: Any) -> None:
        return None


ROUTES: dict[str, Any] = {
    "/ok": lambda h: h._send(200, {"status": "ok", "version": "1.2"}),
    "/healthy": lambda h: h._send(200, {"status": "healthy"}),
    "/fail": lambda h: h._send(500, {"status": "down"}),
    "/text": lambda h: h._send(200, None, raw=b"OK"),
    "/text-secret": lambda h: h._send(200, None, raw=b"token=" + PLANTED_TOKEN.encode()),
    "/leaky": lambda h: h._send(200, LEAKY_BODY),
    "/created": lambda h: h._send(201, {"status": "ok"}),
    "/chunked": lambda h: h._chunked(),
    "/slow": lambda h: h._slow(),
}


@dataclass
class HttpServer:
    host: str
    port: int


def _serve_http(address: str, family: int) -> tuple[ThreadingHTTPServer, threading.Thread]:
    attributes = {"address_family": family, "request_queue_size": 256}
    server_class = type("Server", (ThreadingHTTPServer,), attributes)
    server = server_class((address, 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(scope="session")
def http_server() -> Iterator[HttpServer]:
    server, _ = _serve_http("127.0.0.1", socket.AF_INET)
    yield HttpServer("127.0.0.1", server.server_address[1])
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def http_server6() -> Iterator[HttpServer]:
    server, _ = _serve_http("::1", socket.AF_INET6)
    yield HttpServer("::1", server.server_address[1])
    server.shutdown()
    server.server_close()


# ---------------------------------------------------------------------------
# gRPC


@dataclass
class GrpcServer:
    port: int
    health: Any  # grpc_health.v1.health.HealthServicer


@pytest.fixture(scope="session")
def grpc_server() -> Iterator[GrpcServer]:
    grpc = pytest.importorskip("grpc")
    health_mod = pytest.importorskip("grpc_health.v1.health")
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    servicer = health_mod.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    servicer.set("ledger", health_pb2.HealthCheckResponse.SERVING)
    servicer.set("settlement", health_pb2.HealthCheckResponse.NOT_SERVING)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield GrpcServer(port, servicer)
    server.stop(grace=None)


@pytest.fixture
def nobody_holder() -> Iterator[Child]:
    """A child holding a port as user nobody (another user than the test's)."""
    child = start_holder("portplan-test-nobody", prefix=AS_NOBODY)
    yield child
    stop_child(child)
