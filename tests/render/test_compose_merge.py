"""Merging the plan into an existing compose file: only what the plan describes changes."""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from portplan.cli import main
from portplan.plan.loader import load, load_text
from portplan.reconcile.core import reconcile_paths
from portplan.render import _compose_entry as entries
from portplan.render._compose_merge import merge

from .conftest import ROOT

RESOURCES = ROOT / "tests/resources/generate"
SHOP = RESOURCES / "shop"
COMPOSE_SPEC = jsonschema.Draft7Validator(
    json.loads((ROOT / "tests/resources/schemas/compose-spec.json").read_text())
)


class _ComposeLoader(yaml.SafeLoader):
    """PyYAML's safe loader taking compose's `!reset` and `!override` tags."""


def _tagged(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    return loader.construct_scalar(node)  # type: ignore[arg-type]


for _tag in ("!reset", "!override"):
    _ComposeLoader.add_constructor(_tag, _tagged)


def _merged(folder: Path, tmp_path: Path, *extra: str) -> tuple[Path, int]:
    compose = tmp_path / "compose.yaml"
    if not compose.exists():
        shutil.copyfile(folder / "compose.yaml", compose)
    plan = str(folder / "portplan.yaml")
    return compose, main(["generate", "compose", "-f", plan, "--compose", str(compose), *extra])


@pytest.mark.parametrize("name", ["shop", "edges"])
def test_merge_writes_the_expected_file_and_the_same_bytes_again(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = RESOURCES / name
    compose, code = _merged(folder, tmp_path)
    assert code == 0
    assert compose.read_text() == (folder / "expected.yaml").read_text()
    COMPOSE_SPEC.validate(yaml.load(compose.read_text(), _ComposeLoader))
    first = compose.read_bytes()
    capsys.readouterr()
    assert _merged(folder, tmp_path, "--check")[1] == 0
    assert _merged(folder, tmp_path)[1] == 0
    assert compose.read_bytes() == first
    assert capsys.readouterr().out == ""  # nothing written the second time


def test_shop_changes_only_the_published_default_and_the_timeout(tmp_path: Path) -> None:
    """web publishes through ${WEB_PORT:-8080} to its container's port 80 and checks its
    health on 80: the plan's 8088 is the default of the variable, the container port and
    the healthcheck stay. api's IPv6 and IPv4 loopback bindings agree with `local` and its
    healthcheck is its own (the plan declares none): untouched."""
    compose, code = _merged(SHOP, tmp_path)
    assert code == 0
    before = (SHOP / "compose.yaml").read_text().splitlines(keepends=True)
    changes = list(difflib.unified_diff(before, compose.read_text().splitlines(True), n=0))
    assert changes[2:] == [
        "@@ -33 +33 @@\n",
        '-      - "${WEB_PORT:-8080}:80"\n',
        '+      - "${WEB_PORT:-8088}:80"\n',
        "@@ -43,0 +44 @@\n",
        "+      timeout: 2s\n",
    ]


def test_merged_file_reads_back_with_no_findings(tmp_path: Path) -> None:
    """The healthcheck on the container port and `PORT: 80` agree with `8088:80`."""
    project = tmp_path / "project"
    project.mkdir()
    shutil.copyfile(RESOURCES / "roundtrip/compose.yaml", project / "compose.yaml")
    plan = SHOP / "portplan.yaml"
    before = reconcile_paths([project], load(plan))
    assert "web: http port is 8080 here but 8088 in portplan.yaml:6" in [
        f.message for f in before.findings
    ]
    compose = str(project / "compose.yaml")
    assert main(["generate", "compose", "-f", str(plan), "--compose", compose]) == 0
    assert [f.message for f in reconcile_paths([project], load(plan)).findings] == []
    assert (project / "compose.yaml").read_text() == (
        "services:\n"
        "  web:\n"
        "    build: ./web\n"
        "    ports:\n"
        '      - "${WEB_PORT:-8088}:80"\n'
        "    environment:\n"
        "      PORT: 80\n"
        "    healthcheck:\n"
        '      test: ["CMD", "curl", "-f", "http://localhost:80/health"]\n'
        "      interval: 10s\n"
        "      timeout: 2s\n"
        "  api:\n"
        "    build: ./api\n"
        "    ports:\n"
        '      - "[::1]:3000:3000"\n'
        '      - "127.0.0.1:3000:3000"\n'
        "    environment:\n"
        "      API_PORT: 3000\n"
        "    healthcheck:\n"
        "      test: curl -f http://localhost:3000/healthz || exit 1\n"
        "  redis:\n"
        "    image: redis:7-alpine\n"
        "    expose:\n"
        '      - "6379"\n'
    )


PLAN = """\
services:
  web:
    exposure: public
    ports:
      http: {port: 8088, health: {path: /health}}
"""


def _merge_text(compose: str, plan: str = PLAN) -> str:
    return merge(compose, "compose.yaml", load_text(plan)).text


def test_entries_the_plan_cannot_tell_apart_stay_and_the_port_gets_its_own() -> None:
    """Two entries and one planned port: neither is known to be it."""
    compose = 'services:\n  web:\n    ports: ["8080:80", "9229:9229"]\n'
    assert _merge_text(compose) == (
        "services:\n"
        "  web:\n"
        '    ports: ["8080:80", "9229:9229", "8088:8088"]\n'
        "    healthcheck:\n"
        '      test: ["CMD-SHELL", "curl -fsS http://localhost:8088/health || exit 1"]\n'
        "      interval: 10s\n"
        "      timeout: 2s\n"
        "      retries: 3\n"
    )


def test_a_service_gains_sections_before_the_blank_line_that_ends_it() -> None:
    compose = (
        "services:\n"
        "  web:\n"
        "    image: nginx\n"
        "    environment:\n"
        "      A: b  # note\n"
        "\n"
        "  # the next one\n"
        "  other:\n"
        "    image: x\n"
    )
    assert _merge_text(compose) == (
        "services:\n"
        "  web:\n"
        "    image: nginx\n"
        "    environment:\n"
        "      A: b  # note\n"
        "    ports:\n"
        '      - "8088:8088"\n'
        "    healthcheck:\n"
        '      test: ["CMD-SHELL", "curl -fsS http://localhost:8088/health || exit 1"]\n'
        "      interval: 10s\n"
        "      timeout: 2s\n"
        "      retries: 3\n"
        "\n"
        "  # the next one\n"
        "  other:\n"
        "    image: x\n"
    )


def test_a_disabled_healthcheck_is_enabled_and_an_anchor_nobody_uses_is_kept() -> None:
    compose = (
        "x-unused: &unused\n"
        "  image: nginx\n"
        "services:\n"
        "  web:\n"
        "    ports:\n"
        "      - 8088:80\n"
        "    healthcheck:\n"
        "      disable: true\n"
    )
    assert _merge_text(compose) == compose.replace(
        "      disable: true\n",
        '      test: ["CMD-SHELL", "curl -fsS http://localhost:80/health || exit 1"]\n'
        "      timeout: 2s\n",
    )


def test_ports_shared_through_an_anchor_are_copied_not_changed() -> None:
    compose = (
        "x-ports: &ports\n"
        '  - "8080:80"\n'
        "services:\n"
        "  web:\n"
        "    ports: *ports\n"
        "  copy:\n"
        "    ports: *ports\n"
    )
    assert _merge_text(compose) == (
        "x-ports: &ports\n"
        '  - "8080:80"\n'
        "services:\n"
        "  web:\n"
        "    ports:\n"
        '      - "8088:80"\n'
        "    healthcheck:\n"
        '      test: ["CMD-SHELL", "curl -fsS http://localhost:80/health || exit 1"]\n'
        "      interval: 10s\n"
        "      timeout: 2s\n"
        "      retries: 3\n"
        "  copy:\n"
        "    ports: *ports\n"
    )


@pytest.mark.parametrize(
    ("raw", "parts"),
    [
        ("80", (None, None, "80", None)),
        ("8080:80", (None, "8080", "80", None)),
        ("${WEB_PORT:-8080}:80", (None, "${WEB_PORT:-8080}", "80", None)),
        ("127.0.0.1:${DB_PORT:-5432}:5432", ("127.0.0.1", "${DB_PORT:-5432}", "5432", None)),
        ("[::1]:3000:3000", ("[::1]", "3000", "3000", None)),
        ("::1:3000:3000", ("::1", "3000", "3000", None)),
        ("10000-10010:10000-10010/udp", (None, "10000-10010", "10000-10010", "udp")),
        ("${A:-${B:-1}}:80", (None, "${A:-${B:-1}}", "80", None)),
    ],
)
def test_entry_parts(raw: str, parts: tuple[str | None, ...]) -> None:
    entry = entries.split(raw)
    assert entry is not None
    assert (entry.address, entry.published, entry.target, entry.protocol) == parts
    assert entry.text() == raw


@pytest.mark.parametrize("raw", ["", "a:b", "${X:80", "[::1:80:80", "1:2:3:x"])
def test_not_an_entry(raw: str) -> None:
    assert entries.split(raw) is None


@pytest.mark.parametrize(
    ("current", "variable", "published"),
    [
        (None, None, "8088"),
        ("8080", "WEB_PORT", "8088"),
        ("${WEB_PORT:-8080}", "WEB_PORT", "${WEB_PORT:-8088}"),
        ("${WEB_PORT-8080}", None, "${WEB_PORT-8088}"),
        ("${WEB_PORT}", "WEB_PORT", "${WEB_PORT}"),
        ("${WEB_PORT:?set it}", None, "${WEB_PORT:?set it}"),
        ("${OTHER:-8080}", "WEB_PORT", "${WEB_PORT:-8088}"),
    ],
)
def test_published_part(current: str | None, variable: str | None, published: str) -> None:
    assert entries.published(current, 8088, variable) == published


def test_a_service_on_another_network_namespace_gets_only_its_healthcheck() -> None:
    """compose ignores `ports` with `network_mode` and refuses `networks` beside it."""
    compose = "services:\n  web:\n    network_mode: host\n"
    plan = PLAN + "    networks: [front]\n"
    assert _merge_text(compose, plan) == (
        "services:\n"
        "  web:\n"
        "    network_mode: host\n"
        "    healthcheck:\n"
        '      test: ["CMD-SHELL", "curl -fsS http://localhost:8088/health || exit 1"]\n'
        "      interval: 10s\n"
        "      timeout: 2s\n"
        "      retries: 3\n"
    )


def test_the_plans_target_and_published_false_win() -> None:
    """A target the plan states replaces the entry's container port (and the health check
    calls it); a port the plan keeps off the host loses even its loopback mapping."""
    plan = (
        "services:\n"
        "  web:\n"
        "    exposure: public\n"
        "    ports:\n"
        "      http: {port: 8088, target: 8000, health: {path: /health}}\n"
        "      admin: {port: 9001, published: false, exposure: local}\n"
    )
    compose = (
        "services:\n"
        "  web:\n"
        "    ports:\n"
        '      - "8088:80"\n'
        '      - "127.0.0.1:9001:9001"\n'
        "      - target: 80\n"
        "        published: 8088\n"
        "        host_ip: 127.0.0.1\n"
    )
    assert _merge_text(compose, plan) == (
        "services:\n"
        "  web:\n"
        "    ports:\n"
        '      - "8088:8000"\n'
        "      - target: 8000\n"
        "        published: 8088\n"
        "    expose:\n"
        '      - "9001"\n'
        "    healthcheck:\n"
        '      test: ["CMD-SHELL", "curl -fsS http://localhost:8000/health || exit 1"]\n'
        "      interval: 10s\n"
        "      timeout: 2s\n"
        "      retries: 3\n"
    )


def test_an_anchored_healthcheck_is_copied_without_its_anchor() -> None:
    compose = (
        "services:\n"
        "  other:\n"
        "    healthcheck: &hc\n"
        '      test: ["CMD", "true"]\n'
        "      interval: 5s\n"
        "  web:\n"
        '    ports: ["8088:80"]\n'
        "    healthcheck: *hc\n"
    )
    assert _merge_text(compose) == compose.replace(
        "    healthcheck: *hc\n",
        "    healthcheck:\n"
        '      test: ["CMD-SHELL", "curl -fsS http://localhost:80/health || exit 1"]\n'
        "      interval: 5s\n"
        "      timeout: 2s\n",
    )


def test_a_moved_internal_port_replaces_its_expose_entry() -> None:
    plan = "services:\n  redis:\n    ports: {redis: {port: 6380}}\n"
    compose = (
        "services:\n"
        "  redis:\n"
        "    image: redis:7\n"
        '    expose: ["6379", "9121/udp"]\n'
        "  cache:\n"
        "    expose:\n"
        '      - "6379"\n'
    )
    assert _merge_text(compose, plan) == compose.replace('"6379", "9121', '"6380", "9121')
    two = compose.replace('"9121/udp"', '"9121"')
    assert '    expose: ["6379", "9121", "6380"]\n' in _merge_text(two, plan)  # which one?


def test_blank_lines_stay_where_they_were() -> None:
    """A healthcheck copied from an anchor leaves the blank line after the anchor's last
    value behind; a service ending in an alias does not take the anchor's blank line."""
    plan = (
        "services:\n"
        "  web:\n"
        "    exposure: public\n"
        "    ports: {http: {port: 8080, target: 80, health: {path: /healthz}}}\n"
        "  db:\n"
        "    ports: {postgresql: 5432}\n"
    )
    compose = (
        "x-app: &app\n"
        "  restart: unless-stopped\n"
        "  healthcheck: &hc\n"
        '    test: ["CMD", "true"]\n'
        "    interval: 30s\n"
        "\n"
        "services:\n"
        "  web:\n"
        "    <<: *app\n"
        "    ports:\n"
        '      - "${WEB_PORT:-8080}:80"   # public\n'
        "  db:\n"
        "    healthcheck: *hc\n"
        "  other:\n"
        "    image: x\n"
    )
    assert _merge_text(compose, plan) == (
        compose.replace(
            "# public\n",
            "# public\n"
            "    healthcheck:\n"
            '      test: ["CMD-SHELL", "curl -fsS http://localhost:80/healthz || exit 1"]\n'
            "      interval: 30s\n"
            "      timeout: 2s\n",
        ).replace("*hc\n", '*hc\n    expose:\n      - "5432"\n')
    )
