"""A FIXTURE, not a DelTran service: a stand-in that `portplan up` runs for every service
of this plan (see `defaults.run` at the end of portplan.yaml), so the stack can be
started, checked and stopped on any machine.

It listens on each port the runner hands it (PORTPLAN_PORTS, `http=8081 grpc=50051`) and
answers every HTTP request: `/health` with the JSON the plan's health check expects of
the service, anything else with a small JSON document. Standard library only.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# The `expect:` of each service's health check in portplan.yaml (others answer "ok").
HEALTHY = {"token-engine", "reporting-engine", "notification-engine"}
SERVICE = os.environ.get("PORTPLAN_SERVICE", "demo")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the http.server name
        if self.path == "/health":
            body = {"status": "healthy" if SERVICE in HEALTHY else "ok"}
        else:
            body = {"service": SERVICE, "path": self.path}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        return


def main() -> None:
    ports = [item.split("=", 1) for item in os.environ.get("PORTPLAN_PORTS", "").split()]
    servers = [ThreadingHTTPServer(("127.0.0.1", int(number)), Handler) for _, number in ports]
    for (name, number), server in zip(ports, servers, strict=True):
        threading.Thread(target=server.serve_forever, daemon=True).start()
        print(f"{SERVICE} (demo fixture): {name} on 127.0.0.1:{number}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
