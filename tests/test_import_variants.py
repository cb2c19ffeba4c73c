"""import: compose files of one folder that are variants of the deployment (no file runs
them together) put services that would clash on one host port on hosts of their own; what
the configuration publishes outranks what a document shows published."""

from __future__ import annotations

from pathlib import Path

from portplan.findings import Level
from portplan.importer.core import import_paths
from portplan.plan import loader
from portplan.plan.check import check

VARIANT = """\
services:
  {db}:
    image: {db_image}
  server:
    image: example/monitor-server-{flavour}:7
    ports: ["10051:10051"]
  web-{flavour}:
    image: example/monitor-web-{flavour}:7
    ports: ["80:8080", "443:8443"]
"""
MYSQL = VARIANT.format(db="db", db_image="mysql:8", flavour="mysql")
PGSQL = VARIANT.format(db="pg", db_image="postgres:16", flavour="pgsql")
DEFAULT = """\
services:
  cadvisor:
    image: gcr.io/cadvisor/cadvisor
    ports: ["8080:8080"]
"""
STACK = """\
services:
  traefik:
    image: traefik:3
    ports: ["80:80", "8080:8080"]
  cadvisor:
    image: gcr.io/cadvisor/cadvisor
    ports: ["8088:8080"]
"""


def _import(root: Path, files: dict[str, str]) -> str:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return import_paths([root]).text


def _replaced(text: str, changes: dict[str, str]) -> str:
    for old, new in changes.items():
        text = text.replace(old, new)
    return text


def _hosts_and_errors(text: str, tmp_path: Path) -> tuple[dict[str, str], list[str]]:
    plan = tmp_path / "portplan.yaml"
    plan.write_text(text)
    topology = loader.load(plan)
    errors = [f.message for f in check(topology).findings if f.level is Level.ERROR]
    return {name: s.host for name, s in topology.services.items()}, errors


def test_variants_of_a_folder_without_a_default_file_are_apart(tmp_path: Path) -> None:
    """web-mysql and web-pgsql both publish 80 and 443, each in its own variants (a built
    and a local image each; no file runs both): each goes on a host named after its first
    file; `server`, which every variant runs on 10051, is one service of the default host.
    Before: PP101 on 80 and 443 (a service of two files was not counted as a variant's)."""
    local = {"image: example/": "image: local/"}
    text = _import(
        tmp_path / "src",
        {
            "compose.mysql.yaml": MYSQL,
            "compose.mysql.local.yaml": _replaced(MYSQL, local),
            "compose.pgsql.yaml": PGSQL,
            "compose.pgsql.local.yaml": _replaced(PGSQL, local),
        },
    )
    hosts, errors = _hosts_and_errors(text, tmp_path)
    assert hosts == {
        "db": "default",
        "server": "default",
        "web-mysql": "compose.mysql.local",
        "pg": "default",
        "web-pgsql": "compose.pgsql.local",
    }
    assert errors == []


def test_a_service_its_variant_runs_on_another_port_does_not_clash_there(
    tmp_path: Path,
) -> None:
    """The default file runs cadvisor on 8080; the stack file runs traefik on 8080 and
    cadvisor on 8088: traefik goes on a host of its own (before: PP101 on 8080, as
    cadvisor, in both files, was not counted as outside the stack file)."""
    text = _import(tmp_path / "src", {"docker-compose.yml": DEFAULT, "docker-stack.yml": STACK})
    hosts, errors = _hosts_and_errors(text, tmp_path)
    assert hosts == {"cadvisor": "default", "traefik": "docker-stack"}
    assert errors == []


COMPOSE_EXPOSED = """\
services:
  api:
    image: example/api:1
    ports: ["3000:3000"]
  mongo:
    image: mongo:7
    expose: ["27017"]
"""
README_PS = """\
# Notes

```
$ docker ps
CONTAINER ID   IMAGE           PORTS                      NAMES
06e606d69a0e   example/api:1   0.0.0.0:3000->3000/tcp     api
a1f321f06490   mongo:7         0.0.0.0:27017->27017/tcp   mongo
```
"""


def test_a_documents_docker_ps_row_does_not_publish_what_compose_keeps_inside(
    tmp_path: Path,
) -> None:
    """The compose file only `expose`s mongo's 27017; a stale README's `docker ps` shows it
    published: the plan keeps it unpublished (configuration outranks prose), so `check`
    has no "internal but bound to every interface" (PP107) to report."""
    text = _import(tmp_path / "src", {"compose.yaml": COMPOSE_EXPOSED, "README.md": README_PS})
    plan = tmp_path / "portplan.yaml"
    plan.write_text(text)
    topology = loader.load(plan)
    [port] = topology.services["mongo"].ports
    assert (port.number, port.published) == (27017, False)
    assert [f.rule for f in check(topology).findings if f.level is Level.ERROR] == []
