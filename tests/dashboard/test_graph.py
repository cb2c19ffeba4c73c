"""The dependency graph's SVG: the layered layout of our own (layers, order, cycles, health
in words) and Graphviz `dot` when it is installed."""

from __future__ import annotations

import html
import itertools
import re
import shutil

import pytest

from portplan.plan import check, loader
from portplan.server.dashboard.graph_svg import health, layers, listing, svg
from tests.dashboard.plans import SHOP

CYCLE = """\
system: ring
services:
  a: {ports: {http: 8000}, depends_on: [b]}
  b: {ports: {http: 8001}, depends_on: [c]}
  c: {ports: {http: 8002}, depends_on: [a]}
  d: {ports: {http: 8003}}
"""


def test_layers_put_a_service_left_of_what_it_depends_on() -> None:
    pairs = [("gateway", "api"), ("api", "postgres"), ("api", "cache"), ("worker", "postgres")]
    names = ["gateway", "api", "worker", "postgres", "cache"]
    # worker sits beside api, next to the postgres they share; cache above postgres: no crossing
    assert layers(names, pairs) == [["gateway"], ["api", "worker"], ["cache", "postgres"]]


def test_a_cycle_is_laid_out_without_its_closing_edge() -> None:
    assert layers(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("c", "a")]) == [
        ["a"],
        ["b"],
        ["c", "d"],
    ]


def test_a_long_chain_needs_no_recursion() -> None:
    names = [f"s{i}" for i in range(3000)]
    found = layers(names, list(itertools.pairwise(names)))
    assert len(found) == 3000 and found[-1] == ["s2999"]


def test_the_own_layout_draws_nodes_edges_and_health_in_words() -> None:
    topology = loader.load_text(SHOP, "portplan.yaml")
    findings = check.check(topology).findings
    drawn = svg(topology, findings, dot=None)
    assert drawn.startswith('<svg class="graph" xmlns="http://www.w3.org/2000/svg"')
    titles = re.findall(r"<title>([^<]*)</title>", drawn)
    assert titles == [
        "gateway: ▲ 1 warning",
        "api: ✔ ok",
        "worker: ◌ planned",
        "cache: ✔ ok",
        "postgres: ✔ ok",
    ]
    assert drawn.count('<path class="edge"') == 4
    assert 'href="/matrix?system=shop&amp;q=gateway"' in drawn
    assert {s: h.state for s, h in health(topology, findings).items()} == {
        "gateway": "warning",
        "api": "ok",
        "worker": "planned",
        "postgres": "ok",
        "cache": "ok",
    }


def test_a_cycle_edge_goes_around() -> None:
    topology = loader.load_text(CYCLE, "portplan.yaml")
    drawn = svg(topology, check.check(topology).findings, dot=None)
    assert drawn.count('<path class="edge"') == 3
    assert "c: ✖ 1 error" in drawn  # PP106 names the services of the cycle


@pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz is not installed (.ci/run installs it)"
)
def test_dot_draws_the_same_graph_when_installed() -> None:
    topology = loader.load_text(SHOP, "portplan.yaml")
    drawn = html.unescape(svg(topology, check.check(topology).findings))
    assert drawn.startswith('<svg class="graph" role="group" aria-label="dependencies of shop"')
    assert drawn.count('class="edge"') == 4
    assert 'class="node state-warning"' in drawn
    assert "▲ 1 warning" in drawn
    assert 'xlink:href="/matrix?system=shop&q=gateway"' in drawn


def test_the_graph_as_a_list() -> None:
    topology = loader.load_text(SHOP, "portplan.yaml")
    listed = listing(topology, check.check(topology).findings)
    assert [(name, state.text, needs) for name, state, needs in listed] == [
        ("gateway", "▲ 1 warning", ["api"]),
        ("api", "✔ ok", ["postgres", "cache"]),
        ("worker", "◌ planned", ["postgres"]),
        ("postgres", "✔ ok", []),
        ("cache", "✔ ok", []),
    ]
