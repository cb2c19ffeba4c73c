"""The etcd side of the lease benchmark (benchmarks/etcd_leases.py) still works: a real
etcd, a few clients for a moment, every acknowledged port stored once, none doubled."""

from __future__ import annotations

from pathlib import Path

import httpx
from benchmarks.etcd_leases import FIRST, Etcd, allocate, held, run, take


def test_the_etcd_workload_hands_out_each_port_once(tmp_path: Path) -> None:
    server = Etcd(tmp_path / "etcd")
    server.start()
    try:
        with httpx.Client(timeout=30) as http:
            # the transaction creates a key once: a second take of the same port loses
            assert take(http, server.url, FIRST, {"holder": "a"}) is True
            assert take(http, server.url, FIRST, {"holder": "b"}) is False
            assert allocate(http, server.url, "c") == (FIRST + 1, 0)
            assert allocate(http, server.url, "d", spread=2) == (FIRST + 4, 0)
        result = run(server.url, clients=4, seconds=1.0)
        with httpx.Client(timeout=30) as http:
            stored = held(http, server.url)
    finally:
        server.stop()
    assert result.ports, "no lease in a second"
    assert result.duplicates() == 0
    assert stored == {FIRST, FIRST + 1, FIRST + 4, *result.ports}
    assert len(stored) == 3 + len(result.ports)
