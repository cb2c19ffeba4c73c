"""Prometheus text: requests and latencies (counted by an ASGI middleware), leases and the
database pool (read at scrape time)."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import defaultdict
from typing import Any

from sqlalchemy import Engine, func, select

from portplan.server.schema import leases

BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, float("inf"))
Scope = dict[str, Any]
log = logging.getLogger("portplan.server")


class Metrics:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests: dict[tuple[str, str, int], int] = defaultdict(int)
        self.buckets = [0] * len(BUCKETS)
        self.seconds = 0.0
        self.count = 0

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        with self._lock:
            self.requests[(method, route, status)] += 1
            self.seconds += seconds
            self.count += 1
            for i, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    self.buckets[i] += 1

    def text(self, engine: Engine) -> str:
        lines = ["# TYPE portplan_requests_total counter"]
        with self._lock:
            for (method, route, status), n in sorted(self.requests.items()):
                labels = f'method="{method}",route="{route}",status="{status}"'
                lines.append(f"portplan_requests_total{{{labels}}} {n}")
            lines.append("# TYPE portplan_request_seconds histogram")
            for bound, n in zip(BUCKETS, self.buckets, strict=True):
                le = "+Inf" if bound == float("inf") else repr(bound)
                lines.append(f'portplan_request_seconds_bucket{{le="{le}"}} {n}')
            lines.append(f"portplan_request_seconds_sum {self.seconds}")
            lines.append(f"portplan_request_seconds_count {self.count}")
        lines += _lease_lines(engine) + _pool_lines(engine)
        return "\n".join(lines) + "\n"


def _lease_lines(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(select(leases.c.state, func.count()).group_by(leases.c.state)).all()
    counts = {str(state): int(n) for state, n in rows}
    lines = ["# TYPE portplan_leases gauge"]
    for state in ("live", "released", "expired"):
        lines.append(f'portplan_leases{{state="{state}"}} {counts.get(state, 0)}')
    return lines


def _pool_lines(engine: Engine) -> list[str]:
    pool: Any = engine.pool
    lines = ["# TYPE portplan_db_pool_checked_out gauge"]
    checked = pool.checkedout() if hasattr(pool, "checkedout") else 0
    lines.append(f"portplan_db_pool_checked_out {checked}")
    if hasattr(pool, "size"):
        lines += ["# TYPE portplan_db_pool_size gauge", f"portplan_db_pool_size {pool.size()}"]
    return lines


class MetricsMiddleware:
    """Counts every HTTP request by method, route template and status, and logs it as one
    JSON line (never a header: the token stays out of the logs)."""

    def __init__(self, app: Any, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            elapsed = time.perf_counter() - started
            self.metrics.observe(scope["method"], route, status, elapsed)
            record = {"method": scope["method"], "route": route, "status": status}
            log.info(json.dumps({**record, "ms": round(elapsed * 1000, 2)}))
