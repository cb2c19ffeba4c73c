"""A document's mapping against the compose file beside it (host side, PP201), with a
compose snippet whose elided parts are `...` lines and a `docker ps` row off the header's
columns. The alternative compose file in `.docker/` (8080:80) is another project: it is
not compared with the root one."""

from __future__ import annotations

from pathlib import Path

from portplan.reconcile.core import reconcile_paths
from portplan.sources.markdown import parse_markdown

FOLDER = Path(__file__).resolve().parent / "resources" / "documented-mapping"


def test_a_documented_host_port_the_folders_compose_file_does_not_publish() -> None:
    findings = reconcile_paths([FOLDER]).findings
    assert [
        (f.rule, [f"{Path(at.file).name}:{at.line}:{at.column}" for at in f.locations], f.message)
        for f in findings
    ] == [
        (
            "PP201",
            ["README.md:10:7", "compose.yaml:9:10"],
            "proxy: README.md:10 shows container port 80 published on 8080, but "
            "compose.yaml:9 publishes 80:80",
        )
    ]


def test_an_elision_line_does_not_end_a_compose_snippet() -> None:
    found = parse_markdown((FOLDER / "README.md").read_text(), "README.md")
    assert [(p.service, p.number, p.target, p.location.line) for p in found.ports] == [
        ("proxy", 8080, 80, 10),
        ("blog_proxy_1", 8080, 80, 19),
        ("blog_proxy_1", 8080, 80, 19),
    ]


def test_import_takes_the_documented_mapping_finding_in_its_stride() -> None:
    from portplan.importer.core import import_paths

    text = import_paths([FOLDER]).text  # the PP201 of a document's mapping: no KeyError
    assert "\n  documented-mapping-proxy:\n" in text
