"""Names (issue class 5): a variable, a label or a word in prose is no service by itself.

tests/resources/names holds a compose file (camelCase URL variables given to a browser
app, a bind address, a HOST/PORT pair, a service's own short-named port), two Deployments
that each read APP_PORT, and a README that says "the default (8000)"."""

from __future__ import annotations

from pathlib import Path

from portplan.reconcile.core import build_view, reconcile_paths
from portplan.sources import scan
from portplan.sources.markdown import parse_markdown

NAMES = Path(__file__).resolve().parent / "resources" / "names"


def test_variables_name_the_services_they_reach_or_their_owner() -> None:
    view = build_view(scan([NAMES]), None)
    rows = sorted(
        (view.names.show(p.key), p.obs.number, p.obs.variable or "", p.obs.reference)
        for p in view.ports
    )
    assert rows == [
        ("adder", 6000, "APP_PORT", False),  # APP_PORT in two Deployments: two owners
        ("csmm-web", 1337, "CSMM_PORT", False),  # the owner's short name
        ("csmm-web", 1377, "", False),
        ("csmm-web", 1377, "CSMM_HOSTNAME", True),  # its own public URL
        ("db", 3306, "", False),
        ("db", 3306, "MYSQL_PORT", True),  # MYSQL_HOST=db + MYSQL_PORT: a reference to db
        ("divider", 4000, "APP_PORT", False),
        ("identity-api", 5105, "", False),
        ("identity-api", 5105, "IdentityUrl", True),  # camelCase: Identity -> identity-api
        ("purchase-gateway", 5202, "", False),
        ("purchase-gateway", 5202, "PurchaseUrl", True),
        ("webspa", 80, "ASPNETCORE_URLS", False),  # http://+:80: where webspa listens
        ("webspa", 5104, "", False),
    ]  # SignalrHubUrl names no service: no service "SignalrHub"


def test_the_names_tree_is_clean() -> None:
    result = reconcile_paths([NAMES])
    assert [f.message for f in result.findings] == []
    assert result.services == 7


def test_a_label_before_a_number_is_no_name() -> None:
    text = (
        "Change the port from the default (8000) to something else, e.g. (8010).\n\n"
        "- `http` - monitoring Elasticsearch (9200), Kibana (5601)\n"
    )
    found = parse_markdown(text, "README.md")
    assert [(p.service, p.number) for p in found.ports] == [
        ("Elasticsearch", 9200),
        ("Kibana", 5601),
    ]
