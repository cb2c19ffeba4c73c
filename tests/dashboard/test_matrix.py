"""The port matrix as a view: bands of used / reserved / leased / free ports per host, the
services by category, and the filters."""

from __future__ import annotations

from portplan.plan import loader
from portplan.server.dashboard.matrix import Filters, build
from tests.dashboard.plans import SHOP

TOPOLOGY = loader.load_text(SHOP, "portplan.yaml")


def _bands(leased: dict[str, dict[tuple[str, int], str]] | None = None) -> dict[str, list[str]]:
    found = build(TOPOLOGY, leased or {}, Filters())
    return {
        f"{h.name}/{b.range}": [s.label for s in b.segments] for h in found.hosts for b in h.bands
    }


def test_bands_per_host() -> None:
    assert _bands() == {
        "app-1/web": [
            "8000–8003 used (4)",
            "8004–8009 free (6)",
            "8010–8011 reserved (2)",
            "8012–8019 free (8)",
        ],
        "db-1/data": ["5400–5401 used (2)", "5402–5409 free (8)"],
    }


def test_a_leased_port_is_drawn_leased_and_named_in_its_row() -> None:
    leased = {"app-1": {("tcp", 8001): "ci-7", ("tcp", 8005): "ci-8", ("udp", 8006): "x"}}
    assert _bands(leased=leased)["app-1/web"][:4] == [
        "8000 used (1)",
        "8001 leased (1)",
        "8002–8003 used (2)",
        "8004 free (1)",
    ]
    found = build(TOPOLOGY, leased, Filters(host="app-1", q="gateway"))
    (block,) = found.hosts
    ((category, (row,)),) = block.categories
    assert (category, row.name) == ("edge", "gateway")
    assert [(p.name, p.number, p.exposure, p.leased_by) for p in row.ports] == [
        ("http", 80, "public", None),
        ("admin", 8001, "public", "ci-7"),
    ]
    assert block.bands[0].counts == {"used": 3, "reserved": 2, "leased": 2, "free": 13}


def test_filters() -> None:
    def names(filters: Filters) -> list[str]:
        found = build(TOPOLOGY, {}, filters)
        return [r.name for h in found.hosts for _, rows in h.categories for r in rows]

    assert names(Filters()) == ["gateway", "worker", "api", "cache", "postgres"]
    assert names(Filters(host="db-1")) == ["cache", "postgres"]
    assert names(Filters(category="web")) == ["api"]
    assert names(Filters(exposure="public")) == ["gateway"]
    assert names(Filters(q="5401")) == ["cache"]
    assert names(Filters(q="METRICS")) == ["worker", "api"]
    assert names(Filters(q="nothing")) == []
    assert build(TOPOLOGY, {}, Filters()).categories == ("data", "edge", "jobs", "web")
