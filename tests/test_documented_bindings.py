"""A document's binding is an exposure statement (PP206): `docker ps` rows in a README
showing `127.0.0.1:9200->9200/tcp` while compose publishes `9200:9200` on all interfaces.
A URL such as `http://127.0.0.1:8080` says nothing of the interfaces. Rows a README
re-indented (not under the header's columns) are still read."""

from __future__ import annotations

from pathlib import Path

from portplan.reconcile.core import reconcile_paths
from portplan.sources.markdown import parse_markdown

BINDINGS = Path(__file__).resolve().parent / "resources" / "bindings"


def test_loopback_bindings_in_docker_ps_hold_compose_to_loopback() -> None:
    findings = reconcile_paths([BINDINGS]).findings
    assert [
        (f.rule, f.locations[0].line, [str(at).rsplit("/", 1)[-1] for at in f.locations], f.message)
        for f in findings
    ] == [
        (
            "PP206", 5, ["compose.yaml:5:10", "README.md:7:105"],
            "search publishes port 9200 on all interfaces, but README.md:7 shows it bound to "
            "loopback only",
        ),
        (
            "PP206", 6, ["compose.yaml:6:10", "README.md:7:131"],
            "search publishes port 9300 on all interfaces, but README.md:7 shows it bound to "
            "loopback only",
        ),
        (
            "PP206", 10, ["compose.yaml:10:10", "README.md:8:105"],
            "dashboards publishes port 5601 on all interfaces, but README.md:8 shows it bound "
            "to loopback only",
        ),
    ]  # fmt: skip


def test_a_row_off_the_header_columns_is_split_on_wide_gaps() -> None:
    found = parse_markdown((BINDINGS / "README.md").read_text(), "README.md")
    rows = [(p.service, p.number, p.address, p.target) for p in found.ports if p.location.line == 9]
    assert rows == [
        ("stack-proxy-1", 8080, "0.0.0.0", 80),  # the backticks around the name dropped
        ("stack-proxy-1", 8080, "::", 80),
    ]
